// TCP connections made inside a pod's network namespace. Node cannot
// setns(2), so a small node process is started in the namespace
// (`nsenter --net=<path> node -e <dialer>`), one per port-forward session: it
// connects to the port on the pod's loopback and hands the connected socket
// back over its IPC channel (SCM_RIGHTS), so the bytes then flow between this
// process and the pod with nothing relaying them. It exits when its channel
// closes, which is when the session ends or this process dies.
//
// As containerd: localhost over IPv4, then IPv6.

import {type ChildProcess, spawn} from 'node:child_process'
import {connect, type Socket} from 'node:net'

import {PodctlError} from '../../runtime/errors.js'

/** The dialer, run by `node -e` inside the namespace: CommonJS, node built-ins only. */
const dialerSource = `
const net = require('node:net')
const attempt = (host, port) => new Promise((resolve, reject) => {
  const s = net.connect({host, port})
  // Not read here: what the pod sends first stays in the socket for the server.
  s.pause()
  s.once('connect', () => resolve(s))
  s.once('error', reject)
})
process.on('message', async ({id, port}) => {
  const errors = []
  for (const [name, host] of [['IPv4', '127.0.0.1'], ['IPv6', '::1']]) {
    try {
      const s = await attempt(host, port)
      process.send({id}, s)
      return
    } catch (err) {
      errors.push(name + ': ' + err.message)
    }
  }
  process.send({id, error: errors.join(', ')})
})
process.on('disconnect', () => process.exit(0))
process.send({ready: true})
`

interface Reply {
  id?: number
  error?: string
  ready?: boolean
}

/** Connects to ports on a pod's loopback: inside its namespace, or on the host's for a host-network pod. */
export class PodDialer {
  private child: ChildProcess | null = null
  private ready: Promise<void> | null = null
  private nextId = 0
  private readonly waiting = new Map<number, {resolve: (s: Socket) => void; reject: (e: Error) => void}>()
  private closed = false

  /** netnsPath: the pod's pinned namespace; undefined for the host's. */
  constructor(private readonly netnsPath: string | undefined) {}

  async dial(port: number): Promise<Socket> {
    if (this.closed) throw new PodctlError('the port-forward session is closed')
    if (this.netnsPath === undefined) return dialHere(port)
    await (this.ready ??= this.start(this.netnsPath))
    const id = this.nextId++
    return new Promise<Socket>((resolve, reject) => {
      this.waiting.set(id, {resolve, reject})
      this.child!.send({id, port})
    })
  }

  /** Ends the dialer process; connections already made stay up. */
  close(): void {
    this.closed = true
    if (this.child?.connected) this.child.disconnect()
    this.fail(new PodctlError('the port-forward session is closed'))
  }

  private start(netnsPath: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const child = spawn('nsenter', [`--net=${netnsPath}`, '--', process.execPath, '-e', dialerSource], {stdio: ['ignore', 'ignore', 'pipe', 'ipc']})
      this.child = child
      let stderr = ''
      child.stderr!.setEncoding('utf8')
      child.stderr!.on('data', (d: string) => {
        if (stderr.length < 4096) stderr += d
      })
      child.on('error', (err) => {
        const e = new PodctlError(`cannot enter the pod's network namespace "${netnsPath}": ${err.message}`, {hint: 'nsenter (util-linux) must be on PATH'})
        reject(e)
        this.fail(e)
      })
      child.on('message', (m: Reply, handle: unknown) => {
        if (m.ready) return resolve()
        const w = m.id === undefined ? undefined : this.waiting.get(m.id)
        if (!w) return
        this.waiting.delete(m.id!)
        if (handle) w.resolve(handle as Socket)
        else w.reject(new PodctlError(m.error ?? 'the connection failed'))
      })
      child.on('exit', (code, signal) => {
        const e = new PodctlError(`cannot enter the pod's network namespace "${netnsPath}": ${stderr.trim() || `the dialer exited (${signal ?? code})`}`)
        reject(e)
        this.fail(e)
      })
    })
  }

  private fail(err: Error): void {
    for (const w of this.waiting.values()) w.reject(err)
    this.waiting.clear()
  }
}

function dialHere(port: number): Promise<Socket> {
  const attempt = (host: string) =>
    new Promise<Socket>((resolve, reject) => {
      const s = connect({host, port})
      s.once('connect', () => resolve(s))
      s.once('error', reject)
    })
  return attempt('127.0.0.1').catch((v4: Error) =>
    attempt('::1').catch((v6: Error) => {
      throw new PodctlError(`IPv4: ${v4.message}, IPv6: ${v6.message}`)
    }),
  )
}
