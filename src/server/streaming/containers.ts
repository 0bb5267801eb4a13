// Exec and attach sessions run by the container code the CLI verbs use
// (src/runtime/container-exec.ts, container-attach.ts), with the session's
// streams in place of podctl's own stdio: the runtime (or the attach relay)
// is launched here with pipes to the SPDY streams, or, for a tty exec, on a
// terminal of its own (pty.ts) whose size follows the client's resize stream.
// A tty attach passes sizes to the container's monitor (conmon's ctl FIFO).

import {spawn} from 'node:child_process'

import {attachContainer, attachTarget, sendTerminalSize} from '../../runtime/container-attach.js'
import {execContainer} from '../../runtime/container-exec.js'
import type {CallContext} from '../../runtime/context.js'
import {PodctlError} from '../../runtime/errors.js'
import type {ServerContext} from '../context.js'
import {spawnOnPty} from './pty.js'
import type {RemoteCommandIO, RemoteCommandRunner} from './remotecommand.js'

export function containerRunner(ctx: ServerContext): RemoteCommandRunner {
  return async (request, io, signal) => {
    // A session lasts as long as its client wants: no --timeout; its end (the client gone) cancels it.
    const rt: CallContext = {
      settings: ctx.settings,
      store: ctx.store,
      ctx: {signal, log: (m) => ctx.log.debug(`${request.kind}: ${m}`)},
      warn: (m) => ctx.log.warn(`${request.kind}: ${m}`),
    }
    const {stdin, tty} = request
    if (request.kind === 'attach') {
      const {ctl} = attachTarget(rt, request.containerId, {stdin, tty})
      if (tty) io.onResize((s) => sendTerminalSize(ctl, s.height, s.width))
      await attachContainer(rt, request.containerId, {stdin, tty, launch: (file, args) => withPipes(file, args, io, signal)})
      return undefined
    }
    const launch = tty
      ? (file: string, args: string[]) => {
          const p = spawnOnPty(file, args, io, signal)
          io.onResize((s) => p.resize(s.height, s.width))
          return p.exited
        }
      : (file: string, args: string[]) => withPipes(file, args, io, signal)
    const result = await execContainer(rt, request.containerId, {cmd: request.cmd, tty, stdin, sync: false, timeoutSeconds: 0, launch})
    return result.exitCode
  }
}

/** Run with the session's streams as stdin, stdout and stderr; resolves with the exit status once its output is all passed on. */
function withPipes(file: string, args: string[], io: RemoteCommandIO, signal: AbortSignal): Promise<number> {
  const child = spawn(file, args, {stdio: [io.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'], signal})
  if (io.stdin) {
    // A command that exits without reading its input must not fail the session with EPIPE.
    child.stdin!.on('error', () => undefined)
    io.stdin.pipe(child.stdin!)
  }
  // The session ends these streams itself, after the exit status is known.
  if (io.stdout) child.stdout!.pipe(io.stdout, {end: false})
  else child.stdout!.resume()
  if (io.stderr) child.stderr!.pipe(io.stderr, {end: false})
  else child.stderr!.resume()
  return new Promise<number>((resolve, reject) => {
    child.once('error', (err) => reject(new PodctlError(`cannot run ${file}: ${err.message}`)))
    child.once('close', (code, sig) => {
      if (io.stdin) io.stdin.unpipe(child.stdin!)
      if (code === null) reject(new PodctlError(`${file} was killed by ${sig}`))
      else resolve(code)
    })
  })
}
