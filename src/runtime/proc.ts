// Reading /proc: the cheap way to tell whether a pod's pause process is still
// the one podctl started, without spawning anything per pod.

import {readFileSync} from 'node:fs'

export interface ProcStat {
  state: string
  /** field 22, clock ticks since boot: with the PID it names one process */
  startTime: string
}

/** Parse /proc/<pid>/stat; the command name may contain spaces and parentheses. */
export function parseProcStat(text: string): ProcStat | null {
  const close = text.lastIndexOf(')')
  if (close < 0) return null
  const rest = text.slice(close + 2).split(' ')
  // rest[0] is field 3 (state), so field N is rest[N - 3].
  if (rest.length < 20) return null
  return {state: rest[0], startTime: rest[19]}
}

export function readProcStat(pid: number): ProcStat | null {
  try {
    // Synchronous, as store records: `pods` reads one per pod, and a thread-pool round trip costs more than the read.
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return null
  }
}

/** The process is alive (not a zombie) and is the one that started at startTime. */
export function sameProcessAlive(pid: number | undefined, startTime: string | undefined): boolean {
  if (!pid || !startTime) return false
  return isSameLiveProcess(readProcStat(pid), startTime)
}

/** What a /proc/<pid>/stat says: the process that started at startTime, and not a zombie. */
export function isSameLiveProcess(stat: ProcStat | null, startTime: string): boolean {
  return stat !== null && stat.startTime === startTime && stat.state !== 'Z' && stat.state !== 'X'
}

/** Capability names by number (linux/capability.h). */
const capabilityNames = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN',
  'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ',
  'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
]

/** Decode a Cap* mask from /proc/<pid>/status into capability names. */
export function capabilitiesFromMask(hex: string): string[] {
  const mask = BigInt(`0x${hex}`)
  return capabilityNames.filter((_name, bit) => (mask >> BigInt(bit)) & 1n)
}

export interface ProcessCapabilities {
  bounding: string[]
  effective: string[]
}

/** This process's bounding and effective capability sets. */
export function ownCapabilities(): ProcessCapabilities {
  const status = readFileSync('/proc/self/status', 'utf8')
  const field = (name: string) => status.match(new RegExp(`^${name}:\\s*([0-9a-f]+)`, 'm'))?.[1] ?? '0'
  return {bounding: capabilitiesFromMask(field('CapBnd')), effective: capabilitiesFromMask(field('CapEff'))}
}

/**
 * Whether the process is in the cgroup `cgroupsPath` (or one below it), in
 * any hierarchy of /proc/<pid>/cgroup: what ties a PID read from a record to
 * the pod, before it is sent a signal. False when it is gone.
 */
export function processInCgroup(pid: number, cgroupsPath: string): boolean {
  let text: string
  try {
    text = readFileSync(`/proc/${pid}/cgroup`, 'utf8')
  } catch {
    return false
  }
  const want = cgroupsPath.replace(/\/+$/, '')
  for (const line of text.split('\n')) {
    // hierarchy-ID:controllers:path (the path may itself hold ':')
    const path = line.split(':').slice(2).join(':')
    if (path === want || path.startsWith(`${want}/`)) return true
  }
  return false
}
