// Locks that a killed process cannot leave behind. Node has no flock(2), and
// lock files with PIDs in them need stale-lock stealing, which races. Instead
// a lock is a listening socket in the Linux abstract namespace: bind() is
// exclusive, and the kernel frees the address the instant the holder dies
// (even by SIGKILL), so a later command never waits on a dead holder.
// Abstract sockets belong to the network namespace: podctl always runs in
// the host's, where every podctl process meets.

import {createHash} from 'node:crypto'
import {createServer, type Server} from 'node:net'
import {setTimeout as sleep} from 'node:timers/promises'

import {errnoOf, ExitCode, PodctlError, wrap} from './errors.js'

export interface Lock {
  readonly name: string
  release(): Promise<void>
}

/** Try once; null when another process holds the lock. */
export function tryLock(name: string): Promise<Lock | null> {
  const server: Server = createServer()
  return new Promise((resolve, reject) => {
    server.once('error', (err) => {
      if (errnoOf(err) === 'EADDRINUSE') resolve(null)
      else reject(err)
    })
    server.listen({path: `\0${name}`, exclusive: true}, () => {
      // A held lock must not keep the process alive by itself.
      server.unref()
      resolve({
        name,
        release: () => new Promise<void>((done) => server.close(() => done())),
      })
    })
  })
}

export interface LockWait {
  /** give up after this many milliseconds */
  timeoutMs: number
  signal?: AbortSignal
  /** what the lock protects, for the error message */
  what: string
}

/** Wait for the lock, retrying with a short back-off up to the timeout. */
export async function lock(name: string, wait: LockWait): Promise<Lock> {
  const deadline = Date.now() + wait.timeoutMs
  let delay = 1
  for (;;) {
    const held = await tryLock(name)
    if (held) return held
    if (wait.signal?.aborted) throw wrap(`waiting for the lock on ${wait.what}`, wait.signal.reason)
    if (Date.now() >= deadline) {
      throw new PodctlError(`timed out after ${wait.timeoutMs} ms waiting for the lock on ${wait.what}`, {
        exitCode: ExitCode.timeout,
        hint: 'another podctl command is working on it; retry, or raise --timeout',
      })
    }
    await sleep(delay, undefined, {signal: wait.signal}).catch(() => undefined)
    delay = Math.min(delay * 2, 20)
  }
}

/** Run `fn` holding the lock. */
export async function withLock<T>(name: string, wait: LockWait, fn: () => Promise<T>): Promise<T> {
  const held = await lock(name, wait)
  try {
    return await fn()
  } finally {
    await held.release()
  }
}

/**
 * Lock names are scoped to a state root, so that two roots (say, two test
 * runs) never contend, and short enough for sun_path (108 bytes).
 */
export function lockName(root: string, ...parts: string[]): string {
  const scope = createHash('sha256').update(root).digest('hex').slice(0, 16)
  return ['podctl', scope, ...parts].join('/')
}

/**
 * The machine-wide lock around CNI plugin calls: plugins share bridges,
 * iptables chains and IPAM files across every root, and are not safe to run
 * concurrently (nerdctl's ocihook holds one global lock for the same reason).
 */
export const cniLockName = 'podctl/cni'
