// Containers' records, beside their pod's:
//
//   <root>/pods/<pod-id>/containers/<id>/record.json   the container record (atomic writes)
//   <root>/pods/<pod-id>/containers/<id>/config.json   its OCI bundle spec
//   <root>/names/<sha256 of pod-id/name_attempt>      its name reservation in the store's index
//
// As for pods, IDs reach paths only after they were checked against the
// 64-hex pattern, and names are hashed.

import {randomBytes} from 'node:crypto'
import {closeSync, constants, fsyncSync, mkdirSync, openSync, readdirSync, rmSync, unlinkSync, writeFileSync} from 'node:fs'

import type {ContainerConfig} from '../cri/container-types.js'
import {errnoOf, PodctlError, usageError} from './errors.js'
import {lock, lockName, type LockWait, tryLock, withLock} from './lock.js'
import {idPattern, nameHolderAt, readRecordFile, type Store, writeFileAtomic} from './store.js'

export const containerRecordVersion = 1

/** What podctl last did to a container; the CRI state is derived from this and the live system. */
export type ContainerPhase = 'creating' | 'created' | 'running' | 'stopped' | 'unknown'

export interface ContainerRecord {
  version: number
  id: string
  podSandboxId: string
  /** the reserved name: <pod-id>/<name>_<attempt> */
  name: string
  /** nanoseconds since the epoch, as a decimal string */
  createdAt: string
  phase: ContainerPhase
  config: ContainerConfig
  /** the image ID and the reference it was resolved from */
  imageId?: string
  imageRef?: string
  /** the runtime handler and binary (the pod's) */
  runtimeHandler?: string
  runtimePath?: string
  /** the container's cgroup (the runtime's cgroupsPath), under the pod's */
  cgroupsPath?: string
  /** the CRI log file on the host */
  logPath?: string
  /** the image's StopSignal, else SIGTERM */
  stopSignal?: string
  /** the image's layer snapshots (chain IDs) its overlay mounts: what rmi and gc must keep */
  snapshots?: string[]
  /** set before the overlay is mounted */
  rootfsMounted?: boolean
  /** set before conmon (and through it `runc create`) is started */
  containerCreated?: boolean
  /** the container's init process */
  pid?: number
  pidStartTime?: string
  /** its monitor */
  conmonPid?: number
  conmonStartTime?: string
  /** nanoseconds since the epoch, once `runc start` succeeded */
  startedAt?: string
  cleanupError?: string
}

export function newContainerId(): string {
  return randomBytes(32).toString('hex')
}

/** Unique per pod for the pod's lifetime, as CRI says of (name, attempt). */
export function containerName(podSandboxId: string, config: ContainerConfig): string {
  return `${podSandboxId}/${config.metadata.name}_${config.metadata.attempt ?? 0}`
}

function checkId(id: string): string {
  if (!idPattern.test(id)) throw new PodctlError(`internal error: "${id}" is not a container ID`)
  return id
}

export const containersDir = (store: Store, podId: string): string => `${store.podDir(podId)}/containers`
export const containerDir = (store: Store, podId: string, id: string): string => `${containersDir(store, podId)}/${checkId(id)}`
export const containerRecordPath = (store: Store, podId: string, id: string): string => `${containerDir(store, podId, id)}/record.json`
export const containerSpecPath = (store: Store, podId: string, id: string): string => `${containerDir(store, podId, id)}/config.json`
/** The overlay's mount point and its writable layer, in the container's directory. */
export const containerRootfs = (store: Store, podId: string, id: string) => {
  const dir = containerDir(store, podId, id)
  return {rootfs: `${dir}/rootfs`, upper: `${dir}/upper`, work: `${dir}/work`}
}
/** Where conmon puts each container's attach socket: <run-root>/ctr/<id>/attach (short enough for sun_path). */
export const attachSocketDir = (store: Store): string => `${store.runRoot}/ctr`

export function createContainerDir(store: Store, podId: string, id: string): void {
  mkdirSync(containersDir(store, podId), {recursive: true, mode: 0o700})
  mkdirSync(containerDir(store, podId, id), {mode: 0o700})
}

export function removeContainerDir(store: Store, podId: string, id: string): void {
  rmSync(containerDir(store, podId, id), {recursive: true, force: true})
}

/**
 * Atomically (temp file, rename). `sync` fsyncs it too: what a kill -9 must
 * find needs no fsync (the page cache outlives the process); what a power
 * loss must find (a container that create reported) does.
 */
export function writeContainerRecord(store: Store, record: ContainerRecord, sync = true): void {
  writeFileAtomic(containerRecordPath(store, record.podSandboxId, record.id), JSON.stringify(record, null, 1) + '\n', 0o600, sync)
}

/** One record; a missing one is null, a corrupt one an error naming the file. */
export function readContainerRecord(store: Store, podId: string, id: string): ContainerRecord | null {
  const describes = (r: ContainerRecord) => r?.id === id && r.podSandboxId === podId && Boolean(r.config?.metadata)
  return readRecordFile(containerRecordPath(store, podId, id), 'container', id, describes, `remove the container with: podctl rm -f ${id}`)
}

/** The container IDs with a directory under the pod (real directories only). */
export function listContainerIds(store: Store, podId: string): string[] {
  try {
    return readdirSync(containersDir(store, podId), {withFileTypes: true})
      .filter((e) => e.isDirectory() && idPattern.test(e.name))
      .map((e) => e.name)
  } catch (err) {
    if (errnoOf(err) === 'ENOENT' || errnoOf(err) === 'ENOTDIR') return []
    throw err
  }
}

export const lockContainer = (store: Store, id: string, wait: LockWait) => lock(lockName(store.root, 'container', checkId(id)), wait)

/** Whether some process (a create, stop, rm in progress) holds the container's lock. */
export async function containerLockHeld(store: Store, id: string): Promise<boolean> {
  return containerLocked(store, id)
}

async function containerLocked(store: Store, id: string): Promise<boolean> {
  const held = await tryLock(lockName(store.root, 'container', checkId(id)))
  if (!held) return true
  await held.release()
  return false
}

/**
 * Reserve the container's name in the store's name index: of two creates
 * of one name in one pod, exactly one wins. A reservation whose container has
 * neither a directory nor a live owner (a create killed in between) is taken over.
 */
export async function reserveContainerName(store: Store, podId: string, name: string, id: string, wait: LockWait): Promise<void> {
  const path = store.namePath(name)
  await withLock(lockName(store.root, 'names'), {...wait, what: 'the name index'}, async () => {
    const holder = nameHolderAt(path)
    if (holder === id) return
    if (holder) {
      const alive = idPattern.test(holder) && ((await containerLocked(store, holder)) || listContainerIds(store, podId).includes(holder))
      if (alive) {
        throw usageError(`failed to reserve container name "${name}": name is reserved by container "${holder}"`, `remove it first: podctl rm -f ${holder.slice(0, 13)}`)
      }
      unlinkSync(path)
    }
    const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600)
    try {
      writeFileSync(fd, JSON.stringify({name, id, kind: 'container'}) + '\n')
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
  })
}

/** Release the name if (and only if) it is reserved for this container. */
export async function releaseContainerName(store: Store, name: string, id: string, wait: LockWait): Promise<void> {
  const path = store.namePath(name)
  await withLock(lockName(store.root, 'names'), {...wait, what: 'the name index'}, async () => {
    if (nameHolderAt(path) !== id) return
    try {
      unlinkSync(path)
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT') throw err
    }
  })
}

/**
 * What the store's containers use of the image store: image IDs (rmi refuses
 * them) and layer snapshots (gc keeps them). Records that cannot be read are
 * skipped; their directories are gc's.
 */
export function imagesInUse(store: Store): {images: Map<string, string>; snapshots: Set<string>} {
  const images = new Map<string, string>()
  const snapshots = new Set<string>()
  for (const podId of store.listIds()) {
    for (const id of listContainerIds(store, podId)) {
      let record: ContainerRecord | null = null
      try {
        record = readContainerRecord(store, podId, id)
      } catch {
        continue
      }
      if (!record) continue
      if (record.imageId && !images.has(record.imageId)) images.set(record.imageId, id)
      for (const c of record.snapshots ?? []) snapshots.add(c)
    }
  }
  return {images, snapshots}
}
