// The container lifecycle: create, start, stop, remove, status, list, and
// the pod's calls (stop and remove every container of a pod). createContainer
// is numbered steps as runPod is: each side effect is announced in the record
// before it is made, with its undo pushed, and the undos are the same
// cleanup steps that rm uses, each tolerating "already gone".
//
// Locks: the pod's lock around create (so a create cannot race stopp/rmp or
// another create of the pod), then the container's; stop, start and rm take
// the container's alone. The order is always pod, then container.

import {existsSync, mkdirSync, readFileSync, rmdirSync, rmSync} from 'node:fs'
import {readFile} from 'node:fs/promises'
import {setTimeout as sleep} from 'node:timers/promises'

import type {ContainerConfig} from '../cri/container-types.js'
import {NamespaceMode, type PodSandboxConfig} from '../cri/types.js'
import {detectCgroupMode, podCgroupsPath, recordCgroupParent, removePodCgroup} from './cgroups.js'
import type {CallContext} from './context.js'
import {
  attachSocketDir,
  containerDir,
  containerName,
  containerRecordVersion,
  containerRootfs,
  containerSpecPath,
  createContainerDir,
  listContainerIds,
  lockContainer,
  newContainerId,
  readContainerRecord,
  releaseContainerName,
  removeContainerDir,
  reserveContainerName,
  writeContainerRecord,
  type ContainerRecord,
} from './container-store.js'
import {containerState, initAlive, isLive, type ContainerState} from './container-state.js'
import {ExitCode, messageOf, notFoundError, PodctlError, usageError, wrap} from './errors.js'
import {run} from './exec.js'
import {allowInPodCgroup, hostDevicesOf} from './host-devices.js'
import {hostMountsOf, selinuxMode} from './host-mounts.js'
import {type Lock} from './lock.js'
import {findConmon, monitorFiles, readExit, startMonitor, type MonitorExit} from './monitor.js'
import {isMountPoint} from './netns.js'
import {shmSize} from './oci-spec.js'
import {OciRuntime} from './oci-runtime.js'
import {readRootfsFile} from './rootfs-files.js'
import {ownCapabilities, processInCgroup, readProcStat, sameProcessAlive} from './proc.js'
import {stepTimer, UndoStack} from './steps.js'
import {type PodRecord, writeFileAtomic} from './store.js'

/** /etc/passwd and /etc/group of an image: read whole, so bounded. */
const etcFileLimit = 4 << 20

const lockWait = (rt: CallContext, what: string) => ({timeoutMs: rt.settings.timeoutMs, signal: rt.ctx.signal, what})

function nowNanos(): string {
  return (BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n)).toString()
}

/** A fresh context for cleanup: the caller's may be the one that was cancelled. */
function cleanupContext(rt: CallContext): CallContext {
  const timeoutMs = Math.max(rt.settings.timeoutMs, 30_000)
  return {...rt, settings: {...rt.settings, timeoutMs}, ctx: {...rt.ctx, signal: AbortSignal.timeout(timeoutMs)}}
}

/**
 * Fault injection for the crash-safety tests: PODCTL_FAULT_AT_STEP=<point>
 * kills this process with SIGKILL there: "create-1" between the container's
 * directory and its record, "create-2" after the record,
 * "create-3" after the name, "create-4" after the overlay mount, "create-5"
 * after the spec, "create-6" once conmon reported the PID (the record does
 * not have it yet); "start-1" after `runc start`, before the record says so;
 * "stop-1" after the stop signal; "rm-1" after the runtime delete, "rm-2"
 * after the unmount.
 */
function fault(point: string): void {
  if (process.env.PODCTL_FAULT_AT_STEP === point) process.kill(process.pid, 'SIGKILL')
}

export function runtimeOf(rt: CallContext, record: {runtimeHandler?: string; runtimePath?: string}): OciRuntime {
  const handler = record.runtimeHandler || rt.settings.defaultRuntime
  return new OciRuntime(handler, record.runtimePath || handler, rt.store.runtimeRoot(handler), rt.settings.runtimes[handler]?.args)
}

// ---------------------------------------------------------------------------
// Resolution: what the user typed → one container
// ---------------------------------------------------------------------------

export interface ContainerRef {
  podId: string
  id: string
}

/** Every container of every pod, by directory (records not read). */
export function allContainerRefs(rt: CallContext): ContainerRef[] {
  return rt.store.listIds().flatMap((podId) => listContainerIds(rt.store, podId).map((id) => ({podId, id})))
}

/**
 * A full ID, a unique ID prefix, or a unique container name (metadata.name);
 * null when nothing matches. As for pods, a name and another container's ID
 * prefix at once is an error listing both.
 */
export function resolveContainer(rt: CallContext, ref: string): ContainerRef | null {
  if (ref === '') throw usageError('container ID cannot be empty')
  const all = allContainerRefs(rt)
  const hex = /^[0-9a-f]+$/.test(ref) && ref.length <= 64
  const byPrefix = hex ? all.filter((c) => c.id.startsWith(ref)) : []
  if (byPrefix.length === 1 && ref.length === 64) return byPrefix[0]
  const byName = all.filter((c) => {
    try {
      return readContainerRecord(rt.store, c.podId, c.id)?.config.metadata.name === ref
    } catch {
      return false
    }
  })
  const short = (refs: ContainerRef[]) => refs.map((c) => c.id.slice(0, 13)).join(', ')
  if (byName.length > 0 && byPrefix.some((c) => !byName.includes(c))) {
    throw usageError(`"${ref}" is ambiguous: it is the name of container ${short(byName)} and the ID prefix of container ${short(byPrefix)}`, 'use more characters of the container ID')
  }
  if (byName.length === 1) return byName[0]
  if (byName.length > 1) throw usageError(`container name "${ref}" is ambiguous: ${byName.length} containers have it: ${short(byName)}`, 'use the container ID instead')
  if (byPrefix.length === 1) return byPrefix[0]
  if (byPrefix.length > 1) throw usageError(`container ID prefix "${ref}" is ambiguous: it matches ${byPrefix.length} containers: ${short(byPrefix)}`, 'type more characters of the ID')
  return null
}

export function mustResolveContainer(rt: CallContext, ref: string): ContainerRef {
  const found = resolveContainer(rt, ref)
  if (!found) throw notFoundError(`container "${ref}" not found`, 'list containers with: podctl ps -a')
  return found
}

// ---------------------------------------------------------------------------
// create
// ---------------------------------------------------------------------------

export async function createContainer(rt: CallContext, podRef: string, config: ContainerConfig): Promise<string> {
  const {store, settings, ctx} = rt
  const timer = stepTimer(ctx)

  // Step 1: prerequisites, before anything is made: the pod (READY, under its lock
  // for the whole create), the image (in the store: create does not pull), conmon.
  const podId = await store.resolve(podRef)
  if (podId === null) throw notFoundError(`pod "${podRef}" not found`, 'list pods with: podctl pods')
  const podLock = await store.lockPod(podId, lockWait(rt, `pod "${podId}"`))
  try {
    const pod = await store.readRecord(podId)
    if (!pod) throw notFoundError(`pod "${podRef}" not found`, 'list pods with: podctl pods')
    if (pod.phase !== 'ready' || !sameProcessAlive(pod.pid, pod.pidStartTime)) {
      throw usageError(`pod "${podId}" is not ready: a container can only be created in a ready pod`, `see its state with: podctl inspectp ${podId.slice(0, 13)}`)
    }
    const [{ImageStore}, {buildContainerSpec}, seccomp] = await Promise.all([import('../images/store.js'), import('./container-spec.js'), import('./seccomp.js')])
    const images = new ImageStore(settings)
    const imageRef = config.image.image ?? ''
    const found = images.status(imageRef)
    if (!found) throw notFoundError(`image "${imageRef}" not found: create does not pull`, `pull it first: podctl pull ${imageRef} (or use podctl run, which pulls)`)
    const {image, lowerDirs} = images.rootfs(found.id)
    const conmon = findConmon()
    const cgroupMode = detectCgroupMode()
    const seccompProfile = await seccomp.loadLocalhostSeccomp({linux: {security_context: config.linux?.security_context}} as PodSandboxConfig, settings.seccompProfileRoot)
    const podConfig = pod.config
    // Each mount's host path, created when absent (as containerd), and the host mount it lies on; the devices' nodes.
    const hostMounts = hostMountsOf(config.mounts ?? [], 'container config')
    const hostDevices = hostDevicesOf(config.devices ?? [], 'container config')
    timer('prerequisites')

    // Step 1b: the pod's /dev/shm, once per pod: the pause's own cannot be bind-mounted
    // from its mount namespace into another. Announced in the pod's record first.
    const hostIpc = podConfig.linux?.security_context?.namespace_options?.ipc === NamespaceMode.NODE
    if (!hostIpc) await ensurePodShm(rt, pod)

    // Step 2: the ID, its lock and its record, before any side effect.
    const id = newContainerId()
    const ctrLock = await lockContainer(store, id, lockWait(rt, `container "${id}"`))
    const undo = new UndoStack()
    const handler = pod.runtimeHandler || settings.defaultRuntime
    const record: ContainerRecord = {
      version: containerRecordVersion,
      id,
      podSandboxId: podId,
      name: containerName(podId, config),
      createdAt: nowNanos(),
      phase: 'creating',
      config,
      imageId: image.id,
      imageRef: image.repoTags[0] ?? imageRef,
      snapshots: image.chainIds,
      runtimeHandler: handler,
      runtimePath: pod.runtimePath,
      cgroupsPath: `${podCgroupsPath(recordCgroupParent(pod), podId)}/${id}`,
      logPath: logPathOf(podConfig, config, containerDir(store, podId, id)),
      stopSignal: image.config.config?.StopSignal || 'SIGTERM',
    }
    // The announcements before each step are not fsynced (a kill -9 leaves the page cache); the last write is.
    const save = (sync = false) => writeContainerRecord(store, record, sync)
    let created = false
    try {
      undo.push('container directory', async () => removeContainerDir(store, podId, id))
      createContainerDir(store, podId, id)
      fault('create-1')
      save()
      timer('record')
      fault('create-2')

      // Step 3: the name: of two creates of one name in a pod, one wins.
      await reserveContainerName(store, podId, record.name, id, lockWait(rt, 'the name index'))
      undo.push('name reservation', () => releaseContainerName(store, record.name, id, lockWait(cleanupContext(rt), 'the name index')))
      timer('reserve name')
      fault('create-3')

      // Step 4: the rootfs: the image's snapshots under a writable layer of its own.
      undo.push('rootfs', () => unmountRootfs(cleanupContext(rt), record))
      record.rootfsMounted = true
      save()
      await mountRootfs(rt, record, lowerDirs)
      timer('overlay mount')
      fault('create-4')

      // Step 5: the OCI spec, with the users and groups of the rootfs.
      const {rootfs} = containerRootfs(store, podId, id)
      const etc = {passwd: readRootfsFile(rootfs, '/etc/passwd', etcFileLimit), group: readRootfsFile(rootfs, '/etc/group', etcFileLimit)}
      const spec = buildContainerSpec({
        containerId: id,
        podSandboxId: podId,
        config,
        pod: podConfig,
        imageName: record.imageRef ?? imageRef,
        image: image.config.config ?? {},
        rootfs,
        pausePid: pod.pid!,
        files: {hostname: store.sandboxFile(podId, 'hostname'), hosts: store.sandboxFile(podId, 'hosts'), resolvConf: store.sandboxFile(podId, 'resolv.conf')},
        shmPath: store.shmPath(podId),
        cgroupsPath: record.cgroupsPath!,
        cgroupV2: cgroupMode === 'v2',
        boundingCapabilities: ownCapabilities().bounding,
        seccompProfile,
        defaultSeccompProfile: seccomp.defaultSeccompProfile(),
        etc,
        hostMounts,
        hostDevices,
        selinux: selinuxMode(),
      })
      writeFileAtomic(containerSpecPath(store, podId, id), JSON.stringify(spec, null, 1) + '\n', 0o600, false)
      timer('oci spec')
      fault('create-5')

      // Step 5b: the devices' rules in the pod's cgroup (v1), which a container's cannot exceed; kept with the pod.
      allowInPodCgroup(hostDevices, podCgroupsPath(recordCgroupParent(pod), podId), cgroupMode === 'v2')

      // Step 6: the monitor, which runs `runc create` and holds the container's stdio.
      undo.push('runtime container', () => deleteRuntimeStep(cleanupContext(rt), record))
      record.containerCreated = true
      save()
      const runtime = runtimeOf(rt, record)
      mkdirSync(attachSocketDir(store), {recursive: true, mode: 0o700})
      const started = await startMonitor(
        ctx,
        conmon,
        {
          id,
          bundle: containerDir(store, podId, id),
          socketDir: attachSocketDir(store),
          runtimeBinary: runtime.binary,
          runtimeRoot: runtime.stateRoot,
          runtimeOptions: runtime.options,
          logPath: record.logPath!,
          name: config.metadata.name,
          tty: config.tty === true,
          stdin: config.stdin === true,
          stdinOnce: config.stdin_once === true,
        },
        Math.max(settings.timeoutMs, 10_000),
      ).catch((err) => {
        throw wrap(`failed to create container "${config.metadata.name}" in pod "${podId}"`, err)
      })
      fault('create-6')
      record.pid = started.pid
      record.pidStartTime = readProcStat(started.pid)?.startTime
      record.conmonPid = started.conmonPid
      record.conmonStartTime = readProcStat(started.conmonPid)?.startTime
      record.phase = 'created'
      save(true)
      timer('monitor and runtime create')
      created = true
      return id
    } catch (err) {
      const failure = err instanceof PodctlError ? err : wrap(`failed to create container "${config.metadata.name}"`, err)
      const cleanupErr = await undo.unwind(ctx.log)
      if (cleanupErr) {
        record.phase = 'unknown'
        record.cleanupError = cleanupErr.message
        try {
          save()
        } catch {
          // the directory may be what could not be cleaned
        }
        throw new PodctlError(`${failure.message}; cleanup failed too, the container is kept as UNKNOWN: ${cleanupErr.message}`, {
          exitCode: ExitCode.incomplete,
          hint: `remove it with: podctl rm -f ${id.slice(0, 13)}`,
          cause: failure,
        })
      }
      throw failure
    } finally {
      await (created ? ctrLock.release() : ctrLock.discard())
    }
  } finally {
    await podLock.release()
  }
}

/** The CRI log file: the pod's log_directory + the config's log_path, else a file in the container's directory. */
function logPathOf(pod: PodSandboxConfig, config: ContainerConfig, dir: string): string {
  if (pod.log_directory && config.log_path) {
    const path = `${pod.log_directory.replace(/\/+$/, '')}/${config.log_path}`
    const parent = path.slice(0, path.lastIndexOf('/'))
    if (parent) mkdirSync(parent, {recursive: true, mode: 0o755})
    return path
  }
  return `${dir}/container.log`
}

/** The pod's shm tmpfs, made once (the pod's lock is held). */
async function ensurePodShm(rt: CallContext, pod: PodRecord): Promise<void> {
  const path = rt.store.shmPath(pod.id)
  if (pod.shmPath && isMountPoint(path)) return
  pod.shmPath = path
  await rt.store.writeRecord(pod)
  mkdirSync(path, {recursive: true, mode: 0o755})
  const result = await run(rt.ctx, 'mount', ['-t', 'tmpfs', '-o', `nosuid,noexec,nodev,mode=1777,size=${shmSize}`, 'shm', path])
  if (result.exitCode !== 0) throw new PodctlError(`cannot mount the pod's /dev/shm at "${path}": ${result.stderr.trim() || `mount exited ${result.exitCode}`}`)
}

/** The pod's shm tmpfs unmounted and its mount point removed (rmp, after its containers); tolerates "already gone". */
export async function removePodShm(rt: CallContext, pod: PodRecord): Promise<void> {
  if (!pod.shmPath) return
  const path = rt.store.shmPath(pod.id)
  if (isMountPoint(path)) {
    const result = await run(rt.ctx, 'umount', [path])
    if (result.exitCode !== 0 && isMountPoint(path)) {
      const lazy = await run(rt.ctx, 'umount', ['--lazy', path])
      if (lazy.exitCode !== 0 && isMountPoint(path)) throw new PodctlError(`cannot unmount the pod's /dev/shm "${path}": ${result.stderr.trim()}`)
    }
  }
  try {
    rmdirSync(path)
  } catch {
    // gone already
  }
  pod.shmPath = undefined
}

async function mountRootfs(rt: CallContext, record: ContainerRecord, lowerDirs: string[]): Promise<void> {
  const {rootfs, upper, work} = containerRootfs(rt.store, record.podSandboxId, record.id)
  for (const dir of [rootfs, upper, work]) mkdirSync(dir, {recursive: true, mode: 0o755})
  const options = `lowerdir=${lowerDirs.join(':')},upperdir=${upper},workdir=${work}`
  const result = await run(rt.ctx, 'mount', ['-t', 'overlay', 'overlay', '-o', options, rootfs])
  if (result.exitCode !== 0) {
    throw new PodctlError(`cannot mount the container's rootfs: ${result.stderr.trim() || `mount exited ${result.exitCode}`}`, {hint: 'podctl needs overlayfs (modprobe overlay)'})
  }
}

async function unmountRootfs(rt: CallContext, record: ContainerRecord): Promise<void> {
  if (!record.rootfsMounted) return
  const {rootfs} = containerRootfs(rt.store, record.podSandboxId, record.id)
  if (isMountPoint(rootfs)) {
    const result = await run(rt.ctx, 'umount', [rootfs])
    if (result.exitCode !== 0 && isMountPoint(rootfs)) {
      // Busy (a process of another mount namespace holds it): detach it, as kubelet's cleanup would.
      const lazy = await run(rt.ctx, 'umount', ['--lazy', rootfs])
      if (lazy.exitCode !== 0 && isMountPoint(rootfs)) throw new PodctlError(`cannot unmount the container's rootfs "${rootfs}": ${result.stderr.trim()}`)
    }
  }
  record.rootfsMounted = false
}

/** The runtime container deleted (killing what is left) and its monitor gone. */
async function deleteRuntimeStep(rt: CallContext, record: ContainerRecord): Promise<void> {
  if (!record.containerCreated) return
  await runtimeOf(rt, record).delete(rt.ctx, record.id)
  await stopMonitor(record, containerDir(rt.store, record.podSandboxId, record.id))
  // conmon's symlink to the attach socket's directory, which it leaves when it is killed (or fails).
  rmSync(`${attachSocketDir(rt.store)}/${record.id}`, {force: true})
  if (record.cgroupsPath) await removePodCgroup(record.cgroupsPath)
  record.containerCreated = false
}

/**
 * conmon exits on its own once its container is reaped; one still there after
 * a short wait (a create killed before `runc create` ran, a kill -9 of the
 * container's init while conmon waits on it) gets SIGKILL. Its PID comes from
 * the record, or from its pid file, and must be a conmon of this container.
 */
async function stopMonitor(record: ContainerRecord, dir: string): Promise<void> {
  let pid = record.conmonPid
  let startTime = record.conmonStartTime
  if (!pid) {
    const text = (() => {
      try {
        return readFileSync(monitorFiles(dir).conmonPidFile, 'utf8').trim()
      } catch {
        return ''
      }
    })()
    if (!/^\d+$/.test(text)) return
    pid = Number(text)
    startTime = readProcStat(pid)?.startTime
    if (!startTime || !isMonitorOf(pid, record.id)) return
  }
  for (let delay = 1, waited = 0; waited < 1000; waited += delay, delay = Math.min(delay * 2, 50)) {
    if (!sameProcessAlive(pid, startTime)) return
    await sleep(delay)
  }
  if (sameProcessAlive(pid, startTime)) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // gone meanwhile
    }
  }
}

/** The process is conmon with `-c <id>` on its command line. */
export function isMonitorOf(pid: number, id: string): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
    return /conmon$/.test(argv[0] ?? '') && argv.some((a, i) => a === '-c' && argv[i + 1] === id)
  } catch {
    return false
  }
}

// ---------------------------------------------------------------------------
// start, stop
// ---------------------------------------------------------------------------

export async function withContainerLock<T>(rt: CallContext, id: string, fn: () => Promise<T>, gone = () => false): Promise<T> {
  const held: Lock = await lockContainer(rt.store, id, lockWait(rt, `container "${id}"`))
  try {
    return await fn()
  } finally {
    await (gone() ? held.discard() : held.release())
  }
}

function mustRead(rt: CallContext, ref: ContainerRef): ContainerRecord {
  const record = readContainerRecord(rt.store, ref.podId, ref.id)
  if (!record) throw notFoundError(`container "${ref.id}" not found`, 'list containers with: podctl ps -a')
  return record
}

export function factsOf(rt: CallContext, record: ContainerRecord): {state: ContainerState; exit?: MonitorExit} {
  const exit = readExit(containerDir(rt.store, record.podSandboxId, record.id))
  return {state: containerState(record, {exit, initAlive: initAlive(record)}), exit}
}

export async function startContainer(rt: CallContext, ref: ContainerRef): Promise<void> {
  await withContainerLock(rt, ref.id, async () => {
    const record = mustRead(rt, ref)
    const {state} = factsOf(rt, record)
    if (state !== 'CONTAINER_CREATED') {
      throw usageError(`container "${ref.id}" is ${stateWord(state)}: only a created container can be started`, state === 'CONTAINER_EXITED' ? `remove it and create it again: podctl rm ${ref.id.slice(0, 13)}` : undefined)
    }
    const runtime = runtimeOf(rt, record)
    await runtime.start(rt.ctx, record.id)
    fault('start-1')
    record.startedAt = nowNanos()
    record.phase = 'running'
    writeContainerRecord(rt.store, record)
  })
}

const stateWord = (state: ContainerState) => state.replace('CONTAINER_', '').toLowerCase()

/** How long a SIGKILLed container gets to be reaped by its monitor before stop reports it. */
const killWaitMs = 10_000

/**
 * CRI StopContainer: the stop signal (the image's StopSignal, else SIGTERM),
 * `timeoutSec` for it to exit, then SIGKILL; 0 kills at once. Idempotent: a
 * container that is not running is stopped already.
 */
export async function stopContainer(rt: CallContext, ref: ContainerRef, timeoutSec: number): Promise<void> {
  await withContainerLock(rt, ref.id, async () => {
    const record = readContainerRecord(rt.store, ref.podId, ref.id)
    if (!record) return
    await stopRecord(rt, record, timeoutSec)
  })
}

async function stopRecord(rt: CallContext, record: ContainerRecord, timeoutSec: number): Promise<void> {
  const dir = containerDir(rt.store, record.podSandboxId, record.id)
  if (!isLive(factsOf(rt, record).state)) return
  const signal = timeoutSec > 0 ? (record.stopSignal ?? 'SIGTERM') : 'SIGKILL'
  signalInit(rt, record, signal)
  fault('stop-1')
  if (timeoutSec > 0 && (await exited(record, dir, timeoutSec * 1000, rt.ctx.signal))) return
  if (signal !== 'SIGKILL') signalInit(rt, record, 'SIGKILL')
  if (!(await exited(record, dir, killWaitMs, rt.ctx.signal))) {
    throw new PodctlError(`container "${record.id}" did not exit within ${killWaitMs / 1000} s of SIGKILL`, {hint: 'it may be stuck in the kernel (state D); try again later'})
  }
}

/** A signal to the container's init, sent directly when the recorded PID is the live init in the container's cgroup. */
function signalInit(rt: CallContext, record: ContainerRecord, signal: string): void {
  if (!sameProcessAlive(record.pid, record.pidStartTime)) return
  if (record.cgroupsPath && !processInCgroup(record.pid!, record.cgroupsPath)) {
    rt.warn(`container "${record.id}": its record names PID ${record.pid}, which is not in its cgroup; not signalling it`)
    return
  }
  try {
    process.kill(record.pid!, normalizeSignal(signal))
  } catch {
    // exited meanwhile
  }
}

function normalizeSignal(signal: string): NodeJS.Signals | number {
  if (/^\d+$/.test(signal)) return Number(signal)
  const upper = signal.toUpperCase()
  return (upper.startsWith('SIG') ? upper : `SIG${upper}`) as NodeJS.Signals
}

/**
 * Wait for the container to have exited: the init gone and its exit file
 * written (conmon writes it right after reaping). Polled at growing intervals:
 * the init is not podctl's child.
 */
async function exited(record: ContainerRecord, dir: string, timeoutMs: number, signal: AbortSignal): Promise<boolean> {
  const deadline = performance.now() + timeoutMs
  for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
    const initGone = !sameProcessAlive(record.pid, record.pidStartTime)
    // A monitor that died cannot write the exit file: the init's end is all there is.
    if (initGone && (existsSync(monitorFiles(dir).exitFile) || !sameProcessAlive(record.conmonPid, record.conmonStartTime))) return true
    if (performance.now() >= deadline) return false
    if (signal.aborted) throw signal.reason
    await sleep(delay)
  }
}

// ---------------------------------------------------------------------------
// rm
// ---------------------------------------------------------------------------

/** CRI RemoveContainer; a running one is refused unless force (then stopped at once). Idempotent. */
export async function removeContainer(rt: CallContext, ref: ContainerRef, force: boolean): Promise<void> {
  let removed = false
  await withContainerLock(
    rt,
    ref.id,
    async () => {
      let record: ContainerRecord | null
      try {
        record = readContainerRecord(rt.store, ref.podId, ref.id)
      } catch (err) {
        if (!force) throw err
        rt.warn(`${messageOf(err)}; removing what can be found of container "${ref.id}"`)
        await removeUnreadable(rt, ref)
        removed = true
        return
      }
      if (!record) {
        // A directory without a record: a create killed before it wrote one.
        if (existsSync(containerDir(rt.store, ref.podId, ref.id))) await removeUnreadable(rt, ref)
        removed = true
        return
      }
      const {state} = factsOf(rt, record)
      if (state === 'CONTAINER_RUNNING' && !force) {
        throw usageError(`container "${ref.id}" is running: stop it first, or use rm -f`, `podctl stop ${ref.id.slice(0, 13)}`)
      }
      await removeRecord(rt, record)
      removed = true
    },
    () => removed,
  )
}

/** Everything of a container, in order: its processes, runtime state, cgroup, rootfs, name, files. */
async function removeRecord(rt: CallContext, record: ContainerRecord): Promise<void> {
  try {
    if (isLive(factsOf(rt, record).state)) signalInit(rt, record, 'SIGKILL')
    await deleteRuntimeStep(rt, record)
    fault('rm-1')
    await unmountRootfs(rt, record)
    fault('rm-2')
    await releaseContainerName(rt.store, record.name, record.id, lockWait(rt, 'the name index'))
  } catch (err) {
    record.cleanupError = messageOf(err)
    try {
      writeContainerRecord(rt.store, record)
    } catch {
      // reported below
    }
    throw wrap(`removing container "${record.id}"`, err)
  }
  removeDirSafely(rt, record.podSandboxId, record.id)
}

/** The directory goes only once nothing is mounted in it: a recursive removal through a live overlay would empty the image's view. */
function removeDirSafely(rt: CallContext, podId: string, id: string): void {
  const {rootfs} = containerRootfs(rt.store, podId, id)
  if (isMountPoint(rootfs)) throw new PodctlError(`container "${id}": its rootfs "${rootfs}" is still mounted; not removing its directory`)
  removeContainerDir(rt.store, podId, id)
}

/**
 * A container whose record is missing or unreadable: whatever carries its ID
 * goes, found from the system: its monitor, its runtime container, its
 * cgroup under the pod's, its overlay mount, its name reservation.
 */
async function removeUnreadable(rt: CallContext, ref: ContainerRef): Promise<void> {
  const pod = await rt.store.readRecord(ref.podId).catch(() => null)
  const guess: ContainerRecord = {
    version: containerRecordVersion,
    id: ref.id,
    podSandboxId: ref.podId,
    name: '',
    createdAt: '0',
    phase: 'unknown',
    config: {metadata: {name: ''}, image: {}},
    runtimeHandler: pod?.runtimeHandler,
    runtimePath: pod?.runtimePath,
    cgroupsPath: pod ? `${podCgroupsPath(recordCgroupParent(pod), ref.podId)}/${ref.id}` : undefined,
    rootfsMounted: true,
    containerCreated: true,
  }
  await deleteRuntimeStep(rt, guess)
  await unmountRootfs(rt, guess)
  await releaseNameOf(rt, ref.id)
  removeDirSafely(rt, ref.podId, ref.id)
}

/** gc's removal of a container directory without a readable record, under the container's lock. */
export async function removeContainerLeftovers(rt: CallContext, ref: ContainerRef): Promise<void> {
  await withContainerLock(rt, ref.id, () => removeUnreadable(rt, ref), () => true)
}

/** The name reservation held by this container ID, whatever the name (gc's way: by holder). */
async function releaseNameOf(rt: CallContext, id: string): Promise<void> {
  for (const {path, holder} of await rt.store.nameReservations()) {
    if (holder === id) rmSync(path, {force: true})
  }
}

// ---------------------------------------------------------------------------
// The pod's calls: stopp and rmp
// ---------------------------------------------------------------------------

/** StopPodSandbox: every live container of the pod stopped (each with the grace period), side by side. */
export async function stopPodContainers(rt: CallContext, pod: PodRecord, timeoutSec: number): Promise<void> {
  const ids = listContainerIds(rt.store, pod.id)
  const results = await Promise.allSettled(
    ids.map((id) =>
      withContainerLock(rt, id, async () => {
        let record: ContainerRecord | null
        try {
          record = readContainerRecord(rt.store, pod.id, id)
        } catch {
          return
        }
        if (record) await stopRecord(rt, record, timeoutSec)
      }),
    ),
  )
  const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined
  if (failed) throw wrap(`stopping the containers of pod "${pod.id}"`, failed.reason)
}

/** RemovePodSandbox: every container of the pod removed (stopped at once first). */
export async function removePodContainers(rt: CallContext, podId: string): Promise<void> {
  for (const id of listContainerIds(rt.store, podId)) await removeContainer(rt, {podId, id}, true)
}

// ---------------------------------------------------------------------------
// status and list
// ---------------------------------------------------------------------------

export interface ContainerView {
  record: ContainerRecord
  state: ContainerState
  exit?: MonitorExit
}

export function viewOf(rt: CallContext, record: ContainerRecord): ContainerView {
  return {record, ...factsOf(rt, record)}
}

export interface ContainerFilter {
  id?: string
  podSandboxId?: string
  state?: ContainerState
  labelSelector?: Record<string, string>
}

/** ListContainers: every readable container matching the filter, newest first. */
export async function listContainers(rt: CallContext, filter: ContainerFilter = {}): Promise<ContainerView[]> {
  let podIds = rt.store.listIds()
  if (filter.podSandboxId !== undefined) {
    const podId = await rt.store.resolve(filter.podSandboxId).catch(() => null)
    if (podId === null) return []
    podIds = [podId]
  }
  const views: ContainerView[] = []
  for (const podId of podIds) {
    for (const id of listContainerIds(rt.store, podId)) {
      if (filter.id !== undefined && !id.startsWith(filter.id)) continue
      let record: ContainerRecord | null
      try {
        record = readContainerRecord(rt.store, podId, id)
      } catch (err) {
        rt.warn(`${messageOf(err)}; not listed`)
        continue
      }
      if (!record) continue
      if (!Object.entries(filter.labelSelector ?? {}).every(([k, v]) => record.config.labels?.[k] === v)) continue
      const v = viewOf(rt, record)
      if (filter.state && v.state !== filter.state) continue
      views.push(v)
    }
  }
  return views.sort((a, b) => b.record.createdAt.length - a.record.createdAt.length || (a.record.createdAt < b.record.createdAt ? 1 : -1))
}

/** The verbose part of ContainerStatus: what `crictl inspect` users read with jq (.info.pid, .info.runtimeSpec). */
export async function containerInfo(rt: CallContext, v: ContainerView): Promise<Record<string, unknown>> {
  const {record} = v
  const dir = containerDir(rt.store, record.podSandboxId, record.id)
  const spec = await readFile(containerSpecPath(rt.store, record.podSandboxId, record.id), 'utf8')
    .then((t) => JSON.parse(t) as unknown)
    .catch(() => null)
  const info: Record<string, unknown> = {
    sandboxID: record.podSandboxId,
    pid: v.state === 'CONTAINER_RUNNING' || v.state === 'CONTAINER_CREATED' ? (record.pid ?? 0) : 0,
    phase: record.phase,
    monitorPid: sameProcessAlive(record.conmonPid, record.conmonStartTime) ? record.conmonPid : 0,
    rootfs: containerRootfs(rt.store, record.podSandboxId, record.id).rootfs,
    bundle: dir,
    runtimeType: record.runtimeHandler,
    runtimeBinary: record.runtimePath,
    cgroupsPath: record.cgroupsPath,
    imageId: record.imageId,
    stopSignal: record.stopSignal,
    config: record.config,
    runtimeSpec: spec,
  }
  if (record.cleanupError) info.cleanupError = record.cleanupError
  return info
}

