// Locks that a killed process cannot leave behind, and that no other user can
// take or block.
//
// Node has no flock(2). A lock is a listening unix socket: the kernel closes
// it the instant its holder dies (even by SIGKILL), and a connect() to it then
// fails with ECONNREFUSED, so a later command never waits on a dead holder.
// The sockets live in files under one machine-wide directory, /run/podctl-locks
// (0700, owned by root, checked at each first use): no other user can bind,
// connect to, list or remove them. (Abstract sockets, which need no files, are
// open to every process of the network namespace: any user could bind a
// lock's name first and block root's podctl.)
//
// A file socket outlives its holder, and removing a stale one races: two
// waiters see it refuse, one removes it and binds a new one, the other then
// removes that live one and binds its own, and both hold the lock. So no file
// that may be the lock is ever removed. Each lock is a directory of numbered
// generations 0, 1, 2...; the lock's file is the highest one.
//
//   acquire: bind a socket at a private temporary name t<pid>.<random>; read
//     the directory; if its highest generation g is not marked released
//     (<g>.r) and still accepts a connection, the lock is held: give up (the
//     caller retries). Else (none; g marked; or g refuses: its holder died)
//     link() the socket to generation g+1, which fails if that file exists
//     (exclusive, as bind is); then read the directory again: a generation
//     above g+1 means a slower waiter's stale view, and we lose. Else we hold
//     the lock, and unlink the generations below ours (and temporary names
//     of dead processes).
//   release: link the private name to <g>.r (saves the next acquirer a
//     connect()), then close the socket. Its file stays as the highest
//     generation: the next acquirer links the one above it.
//
// Why two can never hold it: (1) the highest generation's file is never
// unlinked (only a holder unlinks, and only generations below its own; a
// release leaves its file). (2) One holds only if its generation was the
// highest after it linked it. (3) Generation g+1 is linked only after g's
// holder marked it released or its socket refused a connection (a closed
// socket never listens again): after g's holder left its lock. If A
// holds g, a later holder B's generation is higher (B checked it was the
// highest, and A's g exists until something higher does), and the first link
// above g after A's check happened after g, A's own socket (unlinked by no
// one while highest), was marked or refused: after A released. A mark is
// made through the holder's private name, so it is never put on another
// process's socket. A link above g before A's
// check would have made A lose at its check. A slow waiter that re-links a
// generation that was swept away finds a higher one at its check and loses.
//
// Why a private name linked, rather than a bind at <g+1> itself: between a
// socket's bind() and its listen() a connect() is refused as if its holder
// were dead, and libuv unlinks a socket's file when it closes it; a
// generation's file exists only once its socket listens, and stays.
//
// The directory of a lock whose object is gone (a removed pod) is removed by
// its last holder (discard): a waiter that was already on its way then finds
// nothing to lock, so the object is gone for it too. Each directory holds the
// lock's name too (the file `name`, written by whoever made the directory), so
// that gc can tell which pod or container a directory locks, and discard the
// ones whose object is gone (a record deleted by hand, a kill -9 mid-removal)
// once it holds them: a held lock is never removed.

import {createHash, randomBytes} from 'node:crypto'
import {chmodSync, existsSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmdirSync, unlinkSync, writeFileSync} from 'node:fs'
import {connect, createServer, type Server} from 'node:net'
import {setTimeout as sleep} from 'node:timers/promises'

import {errnoOf, ExitCode, PodctlError, prerequisiteError, wrap} from './errors.js'

export interface Lock {
  readonly name: string
  release(): Promise<void>
  /** Release, and remove the lock's directory: for a lock whose object (a pod) is gone for good. */
  discard(): Promise<void>
}

/** Every lock's directory is under this one: on tmpfs (gone at boot, as the sockets' holders are). */
export const lockRoot = '/run/podctl-locks'

let rootChecked = false

/** The lock root, made 0700 if missing; refused unless a real directory owned by root. */
function checkedLockRoot(): string {
  if (rootChecked) return lockRoot
  try {
    mkdirSync(lockRoot, {mode: 0o700})
  } catch (err) {
    if (errnoOf(err) !== 'EEXIST') throw prerequisiteError(`cannot create the lock directory "${lockRoot}": ${(err as Error).message}`, 'run podctl as root')
  }
  const st = lstatSync(lockRoot)
  if (!st.isDirectory() || st.uid !== 0) {
    throw prerequisiteError(`the lock directory "${lockRoot}" is not a directory owned by root`, `remove it; podctl makes it again`)
  }
  if ((st.mode & 0o077) !== 0) chmodSync(lockRoot, 0o700)
  rootChecked = true
  return lockRoot
}

/** A lock's directory: its name hashed (names hold pod IDs and root paths; a socket path must fit in 108 bytes). */
function lockDir(name: string): string {
  return `${checkedLockRoot()}/${createHash('sha256').update(name).digest('hex').slice(0, 32)}`
}

/** The highest generation in a lock's directory, and the directory's entries. */
function entries(dir: string): [number | undefined, string[]] {
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return [undefined, []]
    throw err
  }
  let top: number | undefined
  for (const e of names) if (/^\d+$/.test(e) && (top === undefined || Number(e) > top)) top = Number(e)
  return [top, names]
}

/** The highest generation, and whether its holder marked it released (`<g>.r`, linked after its socket closed). */
function topGeneration(dir: string): [number | undefined, boolean] {
  const [top, names] = entries(dir)
  return [top, top !== undefined && names.includes(`${top}.r`)]
}

/** Whether a socket file has a listener: 'gone' when the file is not there. */
function probe(path: string): Promise<'live' | 'stale' | 'gone'> {
  return new Promise((resolve) => {
    const socket = connect({path})
    socket.once('connect', () => {
      socket.destroy()
      resolve('live')
    })
    socket.once('error', (err) => {
      const code = errnoOf(err)
      // EAGAIN: a listener whose backlog is full is alive.
      resolve(code === 'ECONNREFUSED' ? 'stale' : code === 'ENOENT' ? 'gone' : 'live')
    })
  })
}

function listen(path: string): Promise<Server> {
  const server = createServer((socket) => socket.destroy())
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen({path, exclusive: true}, () => {
      // A held lock must not keep the process alive by itself.
      server.unref()
      resolve(server)
    })
  })
}

const closeServer = (server: Server) => new Promise<void>((done) => server.close(() => done()))

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path)
  } catch {
    // gone already (swept by a holder, or never linked)
  }
}

/** Try once; null when another process holds the lock. */
export async function tryLock(name: string): Promise<Lock | null> {
  const dir = lockDir(name)
  try {
    mkdirSync(dir, {mode: 0o700})
    try {
      writeFileSync(`${dir}/name`, name, {mode: 0o600, flag: 'wx'})
    } catch {
      // discarded meanwhile, or killed before: the lock works without it; gc cannot name it
    }
  } catch (err) {
    if (errnoOf(err) !== 'EEXIST') throw err
  }
  const tmp = `${dir}/t${process.pid}.${randomBytes(4).toString('hex')}`
  let server: Server
  try {
    server = await listen(tmp)
  } catch (err) {
    // The directory was discarded between the mkdir and the bind: make it again.
    if (errnoOf(err) === 'ENOENT') return tryLock(name)
    throw err
  }
  try {
    for (;;) {
      const [top, released] = topGeneration(dir)
      if (top !== undefined && !released) {
        const state = await probe(`${dir}/${top}`)
        if (state === 'live') break
        // swept: something higher exists now; look again
        if (state === 'gone') continue
      }
      const mine = (top ?? -1) + 1
      try {
        linkSync(tmp, `${dir}/${mine}`)
      } catch (err) {
        const code = errnoOf(err)
        if (code === 'EEXIST') continue
        // discarded meanwhile: its object is gone; a fresh directory is a fresh lock
        if (code === 'ENOENT') return await closeServer(server).then(() => tryLock(name))
        throw err
      }
      const [now, after] = entries(dir)
      if (now !== mine) break
      const tmpName = tmp.slice(dir.length + 1)
      for (const e of after) {
        const stale = /^\d+(\.r)?$/.test(e) ? parseInt(e, 10) < mine : /^t\d+\./.test(e) && e !== tmpName && !existsSync(`/proc/${parseInt(e.slice(1), 10)}`)
        if (stale) unlinkQuietly(`${dir}/${e}`)
      }
      const release = async () => {
        // Marked released before the close, and through our own private name (no other
        // process's socket can be at it): the next acquirer then needs no connect().
        try {
          linkSync(tmp, `${dir}/${mine}.r`)
        } catch {
          // the connect() it saves will say the same once the socket is closed
        }
        unlinkQuietly(tmp)
        await closeServer(server)
      }
      return {
        name,
        release,
        discard: async () => {
          for (const e of readdirSync(dir)) unlinkQuietly(`${dir}/${e}`)
          try {
            rmdirSync(dir)
          } catch {
            // a waiter's temporary socket appeared meanwhile: the directory stays, harmless
          }
          await release()
        },
      }
    }
  } catch (err) {
    unlinkQuietly(tmp)
    await closeServer(server)
    throw err
  }
  unlinkQuietly(tmp)
  await closeServer(server)
  return null
}

export interface LockWait {
  /** give up after this many milliseconds */
  timeoutMs: number
  signal?: AbortSignal
  /** what the lock protects, for the error message */
  what: string
}

/** Wait for the lock, retrying with a short back-off up to the timeout. */
export async function lock(name: string, wait: LockWait): Promise<Lock> {
  const deadline = Date.now() + wait.timeoutMs
  let delay = 1
  for (;;) {
    const held = await tryLock(name)
    if (held) return held
    if (wait.signal?.aborted) throw wrap(`waiting for the lock on ${wait.what}`, wait.signal.reason)
    if (Date.now() >= deadline) {
      throw new PodctlError(`timed out after ${wait.timeoutMs} ms waiting for the lock on ${wait.what}`, {
        exitCode: ExitCode.timeout,
        hint: 'another podctl command is working on it; retry, or raise --timeout',
      })
    }
    await sleep(delay, undefined, {signal: wait.signal}).catch(() => undefined)
    delay = Math.min(delay * 2, 20)
  }
}

/** Run `fn` holding the lock. */
export async function withLock<T>(name: string, wait: LockWait, fn: () => Promise<T>): Promise<T> {
  const held = await lock(name, wait)
  try {
    return await fn()
  } finally {
    await held.release()
  }
}

/** The locks whose name starts with `prefix`, by the name their directory records (directories made before names were recorded are not found). */
export function locksNamed(prefix: string): {name: string; path: string}[] {
  const found: {name: string; path: string}[] = []
  let dirs: string[]
  try {
    dirs = readdirSync(checkedLockRoot())
  } catch {
    return found
  }
  for (const d of dirs) {
    let name: string
    try {
      name = readFileSync(`${lockRoot}/${d}/name`, 'utf8')
    } catch {
      continue
    }
    // The name must hash to its directory: a file written anywhere else names nothing.
    if (name.startsWith(prefix) && lockDir(name) === `${lockRoot}/${d}`) found.push({name, path: `${lockRoot}/${d}`})
  }
  return found
}

/** Lock names are scoped to a state root, so that two roots (say, two test runs) never contend. */
export function lockName(root: string, ...parts: string[]): string {
  const scope = createHash('sha256').update(root).digest('hex').slice(0, 16)
  return ['podctl', scope, ...parts].join('/')
}

/**
 * The machine-wide lock around CNI plugin calls: plugins share bridges,
 * iptables chains and IPAM files across every root, and are not safe to run
 * concurrently (nerdctl's ocihook holds one global lock for the same reason).
 */
export const cniLockName = 'podctl/cni'

/**
 * A socket listened on and closed (abstract: nothing on disk, nothing to
 * lock), so that a start-up snapshot has the net server's first listen behind it.
 */
export function warmUp(tag: string): Promise<void> {
  return listen(`\0podctl/warm-up/${tag}`).then(closeServer)
}
