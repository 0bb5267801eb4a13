// Running helper binaries (runc, CNI plugins, unshare, umount), bounded by
// the operation's abort signal. Every one goes through the context's Exec,
// so a unit test can stand in for them all. Nothing here interprets output:
// each caller owns its tool's contract.
//
// This is node:child_process rather than a package such as execa: importing
// execa costs 75-95 ms on these machines, more than `runc run -d` itself, and
// every verb that runs a pod pays it. What podctl needs from it
// (collect output, feed stdin, cancel on a signal, kill a straggler) is the
// few lines below.

import {spawn} from 'node:child_process'

import {PodctlError} from './errors.js'

/** What every long operation carries: cancellation, debug output, and how helper processes run. */
export interface OpContext {
  signal: AbortSignal
  /** debug lines (to stderr under --debug), and per-step timings */
  log: (message: string) => void
  /** runs every helper process of the operation; spawnExec when unset (a unit test passes its own) */
  exec?: Exec
}

/** The one way podctl runs a helper process: runc, a CNI plugin, unshare, umount. */
export type Exec = (ctx: OpContext, file: string, args: string[], options: RunOptions) => Promise<RunResult>

export interface RunResult {
  exitCode: number
  stdout: string
  stderr: string
  /** with `capture`: the bytes as written, stdout and stderr left empty */
  stdoutBytes?: Buffer
  stderrBytes?: Buffer
}

export interface RunOptions {
  input?: string
  /** added to this process's environment */
  env?: Record<string, string>
  /** stdout/stderr not captured: for `runc create`, whose child inherits them */
  detached?: boolean
  /** stdout and stderr (and stdin, if asked) are this process's own: for `exec` in the foreground */
  inherit?: {stdin: boolean}
  /** the output as written, its last newline kept */
  raw?: boolean
  /** the output as bytes (stdoutBytes, stderrBytes), at most this many of each: the rest is read and dropped */
  capture?: number
}

/** How long a cancelled child gets after SIGTERM before SIGKILL. */
const killGraceMs = 1000

/** How long output is still read after a tool exits while something else holds its pipes. */
const drainMs = 50

/** Run a helper process through the context's Exec. */
export function run(ctx: OpContext, file: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  return (ctx.exec ?? spawnExec)(ctx, file, args, options)
}

/** Exec with node:child_process, bounded by the context's signal. */
const spawnExec: Exec = async (ctx, file, args, options) => {
  if (ctx.signal.aborted) throw ctx.signal.reason
  const started = performance.now()
  let ran = await runChild(ctx, file, args, options)
  // A terminal's Ctrl-C or hangup sent to podctl's process group while a helper is being spawned
  // reaches the child between its fork and its setsid: held by the blocked signal mask, it is
  // delivered just before the exec, and the helper dies without having run (measured: 70 of 2,588
  // spawns under a SIGINT to the group every 10 ms). It is run again. A helper that did run is in a
  // session of its own and never gets that signal; one given the terminal (inherit) rightly does.
  for (let again = 0; again < 3 && !options.inherit && !ctx.signal.aborted && terminalSignals.has(ran.outcome.signal); again++) {
    ctx.log(`exec ${file} ${args.join(' ')} -> ${ran.outcome.signal} before it ran (a signal to podctl's group during the spawn): run again`)
    ran = await runChild(ctx, file, args, options)
  }
  const {outcome, stdout, stderr, captured} = ran
  ctx.log(`exec ${file} ${args.join(' ')} -> ${outcome.code ?? outcome.signal ?? 'error'} (${(performance.now() - started).toFixed(1)} ms)`)
  if (ctx.signal.aborted) throw ctx.signal.reason ?? new PodctlError('operation cancelled')
  if (outcome.error) throw new PodctlError(`failed to run ${file}: ${outcome.error.message}`, {cause: outcome.error})
  if (outcome.code === null) throw new PodctlError(`${file} was killed by ${outcome.signal}`)
  if (options.capture !== undefined) return {exitCode: outcome.code, stdout: '', stderr: '', stdoutBytes: captured.stdout.bytes(), stderrBytes: captured.stderr.bytes()}
  if (options.raw) return {exitCode: outcome.code, stdout, stderr}
  return {exitCode: outcome.code, stdout: stdout.replace(/\n$/, ''), stderr: stderr.replace(/\n$/, '')}
}

/** The signals a terminal sends its foreground process group. */
const terminalSignals = new Set<NodeJS.Signals | null>(['SIGINT', 'SIGHUP', 'SIGQUIT'])

interface ChildRun {
  outcome: {code: number | null; signal: NodeJS.Signals | null; error?: Error}
  stdout: string
  stderr: string
  captured: {stdout: Capture; stderr: Capture}
}

/** One spawn of the helper, to its exit (or its cancellation). */
async function runChild(ctx: OpContext, file: string, args: string[], options: RunOptions): Promise<ChildRun> {
  const child = spawn(file, args, {
    env: options.env ? {...process.env, ...options.env} : process.env,
    // A session of its own: a terminal's Ctrl-C (or hangup) goes to its whole foreground
    // process group, and would kill a CNI plugin or runc halfway through (a bridge DEL between
    // removing the veth and its masquerade rules leaves them for good; a pause started in the
    // group would get the hangup). podctl alone decides: a cancelled operation's helper gets
    // SIGTERM below, and a removal under way is let finish. Only a helper given the terminal
    // (inherit) stays in its session.
    detached: !options.inherit,
    stdio: options.inherit
      ? [options.inherit.stdin ? 'inherit' : 'ignore', 'inherit', 'inherit']
      : [options.input === undefined ? 'ignore' : 'pipe', options.detached ? 'ignore' : 'pipe', options.detached ? 'ignore' : 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  const captured = {stdout: new Capture(options.capture ?? 0), stderr: new Capture(options.capture ?? 0)}
  if (options.capture === undefined) {
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  } else {
    child.stdout?.on('data', (d: Buffer) => captured.stdout.add(d))
    child.stderr?.on('data', (d: Buffer) => captured.stderr.add(d))
  }
  if (options.input !== undefined) {
    // A plugin that exits without reading its stdin must not crash us with EPIPE.
    child.stdin?.on('error', () => undefined)
    child.stdin?.end(options.input)
  }
  let straggler: NodeJS.Timeout | undefined
  const onAbort = () => {
    child.kill('SIGTERM')
    straggler = setTimeout(() => child.kill('SIGKILL'), killGraceMs)
  }
  ctx.signal.addEventListener('abort', onAbort, {once: true})
  // The wait is for the tool's exit, not for its stdio to close: a child it
  // leaves behind (a CNI plugin's daemon) may hold the pipes open forever.
  // What the tool wrote before exiting is already in the pipe; a short drain
  // collects it, then the pipes are let go.
  const outcome = await new Promise<ChildRun['outcome']>((resolve) => {
    child.once('error', (error) => resolve({code: null, signal: null, error}))
    child.once('exit', (code, signal) => {
      // The pipes are let go from the check phase, after an I/O poll: a loop that was
      // starved for longer than drainMs (two cores, sixteen runp) runs due timers before
      // it reads, and would drop output that sat in the pipe all along.
      const drained = setTimeout(
        () =>
          setImmediate(() => {
            child.stdout?.destroy()
            child.stderr?.destroy()
            resolve({code, signal})
          }),
        drainMs,
      )
      child.once('close', () => {
        clearTimeout(drained)
        resolve({code, signal})
      })
    })
  })
  ctx.signal.removeEventListener('abort', onAbort)
  if (straggler) clearTimeout(straggler)
  return {outcome, stdout, stderr, captured}
}

/** Chunks of a stream up to a limit; what comes after is dropped, so memory stays bounded. */
class Capture {
  private chunks: Buffer[] = []
  private size = 0

  constructor(private readonly limit: number) {}

  add(chunk: Buffer): void {
    const room = this.limit - this.size
    if (room <= 0) return
    const kept = chunk.length > room ? chunk.subarray(0, room) : chunk
    this.chunks.push(kept)
    this.size += kept.length
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks, this.size)
  }
}

/**
 * Await several concurrent operations, all of them, then fail with the first
 * failure: none is left running behind an error (a plugin or runc half done
 * while the caller already undoes its work).
 */
export async function settleAll<T extends readonly unknown[]>(calls: readonly [...T]): Promise<{-readonly [K in keyof T]: Awaited<T[K]>}> {
  const settled = await Promise.allSettled(calls)
  for (const s of settled) if (s.status === 'rejected') throw s.reason
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as {-readonly [K in keyof T]: Awaited<T[K]>}
}

/**
 * At most `n` of the operations given to the returned function run at once;
 * the others wait, and start in the order they were given.
 */
export function limiter(n: number): <T>(operation: () => Promise<T>) => Promise<T> {
  let running = 0
  const waiting: (() => void)[] = []
  return async (operation) => {
    if (running >= n) await new Promise<void>((resolve) => waiting.push(resolve))
    else running++
    try {
      return await operation()
    } finally {
      // The slot goes to the next in line, or is freed.
      const next = waiting.shift()
      if (next) next()
      else running--
    }
  }
}
