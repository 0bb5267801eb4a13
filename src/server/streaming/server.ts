// The streaming server of `podctl serve`: the URLs that Exec, Attach and
// PortForward return point here (kubelet's pkg/kubelet/cri/streaming
// server, which containerd and CRI-O embed, is the model). Routes:
//
//   GET|POST .../exec/<token>  .../attach/<token>  .../portforward/<token>
//
// Each token is good for one request within a minute (requests.ts). The
// request must be an upgrade to SPDY/3.1 naming the subprotocols it speaks
// in X-Stream-Protocol-Version; the server picks the first it knows, answers
// 101 and speaks SPDY on the socket (spdy.ts).

import {chmod, mkdir, unlink} from 'node:fs/promises'
import {createServer, type IncomingMessage, type Server} from 'node:http'
import type {AddressInfo, Socket} from 'node:net'
import {dirname} from 'node:path'

import {PodctlError} from '../../runtime/errors.js'
import {streamListenAddress} from '../../runtime/settings.js'
import type {Log} from '../context.js'
import {portForwardSession, type PortForwardTarget} from './portforward.js'
import {remoteCommandSession, type RemoteCommandRunner} from './remotecommand.js'
import {RequestCache, type StreamRequest} from './requests.js'
import {SpdyConnection, type StreamSession} from './spdy.js'

/** kubelet's defaults (streaming.DefaultConfig). */
const streamIdleTimeoutMs = 4 * 3600_000
const streamCreationTimeoutMs = 30_000

export const remoteCommandProtocols = ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io']
export const portForwardProtocols = ['portforward.k8s.io']

/** What the sessions need from the runtime, looked up when a URL is used. */
export interface StreamingBackend {
  portForwardTarget(podSandboxId: string): Promise<PortForwardTarget>
  /** exec and attach */
  runRemoteCommand: RemoteCommandRunner
}

export interface StreamingOptions {
  /** host:port (port 0: any free one), or unix:///path */
  listen: string
  /** the URL prefix handed out; by default http://<the address listened on> */
  baseUrl?: string
  backend: StreamingBackend
  log: Log
}

export class StreamingServer {
  private readonly cache = new RequestCache()
  private readonly connections = new Set<SpdyConnection>()
  private readonly raw = new Set<Socket>()

  private constructor(
    private readonly http: Server,
    readonly baseUrl: string,
    private readonly unixPath: string | undefined,
    private readonly options: StreamingOptions,
  ) {}

  static async start(options: StreamingOptions): Promise<StreamingServer> {
    const target = streamListenAddress(options.listen)
    if (!target) throw new PodctlError(`stream-listen "${options.listen}" is not host:port or unix:///path`)
    const http = createServer()
    http.on('error', () => undefined)
    if ('path' in target) {
      if (!options.baseUrl) {
        throw new PodctlError(`stream-listen "${options.listen}" is a unix socket, which crictl and the kubelet cannot dial`, {
          hint: 'set stream-base-url to the http:// URL a proxy in front of the socket answers on, or listen on 127.0.0.1:<port>',
        })
      }
      await mkdir(dirname(target.path), {recursive: true, mode: 0o755})
      await unlink(target.path).catch(() => undefined)
    }
    await new Promise<void>((resolve, reject) => {
      http.once('error', (err) => reject(new PodctlError(`cannot listen for streaming on "${options.listen}": ${err.message}`, {hint: 'give another stream-listen'})))
      if ('path' in target) http.listen(target.path, resolve)
      else http.listen(target.port, target.host, resolve)
    })
    if ('path' in target) await chmod(target.path, 0o660)
    const address = http.address() as AddressInfo
    const host = 'host' in target ? (target.host.includes(':') ? `[${target.host}]` : target.host) : ''
    const base = (options.baseUrl ?? `http://${host}:${address.port}`).replace(/\/+$/, '')
    const server = new StreamingServer(http, base, 'path' in target ? target.path : undefined, options)
    http.on('connection', (socket: Socket) => {
      server.raw.add(socket)
      socket.once('close', () => server.raw.delete(socket))
    })
    http.on('request', (req, res) => {
      const route = routeOf(req)
      // Consumed even so: a URL is good for one try.
      if (!route || !server.cache.consume(route.token)) {
        res.writeHead(404, {'content-type': 'text/plain'}).end('404 page not found\n')
        return
      }
      res.writeHead(400, {'content-type': 'text/plain'}).end('unable to upgrade: missing upgrade headers in request: the streaming server speaks SPDY/3.1 only\n')
    })
    http.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => server.upgrade(req, socket, head))
    return server
  }

  /** The URL for a request, good for one use within a minute. */
  url(request: StreamRequest): string {
    return `${this.baseUrl}/${request.kind}/${this.cache.insert(request)}`
  }

  /** Stops listening and ends every session. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.http.close(() => resolve()))
    for (const conn of this.connections) conn.close()
    for (const socket of this.raw) if (!socket.destroyed && ![...this.connections].some((c) => c.socket === socket)) socket.destroy()
    // Sessions get a moment to say GOAWAY; then whatever is left goes.
    const timer = setTimeout(() => {
      for (const socket of this.raw) socket.destroy()
    }, 2000)
    await closed
    clearTimeout(timer)
    if (this.unixPath) await unlink(this.unixPath).catch(() => undefined)
  }

  private upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const log = this.options.log
    const route = routeOf(req)
    const request = route ? this.cache.consume(route.token) : undefined
    if (!route || !request || request.kind !== route.kind) return refuse(socket, 404, '404 page not found')
    if (!/\bupgrade\b/i.test(req.headers.connection ?? '') || !/spdy\/3\.1/i.test(req.headers.upgrade ?? '')) {
      return refuse(socket, 400, `unable to upgrade: the streaming server speaks SPDY/3.1, not ${JSON.stringify(req.headers.upgrade ?? '')}`)
    }
    const supported = request.kind === 'portforward' ? portForwardProtocols : remoteCommandProtocols
    const offered = headerValues(req.headers['x-stream-protocol-version'])
    if (offered.length === 0) return refuse(socket, 400, 'unable to upgrade: X-Stream-Protocol-Version is required')
    const protocol = offered.find((p) => supported.includes(p))
    if (!protocol) {
      return refuse(socket, 403, `unable to upgrade: unable to negotiate protocol: client supports ${JSON.stringify(offered)}, server supports ${JSON.stringify(supported)}`, supported.map((p) => `X-Accepted-Stream-Protocol-Versions: ${p}`))
    }
    // Frames that arrive while the session is being set up wait in the socket.
    socket.pause()
    this.session(request, protocol).then(
      (session) => {
        if (socket.destroyed) return session.close()
        socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${protocol}\r\n\r\n`)
        const conn = new SpdyConnection(socket, head, {onStream: (s) => session.onStream(s), idleTimeoutMs: streamIdleTimeoutMs, log: (m) => log.debug(m)})
        socket.resume()
        session.begin(conn)
        this.connections.add(conn)
        conn.once('close', () => {
          this.connections.delete(conn)
          session.close()
        })
        log.debug(`streaming ${request.kind}: session started (${protocol})`)
      },
      (err: unknown) => {
        // The client prints the body: "unable to upgrade connection: <message>".
        log.warn(`streaming ${request.kind}: ${(err as Error).message}`)
        refuse(socket, 500, (err as Error).message)
      },
    )
  }

  private async session(request: StreamRequest, protocol: string): Promise<StreamSession> {
    const log = (m: string) => this.options.log.debug(m)
    if (request.kind === 'portforward') return portForwardSession(await this.options.backend.portForwardTarget(request.podSandboxId), streamCreationTimeoutMs, log)
    return remoteCommandSession(request, protocol, this.options.backend.runRemoteCommand, streamCreationTimeoutMs, log)
  }
}

function routeOf(req: IncomingMessage): {kind: StreamRequest['kind']; token: string} | undefined {
  if (req.method !== 'GET' && req.method !== 'POST') return undefined
  const m = /\/(exec|attach|portforward)\/([A-Za-z0-9_-]+)\/?$/.exec((req.url ?? '').split('?')[0])
  return m ? {kind: m[1] as StreamRequest['kind'], token: m[2]} : undefined
}

/** One header's values, given on several lines or comma-separated. */
function headerValues(value: string | string[] | undefined): string[] {
  const lines = value === undefined ? [] : Array.isArray(value) ? value : [value]
  return lines.flatMap((l) => l.split(',')).map((p) => p.trim()).filter(Boolean)
}

const reasons: Record<number, string> = {400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 500: 'Internal Server Error'}

function refuse(socket: Socket, code: number, message: string, extraHeaders: string[] = []): void {
  const body = `${message}\n`
  const head = [`HTTP/1.1 ${code} ${reasons[code]}`, 'Content-Type: text/plain; charset=utf-8', `Content-Length: ${Buffer.byteLength(body)}`, 'Connection: close', ...extraHeaders]
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`)
}
