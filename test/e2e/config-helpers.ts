// What the config-*.test.ts files use to look at a running pod from outside:
// /proc of its pause process, its namespaces through nsenter, its cgroup
// files, and a listener inside its network namespace reached over TCP and UDP.

import assert from 'node:assert/strict'
import {type ChildProcess, execFileSync, spawn} from 'node:child_process'
import dgram from 'node:dgram'
import {readFileSync, rmdirSync} from 'node:fs'
import net from 'node:net'

import {cgroupDirs, type TestEnv} from './harness.js'

/**
 * runp a pod config that must be refused before anything is made: exit 2,
 * nothing on stdout, an "error:" line matching `message` and no stack trace,
 * and afterwards no pod and no IP.
 */
export function assertRefused(env: TestEnv, linux: Record<string, unknown>, message: RegExp, what = message.source): void {
  const r = env.podctl(['runp', env.podConfig({metadata: {name: 'refused', namespace: 'default'}, linux})])
  assert.equal(r.code, 2, `${what}: ${r.stderr}`)
  assert.equal(r.stdout, '', what)
  assert.match(r.stderr, /^error: /, what)
  assert.match(r.stderr, message, what)
  assert.doesNotMatch(r.stderr, /\n\s+at /, `${what}: no stack trace`)
  assert.equal(env.ok(['pods', '-q']), '', `${what}: no pod`)
  assert.deepEqual(env.ipamAllocations(), [], `${what}: no IP`)
}

/** /proc/<pid>/cgroup as its paths, one per hierarchy line. */
export const procCgroupPaths = (pid: number): string[] =>
  readFileSync(`/proc/${pid}/cgroup`, 'utf8')
    .trim()
    .split('\n')
    .map((line) => line.split(':').slice(2).join(':'))

/** /proc/<pid>/status as a map of its lines. */
export function procStatus(pid: number): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const i = line.indexOf(':')
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1).trim()
  }
  return out
}

/** Capability numbers (linux/capability.h) of the names the tests expect. */
const capabilityBits: Record<string, number> = {
  CAP_CHOWN: 0, CAP_DAC_OVERRIDE: 1, CAP_DAC_READ_SEARCH: 2, CAP_FOWNER: 3, CAP_FSETID: 4, CAP_KILL: 5, CAP_SETGID: 6, CAP_SETUID: 7,
  CAP_SETPCAP: 8, CAP_NET_BIND_SERVICE: 10, CAP_NET_ADMIN: 12, CAP_NET_RAW: 13, CAP_SYS_CHROOT: 18, CAP_SYS_ADMIN: 21, CAP_SYS_RESOURCE: 24, CAP_MKNOD: 27,
  CAP_AUDIT_WRITE: 29, CAP_SETFCAP: 31,
}

/** The Cap* mask /proc/<pid>/status shows for these capability names. */
export function capabilityMask(names: string[]): bigint {
  return names.reduce((mask, name) => {
    assert.ok(name in capabilityBits, `unknown capability ${name}`)
    return mask | (1n << BigInt(capabilityBits[name]))
  }, 0n)
}

export const hexMask = (field: string): bigint => BigInt(`0x${field}`)

/** A file as seen from inside a namespace set of the pod (e.g. /proc/sys in its netns and IPC namespace). */
export function readIn(pid: number, nsFlags: string[], path: string): string {
  return execFileSync('nsenter', ['-t', String(pid), ...nsFlags, 'cat', path], {encoding: 'utf8'}).trim()
}

export function sysctlFile(name: string): string {
  return `/proc/sys/${name.replaceAll('.', '/')}`
}

/** The host's own value of a sysctl (this test process is in the host's namespaces). */
export function hostSysctl(name: string): string {
  return readFileSync(sysctlFile(name), 'utf8').trim()
}

// ---------------------------------------------------------------------------
// A listener inside the pod's network namespace
// ---------------------------------------------------------------------------

const echoServer = `
const net = require('net'), dgram = require('dgram')
const [tcp, udp] = process.argv.slice(1).map((s) => s ? s.split(',').map(Number) : [])
let pending = tcp.length + udp.length
const up = () => { if (--pending === 0) process.stdout.write('ready\\n') }
for (const port of tcp) net.createServer((s) => s.on('data', (d) => s.end('tcp ' + port + ': ' + d))).listen(port, '0.0.0.0', up)
for (const port of udp) {
  const u = dgram.createSocket('udp4')
  u.on('message', (m, r) => u.send('udp ' + port + ': ' + m, r.port, r.address))
  u.bind(port, '0.0.0.0', up)
}
`

/**
 * An echo server in the pod's network namespace (nsenter into the pinned
 * netns; node is the host's): TCP and UDP ports answer "<proto> <port>: <payload>".
 * Kill it by PID with stopListener.
 */
export async function startListener(netnsPath: string, ports: {tcp?: number[]; udp?: number[]}): Promise<ChildProcess> {
  const child = spawn('nsenter', [`--net=${netnsPath}`, process.execPath, '-e', echoServer, (ports.tcp ?? []).join(','), (ports.udp ?? []).join(',')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr!.on('data', (d) => (stderr += d))
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`listener did not start: ${stderr}`)), 10_000)
    child.stdout!.on('data', (d) => {
      if (String(d).includes('ready')) {
        clearTimeout(timer)
        resolve()
      }
    })
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`listener exited ${code}: ${stderr}`))
    })
  })
  return child
}

export async function stopListener(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((r) => child.once('exit', r))
  // nsenter execs node, so this PID is the listener itself.
  process.kill(child.pid!, 'SIGKILL')
  await exited
}

/** Send payload over TCP and return the reply; rejects on error or after timeoutMs. */
export function tcpRequest(host: string, port: number, payload: string, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({host, port})
    let reply = ''
    socket.setTimeout(timeoutMs, () => {
      socket.destroy()
      reject(new Error(`tcp ${host}:${port}: timeout`))
    })
    socket.on('connect', () => socket.write(payload))
    socket.on('data', (d) => (reply += d))
    socket.on('end', () => resolve(reply))
    socket.on('error', (err) => reject(new Error(`tcp ${host}:${port}: ${err.message}`)))
  })
}

/** Send one UDP datagram and return the first reply; rejects after timeoutMs. */
export function udpRequest(host: string, port: number, payload: string, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4')
    const timer = setTimeout(() => {
      socket.close()
      reject(new Error(`udp ${host}:${port}: no reply`))
    }, timeoutMs)
    socket.on('message', (m) => {
      clearTimeout(timer)
      socket.close()
      resolve(String(m))
    })
    socket.on('error', (err) => {
      clearTimeout(timer)
      socket.close()
      reject(new Error(`udp ${host}:${port}: ${err.message}`))
    })
    socket.send(payload, port, host)
  })
}

/** What a request got: the reply, or "error: <why>". */
export async function outcome(request: Promise<string>): Promise<string> {
  return request.catch((err: Error) => `error: ${err.message}`)
}

// ---------------------------------------------------------------------------
// cgroups
// ---------------------------------------------------------------------------

/**
 * Remove the parent cgroups a test caused to exist (deepest first, in every
 * hierarchy). Only paths under `mustContain` (the test's unique name) are touched.
 */
export function removeTestCgroups(paths: string[], mustContain: string): string[] {
  const left: string[] = []
  for (const path of [...paths].sort((a, b) => b.split('/').length - a.split('/').length)) {
    assert.ok(path.includes(mustContain), `refusing to remove ${path}: not this test's`)
    for (const dir of cgroupDirs(path)) {
      try {
        rmdirSync(dir)
      } catch (err) {
        left.push(`${dir}: ${(err as Error).message}`)
      }
    }
  }
  return left
}
