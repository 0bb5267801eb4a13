// The OCI runtime driver: runc or crun, by their CLI. This is the only module
// that knows the runtimes' flags and how their errors read.

import {accessSync, constants} from 'node:fs'
import {readFile} from 'node:fs/promises'
import {delimiter, join} from 'node:path'

import {PodctlError, prerequisiteError, usageError} from './errors.js'
import {type OpContext, run} from './exec.js'
import type {RuntimeHandler} from './settings.js'

export interface ContainerState {
  status: 'creating' | 'created' | 'running' | 'paused' | 'stopped' | string
  pid: number
}

export class OciRuntime {
  constructor(
    readonly handler: string,
    readonly binary: string,
    /** the runtime's --root, under podctl's run root */
    readonly stateRoot: string,
    /** the handler's own global options, from the config file */
    readonly options: string[] = [],
  ) {}

  private args(logFile: string | undefined, ...rest: string[]): string[] {
    const global = [...this.options, '--root', this.stateRoot]
    if (logFile) global.push('--log', logFile, '--log-format', 'json')
    return [...global, ...rest]
  }

  /**
   * `run --detach`: create and start in one runtime process rather than two
   * (a runtime process costs 15-30 ms here). The runtime's child inherits
   * stdio, so nothing is piped (a pipe would stay open for the pod's life);
   * errors are read from --log instead.
   */
  async runDetached(ctx: OpContext, id: string, bundle: string, logFile: string, pidFile: string): Promise<void> {
    const result = await run(ctx, this.binary, this.args(logFile, 'run', '--detach', '--bundle', bundle, '--pid-file', pidFile, id), {detached: true})
    if (result.exitCode !== 0) throw this.failure('run', id, await lastLogError(logFile))
  }

  /** null when the runtime does not know the container (never created, deleted, or lost with the run root). */
  async state(ctx: OpContext, id: string): Promise<ContainerState | null> {
    const result = await run(ctx, this.binary, this.args(undefined, 'state', id))
    if (result.exitCode !== 0) {
      if (notExist(result.stderr)) return null
      throw this.failure('state', id, result.stderr)
    }
    return JSON.parse(result.stdout) as ContainerState
  }

  /**
   * Signal the container's init, the pause; one already gone is not an error.
   * Not --all: SIGKILL to the init of the pod's PID namespace ends every
   * process in it (the kernel's rule), in the host's PID namespace the pause
   * runs alone, and `delete --force` kills whatever is left. --all freezes the
   * cgroup first, a cost on every stop (median 15.8 ms with it, 12.7 without).
   */
  async kill(ctx: OpContext, id: string, signal = 'KILL'): Promise<void> {
    const result = await run(ctx, this.binary, this.args(undefined, 'kill', id, signal))
    if (result.exitCode !== 0 && !notExist(result.stderr) && !notRunning(result.stderr)) throw this.failure('kill', id, result.stderr)
  }

  /** `start` of a created container (one that conmon had the runtime create). */
  async start(ctx: OpContext, id: string): Promise<void> {
    const result = await run(ctx, this.binary, this.args(undefined, 'start', id))
    if (result.exitCode !== 0) throw new PodctlError(`${this.handler} start of container "${id}" failed: ${result.stderr.trim() || 'no error output'}`, {hint: explain(result.stderr)})
  }

  /** Delete (killing what is left); a container already gone is not an error. */
  async delete(ctx: OpContext, id: string): Promise<void> {
    const result = await run(ctx, this.binary, this.args(undefined, 'delete', '--force', id))
    if (result.exitCode !== 0 && !notExist(result.stderr)) throw this.failure('delete', id, result.stderr)
  }

  /**
   * `exec` of a process spec in a running container, in the foreground: the
   * runtime forwards signals to the process and exits with its status. Its own
   * errors go to the JSON log (and stderr), so they can be told from the
   * process's. With tty the runtime makes the pty and puts the terminal it
   * inherits into raw mode.
   */
  execArgs(id: string, processFile: string, pidFile: string, logFile: string, tty: boolean): string[] {
    return this.args(logFile, 'exec', '--process', processFile, '--pid-file', pidFile, ...(tty ? ['--tty'] : []), id)
  }

  /** The runtime's error from an exec's log, or '' when it wrote none (the process ran). */
  execError(logFile: string): Promise<string> {
    return lastLogError(logFile)
  }

  /** `update --resources -`: OCI LinuxResources applied to a running or created container's cgroup. */
  async update(ctx: OpContext, id: string, resources: Record<string, unknown>): Promise<void> {
    const result = await run(ctx, this.binary, this.args(undefined, 'update', '--resources', '-', id), {input: JSON.stringify(resources)})
    if (result.exitCode !== 0) {
      const text = result.stderr.split('\n').map((l) => l.match(/msg="(.*)"$/)?.[1] ?? l).filter((l) => !/Setting back cgroup configs failed/.test(l)).join('; ')
      throw new PodctlError(`${this.handler} update of container "${id}" failed: ${text.trim() || 'no error output'}`)
    }
  }

  private failure(op: string, id: string, detail: string): PodctlError {
    const text = detail.trim() || 'no error output'
    const sysctl = sysctlFailure(text)
    if (sysctl) return usageError(`${sysctl.field}: ${sysctl.why} (${this.handler} ${op} of pod "${id}": ${sysctl.cause})`)
    return new PodctlError(`${this.handler} ${op} of pod "${id}" failed: ${text}`, {hint: explain(text)})
  }
}

/**
 * A sysctl the kernel refused inside the pod, said as the config field it
 * came from. Only the runtime can tell: net.* sysctls live in the pod's
 * network namespace (net.ipv4.conf.eth0.* exists there, not on the host),
 * so podctl cannot check them beforehand.
 */
export function sysctlFailure(text: string): {field: string; why: string; cause: string} | undefined {
  const m = text.match(/((?:open|write)\s+`?\/proc\/sys\/([^\s`'":]+)`?:\s*(.+))$/im)
  if (!m) return undefined
  const [, cause, path, reason] = m
  const why = /no such file/i.test(reason) ? 'no such sysctl in the pod\'s namespaces' : /invalid argument/i.test(reason) ? 'the kernel refused the value' : 'the runtime could not set it'
  return {field: `linux.sysctls.${path.replaceAll('/', '.')}`, why, cause}
}

function notExist(stderr: string): boolean {
  return /does not exist|not found|no such file/i.test(stderr)
}

function notRunning(stderr: string): boolean {
  return /not running|process already finished|container not running/i.test(stderr)
}

/** Known misleading runtime errors, said plainly. */
function explain(text: string): string | undefined {
  if (/hybrid mode not supported/.test(text)) {
    return 'crun refuses hybrid cgroup hosts (v1 controllers plus a cgroup2 mount); use --runtime runc, or boot with a unified cgroup hierarchy'
  }
  if (/can't get final child's PID from pipe/.test(text)) {
    return 'runc hides the real cause here; a common one is a negative oom_score_adj without CAP_SYS_RESOURCE; rerun with --debug and read runc.log in the pod directory'
  }
  return undefined
}

/** The last error runc/crun wrote to its JSON log. */
async function lastLogError(logFile: string): Promise<string> {
  let text = ''
  try {
    text = await readFile(logFile, 'utf8')
  } catch {
    return ''
  }
  const lines = text.trim().split('\n').reverse()
  for (const line of lines) {
    try {
      const entry = JSON.parse(line) as {level?: string; msg?: string}
      if (entry.level === 'error' && entry.msg) return entry.msg
    } catch {
      if (line.trim()) return line.trim()
    }
  }
  return ''
}

export interface RuntimeVersion {
  /** as the runtime names itself: runc, crun */
  name: string
  version: string
  /** the OCI runtime spec version it implements */
  spec?: string
}

/** `<runtime> --version`: runc and crun both print "<name> version <v>" first, and a "spec: <v>" line. */
export async function runtimeVersion(ctx: OpContext, binary: string): Promise<RuntimeVersion> {
  const result = await run(ctx, binary, ['--version'])
  const text = `${result.stdout}\n${result.stderr}`.trim()
  if (result.exitCode !== 0) throw new PodctlError(`"${binary} --version" exited with status ${result.exitCode}: ${text.split('\n')[0] || 'no output'}`)
  const first = result.stdout.match(/^(\S+) version (\S+)/m)
  if (!first) throw new PodctlError(`"${binary} --version" printed no version: ${text.split('\n')[0] || 'no output'}`)
  const spec = result.stdout.match(/^spec: (\S+)/m)?.[1]
  return spec ? {name: first[1], version: first[2], spec} : {name: first[1], version: first[2]}
}

/**
 * The binary of a runtime handler: its configured path, absolute or looked up
 * on PATH. An unknown handler or a missing binary is a clear error.
 */
export function resolveRuntime(handlers: Record<string, RuntimeHandler>, handler: string): string {
  const h = handlers[handler]
  if (!h) {
    throw usageError(`no runtime for "${handler}" is configured`, `known handlers: ${Object.keys(handlers).join(', ')}; add one under "runtimes" in the config file`)
  }
  const candidates = h.path.includes('/') ? [h.path] : (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter).map((d) => join(d, h.path))
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // try the next one
    }
  }
  throw prerequisiteError(`OCI runtime "${h.path}" for handler "${handler}" not found`, `install it (Debian/Ubuntu: apt-get install ${handler === 'crun' ? 'crun' : 'runc'}) or set its path under "runtimes" in the config file`)
}
