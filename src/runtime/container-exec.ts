// Exec in a running container: `runc exec` of the container's own process
// spec (env, user, cwd, capabilities, rlimits, no_new_privs, apparmor and
// selinux labels) with the command in place of its args, as containerd's
// ExecSync builds it. The runtime runs in the foreground under podctl, so the
// exec's exit status is its own and nothing of podctl stays behind.
//
// The exit status is the command's; a command that could not be started is
// told apart from one that failed by the runtime's own log: 127 when it does
// not exist, 126 when it cannot be executed, as a shell says.

import {mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {randomBytes} from 'node:crypto'
import {join} from 'node:path'

import {mustResolveContainer, runtimeOf, viewOf} from './container.js'
import {containerDir, containerSpecPath, readContainerRecord} from './container-store.js'
import type {CallContext} from './context.js'
import {ExitCode, notFoundError, PodctlError, usageError, wrap} from './errors.js'
import {type OpContext, run, type RunResult} from './exec.js'
import type {OciRuntime} from './oci-runtime.js'

export interface ExecOptions {
  cmd: string[]
  tty: boolean
  /** pass podctl's stdin to the command (streaming only) */
  stdin: boolean
  /** collect stdout and stderr and return them (ExecSync) rather than stream them */
  sync: boolean
  /** seconds; 0 waits for ever */
  timeoutSeconds: number
  /** with sync: at most this many bytes of each stream are kept (default 16 MiB) */
  maxBytes?: number
  /**
   * runs the runtime with stdio of the caller's own instead of podctl's
   * (serve's streaming Exec) and resolves with its exit status
   */
  launch?: (file: string, args: string[]) => Promise<number>
}

export interface ExecResult {
  exitCode: number
  /** ExecSync only: the bytes as written, at most execSyncMaxBytes of each */
  stdout?: Buffer
  stderr?: Buffer
  /** the timeout elapsed and the command was killed */
  timedOut: boolean
}

/** The exec process: the container's own with the command as its args and, with a tty, TERM=xterm as containerd adds. */
export function execProcess(containerProcess: Record<string, unknown>, cmd: string[], tty: boolean): Record<string, unknown> {
  const env = Array.isArray(containerProcess.env) ? (containerProcess.env as string[]) : []
  const withTerm = tty && !env.some((e) => e.startsWith('TERM=')) ? [...env, 'TERM=xterm'] : env
  const process: Record<string, unknown> = {...containerProcess, args: cmd, terminal: tty, env: withTerm}
  // The container's console size belongs to its own terminal, and oomScoreAdj was set for its init.
  delete process.consoleSize
  delete process.oomScoreAdj
  return process
}

/** The status a shell gives a command it could not start, from the runtime's error; undefined for other errors. */
export function startFailureStatus(runtimeError: string): {exitCode: 126 | 127; why: string} | undefined {
  const m = runtimeError.match(/exec: "([^"]*)": (.*)$/)
  if (!m) return undefined
  const [, file, reason] = m
  if (/executable file not found|no such file or directory/.test(reason)) return {exitCode: 127, why: `"${file}" not found in the container${file.includes('/') ? '' : ' ($PATH)'}`}
  if (/permission denied|exec format error|is a directory/.test(reason)) return {exitCode: 126, why: `"${file}" cannot be executed in the container: ${reason}`}
  return undefined
}

/** exec -s keeps at most this much of each stream (16 MiB, as containerd and CRI-O) unless told: the rest is read and dropped. */
const execSyncMaxBytes = 16 * 1024 * 1024

/**
 * Run the command in the container through `runtime exec`; the temporary
 * process spec, pid file and runtime log live in `workDir` and are removed
 * after.
 */
export async function execInContainer(ctx: OpContext, runtime: OciRuntime, containerId: string, containerProcess: Record<string, unknown>, workDir: string, options: ExecOptions): Promise<ExecResult> {
  if (options.cmd.length === 0) throw usageError('exec needs a command to run')
  const dir = join(workDir, `exec-${randomBytes(6).toString('hex')}`)
  mkdirSync(dir, {recursive: true, mode: 0o700})
  const processFile = join(dir, 'process.json')
  const pidFile = join(dir, 'pid')
  const logFile = join(dir, 'runtime.log')
  let timedOut = false
  let timer: NodeJS.Timeout | undefined
  try {
    writeFileSync(processFile, JSON.stringify(execProcess(containerProcess, options.cmd, options.tty)))
    if (options.timeoutSeconds > 0) {
      timer = setTimeout(() => {
        // The command, not the runtime: the runtime then exits with the command's status (137).
        timedOut = true
        const pid = readPid(pidFile)
        if (pid) killQuietly(pid)
      }, options.timeoutSeconds * 1000)
    }
    const args = runtime.execArgs(containerId, processFile, pidFile, logFile, options.tty)
    const result: RunResult = options.launch
      ? {exitCode: await options.launch(runtime.binary, args), stdout: '', stderr: ''}
      : await run(ctx, runtime.binary, args, options.sync ? {capture: options.maxBytes ?? execSyncMaxBytes} : {inherit: {stdin: options.stdin}})
    const runtimeError = result.exitCode === 0 || timedOut ? '' : await runtime.execError(logFile)
    if (runtimeError) {
      const start = startFailureStatus(runtimeError)
      if (start) throw new PodctlError(`cannot run ${start.why}`, {exitCode: start.exitCode === 127 ? ExitCode.commandNotFound : ExitCode.cannotExecute})
      throw new PodctlError(`${runtime.handler} exec in container "${containerId}" failed: ${runtimeError}`)
    }
    return {
      exitCode: result.exitCode,
      timedOut,
      ...(options.sync ? {stdout: result.stdoutBytes ?? Buffer.from(result.stdout), stderr: result.stderrBytes ?? Buffer.from(result.stderr)} : {}),
    }
  } finally {
    if (timer) clearTimeout(timer)
    rmSync(dir, {recursive: true, force: true})
  }
}

function readPid(pidFile: string): number | undefined {
  try {
    const pid = Number(readFileSync(pidFile, 'utf8').trim())
    return Number.isInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL')
  } catch {
    // gone already
  }
}

/** `exec`: the command in a running container, its temporary files in the container's directory (rm takes what a killed exec leaves). */
export async function execContainer(rt: CallContext, ref: string, options: ExecOptions): Promise<ExecResult> {
  const found = mustResolveContainer(rt, ref)
  const record = readContainerRecord(rt.store, found.podId, found.id)
  if (!record) throw notFoundError(`container "${ref}" not found`, 'list containers with: podctl ps -a')
  const {state} = viewOf(rt, record)
  if (state !== 'CONTAINER_RUNNING') {
    throw new PodctlError(`container "${found.id}" is not running (${state})`, {hint: state === 'CONTAINER_CREATED' ? `start it first: podctl start ${found.id.slice(0, 13)}` : 'exec needs a running container'})
  }
  const specPath = containerSpecPath(rt.store, found.podId, found.id)
  let spec: {process?: Record<string, unknown>}
  try {
    spec = JSON.parse(readFileSync(specPath, 'utf8')) as typeof spec
  } catch (err) {
    throw wrap(`cannot read the spec of container "${found.id}"`, err)
  }
  return execInContainer(rt.ctx, runtimeOf(rt, record), found.id, spec.process ?? {}, containerDir(rt.store, found.podId, found.id), options)
}
