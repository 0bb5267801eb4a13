// The CRI log file reader: what `crictl logs` does with kubelet's ReadLogs,
// in-process. The file is what conmon writes (k8s-file):
//
//   <RFC3339Nano timestamp> SP stdout|stderr SP F|P[:tags] SP <content> \n
//
// A P (partial) record's newline is not part of the line: the next record of
// the stream continues it. --tail counts records (every P record is one), as
// kubelet's tail does; --since skips records stamped before it; --timestamps
// prefixes each logical line (not its continuations) with its stamp at fixed
// width. Follow mode reads on while the container runs, waiting on the file
// with fs.watch and a one-second re-check, and ends when it has exited.
// Content is bytes: nothing here decodes it.

import {closeSync, fstatSync, openSync, readSync, watch} from 'node:fs'
import {basename, dirname, extname, join} from 'node:path'

import {mustResolveContainer, viewOf} from './container.js'
import {readContainerRecord} from './container-store.js'
import type {CallContext} from './context.js'
import {errnoOf, notFoundError, PodctlError, usageError} from './errors.js'
import type {ContainerService} from './service.js'

export type LogStream = 'stdout' | 'stderr'

export interface LogRecord {
  /** the stamp as written */
  timestamp: string
  /** nanoseconds since the epoch */
  nanos: bigint
  stream: LogStream
  partial: boolean
  /** the content; a full record's ends with its newline */
  content: Buffer
}

const space = 0x20
const newline = 0x0a

/** One record from one line of the file (its newline removed), or null for a line that is not one. */
export function parseLogLine(line: Buffer): LogRecord | null {
  const first = line.indexOf(space)
  const second = first < 0 ? -1 : line.indexOf(space, first + 1)
  if (second < 0) return null
  const timestamp = line.subarray(0, first).toString('latin1')
  const stream = line.subarray(first + 1, second).toString('latin1')
  if (stream !== 'stdout' && stream !== 'stderr') return null
  const nanos = parseTimestamp(timestamp)
  if (nanos === null) return null
  // The tags: only the first counts. A line "ts stream tags" without content is an empty line.
  const third = line.indexOf(space, second + 1)
  const tags = line.subarray(second + 1, third < 0 ? line.length : third).toString('latin1')
  const partial = tags.split(':')[0] === 'P'
  const body = third < 0 ? Buffer.alloc(0) : line.subarray(third + 1)
  return {timestamp, nanos, stream, partial, content: partial ? body : Buffer.concat([body, Buffer.from('\n')])}
}

const stampPattern = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/

/** An RFC 3339 stamp with 0-9 fraction digits and Z or an offset, as nanoseconds since the epoch; null if it is not one. */
export function parseTimestamp(text: string): bigint | null {
  const m = stampPattern.exec(text)
  if (!m) return null
  const [, y, mo, d, h, mi, s, fraction = '', zone] = m
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s))
  if (Number.isNaN(ms)) return null
  let offsetMinutes = 0
  if (zone !== 'Z') offsetMinutes = (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)))
  return (BigInt(ms) - BigInt(offsetMinutes) * 60_000n) * 1_000_000n + BigInt(fraction.padEnd(9, '0'))
}

/** kubelet's --timestamps layout: always nine fraction digits, the record's own zone. */
export function formatTimestamp(stamp: string): string {
  const m = stampPattern.exec(stamp)
  if (!m) return stamp
  const [, y, mo, d, h, mi, s, fraction = '', zone] = m
  return `${y}-${mo}-${d}T${h}:${mi}:${s}.${fraction.padEnd(9, '0')}${zone}`
}

const durationUnits: Record<string, bigint> = {ns: 1n, us: 1_000n, 'µs': 1_000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n}

/** A Go duration ("42m", "1h30m", "1.5s"), in nanoseconds; null if it is not one. */
export function parseDuration(text: string): bigint | null {
  if (!/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(text)) return null
  let total = 0n
  for (const [, whole, frac = '', unit] of text.matchAll(/(\d+)(?:\.(\d+))?(ns|us|µs|ms|s|m|h)/g)) {
    const scale = durationUnits[unit]
    total += BigInt(whole) * scale + (frac ? (BigInt(frac) * scale) / 10n ** BigInt(frac.length) : 0n)
  }
  return total
}

/**
 * --since as docker's GetTimestamp reads it: a duration before now, an RFC
 * 3339 time (a date and time without a zone is UTC here, where docker takes
 * the local zone), or Unix seconds with an optional fraction. Nanoseconds.
 */
export function parseSince(text: string, now: bigint): bigint {
  const duration = parseDuration(text)
  if (duration !== null) return now - duration
  const unix = /^(\d+)(?:\.(\d{1,9}))?$/.exec(text)
  if (unix) return BigInt(unix[1]) * 1_000_000_000n + BigInt((unix[2] ?? '').padEnd(9, '0'))
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text
  const withZone = /(Z|[+-]\d{2}:\d{2})$/.test(dateOnly) ? dateOnly : `${dateOnly}Z`
  const stamp = parseTimestamp(withZone)
  if (stamp !== null) return stamp
  throw usageError(`--since "${text}" is neither a duration, a time nor a Unix timestamp`, 'give e.g. --since 10m, --since 2024-01-02T13:23:37Z or --since 1704201817')
}

/**
 * kubelet's `-p` path: the previous attempt's file beside this one,
 * `<dir>/<attempt-1><extension>` (…/web/2.log → …/web/1.log). Null at attempt 0.
 */
export function previousLogPath(logPath: string, attempt: number): string | null {
  if (attempt <= 0) return null
  const ext = extname(basename(logPath))
  return join(dirname(logPath), `${attempt - 1}${ext}`)
}

/**
 * The offset of the first of the last `lines` complete lines of the file
 * (read back in 64 KiB blocks); an unterminated last line is not counted, as
 * kubelet's tail.
 */
export function tailStart(fd: number, size: number, lines: number): number {
  if (lines < 0) return 0
  const block = Buffer.alloc(64 * 1024)
  // Lines end with a newline: the (lines+1)-th newline from the end ends the line before the first one wanted.
  let seen = 0
  let end = size
  while (end > 0) {
    const start = Math.max(0, end - block.length)
    const n = readSync(fd, block, 0, end - start, start)
    for (let i = n - 1; i >= 0; i--) if (block[i] === newline && ++seen === lines + 1) return start + i + 1
    end = start
  }
  return 0
}

export interface LogOptions {
  /** last N records, or -1 for all */
  tail: number
  /** nanoseconds since the epoch; records before it are skipped */
  since?: bigint
  timestamps: boolean
  /** stop after this many bytes of output (-1: no limit) */
  limitBytes: number
  follow: boolean
}

export interface LogTarget {
  write(stream: LogStream, data: Buffer): void | Promise<void>
  /** follow mode: whether the container still runs (asked when the file has no more) */
  running?: () => Promise<boolean>
  signal?: AbortSignal
}

/** How long follow mode waits without a change before asking whether the container still runs. */
const recheckMs = 1000

/**
 * Read a CRI log file to the target. A missing file is an error naming it;
 * in follow mode a file that is replaced (log reopened) is opened again.
 */
export async function readLogFile(path: string, options: LogOptions, target: LogTarget): Promise<void> {
  let fd = openLog(path)
  let budget = options.limitBytes < 0 ? Infinity : options.limitBytes
  // Per stream: whether the last record was partial (its next record continues the line).
  const continuing: Record<LogStream, boolean> = {stdout: false, stderr: false}
  let printed = 0
  const emit = async (record: LogRecord): Promise<boolean> => {
    if (options.since !== undefined && record.nanos < options.since) return true
    let data = record.content
    if (options.timestamps && !continuing[record.stream]) data = Buffer.concat([Buffer.from(`${formatTimestamp(record.timestamp)} `), data])
    continuing[record.stream] = record.partial
    if (data.length > budget) data = data.subarray(0, budget)
    budget -= data.length
    if (data.length > 0) await target.write(record.stream, data)
    printed++
    return budget > 0
  }
  try {
    const size = fstatSync(fd).size
    let offset = options.tail >= 0 ? tailStart(fd, size, options.tail) : 0
    let pending = Buffer.alloc(0)
    let exited = false
    const chunk = Buffer.alloc(64 * 1024)
    for (;;) {
      // Everything there is now, line by line; an unterminated last line waits for its end.
      let n: number
      while ((n = readSync(fd, chunk, 0, chunk.length, offset)) > 0) {
        offset += n
        pending = pending.length ? Buffer.concat([pending, chunk.subarray(0, n)]) : Buffer.from(chunk.subarray(0, n))
        let start = 0
        let end: number
        while ((end = pending.indexOf(newline, start)) >= 0) {
          const record = parseLogLine(pending.subarray(start, end))
          start = end + 1
          if (record && !(await emit(record))) return
          // Without -f, --tail N prints at most N records, even as the file grows under it.
          if (!options.follow && options.tail >= 0 && printed >= options.tail) return
        }
        pending = pending.subarray(start)
      }
      if (!options.follow || !target.running || target.signal?.aborted || exited) return
      if (!(await target.running())) {
        // The container is gone: what it wrote before exiting is read once more, then the end.
        exited = true
        continue
      }
      const replaced = await waitForChange(path, fd, offset, target.signal)
      if (replaced) {
        closeSync(fd)
        fd = openLog(path)
        offset = 0
        pending = Buffer.alloc(0)
      }
    }
  } finally {
    closeSync(fd)
  }
}

function openLog(path: string): number {
  try {
    return openSync(path, 'r')
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') throw new PodctlError(`log file "${path}" does not exist`, {hint: 'the container has written no log yet, or its log was removed'})
    throw new PodctlError(`cannot open log file "${path}": ${errnoOf(err) ?? String(err)}`)
  }
}

/**
 * Until the file grows, is replaced, the signal fires or the re-check time
 * passes. True when the path now names another file (conmon's reopen renames
 * a new file over it).
 */
async function waitForChange(path: string, fd: number, offset: number, signal?: AbortSignal): Promise<boolean> {
  const replaced = () => {
    try {
      const now = fstatSync(fd)
      const named = openSync(path, 'r')
      try {
        return fstatSync(named).ino !== now.ino
      } finally {
        closeSync(named)
      }
    } catch {
      return false
    }
  }
  if (fstatSync(fd).size > offset) return false
  if (replaced()) return true
  await new Promise<void>((resolve) => {
    let watcher: ReturnType<typeof watch> | undefined
    const done = () => {
      clearTimeout(timer)
      watcher?.close()
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, recheckMs)
    try {
      // The directory, not the file: a rename over the path is seen too.
      watcher = watch(dirname(path), {persistent: false}, () => done())
    } catch {
      // no watch: the re-check timer alone
    }
    signal?.addEventListener('abort', done, {once: true})
  })
  return replaced()
}

/**
 * `logs`: the container's CRI log file (or with previous, its previous
 * attempt's) to the target; follow reads on while the container runs.
 */
export async function containerLogs(rt: CallContext, ref: string, options: LogOptions & {previous: boolean}, target: Pick<LogTarget, 'write'>): Promise<void> {
  const found = mustResolveContainer(rt, ref)
  const record = readContainerRecord(rt.store, found.podId, found.id)
  if (!record) throw notFoundError(`container "${ref}" not found`, 'list containers with: podctl ps -a')
  if (!record.logPath) throw new PodctlError(`container "${found.id}" has no log path`, {hint: 'it was created before podctl wrote container logs'})
  const path = chosenLogFile(record.logPath, record.config.metadata.name, record.config.metadata.attempt ?? 0, options.previous)
  const running = async () => {
    const now = readContainerRecord(rt.store, found.podId, found.id)
    return now !== null && viewOf(rt, now).state === 'CONTAINER_RUNNING'
  }
  await readLogFile(path, options, {...target, running, signal: rt.ctx.signal})
}

/**
 * logs of a CRI runtime's container, as crictl logs: ContainerStatus gives the
 * log path, and the file is read here (the client runs on the runtime's node);
 * a follow reads on while the runtime reports the container running.
 */
export async function remoteContainerLogs(containers: ContainerService, id: string, options: LogOptions & {previous: boolean}, target: Pick<LogTarget, 'write' | 'signal'>): Promise<void> {
  const {status} = await containers.containerStatus(id, false)
  if (!status.logPath) throw new PodctlError(`container "${id}" has no log path: the runtime reports none`)
  const path = chosenLogFile(status.logPath, status.metadata.name, status.metadata.attempt, options.previous)
  const running = async () => (await containers.containerStatus(id, false)).status.state === 'CONTAINER_RUNNING'
  await readLogFile(path, options, {...target, running})
}

/** The file logs reads: the container's own, or with -p the previous attempt's beside it. */
function chosenLogFile(logPath: string, name: string, attempt: number, previous: boolean): string {
  if (!previous) return logPath
  const before = previousLogPath(logPath, attempt)
  if (!before) throw notFoundError(`previous terminated container "${name}" not found: this is attempt 0`)
  return before
}
