// A terminal for a command that wants one, when there is none: a tty exec
// streamed to a client. `runc exec -t` in the foreground makes the
// container's terminal itself, but copies between it and its own stdin, and
// takes the size (and each SIGWINCH) from that stdin, which must be a
// terminal. So the runtime runs under a few lines of python3 (a new session with a
// pseudo-terminal, in raw mode, as its controlling terminal and stdio): python relays the terminal's master to its own stdin and
// stdout, and applies each size read from fd 3 ("<rows> <cols>\n") with
// TIOCSWINSZ, which signals SIGWINCH to the runtime, which passes the size on
// to the container's terminal. Its exit status is the command's.

import {spawn} from 'node:child_process'
import type {Readable, Writable} from 'node:stream'

import {PodctlError, prerequisiteError} from '../../runtime/errors.js'

const relaySource = `
import errno, fcntl, os, select, struct, sys, termios, tty
master, slave = os.openpty()
# Raw before anything is written to it: no echo, no line editing of the client's keystrokes.
tty.setraw(slave)
pid = os.fork()
if pid == 0:
    try:
        os.close(master)
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        for fd in (0, 1, 2):
            os.dup2(slave, fd)
        # The sizes pipe and the terminal's own descriptor are the relay's, not the command's.
        os.close(3)
        if slave > 2:
            os.close(slave)
        os.execvp(sys.argv[1], sys.argv[1:])
    finally:
        os._exit(127)
os.close(slave)
fds = [0, master, 3]
pending = b''
while master in fds:
    ready = select.select(fds, [], [])[0]
    if master in ready:
        try:
            data = os.read(master, 65536)
        except OSError as e:
            if e.errno != errno.EIO:
                raise
            data = b''
        if not data:
            fds.remove(master)
        while data:
            data = data[os.write(1, data):]
    # Sizes before input: a size and a keystroke that arrive together apply in that order.
    if 3 in ready:
        data = os.read(3, 4096)
        if not data:
            fds.remove(3)
        pending += data
        while b'\\n' in pending:
            line, pending = pending.split(b'\\n', 1)
            rows, cols = (int(x) for x in line.split())
            fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))
    if 0 in ready:
        data = os.read(0, 65536)
        if data:
            os.write(master, data)
        else:
            fds.remove(0)
status = os.waitpid(pid, 0)[1]
sys.exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))
`

export interface PtyProcess {
  /** the terminal's size from now on */
  resize(rows: number, columns: number): void
  /** the command's exit status */
  exited: Promise<number>
}

/** Run `file args` on a new terminal joined to the streams; the terminal merges stdout and stderr, as a tty does. */
export function spawnOnPty(file: string, args: string[], io: {stdin?: Readable; stdout?: Writable}, signal: AbortSignal): PtyProcess {
  const child = spawn('python3', ['-c', relaySource, file, ...args], {stdio: ['pipe', 'pipe', 'pipe', 'pipe'], signal})
  const sizes = child.stdio[3] as Writable
  sizes.on('error', () => undefined)
  child.stdin!.on('error', () => undefined)
  if (io.stdin) io.stdin.pipe(child.stdin!)
  else child.stdin!.end()
  if (io.stdout) child.stdout!.pipe(io.stdout, {end: false})
  else child.stdout!.resume()
  let stderr = ''
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    if (stderr.length < 4096) stderr += d
  })
  const exited = new Promise<number>((resolve, reject) => {
    child.once('error', (err) => {
      reject(errnoIs(err, 'ENOENT') ? prerequisiteError('python3 not found: a tty exec runs under it', 'install it (Debian/Ubuntu: apt-get install python3)') : new PodctlError(`the terminal relay failed: ${err.message}`))
    })
    child.once('close', (code, sig) => {
      io.stdin?.unpipe(child.stdin!)
      if (code === null) reject(new PodctlError(`the terminal relay was killed by ${sig}${stderr ? `: ${stderr.trim()}` : ''}`))
      else resolve(code)
    })
  })
  return {
    resize: (rows, columns) => {
      if (!sizes.destroyed) sizes.write(`${rows} ${columns}\n`)
    },
    exited,
  }
}

function errnoIs(err: unknown, code: string): boolean {
  return (err as NodeJS.ErrnoException).code === code
}
