// Running helper binaries (runc, CNI plugins, unshare, umount) with execa,
// bounded by the operation's abort signal. Nothing here interprets output:
// each caller owns its tool's contract.

import {execa} from 'execa'

import {PodctlError} from './errors.js'

/** What every long operation carries: cancellation, a deadline, debug output. */
export interface OpContext {
  signal: AbortSignal
  /** debug lines (to stderr under --debug), and per-step timings */
  log: (message: string) => void
}

export interface RunResult {
  exitCode: number
  stdout: string
  stderr: string
}

export interface RunOptions {
  input?: string
  env?: Record<string, string>
  /** replace the environment instead of extending it (CNI plugins) */
  extendEnv?: boolean
  /** stdout/stderr not captured: for `runc create`, whose child inherits them */
  detached?: boolean
}

export async function run(ctx: OpContext, file: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  const started = performance.now()
  const result = await execa(file, args, {
    reject: false,
    input: options.input,
    stdin: options.input === undefined ? 'ignore' : 'pipe',
    stdout: options.detached ? 'ignore' : 'pipe',
    stderr: options.detached ? 'ignore' : 'pipe',
    env: options.env,
    extendEnv: options.extendEnv ?? true,
    cancelSignal: ctx.signal,
    forceKillAfterDelay: 1000,
    stripFinalNewline: true,
  })
  ctx.log(`exec ${file} ${args.join(' ')} -> ${result.exitCode ?? result.signal} (${(performance.now() - started).toFixed(1)} ms)`)
  if (result.isCanceled) throw ctx.signal.reason ?? new PodctlError('operation cancelled')
  if (result.failed && result.exitCode === undefined) {
    // Could not be started at all (ENOENT, EACCES) or was killed by a signal.
    const cause = result.cause instanceof Error ? result.cause.message : result.shortMessage
    throw new PodctlError(`failed to run ${file}: ${cause}`, {cause: result.cause})
  }
  return {
    exitCode: result.exitCode ?? 1,
    stdout: typeof result.stdout === 'string' ? result.stdout : '',
    stderr: typeof result.stderr === 'string' ? result.stderr : '',
  }
}
