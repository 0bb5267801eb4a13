// The base of every verb: the global flags (each also an environment
// variable), one error renderer, and the CallContext a verb acts through.

import type {Interfaces} from '@oclif/core'

import {CLIError, Command, Flags, leanMode} from './cli/oclif.js'

import {ExitCode, exitCodeHelp, fsErrorMessage, isBadPathError, notFoundError, PodctlError, prerequisiteError} from './runtime/errors.js'
import {localBackend, localContainerBackend} from './runtime/backend.js'
import {type ImageBackend, localImageBackend} from './runtime/images.js'
import type {ContainerService, PodService} from './runtime/service.js'
import type {CallContext} from './runtime/context.js'
import {resolveSettings, type Settings} from './runtime/settings.js'
import {Store} from './runtime/store.js'
import {paint} from './render/style.js'

/** The longest delay a Node timer takes: a --watch runs until interrupted. */
const untilInterrupted = 2 ** 31 - 1

const clearScreen = '\u001B[2J\u001B[H'

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>
export type BaseArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

/** The EXIT STATUS section of every verb's help and man page. */
export const exitStatusHelp = Object.entries(exitCodeHelp)
  .map(([code, text]) => `${code}${' '.repeat(5 - code.length)}${text}`)
  .join('\n')

export abstract class BaseCommand<T extends typeof Command> extends Command {
  // No `default` here: an unset flag falls through to the environment (oclif),
  // then the config file, then the built-in default (runtime/settings.ts).
  static override baseFlags = {
    config: Flags.string({char: 'c', env: 'PODCTL_CONFIG', helpGroup: 'GLOBAL', description: 'config file [default: /etc/podctl/podctl.yaml]'}),
    root: Flags.string({env: 'PODCTL_ROOT', helpGroup: 'GLOBAL', description: 'state directory [default: /var/lib/podctl]'}),
    'run-root': Flags.string({env: 'PODCTL_RUN_ROOT', helpGroup: 'GLOBAL', description: 'volatile state directory: runtime state, network namespaces [default: /run/podctl]'}),
    'cni-conf-dir': Flags.string({env: 'PODCTL_CNI_CONF_DIR', helpGroup: 'GLOBAL', description: 'CNI network configuration directory [default: /etc/cni/net.d]'}),
    'cni-bin-dir': Flags.string({env: 'PODCTL_CNI_BIN_DIR', helpGroup: 'GLOBAL', description: 'CNI plugin directories, colon-separated [default: /opt/cni/bin:/usr/lib/cni:/usr/libexec/cni]'}),
    timeout: Flags.string({char: 't', env: 'PODCTL_TIMEOUT', helpGroup: 'GLOBAL', description: 'give up on a pod operation (and roll it back) after this long, e.g. 30s, 2m; each pod of a multi-pod verb gets the whole time [default: 60s]'}),
    'runtime-endpoint': Flags.string({
      env: 'CONTAINER_RUNTIME_ENDPOINT',
      helpGroup: 'GLOBAL',
      description: 'be a client of this CRI runtime (unix:///path: podctl serve, containerd, CRI-O) instead of running pods in-process; --timeout is then the connect and per-call timeout, doubled for runp, as crictl',
    }),
    debug: Flags.boolean({char: 'D', env: 'PODCTL_DEBUG', helpGroup: 'GLOBAL', description: 'print per-step timings, runtime and plugin calls, and stack traces to stderr', allowNo: false}),
  }

  protected flags!: BaseFlags<T>
  protected args!: BaseArgs<T>
  /** every positional argument, for variadic verbs */
  protected positionals: string[] = []
  protected settings!: Settings
  private abort = new AbortController()

  public override async init(): Promise<void> {
    await super.init()
    const {args, argv, flags} = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (super.ctor as typeof BaseCommand).baseFlags,
      args: this.ctor.args,
      strict: this.ctor.strict,
    })
    this.flags = flags as BaseFlags<T>
    this.args = args as BaseArgs<T>
    this.positionals = argv as string[]
    this.settings = resolveSettings({
      config: this.flags.config,
      root: this.flags.root,
      runRoot: this.flags['run-root'],
      cniConfDir: this.flags['cni-conf-dir'],
      cniBinDir: this.flags['cni-bin-dir'],
      timeout: this.operationTimeout(),
      debug: this.flags.debug ? true : undefined,
      runtimeEndpoint: this.flags['runtime-endpoint'],
    })
  }

  /**
   * The runtime a verb acts through: root checked, signals armed, and
   * --timeout over the whole command, or with perCall left to the caller
   * (the local backend gives each pod operation the whole timeout).
   */
  protected runtime(options: {perCall?: boolean} = {}): CallContext {
    requireRoot()
    if (!options.perCall) {
      const timeoutMs = this.settings.timeoutMs
      const timer = setTimeout(
        () => this.abort.abort(new PodctlError(`timed out after ${timeoutMs} ms`, {exitCode: ExitCode.timeout, hint: 'raise --timeout'})),
        timeoutMs,
      )
      timer.unref()
    }
    return {settings: this.settings, store: new Store(this.settings.root, this.settings.runRoot), ctx: this.armed(), warn: (m) => this.warning(m)}
  }

  /**
   * What the pod verbs act through: the runtime in this process, or with
   * --runtime-endpoint a CRI client (loaded only then: grpc is not cheap).
   * A client needs no root, and its calls carry their own deadlines.
   */
  protected async backend(): Promise<PodService> {
    const endpoint = this.settings.runtimeEndpoint
    if (!endpoint) return localBackend(this.runtime({perCall: true}))
    // A CRI server's answers carry labels and annotations that others wrote:
    // they are hashed under node's own per-process seed, which a process from
    // the start-up snapshot lacks (scripts/build-snapshot.js says why). Such a
    // process runs the command line again on bin/run.js, and ends with it.
    rerunWithoutSnapshot()
    const {criBackend} = await import('./cri/client.js')
    return criBackend({endpoint, timeoutMs: this.settings.timeoutMs, ctx: this.armed()})
  }

  /**
   * The global operation timeout. A verb's own --timeout (stop's and exec's
   * seconds, as crictl's) shadows it: PODCTL_TIMEOUT still sets it there. A
   * verb that only gives -t another meaning (logs, attach) keeps --timeout as
   * a global flag of its own.
   */
  private operationTimeout(): string | undefined {
    const own = (this.ctor.flags as Record<string, {helpGroup?: string}> | undefined)?.timeout
    if (own && own.helpGroup !== 'GLOBAL') return process.env.PODCTL_TIMEOUT
    return this.flags.timeout
  }

  /**
   * What exec, logs, attach, stats and update act through in-process: the
   * runtime in this process, with --timeout over the whole command. With
   * --runtime-endpoint each verb takes its client branch first (see
   * containerTools); one that has none (attach) is refused in one line here
   * rather than acting locally.
   */
  protected containerRuntime(options: {untimed?: boolean} = {}): CallContext {
    if (this.settings.runtimeEndpoint) {
      throw new PodctlError(`${this.id ?? 'this verb'} with --runtime-endpoint needs the CRI's streaming ${this.id === 'attach' ? 'Attach' : 'call'}, which podctl's client does not speak`, {exitCode: ExitCode.usage, hint: 'use crictl against that endpoint, or run it without --runtime-endpoint on the node'})
    }
    return this.runtime({perCall: options.untimed})
  }

  /** The command's signal: aborted by Ctrl-C once a backend has armed it (client mode's verbs that read on). */
  protected interrupted(): AbortSignal {
    return this.abort.signal
  }

  /** With --runtime-endpoint, ExecSync, ListContainerStats and UpdateContainerResources of that runtime, for exec, stats and update. */
  protected async containerTools(): Promise<import('./cri/client.js').CriContainerTools> {
    const endpoint = this.settings.runtimeEndpoint
    if (!endpoint) throw new PodctlError('internal: containerTools without --runtime-endpoint')
    rerunWithoutSnapshot()
    const {criContainerTools} = await import('./cri/client.js')
    return criContainerTools({endpoint, timeoutMs: this.settings.timeoutMs, ctx: this.armed()})
  }

  /**
   * What the container verbs act through: the runtime in this process, or
   * with --runtime-endpoint a CRI client of that runtime, as backend() is for pods.
   */
  protected async containerBackend(): Promise<ContainerService> {
    const endpoint = this.settings.runtimeEndpoint
    if (!endpoint) return localContainerBackend(this.runtime({perCall: true}))
    rerunWithoutSnapshot()
    const {criContainerBackend} = await import('./cri/client.js')
    return criContainerBackend({endpoint, timeoutMs: this.settings.timeoutMs, ctx: this.armed()})
  }

  /** The container ID a user's reference names, or a not-found error naming it. */
  protected async mustResolveContainer(containers: ContainerService, ref: string): Promise<string> {
    const id = await containers.resolve(ref)
    if (id === null) throw notFoundError(`container "${ref}" not found`, `list containers with: ${this.config.bin} ps -a`)
    return id
  }

  /** With --runtime-endpoint, what version and info ask the CRI runtime there; otherwise undefined. */
  protected async remoteRuntime(): Promise<ReturnType<typeof import('./cri/client.js').criRuntimeInfo> | undefined> {
    const endpoint = this.settings.runtimeEndpoint
    if (!endpoint) return undefined
    rerunWithoutSnapshot()
    const {criRuntimeInfo} = await import('./cri/client.js')
    return criRuntimeInfo({endpoint, timeoutMs: this.settings.timeoutMs, ctx: this.armed()})
  }

  /**
   * What the image verbs act through: the image store under --root, or with
   * --runtime-endpoint that runtime's ImageService (crictl's image endpoint
   * defaults to the runtime endpoint too).
   */
  protected async imageBackend(): Promise<ImageBackend> {
    const endpoint = this.settings.runtimeEndpoint
    if (!endpoint) {
      requireRoot()
      return localImageBackend(this.settings)
    }
    rerunWithoutSnapshot()
    const {criImageBackend} = await import('./cri/image-client.js')
    return criImageBackend({endpoint, timeoutMs: this.settings.timeoutMs, ctx: this.armed()})
  }

  /** The image store under --root and the archive code, for load and save (root only). */
  protected async imageStore() {
    requireRoot()
    const [{ImageStore}, archive] = await Promise.all([import('./images/store.js'), import('./images/archive.js')])
    return {store: new ImageStore(this.settings), ...archive}
  }

  /**
   * Signals armed (the first cancels; later ones wait for its rollback), the debug log, and the start-up time with
   * --debug: once per command, however many backends it takes (run takes three; each armed its own handlers, and on
   * the first Ctrl-C the second said "again").
   */
  private armed(): CallContext['ctx'] {
    return (this.armedCtx ??= this.arm())
  }

  private armedCtx?: CallContext['ctx']

  private arm(): CallContext['ctx'] {
    // A second signal does not cut the rollback (or a removal under way) short: exiting then
    // would say "rolled back" (130) and leave a NotReady pod holding an IP. Each is bounded by its own timeout.
    let noted = false
    const onSignal = (signal: NodeJS.Signals) => {
      if (this.abort.signal.aborted) {
        if (!noted) process.stderr.write(`${paint.dim(`podctl: ${signal} again: finishing or undoing what is under way; it ends on its own (kill -9 would leave it for rmp -f)`)}\n`)
        noted = true
        return
      }
      this.abort.abort(new PodctlError(`interrupted by ${signal}`, {exitCode: ExitCode.interrupted}))
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    const debug = this.settings.debug
    // performance.now() counts from process start: node's boot plus every import so far.
    if (debug) process.stderr.write(`${paint.dim(`debug: start-up: ${performance.now().toFixed(1)} ms (${startPath()})`)}\n`)
    return {signal: this.abort.signal, log: debug ? (m) => process.stderr.write(`${paint.dim(`debug: ${m}`)}\n`) : () => undefined}
  }

  /** A warning to stderr; never mixed into data on stdout. */
  protected warning(message: string): void {
    process.stderr.write(`${paint.warn('warning:')} ${message}\n`)
  }

  /** Data to stdout. */
  protected out(text: string): void {
    process.stdout.write(text.endsWith('\n') ? text : `${text}\n`)
  }

  /**
   * The deadline of a sampling verb (statsp, stats): --timeout bounds the reading, not the
   * sampling the user asked for; a watch runs until interrupted.
   */
  protected widenTimeoutForSampling(seconds: number, watch: boolean): void {
    this.settings = {...this.settings, timeoutMs: watch ? untilInterrupted : Math.min(this.settings.timeoutMs + seconds * 1000, untilInterrupted)}
  }

  /**
   * Print each sample as its document: json, yaml (a stream of documents) or a table (redrawn
   * in place on a terminal under --watch, one after the other in a pipe). A watch ends at the
   * first sample without --watch, when stdout's reader is gone (EPIPE is not thrown), or at
   * Ctrl-C with status 0, as crictl's.
   */
  protected async printSamples<T>(samples: AsyncIterable<T>, output: string, watch: boolean, render: {document: (sample: T) => unknown; table: (sample: T) => string}): Promise<void> {
    const {toJson, toYamlText} = await import('./render/format.js')
    const redraw = watch && output === 'table' && process.stdout.isTTY === true
    let first = true
    let stdoutGone = false
    process.stdout.on('error', () => (stdoutGone = true))
    try {
      for await (const sample of samples) {
        if (output === 'json') this.out(toJson(render.document(sample)))
        else if (output === 'yaml') this.out(`${first ? '' : '---\n'}${toYamlText(render.document(sample))}`)
        else this.out(`${redraw ? clearScreen : first ? '' : '\n'}${render.table(sample)}`)
        if (!watch || stdoutGone) return
        first = false
      }
    } catch (err) {
      if (watch && err instanceof PodctlError && err.exitCode === ExitCode.interrupted) return
      throw err
    }
  }

  /** One error, its hint, and (with --debug) its stack, to stderr. */
  protected printError(err: PodctlError, debug = this.settings?.debug ?? false): void {
    process.stderr.write(`${paint.error('error:')} ${err.message}\n`)
    if (err.hint) process.stderr.write(`${paint.dim(`hint: ${err.hint}`)}\n`)
    if (debug && err.stack) process.stderr.write(`${err.stack}\n`)
  }

  protected override async catch(err: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<void> {
    // Settings may have failed to load: then look at the raw arguments and the environment.
    const debug = this.settings?.debug ?? (this.argv.some((a) => a === '--debug' || /^-[A-Za-z]*D[A-Za-z]*$/.test(a)) || Boolean(process.env.PODCTL_DEBUG))
    if (err instanceof PodctlError) {
      this.printError(err, debug)
      process.exitCode = err.exitCode
      return
    }
    if (err instanceof CLIError || (err as {oclif?: unknown}).oclif) {
      // Flag and argument errors from oclif: usage errors, exit 2.
      // oclif words some errors over two lines ("Parsing --last \n\tExpected an integer…"): one line here.
      const [first, ...more] = err.message.replace(/^Error: /, '').split('\n')
      const next = more.map((l) => l.trim()).find(Boolean)
      const text = /[:\s]$/.test(first) && next ? `${first.trim().replace(/:$/, '')}: ${next}` : first
      process.stderr.write(`${paint.error('error:')} ${text}\n${paint.dim(`hint: see: ${this.config.bin} ${this.id?.replaceAll(':', ' ')} --help`)}\n`)
      if (debug && err.stack) process.stderr.write(`${err.stack}\n`)
      process.exitCode = ExitCode.usage
      return
    }
    // A file system error on a path the user gave (a --root under a file, say): in words, as bad input.
    const fsMessage = fsErrorMessage(err)
    if (fsMessage) {
      this.printError(new PodctlError(fsMessage, {exitCode: isBadPathError(err) ? ExitCode.usage : ExitCode.failure, hint: 'check the path, and the settings and config fields that name it'}), debug)
      process.exitCode = isBadPathError(err) ? ExitCode.usage : ExitCode.failure
      return
    }
    // Anything else is a bug or an unexpected system error: say so plainly.
    process.stderr.write(`${paint.error('error:')} ${err.message}\n`)
    process.stderr.write(debug ? `${err.stack}\n` : `${paint.dim('hint: rerun with --debug for details')}\n`)
    process.exitCode = ExitCode.failure
  }
}

function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw prerequisiteError('podctl must run as root: it creates network namespaces and runs the OCI runtime', 'run it with sudo, or as root')
  }
}

/** From the start-up snapshot: this command line again on bin/run.js (src/cli/snapshot.ts), then exit with its status. */
function rerunWithoutSnapshot(): void {
  const rerun = (globalThis as {__podctlRerun?: () => void}).__podctlRerun
  if (!rerun) return
  rerun()
  process.exit()
}

/** How this process started: from the start-up snapshot, on the lean path, or through oclif. */
function startPath(): string {
  if ((globalThis as {__podctlSnapshot?: boolean}).__podctlSnapshot) return 'snapshot'
  return leanMode ? 'lean path' : 'oclif'
}
