// The per-container monitor: Debian's conmon, one per container, as CRI-O
// and podman run it. This is the only module that knows conmon's flags and
// files. conmon runs `runc create`, holds the container's stdio, writes the
// CRI log, watches for OOM, reaps the container and writes its exit code.
//
// Files (the container directory is conmon's bundle, cwd and persist dir):
//
//   <container dir>/pidfile        the container's init PID (runc --pid-file)
//   <container dir>/conmon.pid     conmon's own PID
//   <container dir>/exit           the exit status, decimal, once the container exited
//                                  (its ctime is the finish time, as CRI-O takes it)
//   <container dir>/oom            present when the container was OOM-killed
//   <container dir>/ctl, winsz     conmon's control FIFOs (resize: "1 H W\n", reopen log: "2 0 0\n")
//   <run-root>/ctr/<id>/attach     the attach socket (SOCK_SEQPACKET), through a symlink to the dir

import {spawn} from 'node:child_process'
import {accessSync, constants, readdirSync, readFileSync, statSync} from 'node:fs'
import {delimiter, join} from 'node:path'
import type {Socket} from 'node:net'

import {PodctlError, prerequisiteError} from './errors.js'
import type {OpContext} from './exec.js'

export interface MonitorOptions {
  id: string
  /** the container directory: bundle (config.json), cwd and persist dir */
  bundle: string
  /** <run-root>/ctr: conmon makes <dir>/<id> → bundle and the attach socket in it */
  socketDir: string
  runtimeBinary: string
  runtimeRoot: string
  runtimeOptions: string[]
  logPath: string
  name: string
  tty: boolean
  stdin: boolean
  stdinOnce: boolean
}

export interface MonitorStarted {
  /** the container's init PID */
  pid: number
  conmonPid: number
}

const searchDirs = ['/usr/bin', '/usr/libexec/podman', '/usr/local/bin', '/usr/sbin', '/usr/libexec/crio']

/** conmon on PATH (or where Debian and the others put it). */
export function findConmon(): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...searchDirs]
  for (const dir of dirs) {
    const path = join(dir, 'conmon')
    try {
      accessSync(path, constants.X_OK)
      return path
    } catch {
      // next
    }
  }
  throw prerequisiteError('conmon not found: podctl runs one per container as its monitor', 'install it (Debian/Ubuntu: apt-get install conmon)')
}

export const monitorFiles = (bundle: string) => ({
  pidFile: join(bundle, 'pidfile'),
  conmonPidFile: join(bundle, 'conmon.pid'),
  exitFile: join(bundle, 'exit'),
  oomFile: join(bundle, 'oom'),
  ctl: join(bundle, 'ctl'),
})

export function monitorArgs(o: MonitorOptions): string[] {
  const f = monitorFiles(o.bundle)
  const args = ['-b', o.bundle, '-c', o.id, '-u', o.id, '-n', o.name, '-r', o.runtimeBinary, '--runtime-arg', `--root=${o.runtimeRoot}`]
  for (const opt of o.runtimeOptions) args.push('--runtime-arg', opt)
  args.push('-p', f.pidFile, '-P', f.conmonPidFile, '--persist-dir', o.bundle, '-l', `k8s-file:${o.logPath}`, '--socket-dir-path', o.socketDir, '--log-level', 'error')
  if (o.tty) args.push('-t')
  if (o.stdin) {
    args.push('-i')
    if (!o.stdinOnce) args.push('--leave-stdin-open')
  }
  return args
}

/**
 * Start conmon, which runs `runc create`, and wait for the container's PID on
 * the sync pipe. conmon forks and detaches itself (setsid, stdio on
 * /dev/null); the process started here exits at once, and nothing of it
 * keeps this process alive.
 */
export async function startMonitor(ctx: OpContext, conmon: string, o: MonitorOptions, timeoutMs: number): Promise<MonitorStarted> {
  const args = monitorArgs(o)
  ctx.log(`exec: ${conmon} ${args.join(' ')}`)
  const child = spawn(conmon, args, {
    cwd: o.bundle,
    detached: true,
    stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
    env: {...process.env, _OCI_SYNCPIPE: '3'},
  })
  const sync = child.stdio[3] as Socket
  try {
    const line = await new Promise<string>((resolve, reject) => {
      let text = ''
      const timer = setTimeout(() => reject(new PodctlError(`conmon gave no container PID within ${timeoutMs} ms`)), timeoutMs)
      const onAbort = () => reject(ctx.signal.reason)
      ctx.signal.addEventListener('abort', onAbort, {once: true})
      const done = () => {
        clearTimeout(timer)
        ctx.signal.removeEventListener('abort', onAbort)
      }
      sync.on('data', (d: Buffer) => {
        text += d.toString()
        const nl = text.indexOf('\n')
        if (nl >= 0) {
          done()
          resolve(text.slice(0, nl))
        }
      })
      sync.on('error', (err) => {
        done()
        reject(err)
      })
      sync.on('close', () => {
        done()
        if (!text.includes('\n')) reject(new PodctlError(`conmon exited before it reported the container's PID${text ? `: ${text}` : ''}`, {hint: 'rerun with --debug'}))
      })
      child.on('error', (err) => {
        done()
        reject(err)
      })
    })
    let msg: {pid?: number; message?: string}
    try {
      msg = JSON.parse(line) as {pid?: number; message?: string}
    } catch {
      throw new PodctlError(`conmon's sync pipe said something unexpected: ${line}`)
    }
    if (msg.message) ctx.log(`conmon: ${msg.message.trim()}`)
    if (!msg.pid || msg.pid < 0) throw new PodctlError(`container create failed: ${runtimeErrorText(msg.message ?? '')}`, {hint: 'rerun with --debug for the runtime\'s whole output'})
    const conmonPid = Number(readFileSync(monitorFiles(o.bundle).conmonPidFile, 'utf8').trim())
    return {pid: msg.pid, conmonPid}
  } finally {
    sync.destroy()
    child.unref()
  }
}

export interface MonitorExit {
  exitCode: number
  /** nanoseconds since the epoch (the exit file's ctime) */
  finishedAt: string
  oomKilled: boolean
}

/** What conmon wrote when the container exited; undefined while it has not. */
export function readExit(bundle: string): MonitorExit | undefined {
  const f = monitorFiles(bundle)
  let text: string
  let ctimeNs: bigint
  try {
    text = readFileSync(f.exitFile, 'utf8').trim()
    ctimeNs = statSync(f.exitFile, {bigint: true}).ctimeNs
  } catch {
    return undefined
  }
  if (!/^-?\d+$/.test(text)) return undefined
  let oomKilled = false
  try {
    statSync(f.oomFile)
    oomKilled = true
  } catch {
    // no OOM
  }
  return {exitCode: Number(text), finishedAt: ctimeNs.toString(), oomKilled}
}

/** The runtime's stderr as conmon relays it: logrus lines; the error's msg is the one that says what failed. */
export function runtimeErrorText(text: string): string {
  const errors = [...text.matchAll(/level=(?:error|fatal) msg="((?:[^"\\]|\\.)*)"/g)].map((m) => m[1].replace(/\\"/g, '"').replace(/\\\\/g, '\\'))
  if (errors.length > 0) return errors[errors.length - 1]
  return text.trim().split('\n').filter(Boolean).pop() ?? 'no error output'
}

/** Live conmon processes whose bundle (-b) is under `dir`, with the container ID (-c) each monitors. */
export function monitorsUnder(dir: string): {pid: number; id: string; bundle: string}[] {
  const found: {pid: number; id: string; bundle: string}[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    let argv: string[]
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0')
    } catch {
      continue
    }
    if (!/(^|\/)conmon$/.test(argv[0] ?? '')) continue
    const bundle = argv[argv.indexOf('-b') + 1] ?? ''
    const id = argv[argv.indexOf('-c') + 1] ?? ''
    if (argv.includes('-b') && bundle.startsWith(`${dir}/`)) found.push({pid: Number(entry), id, bundle})
  }
  return found
}
