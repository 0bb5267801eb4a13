// The exec and attach subprotocols (channel.k8s.io and v2-v4.channel.k8s.io)
// over SPDY, as kubelet serves them (pkg/kubelet/cri/streaming/remotecommand).
// The client opens one stream per channel, each named by its `streamtype`
// header: error (always, first), stdin, stdout, stderr (not with a tty) and,
// from v3 on with a tty, resize. The server waits until the streams the
// stored request calls for are all there, runs the command with them, then
// ends stdout and stderr, writes the outcome on the error stream, ends it and
// closes the connection:
//
//   v4       a JSON metav1.Status: Success, NonZeroExitCode with the code as
//            its cause (crictl prints "command terminated with exit code N"),
//            or InternalError with the message
//   v1-v3    nothing on success, else the error's text
//
// Resize messages are JSON objects {"Width":W,"Height":H}, one per line.

import type {Readable, Writable} from 'node:stream'

import {rstStatus, type SpdyConnection, type SpdyStream, type StreamSession} from './spdy.js'

export interface TerminalSize {
  width: number
  height: number
}

/** The streams of one session, as the command sees them. */
export interface RemoteCommandIO {
  /** the client's input; ends when the client closes it */
  stdin?: Readable
  stdout?: Writable
  stderr?: Writable
  /** the client's terminal sizes (tty only), each as it arrives */
  onResize(handler: (size: TerminalSize) => void): void
}

export interface RemoteCommandRequest {
  kind: 'exec' | 'attach'
  containerId: string
  /** exec only */
  cmd: string[]
  tty: boolean
  stdin: boolean
  stdout: boolean
  stderr: boolean
}

/** Runs the command with the session's streams; the exit code for exec, nothing for attach. `signal`: the client went away. */
export type RemoteCommandRunner = (request: RemoteCommandRequest, io: RemoteCommandIO, signal: AbortSignal) => Promise<number | undefined>

type Channel = 'error' | 'stdin' | 'stdout' | 'stderr' | 'resize'

/** What a v4 error stream carries (metav1.Status, in Go's field order). */
export function v4Status(request: RemoteCommandRequest, outcome: {exitCode?: number; error?: Error}): string {
  if (outcome.error) {
    const message = outcome.error.message
    return JSON.stringify({metadata: {}, status: 'Failure', message: `Internal error occurred: ${message}`, reason: 'InternalError', details: {causes: [{message}]}, code: 500})
  }
  if (!outcome.exitCode) return JSON.stringify({metadata: {}, status: 'Success'})
  // containerd's wording of the exit, inside kubelet's; Go prints the command as [a b c].
  const error = `error executing command [${request.cmd.join(' ')}], exit code ${outcome.exitCode}`
  return JSON.stringify({
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: ${error}`,
    reason: 'NonZeroExitCode',
    details: {causes: [{reason: 'ExitCode', message: String(outcome.exitCode)}]},
  })
}

/** An exec or attach session: `protocol` is the negotiated one. */
export function remoteCommandSession(request: RemoteCommandRequest, protocol: string, run: RemoteCommandRunner, streamCreationTimeoutMs: number, log: (message: string) => void): StreamSession {
  return new RemoteCommandSession(request, protocol, run, streamCreationTimeoutMs, log)
}

class RemoteCommandSession implements StreamSession {
  private readonly streams = new Map<Channel, SpdyStream>()
  private readonly expected: Channel[]
  private conn: SpdyConnection | undefined
  private timer: NodeJS.Timeout | undefined
  private started = false
  private closed = false
  private readonly abort = new AbortController()

  constructor(
    private readonly request: RemoteCommandRequest,
    private readonly protocol: string,
    private readonly run: RemoteCommandRunner,
    private readonly streamCreationTimeoutMs: number,
    private readonly log: (message: string) => void,
  ) {
    const resize = request.tty && (protocol === 'v4.channel.k8s.io' || protocol === 'v3.channel.k8s.io')
    this.expected = (['error', 'stdin', 'stdout', 'stderr', 'resize'] as const).filter((c) => c === 'error' || (c === 'resize' ? resize : request[c]))
  }

  /** The connection is up: the client has this long to open its streams. */
  begin(conn: SpdyConnection): void {
    this.conn = conn
    this.timer = setTimeout(() => {
      this.log(`${this.request.kind}: timed out waiting for the client to create streams (${[...this.streams.keys()].join(', ') || 'none'} of ${this.expected.join(', ')})`)
      const error = this.streams.get('error')
      if (error) this.finish({error: new Error('timed out waiting for client to create streams')})
      else conn.close()
    }, this.streamCreationTimeoutMs)
  }

  onStream(stream: SpdyStream): void {
    const type = stream.headers.streamtype as Channel
    if (!['error', 'stdin', 'stdout', 'stderr', 'resize'].includes(type) || this.streams.has(type)) {
      this.log(`${this.request.kind}: refused stream ${stream.id}: ${this.streams.has(type) ? 'a second' : 'unexpected'} stream type ${JSON.stringify(stream.headers.streamtype ?? '')}`)
      return stream.reset(rstStatus.protocolError)
    }
    stream.accept()
    this.streams.set(type, stream)
    // Streams the request did not ask for are read and dropped.
    if (!this.expected.includes(type)) stream.resume()
    if (!this.started && this.expected.every((c) => this.streams.has(c))) {
      this.started = true
      clearTimeout(this.timer)
      void this.execute()
    }
  }

  close(): void {
    this.closed = true
    this.abort.abort(new Error('the client closed the connection'))
    clearTimeout(this.timer)
    for (const s of this.streams.values()) s.destroy()
  }

  private async execute(): Promise<void> {
    const s = (c: Channel) => (this.expected.includes(c) ? this.streams.get(c) : undefined)
    // The client sends nothing on the error stream; it reads it to the end.
    this.streams.get('error')!.resume()
    // Sizes are read as they come, whether or not the command asked for them yet: a stream left unread would stall the connection.
    const resize = s('resize')
    const handlers: ((size: TerminalSize) => void)[] = []
    let last: TerminalSize | undefined
    if (resize) {
      readSizes(resize, (size) => {
        last = size
        for (const h of handlers) h(size)
      })
    }
    const io: RemoteCommandIO = {
      stdin: s('stdin'),
      stdout: s('stdout'),
      stderr: s('stderr'),
      onResize: (handler) => {
        handlers.push(handler)
        if (last) handler(last)
      },
    }
    try {
      const exitCode = await this.run(this.request, io, this.abort.signal)
      await this.finish({exitCode})
    } catch (err) {
      await this.finish({error: err instanceof Error ? err : new Error(String(err))})
    }
  }

  private async finish(outcome: {exitCode?: number; error?: Error}): Promise<void> {
    if (this.closed) return
    // Output first: the client reads stdout and stderr to their end before the error stream.
    await Promise.all([this.streams.get('stdout'), this.streams.get('stderr')].map((w) => (w && !w.writableEnded ? new Promise<void>((resolve) => w.end(resolve)) : undefined)))
    const error = this.streams.get('error')!
    const text = this.protocol === 'v4.channel.k8s.io' ? v4Status(this.request, outcome) : outcome.error ? outcome.error.message : outcome.exitCode ? `command terminated with non-zero exit code: error executing command [${this.request.cmd.join(' ')}], exit code ${outcome.exitCode}` : ''
    this.log(`${this.request.kind} ${this.request.containerId.slice(0, 13)}: ${outcome.error ? outcome.error.message : `exit code ${outcome.exitCode ?? 0}`}`)
    await new Promise<void>((resolve) => (text ? error.end(text, resolve) : error.end(resolve)))
    this.streams.get('stdin')?.resume()
    this.conn?.close()
  }
}

/** Terminal sizes from a resize stream: JSON objects, each on its line; sizes below 1 are ignored, as containerd does. */
function readSizes(stream: Readable, handler: (size: TerminalSize) => void): void {
  let pending = ''
  stream.setEncoding('utf8')
  stream.on('data', (chunk: string) => {
    pending += chunk
    let nl: number
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl).trim()
      pending = pending.slice(nl + 1)
      if (!line) continue
      try {
        const m = JSON.parse(line) as {Width?: unknown; Height?: unknown}
        const width = Number(m.Width)
        const height = Number(m.Height)
        if (Number.isInteger(width) && Number.isInteger(height) && width >= 1 && height >= 1 && width <= 65535 && height <= 65535) handler({width, height})
      } catch {
        // Not a size: kubelet stops reading the stream then; one bad line is skipped here.
      }
    }
    if (pending.length > 4096) pending = ''
  })
}
