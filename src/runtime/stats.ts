// Pod sandbox stats, computed in-process: the CRI's ListPodSandboxStats
// without a daemon. Figures come from the pod's cgroup (v1 controllers, or the
// v2 unified hierarchy) and from the pause process's /proc/<pid>/net/dev,
// which shows the interfaces of the pod's network namespace: nothing is
// spawned per pod. The parsers are pure and take the files' text; the reader
// takes the mount points as arguments, so fixture trees stand in for the
// kernel in tests.

import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

import type {PodSandbox, PodSandboxMetadata} from '../cri/types.js'
import {type CgroupMode, detectCgroupMode, podCgroupsPath, recordCgroupParent} from './cgroups.js'
import {errnoOf, PodctlError, wrap} from './errors.js'
import {isSameLiveProcess, parseProcStat} from './proc.js'
import {listPods, type PodFilter, type PodView, toPodSandbox} from './listing.js'
import type {CallContext} from './context.js'

// ---------------------------------------------------------------------------
// The CRI messages, as protojson prints them: lowerCamelCase, 64-bit integers
// as decimal strings, an unset message as null.
// ---------------------------------------------------------------------------

export interface UInt64Value {
  value: string
}

export interface CpuUsage {
  /** nanoseconds since the epoch */
  timestamp: string
  usageCoreNanoSeconds: UInt64Value
  /** null until two samples were taken */
  usageNanoCores: UInt64Value | null
}

export interface MemoryUsage {
  timestamp: string
  workingSetBytes: UInt64Value
  /** null when the pod has no memory limit */
  availableBytes: UInt64Value | null
  usageBytes: UInt64Value
  rssBytes: UInt64Value
  pageFaults: UInt64Value
  majorPageFaults: UInt64Value
}

export interface NetworkInterfaceUsage {
  name: string
  rxBytes: UInt64Value
  rxErrors: UInt64Value
  txBytes: UInt64Value
  txErrors: UInt64Value
}

export interface NetworkUsage {
  timestamp: string
  defaultInterface: NetworkInterfaceUsage | null
  interfaces: NetworkInterfaceUsage[]
}

export interface ProcessUsage {
  timestamp: string
  processCount: UInt64Value
}

export interface LinuxPodSandboxStats {
  cpu: CpuUsage | null
  memory: MemoryUsage | null
  /** null for a pod on the host network, as containerd */
  network: NetworkUsage | null
  process: ProcessUsage | null
  /** podctl runs no containers yet */
  containers: never[]
}

export interface PodSandboxAttributes {
  id: string
  metadata: PodSandboxMetadata
  labels: Record<string, string>
  annotations: Record<string, string>
}

export interface PodSandboxStats {
  attributes: PodSandboxAttributes
  linux: LinuxPodSandboxStats
}

const u64 = (n: bigint): UInt64Value => ({value: (n < 0n ? 0n : n).toString()})

/** The CRI's default interface: the one CNI was asked to create. */
export const defaultInterfaceName = 'eth0'

// ---------------------------------------------------------------------------
// Pure parsers of the kernel's files (Documentation/admin-guide/cgroup-v2.rst,
// cgroup-v1/memory.rst, cgroup-v1/cpuacct.rst, filesystems/proc.rst).
// ---------------------------------------------------------------------------

/** A single-value file: cpuacct.usage, memory.current, memory.usage_in_bytes. */
export function parseCounter(text: string): bigint {
  const trimmed = text.trim()
  if (!/^\d+$/.test(trimmed)) throw new PodctlError(`unexpected counter "${trimmed.slice(0, 40)}"`)
  return BigInt(trimmed)
}

/**
 * Flat-keyed "name value" lines (memory.stat, cpu.stat): every numeric entry,
 * or only those of `keys` (v1's memory.stat has some forty lines, and a
 * hundred pods' worth of BigInts for the four that are used shows).
 */
export function parseFlatKeyed(text: string, keys?: ReadonlySet<string>): Map<string, bigint> {
  const out = new Map<string, bigint>()
  for (const line of text.split('\n')) {
    const trimmed = line.trim()
    if (keys) {
      const end = trimmed.search(/\s/)
      if (!keys.has(end < 0 ? trimmed : trimmed.slice(0, end))) continue
    }
    const [key, value, extra] = trimmed.split(/\s+/)
    if (key && value && extra === undefined && /^\d+$/.test(value)) out.set(key, BigInt(value))
  }
  return out
}

/** v1 writes "no limit" as the largest page-aligned counter; containerd treats anything from 2^62 up as unlimited. */
const unlimitedV1 = 1n << 62n

/** memory.limit_in_bytes (v1) or memory.max (v2, "max" for none): the limit, or null. */
export function parseMemoryLimit(text: string): bigint | null {
  if (text.trim() === 'max') return null
  const limit = parseCounter(text)
  return limit >= unlimitedV1 ? null : limit
}

/** The number of processes listed in a cgroup.procs file. */
export function countProcesses(cgroupProcs: string): number {
  return cgroupProcs.split('\n').filter((line) => /^\d+$/.test(line.trim())).length
}

export interface InterfaceCounters {
  name: string
  rxBytes: bigint
  rxErrors: bigint
  txBytes: bigint
  txErrors: bigint
}

/**
 * /proc/<pid>/net/dev: two header lines, then "name: 8 receive counters, 8
 * transmit counters". A wide counter leaves no space after the colon.
 */
export function parseNetDev(text: string): InterfaceCounters[] {
  const out: InterfaceCounters[] = []
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':')
    if (colon < 0 || line.includes('|')) continue
    const fields = line.slice(colon + 1).trim().split(/\s+/)
    if (fields.length < 16 || !fields.every((f) => /^\d+$/.test(f))) continue
    const n = fields.map((f) => BigInt(f))
    out.push({name: line.slice(0, colon).trim(), rxBytes: n[0], rxErrors: n[2], txBytes: n[8], txErrors: n[10]})
  }
  return out
}

// ---------------------------------------------------------------------------
// From files to CRI messages (pure).
// ---------------------------------------------------------------------------

export function cpuUsageV1(cpuacctUsage: string, timestamp: bigint): CpuUsage {
  return {timestamp: timestamp.toString(), usageCoreNanoSeconds: u64(parseCounter(cpuacctUsage)), usageNanoCores: null}
}

const usageUsec = new Set(['usage_usec'])

export function cpuUsageV2(cpuStat: string, timestamp: bigint): CpuUsage {
  const usec = parseFlatKeyed(cpuStat, usageUsec).get('usage_usec')
  if (usec === undefined) throw new PodctlError('cpu.stat has no usage_usec')
  return {timestamp: timestamp.toString(), usageCoreNanoSeconds: u64(usec * 1000n), usageNanoCores: null}
}

/** What both cgroup versions say about memory, in the same words. */
export interface MemoryFigures {
  usage: bigint
  inactiveFile: bigint
  rss: bigint
  pageFaults: bigint
  majorPageFaults: bigint
  limit: bigint | null
}

/**
 * Where each memory figure is, per cgroup version. v1: the hierarchical
 * total_* entries, as containerd reads them; v2: rss is anon memory, as
 * cAdvisor and containerd report it.
 */
export const memoryFiles = {
  v1: {usage: 'memory.usage_in_bytes', limit: 'memory.limit_in_bytes', stat: {inactiveFile: 'total_inactive_file', rss: 'total_rss', pageFaults: 'total_pgfault', majorPageFaults: 'total_pgmajfault'}},
  v2: {usage: 'memory.current', limit: 'memory.max', stat: {inactiveFile: 'inactive_file', rss: 'anon', pageFaults: 'pgfault', majorPageFaults: 'pgmajfault'}},
} as const

export type MemoryFiles = (typeof memoryFiles)[keyof typeof memoryFiles]

/** The figures from the texts of the usage file, memory.stat and the limit file. */
export function memoryFigures(files: MemoryFiles, text: {usage: string; stat: string; limit: string}): MemoryFigures {
  const stat = parseFlatKeyed(text.stat, new Set(Object.values(files.stat)))
  const entry = (key: string) => stat.get(key) ?? 0n
  return {
    usage: parseCounter(text.usage),
    inactiveFile: entry(files.stat.inactiveFile),
    rss: entry(files.stat.rss),
    pageFaults: entry(files.stat.pageFaults),
    majorPageFaults: entry(files.stat.majorPageFaults),
    limit: parseMemoryLimit(text.limit),
  }
}

/** The working set is what the kernel could not reclaim easily: usage less inactive page cache (floored at 0). */
export function memoryUsage(f: MemoryFigures, timestamp: bigint): MemoryUsage {
  const workingSet = f.usage > f.inactiveFile ? f.usage - f.inactiveFile : 0n
  return {
    timestamp: timestamp.toString(),
    workingSetBytes: u64(workingSet),
    availableBytes: f.limit === null ? null : u64(f.limit - workingSet),
    usageBytes: u64(f.usage),
    rssBytes: u64(f.rss),
    pageFaults: u64(f.pageFaults),
    majorPageFaults: u64(f.majorPageFaults),
  }
}

export function networkUsage(interfaces: InterfaceCounters[], timestamp: bigint): NetworkUsage {
  const usage = interfaces.map(
    (i): NetworkInterfaceUsage => ({name: i.name, rxBytes: u64(i.rxBytes), rxErrors: u64(i.rxErrors), txBytes: u64(i.txBytes), txErrors: u64(i.txErrors)}),
  )
  return {timestamp: timestamp.toString(), defaultInterface: usage.find((i) => i.name === defaultInterfaceName) ?? null, interfaces: usage}
}

/**
 * usage_nano_cores: the CPU time used between two samples over the time
 * between them. Null when there is no earlier sample, the clock did not move,
 * or the counter went backwards (a cgroup recreated under the same ID).
 */
export function usageNanoCores(previous: CpuUsage | null | undefined, current: CpuUsage): UInt64Value | null {
  if (!previous) return null
  const dt = BigInt(current.timestamp) - BigInt(previous.timestamp)
  const du = BigInt(current.usageCoreNanoSeconds.value) - BigInt(previous.usageCoreNanoSeconds.value)
  if (dt <= 0n || du < 0n) return null
  return u64((du * 1_000_000_000n) / dt)
}

/** v1 controller directory names ("cpu,cpuacct" co-mounts too), a controller's own directory first. */
export function v1ControllerDirs(entries: string[]): Map<string, string> {
  const dirs = new Map<string, string>()
  const byWidth = [...entries].sort((a, b) => a.split(',').length - b.split(',').length)
  for (const entry of byWidth) {
    for (const controller of entry.split(',')) if (controller && !dirs.has(controller)) dirs.set(controller, entry)
  }
  return dirs
}

// ---------------------------------------------------------------------------
// The reader.
// ---------------------------------------------------------------------------

export interface StatsSource {
  /** where the cgroup hierarchies are mounted: /sys/fs/cgroup, or a fixture tree */
  cgroupMount: string
  /** v2, or v1; on a hybrid host the v1 controllers hold the figures */
  mode: CgroupMode
  /** /proc, or a fixture tree */
  procRoot?: string
  /** nanoseconds since the epoch, for the timestamps */
  now?: () => bigint
}

// One wall-clock reading, then the monotonic clock: timestamps a nanosecond
// apart stay in order and never jump with NTP between two samples. Taken at
// the first call, not at import (the start-up snapshot imports this module
// when it is built).
let clockStart: {wall: bigint; monotonic: bigint} | undefined
export const nowNanos = (): bigint => {
  clockStart ??= {wall: BigInt(Date.now()) * 1_000_000n, monotonic: process.hrtime.bigint()}
  return clockStart.wall + (process.hrtime.bigint() - clockStart.monotonic)
}

/** This host's cgroup mount and the version that holds the pod figures. */
export async function hostStatsSource(): Promise<StatsSource> {
  const cgroupMount = '/sys/fs/cgroup'
  return {cgroupMount, mode: detectCgroupMode(cgroupMount) === 'v2' ? 'v2' : 'v1'}
}

const goneErrors = new Set(['ENOENT', 'ENOTDIR', 'ENODEV', 'ESRCH'])

/** A file's text, or null when it, its cgroup or its process is gone. */
function readIfPresent(path: string): string | null {
  try {
    // Synchronous: a pod's files are a few short reads each, and over a hundred pods the
    // thread pool's round trips (open, stat, read, close for every file) cost several times the reads.
    return readFileSync(path, 'utf8')
  } catch (err) {
    if (goneErrors.has(errnoOf(err) ?? '')) return null
    throw wrap(`cannot read "${path}"`, err)
  }
}

/** The pod cgroup's directory for each kind of figure. */
interface PodCgroupDirs {
  cpu?: string
  memory?: string
  procs?: string
}

/** Per cgroup mount: each v1 controller's hierarchy, as a normalized directory (join()ed once). */
const v1DirsCache = new Map<string, Map<string, string>>()

function podCgroupDirs(source: StatsSource, cgroupsPath: string): PodCgroupDirs {
  if (source.mode === 'v2') {
    const dir = join(source.cgroupMount, cgroupsPath)
    return {cpu: dir, memory: dir, procs: dir}
  }
  let controllers = v1DirsCache.get(source.cgroupMount)
  if (!controllers) {
    controllers = new Map<string, string>()
    try {
      for (const [controller, entry] of v1ControllerDirs(readdirSync(source.cgroupMount))) controllers.set(controller, join(source.cgroupMount, entry))
    } catch {
      // no hierarchies: no figures
    }
    v1DirsCache.set(source.cgroupMount, controllers)
  }
  // cgroupsPath is absolute and normalized (podCgroupsPath), so this is what join() gives, a hundred pods times three cheaper.
  const pod = cgroupsPath === '/' ? '' : cgroupsPath
  const at = (controller: string) => {
    const hierarchy = controllers.get(controller)
    return hierarchy === undefined ? undefined : `${hierarchy === '/' ? '' : hierarchy}${pod}`
  }
  return {cpu: at('cpuacct'), memory: at('memory'), procs: at('pids') ?? at('memory') ?? at('cpuacct')}
}

// The readers below are synchronous (see readIfPresent), and name a pod's
// files as dir + "/" + file: dir comes from join(), so this is the path join()
// would give, without normalizing it again for each of a hundred pods' files.

function readCpu(source: StatsSource, dir: string | undefined, now: () => bigint): CpuUsage | null {
  if (!dir) return null
  const timestamp = now()
  if (source.mode === 'v2') {
    const text = readIfPresent(`${dir}/cpu.stat`)
    return text === null ? null : cpuUsageV2(text, timestamp)
  }
  const text = readIfPresent(`${dir}/cpuacct.usage`)
  return text === null ? null : cpuUsageV1(text, timestamp)
}

function readMemory(source: StatsSource, dir: string | undefined, now: () => bigint): MemoryUsage | null {
  if (!dir) return null
  const files = memoryFiles[source.mode === 'v2' ? 'v2' : 'v1']
  const read = (file: string) => readIfPresent(`${dir}/${file}`)
  const timestamp = now()
  // The usage first: the rest describes it. None on v2 means no memory controller in this subtree.
  const usage = read(files.usage)
  if (usage === null) return null
  const stat = read('memory.stat')
  const limit = read(files.limit)
  if (stat === null || limit === null) return null
  return memoryUsage(memoryFigures(files, {usage, stat, limit}), timestamp)
}

/** Processes in the pod cgroup and every cgroup below it. */
function processCount(dir: string): number | null {
  const procs = readIfPresent(`${dir}/cgroup.procs`)
  if (procs === null) return null
  let count = countProcesses(procs)
  for (const child of subdirectories(dir)) count += processCount(`${dir}/${child}`) ?? 0
  return count
}

/** The cgroups right below dir; none when it is gone. */
function subdirectories(dir: string): string[] {
  try {
    return readdirSync(dir, {withFileTypes: true}).flatMap((c) => (c.isDirectory() ? [c.name] : []))
  } catch {
    return []
  }
}

function readProcess(dir: string | undefined, now: () => bigint): ProcessUsage | null {
  if (!dir) return null
  const timestamp = now()
  const count = processCount(dir)
  return count === null ? null : {timestamp: timestamp.toString(), processCount: u64(BigInt(count))}
}

function readNetwork(pauseDir: string, now: () => bigint): NetworkUsage | null {
  const timestamp = now()
  const text = readIfPresent(`${pauseDir}/net/dev`)
  return text === null ? null : networkUsage(parseNetDev(text), timestamp)
}

/** CPU and memory of any cgroup (a container's): null figures when it is gone. */
export function readCgroupUsage(source: StatsSource, cgroupsPath: string): {cpu: CpuUsage | null; memory: MemoryUsage | null} {
  const now = source.now ?? nowNanos
  const dirs = podCgroupDirs(source, cgroupsPath)
  return {cpu: readCpu(source, dirs.cpu, now), memory: readMemory(source, dirs.memory, now)}
}

/** The pause process is still the one recorded: same PID, same start time, not a zombie. */
function pauseStillAlive(pauseDir: string | undefined, startTime: string | undefined): boolean {
  if (!pauseDir || !startTime) return false
  const text = readIfPresent(`${pauseDir}/stat`)
  return isSameLiveProcess(text === null ? null : parseProcStat(text), startTime)
}

/**
 * The stats of one pod, or null when it is NotReady or stopped while it was
 * read (a pod that vanishes mid-sample is not an error). Each section carries
 * the time its files were read.
 */
export async function readPodSandboxStats(view: PodView, source: StatsSource): Promise<PodSandboxStats | null> {
  if (view.state !== 'SANDBOX_READY') return null
  try {
    return readReadyPod(view, source)
  } catch (err) {
    throw wrap(`cannot read the stats of pod "${view.record.id}"`, err)
  }
}

function readReadyPod(view: PodView, source: StatsSource): PodSandboxStats | null {
  const {record} = view
  const now = source.now ?? nowNanos
  // /proc/<pause pid>, the process that holds the pod's namespaces
  const pauseDir = record.pid ? join(source.procRoot ?? '/proc', String(record.pid)) : undefined
  const cgroupsPath = podCgroupsPath(recordCgroupParent(record), record.id)
  const dirs = podCgroupDirs(source, cgroupsPath)
  const cpu = readCpu(source, dirs.cpu, now)
  const memory = readMemory(source, dirs.memory, now)
  const processes = readProcess(dirs.procs, now)
  // The pod's network namespace, seen through its pause process; a host-network pod has none of its own.
  const network = record.netnsPath && pauseDir ? readNetwork(pauseDir, now) : null
  // Checked last: figures read from a pod that stopped meanwhile (or a PID reused) describe nothing.
  if (!pauseStillAlive(pauseDir, record.pidStartTime)) return null
  if (!cpu && !memory && !processes) throw new PodctlError(`its pause process runs, but there is no cgroup "${cgroupsPath}" under ${source.cgroupMount}`)
  const {id, metadata, labels, annotations} = toPodSandbox(view)
  return {attributes: {id, metadata, labels, annotations}, linux: {cpu, memory, network, process: processes, containers: []}}
}

// ---------------------------------------------------------------------------
// Listing and sampling.
// ---------------------------------------------------------------------------

export interface PodStatsEntry {
  /** the pod as ListPodSandbox gives it: in-process, or from a CRI runtime */
  pod: PodSandbox
  /** null when the pod is NotReady, or stopped while it was read */
  stats: PodSandboxStats | null
}

/** Every pod the filter selects, sorted by ID as crictl sorts them, with its stats. */
export async function listPodSandboxStats(rt: CallContext, filter: PodFilter, source: StatsSource): Promise<PodStatsEntry[]> {
  const views = (await listPods(rt, filter)).sort((a, b) => (a.record.id < b.record.id ? -1 : a.record.id > b.record.id ? 1 : 0))
  return Promise.all(views.map(async (view) => ({pod: toPodSandbox(view), stats: await readPodSandboxStats(view, source)})))
}

/** The current sample with usage_nano_cores from the previous one, pod by pod. */
export function withCpuRates(previous: PodStatsEntry[], current: PodStatsEntry[]): PodStatsEntry[] {
  const before = new Map(previous.map((e) => [e.pod.id, e.stats?.linux.cpu]))
  return current.map((entry) => {
    const cpu = entry.stats?.linux.cpu
    if (!entry.stats || !cpu) return entry
    const rated = {...cpu, usageNanoCores: usageNanoCores(before.get(entry.pod.id), cpu)}
    return {...entry, stats: {...entry.stats, linux: {...entry.stats.linux, cpu: rated}}}
  })
}

export interface SamplingOptions {
  /** time between two samples, the window of usage_nano_cores */
  seconds: number
  /** the first result waits for a second sample, so it carries usage_nano_cores */
  rateFirst: boolean
  source?: StatsSource
}

/**
 * Samples every `seconds`, without end: the first at once (or, with
 * rateFirst, after one interval), each later one with usage_nano_cores over
 * the interval before it. Stops with the runtime's abort reason (a signal).
 */
export async function* samplePodSandboxStats(rt: CallContext, filter: PodFilter, options: SamplingOptions): AsyncGenerator<PodStatsEntry[]> {
  const source = options.source ?? (await hostStatsSource())
  yield* sampleStats(() => listPodSandboxStats(rt, filter, source), rt.ctx.signal, options)
}

/** The sampling loop over any list of pod stats: this process's own reading, or a CRI runtime's. */
export async function* sampleStats(list: () => Promise<PodStatsEntry[]>, signal: AbortSignal, options: SamplingOptions): AsyncGenerator<PodStatsEntry[]> {
  let previous = await list()
  if (!options.rateFirst) yield previous
  for (;;) {
    await sleep(options.seconds * 1000, undefined, {signal}).catch((err: unknown) => {
      throw signal.aborted ? signal.reason : err
    })
    const current = withCpuRates(previous, await list())
    yield current
    previous = current
  }
}
