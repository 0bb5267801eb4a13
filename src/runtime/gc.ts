// Garbage collection: what no pod record owns. A crash, a reboot or a hand
// removal of the state dir can leave resources behind that rmp cannot reach
// because their record is gone. gc finds them from what the host shows: in
// this state root's own places — its run root's netns and runtime dirs, its
// IPAM dir and its name index — under names that are pod IDs; and, for IDs
// with such a trace only, in places every runtime on the machine shares: the
// IPAM dataDirs of the conf dir's networks, the nat table's CNI chains and
// rules (by the container ID in their comments), the pod cgroups under the
// cgroup parent. A pod whose runp is still running holds its lock, and is skipped.
// Last, the lock directories of this root's pods and containers that are gone
// (found by the name each lock directory records), each discarded only while
// gc holds it.

import {existsSync} from 'node:fs'
import {readdir, readFile, rmdir, unlink} from 'node:fs/promises'
import {dirname, join} from 'node:path'

import {pauseLeaf, podCgroupsPath} from './cgroups.js'
import {allConflists, delNetwork, findConflist, hostLocalDirs, resolvePlugins} from './cni.js'
import {messageOf} from './errors.js'
import {natTables, podRulesIn, removePodRules} from './iptables.js'
import {run} from './exec.js'
import {containerDir, containerLockHeld, listContainerIds, readContainerRecord} from './container-store.js'
import {monitorsUnder} from './monitor.js'
import {cniLockName, lockName, locksNamed, tryLock, withLock} from './lock.js'
import {isMountPoint, removeNetns} from './netns.js'
import {OciRuntime, resolveRuntime} from './oci-runtime.js'
import type {CallContext} from './context.js'
import {idPattern} from './store.js'

export type OrphanKind = 'container' | 'monitor' | 'netns' | 'shm' | 'runtime-container' | 'ipam-allocation' | 'iptables' | 'cgroup' | 'name-reservation' | 'lock'

export interface Orphan {
  kind: OrphanKind
  /** the pod ID it belonged to */
  id: string
  path: string
  /** the runtime handler, or the CNI network(s, comma-separated for iptables), it belongs to */
  owner?: string
}

/** Removal order: the runtime container (and its pause) first, the pod's shm, the IP while the netns still exists, then what DEL left. */
const removalOrder: OrphanKind[] = ['container', 'monitor', 'runtime-container', 'shm', 'ipam-allocation', 'iptables', 'netns', 'cgroup', 'name-reservation', 'lock']

export interface FindOptions {
  /** pods whose lock is held by the caller (not a runp in progress) */
  includeLocked?: string[]
  /** pod IDs known to be this root's though they may have no trace left in it (a corrupt record's) */
  ours?: string[]
}

export async function findOrphans(rt: CallContext, options: FindOptions = {}): Promise<Orphan[]> {
  const {store} = rt
  // Containers' IDs count as known too: their runc state and name reservations sit beside the pods'.
  const podIds = store.listIds()
  const known = new Set([...podIds, ...podIds.flatMap((id) => listContainerIds(store, id))])
  const orphans: Orphan[] = []
  const unknown = (id: string) => idPattern.test(id) && !known.has(id)

  // A container directory without a readable record (a create killed before it wrote one,
  // a record corrupted since): everything of it is found from the system and removed.
  for (const podId of podIds) {
    for (const id of listContainerIds(store, podId)) {
      let broken = false
      try {
        broken = readContainerRecord(store, podId, id) === null
      } catch {
        broken = true
      }
      if (broken && !(await containerLockHeld(store, id))) orphans.push({kind: 'container', id: podId, path: containerDir(store, podId, id), owner: id})
    }
  }

  // A container's monitor whose container directory is gone.
  for (const m of monitorsUnder(join(store.root, 'pods'))) {
    if (!existsSync(m.bundle)) orphans.push({kind: 'monitor', id: m.id, path: `conmon ${m.pid}`, owner: String(m.pid)})
  }

  const netnsDir = join(store.runRoot, 'netns')
  for (const name of await list(netnsDir)) {
    if (unknown(name)) orphans.push({kind: 'netns', id: name, path: join(netnsDir, name)})
  }

  // A pod's /dev/shm for its containers (<run-root>/shm/<pod ID>).
  const shmDir = join(store.runRoot, 'shm')
  for (const name of await list(shmDir)) {
    if (unknown(name)) orphans.push({kind: 'shm', id: name, path: join(shmDir, name)})
  }

  const runtimeDir = join(store.runRoot, 'runtime')
  for (const handler of await list(runtimeDir)) {
    for (const id of await list(join(runtimeDir, handler))) {
      if (unknown(id)) orphans.push({kind: 'runtime-container', id, path: join(runtimeDir, handler, id), owner: handler})
    }
  }

  // podctl's own IPAM dir holds only this root's pods.
  const ipamDir = store.ipamDir()
  for (const network of await list(ipamDir)) {
    for (const {id, path} of await allocations(join(ipamDir, network))) {
      if (unknown(id)) orphans.push({kind: 'ipam-allocation', id, path, owner: network})
    }
  }

  for (const {path, holder} of await store.nameReservations()) {
    if (holder === undefined || unknown(holder)) orphans.push({kind: 'name-reservation', id: holder ?? '', path})
  }

  // A user's conflist may keep its IPs in a dataDir other runtimes share (host-local's default,
  // /var/lib/cni/networks), and the nat table is the host's: there, only what belongs to a pod
  // with a trace in this root (or named by the caller) is taken, never another runtime's.
  const ours = new Set([...orphans.map((o) => o.id), ...(options.ours ?? [])].filter(unknown))
  const conflists = await allConflists(rt.settings.cniConfDir)
  for (const conflist of conflists) {
    for (const dir of hostLocalDirs(conflist)) {
      if (dir.startsWith(`${ipamDir}/`)) continue
      for (const {id, path} of await allocations(dir)) {
        if (ours.has(id)) orphans.push({kind: 'ipam-allocation', id, path, owner: conflist.name})
      }
    }
  }
  if (ours.size > 0) {
    const networks = [...new Set([...conflists.map((c) => c.name), ...orphans.filter((o) => o.kind === 'ipam-allocation').map((o) => o.owner ?? '')])].filter(Boolean)
    const tables = await natTables(rt.ctx)
    for (const id of ours) {
      for (const {family, save} of tables) {
        const {rules, chains} = podRulesIn(save, id, networks)
        if (rules.length === 0 && chains.length === 0) continue
        const what = [...chains, ...(rules.length > 0 ? [`${rules.length} rule${rules.length === 1 ? '' : 's'}`] : [])].join(', ')
        orphans.push({kind: 'iptables', id, path: `${family} nat: ${what}`, owner: networks.join(',')})
      }
    }
  }

  // The cgroup parent is shared by every state root on the machine, so a pod
  // cgroup is only taken for this root's when another of its traces is here.
  for (const dir of await cgroupParents(rt.settings.cgroupParent)) {
    for (const id of await list(dir)) {
      if (ours.has(id)) orphans.push({kind: 'cgroup', id, path: join(dir, id)})
    }
  }

  // A runp in progress holds its pod lock before it makes anything: not an orphan.
  const inProgress = new Set<string>()
  for (const id of new Set(orphans.map((o) => o.id))) {
    if (id && !options.includeLocked?.includes(id) && (await store.podLocked(id))) inProgress.add(id)
  }
  const found = orphans.filter((o) => !inProgress.has(o.id))

  // The locks of pods and containers that are gone (a record removed by hand, a removal
  // killed, probes such as the ones above): listed last, after every probe made them.
  for (const {name, path} of locksNamed(lockName(store.root, ''))) {
    const object = lockedObject(rt, name)
    if (!object || !object.gone() || inProgress.has(object.id)) continue
    const held = await tryLock(name)
    if (!held) continue
    await held.release()
    found.push(object.kind === 'pod' ? {kind: 'lock', id: object.id, path, owner: name} : {kind: 'lock', id: '', path: `${path} (container ${object.id})`, owner: name})
  }
  return found.sort((a, b) => removalOrder.indexOf(a.kind) - removalOrder.indexOf(b.kind))
}

/** The pod or container a lock of this root is for, and whether it is gone (no directory); undefined for the root's other locks. */
function lockedObject(rt: CallContext, name: string): {kind: 'pod' | 'container'; id: string; gone(): boolean} | undefined {
  const [kind, id, ...rest] = name.slice(lockName(rt.store.root, '').length).split('/')
  if (rest.length > 0 || !idPattern.test(id ?? '')) return undefined
  if (kind === 'pod') return {kind, id, gone: () => !rt.store.hasPodDir(id)}
  if (kind === 'container') return {kind, id, gone: () => !rt.store.listIds().some((podId) => listContainerIds(rt.store, podId).includes(id))}
  return undefined
}

/** host-local allocation files in a directory, each with the container ID it holds. */
async function allocations(dir: string): Promise<{id: string; path: string}[]> {
  const found: {id: string; path: string}[] = []
  for (const file of await list(dir)) {
    if (!/^[0-9a-f.:]+$/.test(file) || !/[.:]/.test(file)) continue
    // host-local: the file is named by the IP and holds "<container ID>\n<ifname>".
    const id = (await readFile(join(dir, file), 'utf8').catch(() => '')).split(/\r?\n/)[0].trim()
    found.push({id, path: join(dir, file)})
  }
  return found
}

/** Remove one orphan; tolerates it being gone already. */
export async function removeOrphan(rt: CallContext, orphan: Orphan): Promise<void> {
  switch (orphan.kind) {
    case 'netns':
      return removeNetns(rt.ctx, orphan.path)
    case 'shm':
      // The same unmount as a tmpfs netns file's: lazy, then the mount point goes.
      if (isMountPoint(orphan.path)) await run(rt.ctx, 'umount', ['--lazy', orphan.path])
      return rmdir(orphan.path).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err
      })
    case 'runtime-container': {
      const handler = orphan.owner ?? rt.settings.defaultRuntime
      const runtime = new OciRuntime(handler, resolveRuntime(rt.settings.runtimes, handler), rt.store.runtimeRoot(handler), rt.settings.runtimes[handler]?.args)
      return runtime.delete(rt.ctx, orphan.id)
    }
    case 'ipam-allocation':
      return releaseAllocation(rt, orphan)
    case 'iptables':
      await withLock(cniLockName, {timeoutMs: rt.settings.timeoutMs, signal: rt.ctx.signal, what: 'CNI'}, () =>
        removePodRules(rt.ctx, orphan.id, (orphan.owner ?? '').split(',').filter(Boolean)),
      )
      return
    case 'container':
      return (await import('./container.js')).removeContainerLeftovers(rt, {podId: orphan.id, id: orphan.owner ?? ''})
    case 'monitor': {
      // Checked again: the PID must still be a conmon of that container.
      const pid = Number(orphan.owner)
      if (monitorsUnder(join(rt.store.root, 'pods')).some((m) => m.pid === pid && m.id === orphan.id)) process.kill(pid, 'SIGKILL')
      return
    }
    case 'cgroup':
      // Its containers' cgroups first (<pod cgroup>/<container ID>), and v2's pause leaf. Fails (EBUSY) while a process is still inside: reported, not forced.
      for (const child of await list(orphan.path)) {
        if (idPattern.test(child) || child === pauseLeaf) {
          await rmdir(join(orphan.path, child)).catch((err: NodeJS.ErrnoException) => {
            if (err.code !== 'ENOENT') throw err
          })
        }
      }
      return rmdir(orphan.path).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err
      })
    case 'lock': {
      // Taken since: in use again, and left. Else removed only if its object is still gone, under the lock.
      const name = orphan.owner ?? ''
      const held = await tryLock(name)
      if (!held) return
      await (lockedObject(rt, name)?.gone() ? held.discard() : held.release())
      return
    }
    case 'name-reservation':
      return unlink(orphan.path).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err
      })
  }
}

/**
 * An IP whose pod record is gone: CNI DEL with the network's conflist (which
 * also drops the plugins' iptables rules for that container), with an empty
 * netns as the CNI spec allows; the allocation file itself only if DEL could
 * not run.
 */
async function releaseAllocation(rt: CallContext, orphan: Orphan): Promise<void> {
  const network = orphan.owner ?? ''
  const conflist = await findConflist(rt.settings.cniConfDir, network)
  // With the netns still there, the plugins can also remove what they made inside and for it.
  const netnsPath = rt.store.netnsPath(orphan.id)
  const netns = isMountPoint(netnsPath) ? netnsPath : ''
  if (conflist) {
    try {
      const plugins = resolvePlugins(conflist, rt.settings.cniBinDirs)
      await withLock(cniLockName, {timeoutMs: rt.settings.timeoutMs, signal: rt.ctx.signal, what: 'CNI'}, () =>
        delNetwork(rt.ctx, conflist, plugins, rt.settings.cniBinDirs, {containerId: orphan.id, netns, ifName: 'eth0', args: {IgnoreUnknown: '1'}, capabilityArgs: {}}),
      )
    } catch (err) {
      rt.warn(`CNI DEL for ${orphan.id.slice(0, 13)} on network "${network}" failed (${messageOf(err)}); removing the allocation file`)
    }
  }
  await unlink(orphan.path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err
  })
}

/** podctl's cgroup parent (the cgroup-parent setting) in every hierarchy: each v1 controller, the unified one, or v2's root. */
async function cgroupParents(cgroupParent: string): Promise<string[]> {
  const base = '/sys/fs/cgroup'
  const parent = dirname(podCgroupsPath(cgroupParent, 'x')).replace(/^\//, '')
  const dirs = [join(base, parent)]
  const entries = await readdir(base, {withFileTypes: true}).catch(() => [])
  for (const e of entries) if (e.isDirectory()) dirs.push(join(base, e.name, parent))
  const existing: string[] = []
  for (const d of dirs) if ((await list(d)).length > 0) existing.push(d)
  return existing
}

async function list(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => [] as string[])
}

