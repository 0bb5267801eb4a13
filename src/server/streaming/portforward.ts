// portforward.k8s.io over SPDY, as kubelet serves it
// (pkg/kubelet/cri/streaming/portforward/httpstream.go). For each local
// connection the client opens two streams carrying the same `port` and
// `requestid` headers: `streamtype: error` (which it half-closes at once) and
// `streamtype: data`. Once both are there, the port is dialled on the pod's
// loopback; bytes are copied both ways until both sides have ended; a failure
// is written as text on the error stream, which the client prints as "an
// error occurred forwarding L -> R: <text>".

import type {Socket} from 'node:net'

import {PodDialer} from './netns-dial.js'
import {rstStatus, type SpdyStream, type StreamSession} from './spdy.js'

interface Pair {
  error?: SpdyStream
  data?: SpdyStream
  port: number
  timer: NodeJS.Timeout
}

export interface PortForwardTarget {
  podSandboxId: string
  /** the pod's network namespace; undefined for a host-network pod */
  netnsPath: string | undefined
}

/** A port-forward session for the pod. */
export function portForwardSession(target: PortForwardTarget, streamCreationTimeoutMs: number, log: (message: string) => void): StreamSession {
  return new PortForwardSession(target, streamCreationTimeoutMs, log)
}

class PortForwardSession implements StreamSession {
  private readonly pairs = new Map<string, Pair>()
  private readonly dialer: PodDialer
  private readonly open = new Set<Socket>()

  constructor(
    private readonly target: PortForwardTarget,
    private readonly streamCreationTimeoutMs: number,
    private readonly log: (message: string) => void,
  ) {
    this.dialer = new PodDialer(target.netnsPath)
  }

  begin(): void {
    // Streams come in pairs for as long as the client forwards: nothing to wait for.
  }

  onStream(stream: SpdyStream): void {
    const h = stream.headers
    const port = Number(h.port)
    if (h.port === undefined || !/^\d+$/.test(h.port) || port < 1 || port > 65535) {
      this.log(`port-forward: refused stream ${stream.id}: port ${JSON.stringify(h.port ?? '')} is not a port number`)
      return stream.reset(rstStatus.protocolError)
    }
    if (h.streamtype !== 'error' && h.streamtype !== 'data') {
      this.log(`port-forward: refused stream ${stream.id}: unknown streamtype ${JSON.stringify(h.streamtype ?? '')}`)
      return stream.reset(rstStatus.protocolError)
    }
    // Without a requestid (older clients), the pair is told by stream IDs: the data stream follows its error stream.
    const key = h.requestid ?? String(h.streamtype === 'error' ? stream.id : stream.id - 2)
    let pair = this.pairs.get(key)
    if (!pair) {
      pair = {port, timer: setTimeout(() => this.timedOut(key), this.streamCreationTimeoutMs)}
      this.pairs.set(key, pair)
    }
    if (pair[h.streamtype] || pair.port !== port) {
      this.log(`port-forward: refused stream ${stream.id}: a second ${h.streamtype} stream for request ${key}`)
      return stream.reset(rstStatus.protocolError)
    }
    pair[h.streamtype] = stream
    stream.accept()
    if (pair.error && pair.data) {
      clearTimeout(pair.timer)
      this.pairs.delete(key)
      void this.forward(pair.error, pair.data, port)
    }
  }

  /** The connection is gone: no more dials; forwarded connections end with their streams. */
  close(): void {
    for (const pair of this.pairs.values()) clearTimeout(pair.timer)
    this.pairs.clear()
    this.dialer.close()
    for (const socket of this.open) socket.destroy()
  }

  private timedOut(key: string): void {
    const pair = this.pairs.get(key)
    if (!pair) return
    this.pairs.delete(key)
    const message = `timed out waiting for the ${pair.error ? 'data' : 'error'} stream of request ${key} (port ${pair.port})`
    this.log(`port-forward: ${message}`)
    pair.data?.reset()
    if (pair.error) {
      pair.error.resume()
      pair.error.end(message)
    }
  }

  private async forward(errorStream: SpdyStream, data: SpdyStream, port: number): Promise<void> {
    // The client sends nothing on the error stream; it only waits for its end.
    errorStream.resume()
    let socket: Socket
    try {
      socket = await this.dialer.dial(port)
    } catch (err) {
      const message = `error forwarding port ${port} to pod ${this.target.podSandboxId}: failed to connect to localhost:${port} inside the pod's network namespace: ${(err as Error).message}`
      this.log(`port-forward: ${message}`)
      errorStream.end(message)
      data.resume()
      data.end()
      return
    }
    this.open.add(socket)
    let ended = 0
    const finish = () => {
      if (++ended < 2) return
      this.open.delete(socket)
      socket.destroy()
      errorStream.end()
    }
    // Each direction half-closes the other side when it ends, as io.Copy then Close does in kubelet.
    data.pipe(socket)
    socket.pipe(data)
    data.once('end', finish)
    socket.once('end', finish)
    const abort = () => {
      this.open.delete(socket)
      socket.destroy()
      if (!data.destroyed) data.reset()
      if (!errorStream.writableEnded) errorStream.end()
    }
    socket.once('error', (err) => {
      this.log(`port-forward: port ${port} of pod ${this.target.podSandboxId.slice(0, 13)}: ${err.message}`)
      abort()
    })
    data.once('close', () => {
      if (ended < 2) abort()
    })
  }
}
