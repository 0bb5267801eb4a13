// What every RPC handler of `podctl serve` shares: the settings and the store
// (the same state directory and locks as the CLI, so pods made by either are
// seen by both), a CallContext per call, and the log.

import {type handleServerStreamingCall, type handleUnaryCall, type ServerErrorResponse, status, type UntypedHandleCall} from '@grpc/grpc-js'

import {ExitCode, PodctlError} from '../runtime/errors.js'
import type {CallContext} from '../runtime/context.js'
import type {Settings} from '../runtime/settings.js'
import {Store} from '../runtime/store.js'
import {serviceError, toServiceError} from './errors.js'

export interface Log {
  info(message: string): void
  warn(message: string): void
  /** only with --debug */
  debug(message: string): void
}

/** A line of the server's log on stderr: time, level, message. */
export function stderrLog(debug: boolean): Log {
  const line = (level: string, message: string) => process.stderr.write(`${new Date().toISOString()} ${level} ${message}\n`)
  return {
    info: (m) => line('info', m),
    warn: (m) => line('warn', m),
    debug: debug ? (m) => line('debug', m) : () => undefined,
  }
}

export class ServerContext {
  readonly store: Store
  /** Every call in flight, so that a second SIGTERM can cancel them (they roll back). */
  private readonly inFlight = new Set<AbortController>()

  constructor(
    readonly settings: Settings,
    readonly log: Log,
  ) {
    this.store = new Store(settings.root, settings.runRoot)
  }

  /**
   * A CallContext for one call. Its signal aborts when the client cancels or its
   * deadline passes (gRPC reports both as "cancelled"), or after --timeout;
   * runPod then rolls back, as containerd does when the kubelet gives up.
   */
  runtimeFor(call: NodeJS.EventEmitter, rpc: string, timeoutMs: number | null = this.settings.timeoutMs): {rt: CallContext; done: () => void} {
    const abort = new AbortController()
    const onCancelled = () => abort.abort(new PodctlError(`${rpc} cancelled by the client (or its deadline passed)`, {exitCode: ExitCode.interrupted}))
    call.on('cancelled', onCancelled)
    const timer = timeoutMs === null ? undefined : setTimeout(() => abort.abort(new PodctlError(`${rpc} timed out after ${timeoutMs} ms`, {exitCode: ExitCode.timeout})), timeoutMs)
    this.inFlight.add(abort)
    const rt: CallContext = {
      settings: this.settings,
      store: this.store,
      ctx: {signal: abort.signal, log: (m) => this.log.debug(`${rpc}: ${m}`)},
      warn: (m) => this.log.warn(`${rpc}: ${m}`),
    }
    const done = () => {
      clearTimeout(timer)
      call.removeListener('cancelled', onCancelled)
      this.inFlight.delete(abort)
    }
    return {rt, done}
  }

  get callsInFlight(): number {
    return this.inFlight.size
  }

  /** Cancel every call in flight: each rolls back what it made. */
  cancelAll(reason: string): void {
    for (const abort of this.inFlight) abort.abort(new PodctlError(reason, {exitCode: ExitCode.interrupted}))
  }

  /**
   * A unary handler around `fn`: a CallContext for the call, the result or the
   * error as a gRPC status, and a log line (mutations at info, reads at debug).
   * `timeoutMs` replaces --timeout for a call that bounds itself (ExecSync's
   * own timeout; null: only the client's deadline or cancel ends it).
   */
  unary<Req, Res>(
    rpc: string,
    fn: (request: Req, rt: CallContext) => Promise<Res>,
    describe: {mutates: boolean; what?: (request: Req) => string; result?: (response: Res) => string; timeoutMs?: (request: Req) => number | null},
  ): handleUnaryCall<Req, Res> {
    return (call, callback) => {
      const {rt, done} = this.runtimeFor(call, rpc, describe.timeoutMs ? describe.timeoutMs(call.request) : this.settings.timeoutMs)
      const started = performance.now()
      const what = describe.what ? ` ${describe.what(call.request)}` : ''
      const took = () => `${(performance.now() - started).toFixed(0)} ms`
      fn(call.request, rt).then(
        (response) => {
          done()
          const line = `${rpc}${what}: ${describe.result ? `${describe.result(response)}, ` : ''}${took()}`
          if (describe.mutates) this.log.info(line)
          else this.log.debug(line)
          callback(null, response)
        },
        (err: unknown) => {
          done()
          const e = toServiceError(err)
          this.log.warn(`${rpc}${what} failed (${took()}): ${e.details}`)
          callback(e)
        },
      )
    }
  }
}

/** A handler that answers UNIMPLEMENTED with the reason, unary or streaming alike. */
export function unimplemented(rpc: string, why: string, responseStream: boolean): UntypedHandleCall {
  const error: ServerErrorResponse = serviceError(status.UNIMPLEMENTED, `${rpc} is not implemented by podctl: ${why}`)
  if (responseStream) {
    const handler: handleServerStreamingCall<unknown, unknown> = (call) => call.emit('error', error)
    return handler
  }
  const handler: handleUnaryCall<unknown, unknown> = (_call, callback) => callback(error)
  return handler
}
