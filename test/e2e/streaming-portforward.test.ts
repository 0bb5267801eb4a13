// PortForward through `podctl serve`'s streaming server, driven by the real
// crictl 1.26.1 (its client is kubelet's: client-go's SPDY round tripper over
// moby/spdystream). The test runs busybox httpd inside a pod's network
// namespace, listening on the pod's loopback only, and fetches from it
// through `crictl port-forward`; then the failure and protocol cases with
// raw HTTP, and the stream-listen and stream-base-url settings.

import assert from 'node:assert/strict'
import {type ChildProcess, spawn, spawnSync} from 'node:child_process'
import {createHash, randomBytes} from 'node:crypto'
import {mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync} from 'node:fs'
import {get, type IncomingMessage, request} from 'node:http'
import {connect, createServer} from 'node:net'
import {join} from 'node:path'
import {after, afterEach, before, describe, test} from 'node:test'

import {TestEnv} from './harness.js'
import {criToolOptions, RawCri, type Served, sharedBin, startServe, stopServe} from './serve-helpers.js'

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')

/** Resolves once check() is true; the test's own timeout bounds the wait (no timed assertion). */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 50))
}

/** PIDs of the processes in the network namespace pinned at `path`. */
function processesIn(path: string): number[] {
  const inode = statSync(path).ino
  const pids: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      if (readlinkSync(`/proc/${entry}/ns/net`) === `net:[${inode}]` && !/\) [ZX] /.test(readFileSync(`/proc/${entry}/stat`, 'utf8'))) pids.push(Number(entry))
    } catch {
      // gone meanwhile
    }
  }
  return pids
}

function fetchBody(port: number, path: string): Promise<{status: number; body: Buffer}> {
  return new Promise((resolve, reject) => {
    get({host: '127.0.0.1', port, path, agent: false}, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({status: res.statusCode ?? 0, body: Buffer.concat(chunks)}))
      res.on('error', reject)
    }).on('error', reject)
  })
}

interface PortForward {
  child: ChildProcess
  localPort: number
  stdout(): string
  stderr(): string
  exited: Promise<number | null>
}

/** `crictl port-forward POD :REMOTE` (a free local port), once it says where it listens. */
async function crictlPortForward(served: Served, pod: string, remote: number): Promise<PortForward> {
  const child = spawn(sharedBin('crictl'), ['--runtime-endpoint', served.endpoint, 'port-forward', pod, `:${remote}`], {stdio: ['ignore', 'pipe', 'pipe']})
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const localPort = await new Promise<number>((resolve, reject) => {
    const check = () => {
      const m = new RegExp(`Forwarding from 127\\.0\\.0\\.1:(\\d+) -> ${remote}\\n`).exec(stdout)
      if (m) resolve(Number(m[1]))
    }
    child.stdout.on('data', check)
    void exited.then((code) => reject(new Error(`crictl port-forward exited ${code}\nstdout: ${stdout}\nstderr: ${stderr}`)))
  })
  return {child, localPort, stdout: () => stdout, stderr: () => stderr, exited}
}

/** An HTTP upgrade request as client-go sends it; resolves with the status, headers and body (or the 101). */
function upgrade(url: string, protocols: string[], options: {socketPath?: string} = {}): Promise<{status: number; headers: IncomingMessage['headers']; body: string}> {
  return new Promise((resolve, reject) => {
    const u = new URL(url)
    const headers: Record<string, string | string[]> = {Connection: 'Upgrade', Upgrade: 'SPDY/3.1'}
    if (protocols.length > 0) headers['X-Stream-Protocol-Version'] = protocols
    const req = request({host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers, agent: false, ...options})
    req.on('upgrade', (res, socket) => {
      socket.destroy()
      resolve({status: res.statusCode ?? 0, headers: res.headers, body: ''})
    })
    req.on('response', (res) => {
      let body = ''
      res.on('data', (d) => (body += d))
      res.on('end', () => resolve({status: res.statusCode ?? 0, headers: res.headers, body}))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('port-forward through podctl serve, under the real crictl', criToolOptions('crictl'), () => {
  let env: TestEnv
  let served: Served
  let cri: RawCri
  const www = () => join(env.dir, 'www')
  const big = randomBytes(3 * 1024 * 1024)
  const httpds: ChildProcess[] = []

  before(async () => {
    env = new TestEnv(190)
    mkdirSync(www(), {recursive: true})
    writeFileSync(join(www(), 'index.html'), 'hello from the pod\n')
    writeFileSync(join(www(), 'big.bin'), big)
    served = await startServe(env)
    cri = new RawCri(served.socket)
  })
  after(async () => {
    cri.close()
    await stopServe(served)
    env.teardown()
  })
  afterEach(async () => {
    for (const h of httpds.splice(0)) {
      h.kill('SIGKILL')
      if (h.exitCode === null && h.signalCode === null) await new Promise((r) => h.once('exit', r))
    }
    env.ok(['rmp', '-af'])
    env.assertNoLeaks()
  })

  /** busybox httpd on the pod's 127.0.0.1:<port>: unreachable from the host but through the pod's namespace. */
  async function httpdIn(pod: string, port: number): Promise<string> {
    const netns = join(env.runRoot, 'netns', pod)
    const h = spawn('nsenter', [`--net=${netns}`, 'busybox', 'httpd', '-f', '-p', `127.0.0.1:${port}`, '-h', www()], {stdio: 'ignore'})
    httpds.push(h)
    const listening = `:${port.toString(16).toUpperCase().padStart(4, '0')} 00000000:0000 0A`
    await until(() => {
      return spawnSync('nsenter', [`--net=${netns}`, 'cat', '/proc/net/tcp'], {encoding: 'utf8'}).stdout.includes(listening)
    })
    return netns
  }

  test('crictl port-forward reaches a server on the pod loopback: small, large and parallel fetches; the dialer ends with the session', async () => {
    const pod = env.runPod('pf-web')
    const netns = await httpdIn(pod, 8080)
    // The pause and httpd: the session adds its dialer, and takes it away.
    const before = processesIn(netns)
    const pf = await crictlPortForward(served, pod, 8080)
    try {
      const small = await fetchBody(pf.localPort, '/index.html')
      assert.equal(small.status, 200)
      assert.equal(small.body.toString(), 'hello from the pod\n')
      const whole = await fetchBody(pf.localPort, '/big.bin')
      assert.equal(sha256(whole.body), sha256(big))
      // Three connections at once: three request IDs, three pairs of streams on one SPDY connection.
      const three = await Promise.all([1, 2, 3].map(() => fetchBody(pf.localPort, '/big.bin')))
      for (const r of three) assert.equal(sha256(r.body), sha256(big))
      assert.equal(pf.stdout().match(/Handling connection for/g)?.length, 5)
      // One dialer process in the pod's namespace for the session, beside httpd.
      assert.equal(processesIn(netns).filter((p) => !before.includes(p)).length, 1)
    } finally {
      pf.child.kill('SIGINT')
      await pf.exited
    }
    await until(() => processesIn(netns).every((p) => before.includes(p)))
  })

  test('a port nothing listens on: the connection closes and crictl prints why', async () => {
    const pod = env.runPod('pf-none')
    const pf = await crictlPortForward(served, pod, 9999)
    const received = await new Promise<Buffer>((resolve) => {
      const chunks: Buffer[] = []
      const s = connect(pf.localPort, '127.0.0.1')
      s.on('data', (c: Buffer) => chunks.push(c))
      s.on('close', () => resolve(Buffer.concat(chunks)))
      s.on('error', () => undefined)
    })
    assert.equal(received.length, 0)
    await until(() => /an error occurred forwarding/.test(pf.stderr()))
    pf.child.kill('SIGINT')
    await pf.exited
    assert.match(
      pf.stderr(),
      new RegExp(`an error occurred forwarding ${pf.localPort} -> 9999: error forwarding port 9999 to pod ${pod}: failed to connect to localhost:9999 inside the pod's network namespace: IPv4: connect ECONNREFUSED 127\\.0\\.0\\.1:9999, IPv6: connect ECONNREFUSED ::1:9999`),
    )
  })

  test('a host-network pod forwards to the host loopback', async () => {
    const echo = createServer((s) => s.pipe(s))
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve))
    const port = (echo.address() as {port: number}).port
    try {
      const pod = env.runPod('pf-host', {linux: {security_context: {namespace_options: {network: 2}}}})
      const pf = await crictlPortForward(served, pod, port)
      try {
        const back = await new Promise<string>((resolve, reject) => {
          const s = connect(pf.localPort, '127.0.0.1', () => s.end('echo through the host namespace'))
          let text = ''
          s.on('data', (d) => (text += d))
          s.on('end', () => resolve(text))
          s.on('error', reject)
        })
        assert.equal(back, 'echo through the host namespace')
      } finally {
        pf.child.kill('SIGINT')
        await pf.exited
      }
    } finally {
      echo.close()
    }
  })

  test('PortForward: an absolute URL with a token, good once; unknown, missing and stopped pods are refused', async () => {
    const pod = env.runPod('pf-rpc')
    const {url} = await cri.ok('PortForward', {pod_sandbox_id: pod, port: [80]})
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/portforward\/[A-Za-z0-9_-]{8}$/)
    const first = await upgrade(url, ['portforward.k8s.io'])
    assert.equal(first.status, 101)
    assert.equal(first.headers['x-stream-protocol-version'], 'portforward.k8s.io')
    assert.equal(first.headers.upgrade, 'SPDY/3.1')
    const again = await upgrade(url, ['portforward.k8s.io'])
    assert.equal(again.status, 404, 'a token is good for one request')

    // A prefix names the pod, as for every pod RPC.
    const {url: prefixed} = await cri.ok('PortForward', {pod_sandbox_id: pod.slice(0, 12)})
    const none = await upgrade(prefixed, [])
    assert.equal(none.status, 400)
    assert.equal(none.body, 'unable to upgrade: X-Stream-Protocol-Version is required\n')
    const {url: third} = await cri.ok('PortForward', {pod_sandbox_id: pod})
    const wrong = await upgrade(third, ['v4.channel.k8s.io'])
    assert.equal(wrong.status, 403)
    assert.equal(wrong.headers['x-accepted-stream-protocol-versions'], 'portforward.k8s.io')

    const unknown = await cri.call('PortForward', {pod_sandbox_id: 'f'.repeat(64)})
    assert.equal(unknown.err?.code, 5, 'NOT_FOUND')
    assert.equal(unknown.err?.details, `pod sandbox "${'f'.repeat(64)}" not found`)
    const missing = await cri.call('PortForward', {})
    assert.equal(missing.err?.code, 3, 'INVALID_ARGUMENT')
    assert.equal(missing.err?.details, 'missing required pod_sandbox_id')
    env.ok(['stopp', pod])
    const stopped = await cri.call('PortForward', {pod_sandbox_id: pod})
    assert.equal(stopped.err?.details, `pod sandbox "${pod}" is not ready`)
  })

  test('stream-listen and stream-base-url: a fixed port, and a unix socket behind a proxy URL', async () => {
    const config = (extra: string) => {
      const path = join(env.dir, `podctl-${randomBytes(3).toString('hex')}.yaml`)
      writeFileSync(path, `${readFileSync(env.configFile, 'utf8')}${extra}`)
      return path
    }
    const pod = env.runPod('pf-settings')
    const fixed = await startServe(env, [], {PODCTL_CONFIG: config('stream-listen: 127.0.0.1:24590\n')}, 'fixed.sock')
    try {
      assert.match(fixed.log(), /streaming on http:\/\/127\.0\.0\.1:24590 /)
      const viaFixed = new RawCri(fixed.socket)
      const {url} = await viaFixed.ok('PortForward', {pod_sandbox_id: pod})
      viaFixed.close()
      assert.match(url, /^http:\/\/127\.0\.0\.1:24590\/portforward\/[A-Za-z0-9_-]{8}$/)
    } finally {
      await stopServe(fixed)
    }

    const socketPath = join(env.runRoot, 'stream.sock')
    const unix = await startServe(env, [], {PODCTL_CONFIG: config(`stream-listen: unix://${socketPath}\nstream-base-url: http://proxy.example:8000/cri/\n`)}, 'unix.sock')
    try {
      const viaUnix = new RawCri(unix.socket)
      const {url} = await viaUnix.ok('PortForward', {pod_sandbox_id: pod})
      viaUnix.close()
      const m = /^http:\/\/proxy\.example:8000\/cri\/portforward\/([A-Za-z0-9_-]{8})$/.exec(url)
      assert.ok(m, url)
      assert.equal(statSync(socketPath).mode & 0o777, 0o660)
      const r = await upgrade(`http://localhost/portforward/${m[1]}`, ['portforward.k8s.io'], {socketPath})
      assert.equal(r.status, 101)
    } finally {
      await stopServe(unix)
    }

    const refused = env.podctl(['serve', '--listen', `unix://${join(env.runRoot, 'refused.sock')}`], {env: {PODCTL_CONFIG: config(`stream-listen: unix://${socketPath}\n`)}})
    assert.equal(refused.code, 1)
    assert.match(refused.stderr, /stream-listen "unix:\/\/.*stream\.sock" is a unix socket, which crictl and the kubelet cannot dial/)
    const bad = env.podctl(['config', '--get', 'stream-listen'], {env: {PODCTL_CONFIG: config('stream-listen: localhost\n')}})
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /stream-listen: "localhost" is not host:port or unix:\/\/\/path/)
  })
})
