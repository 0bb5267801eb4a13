// The pod lifecycle: run, stop, remove, status, list. runPod is a list of
// numbered steps; each side effect is announced in the record and given its
// undo before it is made, and the undos are the same cleanup functions that
// stopp and rmp use, each tolerating "already gone".

import {constants} from 'node:fs'
import {chmod, mkdir, open, readFile} from 'node:fs/promises'
import {hostname as osHostname} from 'node:os'
import {setTimeout as sleep} from 'node:timers/promises'

import {NamespaceMode, type PodSandboxConfig} from '../cri/types.js'
import {defaultCgroupParent, detectCgroupMode, pauseCgroupsPath, podCgroupsPath, recordCgroupParent, removePodCgroup} from './cgroups.js'
import {addNetwork, delNetwork, loadNetwork, type NetworkConfigList, podIPs, resolvePlugins} from './cni.js'
import type {CallContext} from './context.js'
import {listContainerIds} from './container-store.js'
import type {PodStatusResult, RemoveOptions} from './service.js'
import {ExitCode, messageOf, PodctlError, podRunningError, wrap} from './errors.js'
import {view} from './listing.js'
import {toPodSandboxStatus} from './pod-status.js'
import {checkedCgroupParent, checkOomScoreAdj} from './run-checks.js'
import {settleAll} from './exec.js'
import {cniLockName, type Lock, withLock} from './lock.js'
import {removePodRules} from './iptables.js'
import {createNetns, isMountPoint, removeNetns, repinNetns} from './netns.js'
import {OciRuntime, resolveRuntime} from './oci-runtime.js'
import {podAttachment} from './pod-attachment.js'
import {refuseTakenHostPorts, wantsHostPorts} from './ports.js'
import {ownCapabilities, processInCgroup, readProcStat, sameProcessAlive} from './proc.js'
import {canRemoveWithoutForce, criState, needsStop, type StopFacts} from './state.js'
import {stepTimer, type StepTimer, UndoStack} from './steps.js'
import {newPodSandboxId, type PodRecord, podSandboxName, recordVersion, Store, writeFileAtomic} from './store.js'

/** stopp's grace period for each container's stop signal, as kubelet's default terminationGracePeriodSeconds. */
const podStopGraceSeconds = 10

function lockWait(rt: CallContext, what: string) {
  return {timeoutMs: rt.settings.timeoutMs, signal: rt.ctx.signal, what}
}

const isHostNetwork = (config: PodSandboxConfig) => config.linux?.security_context?.namespace_options?.network === NamespaceMode.NODE

function nowNanos(): string {
  const ms = BigInt(Date.now())
  return (ms * 1_000_000n + (process.hrtime.bigint() % 1_000_000n)).toString()
}

/**
 * What only runp needs, loaded when a pod is run: each module costs node's
 * ESM loader time at start-up, and pods, inspectp, stopp and rmp (each a
 * process of its own) should not pay for the spec builder and the checks.
 */
async function runpModules() {
  const [ociSpec, pause, podconfig, seccomp, files, cgroupV2] = await Promise.all([
    import('./oci-spec.js'),
    import('./pause.js'),
    import('./podconfig.js'),
    import('./seccomp.js'),
    import('./sandbox-files.js'),
    import('./cgroup-v2.js'),
  ])
  return {...ociSpec, ...pause, ...podconfig, ...seccomp, ...files, ...cgroupV2}
}

/** A fresh context for cleanup: the caller's may be the one that was cancelled. */
function cleanupContext(rt: CallContext): CallContext {
  const timeoutMs = Math.max(rt.settings.timeoutMs, 30_000)
  return {...rt, settings: {...rt.settings, timeoutMs}, ctx: {...rt.ctx, signal: AbortSignal.timeout(timeoutMs)}}
}

// ---------------------------------------------------------------------------
// runp
// ---------------------------------------------------------------------------

export async function runPod(rt: CallContext, config: PodSandboxConfig, runtimeHandler: string): Promise<string> {
  const {store, settings, ctx} = rt
  const timer = stepTimer(ctx)
  const hostNetwork = isHostNetwork(config)

  // Step 1: prerequisites, before anything is made: the host's facts read (synchronously: see
  // writeFileAtomic in store.ts), the config checked against them.
  const {
    buildPauseSpec,
    podHostname,
    ensurePauseRootfs,
    pauseArgs,
    checkRunnable,
    readHostFacts,
    defaultSeccompProfile,
    loadLocalhostSeccomp,
    hostHosts,
    hostResolvConf,
    podHosts,
    resolvConfFromDns,
    effectiveResources,
    preparePodCgroupV2,
  } = await runpModules()
  const handler = runtimeHandler || settings.defaultRuntime
  const runtimePath = resolveRuntime(settings.runtimes, handler)
  const caps = ownCapabilities()
  const cgroupMode = detectCgroupMode()
  const hostFacts = readHostFacts(cgroupMode)
  const seccompProfile = await loadLocalhostSeccomp(config, settings.seccompProfileRoot)
  const runtime = new OciRuntime(handler, runtimePath, store.runtimeRoot(handler), settings.runtimes[handler]?.args)
  checkOomScoreAdj(config, caps.effective)
  checkRunnable(config, hostFacts)
  const cgroupParent = config.linux?.cgroup_parent || checkedCgroupParent(settings)
  store.init()
  // The pause-image setting's image (pulled on first use), else the built-in catatonit rootfs.
  const pause = settings.pauseImage
    ? await (await import('./pause-image.js')).pauseImageRootfs(rt, settings.pauseImage)
    : {rootfs: await ensurePauseRootfs(store.pauseDir()), args: pauseArgs, imageId: undefined}
  const rootfs = pause.rootfs
  const network = hostNetwork ? undefined : await loadNetwork(settings.cniConfDir, settings.defaultNetwork, store.ipamDir())
  if (network?.created) rt.warn(`no CNI config in ${settings.cniConfDir}: wrote podctl's default network to ${network.file}`)
  const plugins = network ? resolvePlugins(network.conflist, settings.cniBinDirs) : undefined
  timer('prerequisites')

  // Step 2: the ID and its lock, held until runp ends.
  const id = newPodSandboxId()
  const name = podSandboxName(config)
  const podLock = await store.lockPod(id, lockWait(rt, `pod "${id}"`))
  const undo = new UndoStack()
  const record: PodRecord = {
    version: recordVersion,
    id,
    name,
    createdAt: nowNanos(),
    phase: 'creating',
    config,
    runtimeHandler,
    runtimePath,
    cgroupParent,
    // Announced with the first record: to the cleanup, a netns not made yet is one already gone.
    netnsPath: hostNetwork ? undefined : store.netnsPath(id),
    ...(pause.imageId ? {pauseImage: pause.imageId} : {}),
  }
  const save = recordWriter(store, record)
  let rolledBack = false
  try {
    // Step 3: the record, written before any side effect (the name included), so
    // that a crash at any later instant leaves a record naming what may exist.
    undo.push('pod directory', async () => store.removePodDir(id))
    store.createPodDir(id)
    fault('3-dir')
    await save()
    timer('record')
    fault(3)

    // Step 4: the name reservation: of several runp with the same metadata, one wins.
    // Its undo only after it is made: a reservation given up while waiting for the
    // name index holds nothing, and releasing it would wait for that same lock.
    await store.reserveName(name, id, lockWait(rt, 'the name index'), settings.maxPods)
    undo.push('name reservation', () => store.releaseName(name, id, lockWait(cleanupContext(rt), 'the name index')))
    timer('reserve name')
    fault(4)

    // Step 5: the network namespace.
    if (record.netnsPath) {
      undo.push('network namespace', () => removeNetnsStep(cleanupContext(rt), record))
      await createNetns(ctx, record.netnsPath)
      timer('netns')
      fault(5)
    }

    // Steps 6 to 9 run as two branches: the network (6) and the pause container
    // (7 to 9), which needs the netns to exist but not to be configured. Both
    // undos are registered before either branch starts, the container's last so
    // that it is undone first; each does nothing until the record announces its
    // side effect, and each branch announces its own before making it.
    undo.push('network', async () => {
      if (await teardownNetwork(cleanupContext(rt), record)) await rt.store.writeRecord(record)
    })
    undo.push('pause container', () => deleteContainerStep(cleanupContext(rt), record))
    const hostname = hostNetwork ? osHostname() : podHostname(config)

    // Step 6: CNI ADD, announced before it is run: a failed ADD may have allocated.
    const networkStep = async (): Promise<string[]> => {
      if (!network || !plugins) return []
      const lane = stepTimer(ctx, true)
      const result = await withLock(cniLockName, lockWait(rt, 'CNI'), async () => {
        // portmap does not notice a host port another pod holds; under the CNI lock no other pod can take it meanwhile.
        if (wantsHostPorts(config)) refuseTakenHostPorts(config, (await store.listRecords()).records.filter((r) => r.id !== id && r.network?.added))
        record.network = {conflist: network.conflist, confFile: network.file, added: true}
        await save()
        return addNetwork(ctx, network.conflist, plugins, settings.cniBinDirs, podAttachment(record))
      }).catch((err) => {
        throw wrap(`failed to set up network for pod "${id}"`, err)
      })
      const ips = podIPs(result, 'eth0')
      if (!ips.ip) throw new PodctlError(`failed to set up network for pod "${id}": CNI network "${network.conflist.name}" gave eth0 no IP address`)
      record.network = {conflist: network.conflist, confFile: network.file, added: true, result, ...ips}
      await save()
      lane('cni add')
      fault(6)
      return [ips.ip, ...ips.additionalIps]
    }
    const networkDone = networkStep()

    const pauseStep = async (): Promise<void> => {
      const lane = stepTimer(ctx, true)
      // Step 7: hostname, hosts, resolv.conf, the log directory. The pod's own
      // addresses are not known yet: /etc/hosts gets them in step 10.
      writeFileAtomic(store.sandboxFile(id, 'hostname'), `${hostname}\n`, 0o644, false)
      writeFileAtomic(store.sandboxFile(id, 'hosts'), hostNetwork ? await hostHosts() : podHosts(hostname, []), 0o644, false)
      writeFileAtomic(store.sandboxFile(id, 'resolv.conf'), config.dns_config ? resolvConfFromDns(config.dns_config) : await hostResolvConf(hostNetwork), 0o644, false)
      // kubelet expects the log directory to exist and to outlive the pod.
      if (config.log_directory && (await mkdir(config.log_directory, {recursive: true, mode: 0o755}))) await chmod(config.log_directory, 0o755)
      lane('sandbox files')
      fault(7)

      // Step 8: the OCI spec of the pause container.
      const spec = buildPauseSpec({
        podSandboxId: id,
        config,
        rootfs,
        netnsPath: record.netnsPath,
        files: {hostname: store.sandboxFile(id, 'hostname'), hosts: store.sandboxFile(id, 'hosts'), resolvConf: store.sandboxFile(id, 'resolv.conf')},
        cgroupsPath: pauseCgroupsPath(podCgroupsPath(cgroupParent, id), cgroupMode),
        cgroupV2: cgroupMode === 'v2',
        boundingCapabilities: caps.bounding,
        args: pause.args,
        seccompProfile,
        defaultSeccompProfile: defaultSeccompProfile(),
      })
      writeFileAtomic(store.specPath(id), JSON.stringify(spec, null, 1) + '\n', 0o600, false)
      lane('oci spec')
      fault(8)

      // Step 9: the pause container, created and started. runc sets the pod's
      // net.* sysctls inside its netns, and they may name eth0, which CNI ADD makes.
      if (setsNetSysctls(config)) await networkDone
      record.containerCreated = true
      await save()
      // On v2 the pause runs in a leaf of the pod cgroup, which podctl makes and limits (./cgroup-v2.ts).
      if (cgroupMode === 'v2') preparePodCgroupV2(podCgroupsPath(cgroupParent, id), effectiveResources(config.linux?.resources, config.linux?.overhead))
      const pidFile = `${store.specPath(id)}.pid`
      await runtime.runDetached(ctx, id, store.bundleDir(id), store.sandboxFile(id, 'runc.log'), pidFile)
      fault('9-run')
      record.pid = Number((await readFile(pidFile, 'utf8')).trim())
      record.pidStartTime = readProcStat(record.pid)?.startTime
      await save()
      lane('runtime run')
      fault(9)
    }

    const [ips] = await settleAll([networkDone, pauseStep()])
    timer('network and pause')

    // Step 10: /etc/hosts gets the pod's addresses, written in place: the pause
    // container has the file itself bind-mounted, and a renamed-over file would
    // leave it the old one. Nothing reads it before the pod is READY.
    if (ips.length > 0) await rewriteInPlace(store.sandboxFile(id, 'hosts'), podHosts(hostname, ips))
    timer('hosts')
    fault(10)
    record.phase = 'ready'
    await save()
    timer('record ready')
    return id
  } catch (err) {
    const failure = err instanceof PodctlError ? err : wrap(`failed to run pod "${id}"`, err)
    const cleanupErr = await undo.unwind(ctx.log)
    if (cleanupErr) {
      // Keep the record and the name: rmp finishes the job (containerd's UNKNOWN).
      record.phase = 'unknown'
      record.cleanupError = cleanupErr.message
      await save().catch(() => undefined)
      throw new PodctlError(`${failure.message}; cleanup failed too, the pod is kept as NotReady: ${cleanupErr.message}`, {
        // Not the failure's own code: a timeout's or an interrupt's says the pod was rolled back.
        exitCode: ExitCode.incomplete,
        hint: `remove it with: podctl rmp -f ${id.slice(0, 13)}`,
        cause: failure,
      })
    }
    rolledBack = true
    throw failure
  } finally {
    // Rolled back, the pod is gone for good, and its lock with it.
    await (rolledBack ? podLock.discard() : podLock.release())
  }
}

/**
 * Fault injection for the crash-safety tests: PODCTL_FAULT_AT_STEP=N kills
 * this process with SIGKILL at that point of runp (a step number; "3-dir"
 * between the pod directory and its record; "9-run" once the pause runs,
 * before the record has its PID; 6 and 7-9 are points of two concurrent
 * branches, so the other branch may be anywhere), stopp ("stop-1"
 * after the kill, "stop-3" after the runtime delete that follows it, "stop-2"
 * after CNI DEL, which overlaps them) or rmp ("rm-1" after
 * the stop path, "rm-2" after the name is released).
 */
function fault(step: number | string): void {
  // Read at each call, not at module load: a start-up snapshot evaluates modules before the environment is known.
  if (process.env.PODCTL_FAULT_AT_STEP === String(step)) process.kill(process.pid, 'SIGKILL')
}

/**
 * runPod's record writes, one at a time in call order, each serializing the
 * record when its turn comes: the two branches of runPod write it
 * concurrently, and an older copy renamed over a newer one would drop an
 * announcement.
 */
function recordWriter(store: Store, record: PodRecord): () => Promise<void> {
  let last: Promise<void> = Promise.resolve()
  return () => {
    last = last.catch(() => undefined).then(() => store.writeRecord(record))
    return last
  }
}

/** Rewrite a file keeping its inode (and so every bind mount of it). */
async function rewriteInPlace(path: string, data: string): Promise<void> {
  const handle = await open(path, constants.O_WRONLY | constants.O_TRUNC | constants.O_NOFOLLOW)
  try {
    await handle.writeFile(data)
  } finally {
    await handle.close()
  }
}

/** The config names net.* sysctls (dotted or slashed), which live in the pod's netns. */
function setsNetSysctls(config: PodSandboxConfig): boolean {
  return Object.keys(config.linux?.sysctls ?? {}).some((name) => /^net[./]/.test(name))
}

// ---------------------------------------------------------------------------
// The cleanup steps: shared by rollback, stopp, rmp and recovery after a crash.
// Each tolerates "already gone" and records its progress.
// ---------------------------------------------------------------------------

function runtimeOf(rt: CallContext, record: PodRecord): OciRuntime {
  const handler = record.runtimeHandler || rt.settings.defaultRuntime
  return new OciRuntime(handler, record.runtimePath, rt.store.runtimeRoot(handler), rt.settings.runtimes[handler]?.args)
}

/**
 * Kill the pause and wait for its exit; true when it is gone (or never ran).
 * Its PID and start time identify it, so it gets its SIGKILL directly, as
 * `runc kill` would send it: one runtime process fewer on the stop path, where
 * it competes with the CNI plugins for the CPU. The runtime is asked only when
 * the record has no PID (a runp cut short before it wrote one).
 */
async function killPauseStep(rt: CallContext, record: PodRecord): Promise<boolean> {
  if (!record.containerCreated) return true
  const alive = sameProcessAlive(record.pid, record.pidStartTime)
  // The record is a file: a PID in it gets a signal only if that process is in the pod's
  // cgroup. Else (an edited or stale record) the runtime, which knows its own pause, kills it.
  if (!record.pid || (alive && !processInCgroup(record.pid, podCgroupsPath(recordCgroupParent(record), record.id)))) {
    if (record.pid) rt.warn(`pod "${record.id}": its record names PID ${record.pid}, which is not in the pod's cgroup; not signalling it`)
    await runtimeOf(rt, record).kill(rt.ctx, record.id, 'KILL')
    return true
  }
  if (alive) {
    try {
      process.kill(record.pid, 'SIGKILL')
    } catch {
      // exited meanwhile
    }
  }
  return pauseExit(record, pauseExitWaitMs)
}

/** How long a killed pause gets to be gone before the stop path goes on (one stuck in the kernel stays NotReady). */
const pauseExitWaitMs = 2000

/**
 * Wait for the killed pause to be gone. It is not podctl's child and node has
 * no pidfd, so nothing tells us of its exit: its /proc entry is read at once,
 * then at growing intervals, as SIGKILL is mostly done within a millisecond.
 */
async function pauseExit(record: PodRecord, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs
  for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
    if (!sameProcessAlive(record.pid, record.pidStartTime)) return true
    if (performance.now() >= deadline) return false
    await sleep(delay)
  }
}

/**
 * CNI DEL with the cached result; then the record, in memory, says the network
 * is gone. Returns whether there was a network to tear down; the caller writes
 * the record. A kill before the write leaves a record that still says the
 * network is added, and the next stop runs DEL again: plugins must take a
 * repeated DEL (CNI spec), and each releases by container ID, never an IP
 * reused by another pod since.
 */
async function teardownNetwork(rt: CallContext, record: PodRecord): Promise<boolean> {
  const net = record.network
  if (!net?.added) return false
  const netnsGone = !record.netnsPath || !isMountPoint(record.netnsPath)
  const conflist = net.conflist as NetworkConfigList
  const plugins = resolvePlugins(conflist, rt.settings.cniBinDirs)
  await withLock(cniLockName, lockWait(rt, 'CNI'), async () => {
    await delNetwork(rt.ctx, conflist, plugins, rt.settings.cniBinDirs, podAttachment(record, netnsGone), net.result)
    // Without the netns, bridge cannot see the pod's addresses and keeps its masquerade rules
    // (and a DEL cut short may have kept portmap's): they go by the pod's ID in their comments.
    if (netnsGone) await removePodRules(rt.ctx, record.id, [conflist.name])
  }).catch((err) => {
    throw wrap(`failed to tear down network of pod "${record.id}"`, err)
  })
  record.network = {...net, added: false, result: undefined, ip: undefined, additionalIps: undefined}
  return true
}

/**
 * A netns unmounted by hand (umount, `ip netns delete`) while the pause
 * lives: the namespace is still there, held by the pause, with the pod's veth
 * in it. Pinned again from the pause's /proc entry (once the PID is shown to
 * be the pod's, as before a signal), CNI DEL enters it and its plugins remove
 * all they made, as for any pod. Before the kill: the namespace goes with the pause.
 */
async function repinLostNetns(rt: CallContext, record: PodRecord): Promise<void> {
  const path = record.netnsPath
  if (!path || !record.network?.added || isMountPoint(path)) return
  const pid = record.pid
  if (!pid || !sameProcessAlive(pid, record.pidStartTime) || !processInCgroup(pid, podCgroupsPath(recordCgroupParent(record), record.id))) return
  await repinNetns(rt.ctx, pid, path).catch((err) => rt.warn(`pod "${record.id}": its network namespace was unmounted and cannot be pinned again (${messageOf(err)}); CNI DEL runs without it`))
}

async function removeNetnsStep(rt: CallContext, record: PodRecord): Promise<void> {
  if (!record.netnsPath) return
  await removeNetns(rt.ctx, record.netnsPath)
}

async function deleteContainerStep(rt: CallContext, record: PodRecord): Promise<void> {
  if (!record.containerCreated) return
  await runtimeOf(rt, record).delete(rt.ctx, record.id)
  // The runtime removes the pod cgroup, unless it forgot the container (a cleared run root).
  await removePodCgroup(podCgroupsPath(recordCgroupParent(record), record.id))
  record.containerCreated = false
}

/**
 * The stop path: the pause killed and its runtime container deleted, and CNI
 * DEL with the cached result, side by side (DEL needs the netns, which its
 * mount keeps, not the pause gone); then the netns removed. The container goes
 * when its pause has exited, as containerd deletes a sandbox's task then: on
 * the kill's lane it costs nothing while DEL runs, and rmp has no runtime
 * process left to start. A pause still there after the wait is left to rmp's
 * delete --force (runc's waits 100 ms per poll). The record is written once,
 * at the end, as each step before it may be run again (teardownNetwork).
 */
async function stopRecord(rt: CallContext, record: PodRecord, timer: StepTimer): Promise<void> {
  try {
    await repinLostNetns(rt, record)
    const killLane = stepTimer(rt.ctx, true)
    const delLane = stepTimer(rt.ctx, true)
    await settleAll([
      killPauseStep(rt, record).then(async (gone) => {
        killLane('kill pause')
        fault('stop-1')
        if (!gone) return
        await deleteContainerStep(rt, record)
        killLane('runtime delete')
        fault('stop-3')
      }),
      teardownNetwork(rt, record).then(() => {
        delLane('cni del')
        fault('stop-2')
      }),
    ])
    timer('pause, runtime delete and cni del')
    await removeNetnsStep(rt, record)
    timer('netns')
  } catch (err) {
    record.cleanupError = messageOf(err)
    await rt.store.writeRecord(record).catch(() => undefined)
    throw wrap(`stopping the pod sandbox "${record.id}"`, err)
  }
  record.phase = 'stopped'
  record.cleanupError = undefined
  await rt.store.writeRecord(record)
  timer('record stopped')
}

// ---------------------------------------------------------------------------
// stopp, rmp
// ---------------------------------------------------------------------------

/** CRI: StopPodSandbox is idempotent; an unknown pod is already stopped. */
export async function stopPod(rt: CallContext, ref: string): Promise<string | null> {
  const timer = stepTimer(rt.ctx)
  const id = await rt.store.resolve(ref)
  timer('resolve')
  // CRI: StopPodSandbox must not return an error if all resources have already been reclaimed.
  if (id === null) return null
  await withPodLock(rt, id, async (rt) => {
    timer('lock')
    const record = await rt.store.readRecord(id)
    if (!record) return
    const stop = needsStop(stopFacts(record))
    timer('read record')
    // CRI: every container of the pod is stopped first, each with kubelet's grace period.
    if (listContainerIds(rt.store, id).length > 0) {
      await (await import('./container.js')).stopPodContainers(rt, record, podStopGraceSeconds)
      timer('stop containers')
    }
    if (stop) await stopRecord(rt, record, timer)
  })
  return id
}

/**
 * Remove a pod: always the stop path first (a NotReady pod may still hold a
 * netns and an IP), then the runtime container if the stop path left it (a
 * pause that would not die), the name, the files.
 * Returns the ID removed, or null when there was no such pod.
 */
export async function removePod(rt: CallContext, id: string, options: RemoveOptions): Promise<{stopped: boolean}> {
  const timer = stepTimer(rt.ctx)
  let stopped = false
  let removed = false
  await withPodLock(rt, id, async (rt) => {
    timer('lock')
    let record: PodRecord | null
    try {
      record = await rt.store.readRecord(id)
    } catch (err) {
      // A corrupt record: without -f it is reported; with -f its pod is removed from what can still be found.
      if (!options.force) throw err
      rt.warn(`${messageOf(err)}; removing what can be found of pod "${id}"`)
      await removeUnreadable(rt, id)
      removed = true
      return
    }
    if (!record) {
      // A directory without a record: a runp killed between making it and writing the
      // record (step 3); under the pod lock, no runp is still on its way. Else the pod is
      // gone already, and CRI: RemovePodSandbox is idempotent.
      if (rt.store.hasPodDir(id)) await removeUnreadable(rt, id)
      return
    }
    const facts = stopFacts(record)
    const state = criState(record.phase, facts)
    timer('read record')
    if (!canRemoveWithoutForce(state) && !options.force) throw podRunningError(id)
    // CRI: RemovePodSandbox removes every container of the pod (killed at once), before the pause.
    if (listContainerIds(rt.store, id).length > 0) {
      await (await import('./container.js')).removePodContainers(rt, id)
      timer('remove containers')
    }
    if (record.shmPath) {
      await (await import('./container.js')).removePodShm(rt, record)
      timer('remove shm')
    }
    if (needsStop(facts)) {
      await stopRecord(rt, record, timer)
      stopped = state === 'SANDBOX_READY'
    }
    fault('rm-1')
    await deleteContainerStep(rt, record)
    timer('runtime delete')
    await rt.store.releaseName(record.name, id, lockWait(rt, 'the name index'))
    timer('release name')
    fault('rm-2')
    rt.store.removePodDir(id)
    removed = true
    timer('remove files')
  }, () => removed)
  return {stopped}
}

/**
 * A pod whose record cannot be read: its directory goes, then whatever else
 * carries its ID is removed as gc removes orphans (runtime container, IPs via
 * CNI DEL in every network of the conf dir, iptables rules by their comment,
 * netns, cgroups, name reservation).
 */
async function removeUnreadable(rt: CallContext, id: string): Promise<void> {
  // Its containers first: the directory's removal must not walk through a mounted rootfs.
  if (listContainerIds(rt.store, id).length > 0) await (await import('./container.js')).removePodContainers(rt, id)
  rt.store.removePodDir(id)
  // Loaded here: only a corrupt record needs gc's search, and every module costs start-up time.
  const {findOrphans, removeOrphan} = await import('./gc.js')
  const orphans = (await findOrphans(rt, {includeLocked: [id], ours: [id]})).filter((o) => o.id === id)
  for (const o of orphans) await removeOrphan(rt, o)
}

/** The facts state.ts decides stopp's and rmp's paths by, read from the record and the system. */
function stopFacts(record: PodRecord): StopFacts {
  return {
    phase: record.phase,
    pauseAlive: sameProcessAlive(record.pid, record.pidStartTime),
    networkAdded: record.network?.added === true,
    netnsMounted: record.netnsPath !== undefined && isMountPoint(record.netnsPath),
  }
}

/**
 * Run `fn` holding the pod's lock; `gone` says, at the end, whether the pod was removed (its lock then goes too).
 * The wait for the lock ends with the caller's signal (a SIGINT, a cancelled RPC); once the lock is held,
 * `fn` runs to its end (bounded by its own timeout): a stop or removal cut short would leave a pod
 * half-stopped, its rules and IP kept for a DEL that may no longer find them. So a SIGINT during
 * `rmp -af` finishes the pods under way and starts no other.
 */
async function withPodLock<T>(rt: CallContext, id: string, fn: (rt: CallContext) => Promise<T>, gone = () => false): Promise<T> {
  // Cancelled before it began (the other pods of rmp -a after a SIGINT): nothing is done to it.
  if (rt.ctx.signal.aborted) throw wrap('not started', rt.ctx.signal.reason)
  const held: Lock = await rt.store.lockPod(id, lockWait(rt, `pod "${id}"`))
  try {
    return await fn(cleanupContext(rt))
  } finally {
    await (gone() ? held.discard() : held.release())
  }
}

// ---------------------------------------------------------------------------
// status (listing is in ./listing.ts)
// ---------------------------------------------------------------------------

/** PodSandboxStatus of one pod (the ID already resolved); verbose adds info. */
export async function podStatus(rt: CallContext, id: string, verbose: boolean): Promise<PodStatusResult> {
  const record = await rt.store.readRecord(id)
  if (!record) throw new PodctlError(`pod "${id}" not found`, {exitCode: ExitCode.notFound})
  const v = view(record)
  const status = toPodSandboxStatus(v)
  if (!verbose) return {status}
  const runtime = runtimeOf(rt, record)
  // runc state is the authority where one pod is looked at.
  const containerState = record.containerCreated ? await runtime.state(rt.ctx, id).catch(() => null) : null
  const spec = await readFile(rt.store.specPath(id), 'utf8')
    .then((t) => JSON.parse(t) as unknown)
    .catch(() => null)
  const netnsOpen = record.netnsPath ? isMountPoint(record.netnsPath) : false
  const info: Record<string, unknown> = {
    pid: v.state === 'SANDBOX_READY' ? (record.pid ?? 0) : 0,
    processStatus: containerState?.status ?? 'deleted',
    phase: record.phase,
    netNamespaceClosed: !netnsOpen,
    netNamespacePath: record.netnsPath ?? '',
    image: record.pauseImage ?? 'catatonit (pause)',
    runtimeHandler: record.runtimeHandler,
    runtimeType: runtime.handler,
    runtimeBinary: record.runtimePath,
    cgroupsPath: podCgroupsPath(recordCgroupParent(record), id),
    cgroupParent: recordCgroupParent(record) ?? defaultCgroupParent,
    config: record.config,
    runtimeSpec: spec,
    cniConfFile: record.network?.confFile ?? '',
    cniResult: record.network?.result ?? null,
  }
  if (record.cleanupError) info.cleanupError = record.cleanupError
  return {status, info}
}

