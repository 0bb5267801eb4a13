// The state directory. This is the only module that knows paths under the
// state root and the run root:
//
//   <root>/                      0700
//     pods/<id>/sandbox.json     the pod record (atomic writes)
//     pods/<id>/config.json      the OCI bundle spec of the pause container
//     pods/<id>/{hostname,hosts,resolv.conf,runc.log}
//     pods/<id>/containers/<cid>/  a container of the pod: record.json, config.json
//     names/<sha256 of name>     the name reservation: {"name", "id"}
//     pause/rootfs/              the pause rootfs, built once
//     cni/networks/              host-local IPAM of the built-in network
//   <run-root>/                  0700, volatile (tmpfs)
//     runtime/<handler>/         the OCI runtime's --root
//     netns/<id>                 the pod's pinned network namespace
//     shm/<id>                   the pod's /dev/shm (tmpfs), bind-mounted into its containers
//     ctr/<container id>/attach  a container's attach socket (conmon's)
//
// User input never becomes a path: pod IDs reach the file system only after
// they were matched against the directory listing, and names are hashed.

import {createHash, randomBytes} from 'node:crypto'
import {chmodSync, closeSync, constants, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, statSync, unlinkSync, writeFileSync} from 'node:fs'
import {readdir, readFile, stat} from 'node:fs/promises'
import {join} from 'node:path'

import type {PodSandboxConfig} from '../cri/types.js'
import {errnoOf, messageOf, PodctlError, usageError} from './errors.js'
import {lock, lockName, type LockWait, tryLock, withLock} from './lock.js'
import type {PodPhase} from './state.js'

export const recordVersion = 1

/** What podctl remembers of a pod: enough to finish or undo any step. */
export interface PodRecord {
  version: number
  id: string
  /** the reserved name, name_namespace_uid_attempt */
  name: string
  /** nanoseconds since the epoch, as a decimal string */
  createdAt: string
  phase: PodPhase
  config: PodSandboxConfig
  runtimeHandler: string
  runtimePath: string
  /** the cgroup parent the pod was placed under: its config's, else the cgroup-parent setting then in force (older records: unset) */
  cgroupParent?: string
  /** the network namespace path, once podctl is about to create it */
  netnsPath?: string
  network?: {
    /** the conflist used for ADD, kept so DEL runs the same plugins */
    conflist: Record<string, unknown>
    confFile: string
    /** set once ADD was attempted: a failed ADD may still have allocated */
    added: boolean
    result?: Record<string, unknown>
    ip?: string
    additionalIps?: string[]
  }
  /** set before the pod's /dev/shm tmpfs for its containers is mounted (at its first container's create) */
  shmPath?: string
  /** the ID of the image the pause runs from (the pause-image setting); unset: the built-in catatonit rootfs */
  pauseImage?: string
  /** set once `runc create` was attempted */
  containerCreated?: boolean
  pid?: number
  /** /proc/<pid>/stat field 22: with the pid, names the process uniquely */
  pidStartTime?: string
  /** the last cleanup error, when a rollback or stop could not finish */
  cleanupError?: string
}

export const idPattern = /^[0-9a-f]{64}$/

/** A pod directory whose record cannot be read. */
export interface BrokenRecord {
  id: string
  /** the directory's mtime, in nanoseconds */
  createdAt: string
  error: PodctlError
}

export function newPodSandboxId(): string {
  return randomBytes(32).toString('hex')
}

/** The ID a name reservation file holds (never followed through a symlink); undefined when none or unreadable. */
export function nameHolderAt(path: string): string | undefined {
  try {
    const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW)
    let text: string
    try {
      text = readFileSync(fd, 'utf8')
    } finally {
      closeSync(fd)
    }
    const entry = JSON.parse(text) as {id?: string}
    return typeof entry.id === 'string' ? entry.id : undefined
  } catch {
    return undefined
  }
}

/**
 * A record file (a pod's or a container's): null when it is missing, an error naming the
 * file and what to do when it cannot be read, is not JSON or does not describe `id`.
 * Synchronous: a record is a few KB, and listing a thousand through the thread pool
 * (open, stat, read, close: a round trip each) takes many times longer.
 */
export function readRecordFile<T>(path: string, kind: 'pod' | 'container', id: string, describes: (record: T) => boolean, hint: string): T | null {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    if (errnoOf(err) === 'ENOENT' || errnoOf(err) === 'ENOTDIR') return null
    throw new PodctlError(`cannot read ${kind} record "${path}": ${messageOf(err)}`)
  }
  let record: T
  try {
    record = JSON.parse(text) as T
  } catch (err) {
    throw new PodctlError(`${kind} record "${path}" is corrupt: ${messageOf(err)}`, {hint})
  }
  if (!describes(record)) throw new PodctlError(`${kind} record "${path}" is corrupt: it does not describe ${kind} "${id}"`, {hint})
  return record
}

/** The reserved name of a pod, as containerd's makeSandboxName. */
export function podSandboxName(config: PodSandboxConfig): string {
  const md = config.metadata
  return [md.name, md.namespace, md.uid, String(md.attempt ?? 0)].join('_')
}

export class Store {
  readonly root: string
  readonly runRoot: string
  /** <root>/pods, normalized once: a listing builds a thousand paths under it */
  private readonly podsDir: string

  constructor(root: string, runRoot: string) {
    this.root = root
    this.runRoot = runRoot
    this.podsDir = join(root, 'pods')
  }

  // ---- paths (the only place that knows them) ----

  // Concatenated, not join()ed: the ID is 64 hex digits (checked), so the
  // result is the same string, without normalizing the root a thousand times.
  podDir(id: string): string {
    return `${this.podsDir}/${checkId(id)}`
  }

  recordPath(id: string): string {
    return `${this.podDir(id)}/sandbox.json`
  }

  bundleDir(id: string): string {
    return this.podDir(id)
  }

  specPath(id: string): string {
    return join(this.bundleDir(id), 'config.json')
  }

  sandboxFile(id: string, file: 'hostname' | 'hosts' | 'resolv.conf' | 'runc.log'): string {
    return join(this.podDir(id), file)
  }

  netnsPath(id: string): string {
    return join(this.runRoot, 'netns', checkId(id))
  }

  /** The pod's /dev/shm for its containers: a tmpfs mounted at the first container's create. */
  shmPath(id: string): string {
    return join(this.runRoot, 'shm', checkId(id))
  }

  runtimeRoot(handler: string): string {
    return join(this.runRoot, 'runtime', handler)
  }

  pauseDir(): string {
    return join(this.root, 'pause')
  }

  /** host-local IPAM state of podctl's built-in network: per root, so test roots never collide. */
  ipamDir(): string {
    return join(this.root, 'cni', 'networks')
  }

  namePath(name: string): string {
    return join(this.root, 'names', createHash('sha256').update(name).digest('hex'))
  }

  // ---- set-up ----

  /** Create the roots with owner-only permissions; refuse a root that is a symlink. */
  init(): void {
    for (const dir of [this.root, this.runRoot]) {
      mkdirSync(dir, {recursive: true, mode: 0o700})
      const st = statSync(dir)
      if (!st.isDirectory()) throw usageError(`state directory "${dir}" is not a directory`)
      if (st.uid !== 0) throw usageError(`state directory "${dir}" is not owned by root`, 'chown it to root, or choose another --root/--run-root')
      // Owner-only: pod records hold configs, and the run root holds namespaces.
      if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700)
    }
    for (const dir of [this.podsDir, join(this.root, 'names')]) {
      try {
        mkdirSync(dir, {mode: 0o700})
      } catch (err) {
        if (errnoOf(err) !== 'EEXIST') throw err
      }
    }
  }

  // ---- locks ----

  lockPod(id: string, wait: LockWait) {
    return lock(lockName(this.root, 'pod', id), wait)
  }

  /** Whether some process holds the pod's lock right now. */
  async podLocked(id: string): Promise<boolean> {
    const held = await tryLock(lockName(this.root, 'pod', id))
    if (!held) return true
    // Released, not discarded, even for a pod with no directory: gc lists such a lock (a
    // dry run must not remove it) and sweeps it after its other traces.
    await held.release()
    return false
  }

  // ---- records ----

  createPodDir(id: string): void {
    mkdirSync(this.podDir(id), {mode: 0o700})
  }

  async writeRecord(record: PodRecord): Promise<void> {
    writeFileAtomic(this.recordPath(record.id), JSON.stringify(record, null, 1) + '\n')
  }

  /** Read one record; a missing one is null, a corrupt one an error naming the file. */
  async readRecord(id: string): Promise<PodRecord | null> {
    return this.readRecordNow(id)
  }

  /** readRecord, synchronously: what a listing does a thousand times, without a promise each. */
  private readRecordNow(id: string): PodRecord | null {
    return readRecordFile(this.recordPath(id), 'pod', id, (r: PodRecord) => r?.id === id && Boolean(r.config?.metadata), `remove the pod with: podctl rmp -f ${id}`)
  }

  /**
   * Every pod ID with a directory, whether or not its record is readable.
   * Only real directories count: a symlink planted in the state dir is never followed.
   */
  listIds(): string[] {
    try {
      const entries = readdirSync(this.podsDir, {withFileTypes: true})
      return entries.filter((e) => e.isDirectory() && idPattern.test(e.name)).map((e) => e.name)
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return []
      throw err
    }
  }

  /** All records; unreadable ones come back as errors beside the others. */
  async listRecords(): Promise<{records: PodRecord[]; broken: BrokenRecord[]}> {
    const records: PodRecord[] = []
    const broken: BrokenRecord[] = []
    for (const id of this.listIds()) {
      try {
        const record = this.readRecordNow(id)
        if (record) records.push(record)
      } catch (err) {
        const mtime = await stat(this.podDir(id)).then((st) => st.mtimeMs, () => Date.now())
        const createdAt = (BigInt(Math.floor(mtime)) * 1_000_000n).toString()
        broken.push({id, createdAt, error: err instanceof PodctlError ? err : new PodctlError(messageOf(err))})
      }
    }
    return {records, broken}
  }

  /** Whether the pod has a directory (a real one: a planted symlink is not a pod). */
  hasPodDir(id: string): boolean {
    return lstatSync(this.podDir(id), {throwIfNoEntry: false})?.isDirectory() ?? false
  }

  removePodDir(id: string): void {
    const dir = this.podDir(id)
    // The files podctl writes there, one unlink each: rmSync's recursive walk
    // is cold code in a process that runs it once (4-5 ms of rmp, this 1-2).
    // Anything else there (a directory, say), and a dir already gone: rmSync.
    try {
      for (const name of readdirSync(dir)) unlinkSync(join(dir, name))
      rmdirSync(dir)
    } catch {
      rmSync(dir, {recursive: true, force: true})
    }
  }

  // ---- the name index ----

  /**
   * Reserve `name` for pod `id`, atomically: of several processes reserving
   * the same name, exactly one wins. A reservation whose pod has no record and
   * no live owner (a runp killed in between) is taken over.
   */
  async reserveName(name: string, id: string, wait: LockWait, maxPods = Infinity): Promise<void> {
    const path = this.namePath(name)
    await withLock(lockName(this.root, 'names'), {...wait, what: 'the name index'}, async () => {
      // Counted under the name index's lock, so that of two runp for the last place one wins.
      const others = this.reservedPods(id, maxPods)
      if (others >= maxPods) {
        throw new PodctlError(`cannot run pod "${name}": ${others} pods exist, and the max-pods setting allows ${maxPods}`, {
          hint: 'remove pods first (podctl rmp), or raise max-pods in the config file',
        })
      }
      const holder = this.nameHolder(name)
      if (holder && holder !== id) {
        const alive = (await this.podLocked(holder)) || this.hasPodDir(holder)
        if (alive) {
          throw usageError(`failed to reserve pod name "${name}": name is reserved by pod "${holder}"`, `remove it first: podctl rmp -f ${holder.slice(0, 13)}`)
        }
        unlinkIfThere(path)
      }
      if (holder === id) return
      writeNewFile(path, JSON.stringify({name, id}) + '\n', 0o600, true)
    })
  }

  /** Release the name if (and only if) it is reserved for this pod. */
  async releaseName(name: string, id: string, wait: LockWait): Promise<void> {
    await withLock(lockName(this.root, 'names'), {...wait, what: 'the name index'}, async () => {
      if (this.nameHolder(name) === id) unlinkIfThere(this.namePath(name))
    })
  }

  /** Every reservation with its holder, for gc. */
  async nameReservations(): Promise<{path: string; holder?: string}[]> {
    const dir = join(this.root, 'names')
    const files = await readdir(dir).catch(() => [] as string[])
    return Promise.all(
      files
        .filter((f) => /^[0-9a-f]{64}$/.test(f))
        .map(async (f) => {
          const path = join(dir, f)
          const holder = await readFile(path, {encoding: 'utf8', flag: constants.O_RDONLY | constants.O_NOFOLLOW})
            .then((t) => (JSON.parse(t) as {id?: string}).id)
            .catch(() => undefined)
          return {path, holder}
        }),
    )
  }

  /**
   * The pods that count against max-pods: those with a directory and a name
   * reserved (a runp holds a place from its reservation on; one killed before
   * it has a directory only, and gc's). Containers' reservations name no pod directory.
   * Exact only from limit on.
   */
  private reservedPods(except: string, limit: number): number {
    const dirs = new Set(this.listIds())
    dirs.delete(except)
    // The directories bound the count: below the limit, the names need not be read (a runp among a thousand pods reads no thousand files).
    if (dirs.size < limit) return dirs.size
    let n = 0
    const dir = join(this.root, 'names')
    for (const f of readdirSync(dir)) {
      if (!/^[0-9a-f]{64}$/.test(f)) continue
      const holder = nameHolderAt(join(dir, f))
      if (holder !== undefined && dirs.delete(holder)) n++
    }
    return n
  }

  nameHolder(name: string): string | undefined {
    return nameHolderAt(this.namePath(name))
  }

  // ---- ID resolution ----

  /**
   * Resolve what the user typed to one pod ID: a full ID, a unique ID prefix,
   * or a pod name (metadata.name) that only one pod has. Null when nothing
   * matches. A prefix and a name are looked at together, never one before the
   * other: a pod named "a" (or "cafe", "db", any hex word) must not select
   * another pod whose ID starts with it, so an argument that matches a name
   * and a different pod's ID prefix is an error listing both, as is an
   * ambiguous prefix or name. Every verb, in the CLI and in serve, resolves here.
   */
  async resolve(ref: string, records?: PodRecord[]): Promise<string | null> {
    if (ref === '') throw usageError('pod ID cannot be empty')
    // A whole ID is its own only match: one lstat, not a listing.
    const hex = /^[0-9a-f]+$/.test(ref) && ref.length <= 64
    const byPrefix = hex ? (idPattern.test(ref) && this.hasPodDir(ref) ? [ref] : this.listIds().filter((id) => id.startsWith(ref))) : []
    // A full ID names its pod whatever the names are: a name cannot take a pod's ID from it.
    if (byPrefix.length === 1 && ref.length === 64) return ref
    const all = records ?? (await this.listRecords()).records
    const byName = all.filter((r) => r.config.metadata.name === ref).map((r) => r.id)
    const short = (ids: string[]) => ids.map((m) => m.slice(0, 13)).join(', ')
    if (byName.length > 0 && byPrefix.some((id) => !byName.includes(id))) {
      throw usageError(
        `"${ref}" is ambiguous: it is the name of pod ${short(byName)} and the ID prefix of pod ${short(byPrefix)}`,
        'use more characters of the pod ID',
      )
    }
    if (byName.length === 1) return byName[0]
    if (byName.length > 1) {
      throw usageError(`pod name "${ref}" is ambiguous: ${byName.length} pods have it: ${short(byName)}`, 'use the pod ID instead')
    }
    if (byPrefix.length === 1) return byPrefix[0]
    if (byPrefix.length > 1) {
      throw usageError(`pod ID prefix "${ref}" is ambiguous: it matches ${byPrefix.length} pods: ${short(byPrefix)}`, 'type more characters of the ID')
    }
    return null
  }
}

function checkId(id: string): string {
  // A guard, not validation: callers pass IDs from the listing or newPodSandboxId.
  if (!idPattern.test(id)) throw new PodctlError(`internal error: "${id}" is not a pod sandbox ID`)
  return id
}

/**
 * Unlink a name reservation; one already gone is not an error. Synchronously:
 * rmp would otherwise start libuv's thread pool (four threads) for this one
 * unlink, ~2 ms here.
 */
function unlinkIfThere(path: string): void {
  try {
    unlinkSync(path)
  } catch (err) {
    if (errnoOf(err) !== 'ENOENT') throw err
  }
}

/**
 * temp file, fsync, rename: a reader sees the old record or the new one, never
 * a torn one. Synchronously, as are the other writes on the way of a verb: each
 * call of the promise API is a round trip through libuv's thread pool, and the
 * first one of a process starts that pool's four threads. runp's steps before
 * its first helper process took 21 ms that way and take 14 with sync calls,
 * two fsyncs among them (the files are small and local; there is nothing else
 * for the process to do meanwhile).
 */
export function writeFileAtomic(path: string, data: string, mode = 0o600, sync = true): void {
  // O_EXCL|O_NOFOLLOW on the temp file, and rename replaces (never follows) a
  // symlink at the destination: nothing planted in the state dir is written through.
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  writeNewFile(tmp, data, mode, sync)
  try {
    renameSync(tmp, path)
  } catch (err) {
    try {
      unlinkSync(tmp)
    } catch {
      // the rename's error is the one to report
    }
    throw err
  }
}

/** Create `path` (never through a symlink; an existing file is an error), write, fsync when asked. */
function writeNewFile(path: string, data: string, mode: number, sync: boolean): void {
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode)
  try {
    writeFileSync(fd, data)
    if (sync) fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}
