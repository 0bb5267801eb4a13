// Attach: podctl's stdio joined to a running container's, through its
// monitor's attach socket. conmon serves it as a unix SOCK_SEQPACKET socket,
// which node cannot open, so a few lines of perl (whose Socket module has
// SOCK_SEQPACKET, and which every Debian has) relay it: each packet from the
// socket is one stream id byte (2 stdout, 3 stderr: conmon's stdpipe_t) and
// the data; what is read from stdin is sent as is, and stdin's end shuts the
// socket's write side (conmon then closes the container's stdin, unless it
// was created with stdin_once false). The relay inherits podctl's stdio, so no
// byte passes through node; it ends when the container's monitor closes the
// socket (the container exited) or when podctl dies (PDEATHSIG).

import {closeSync, constants, openSync, writeSync} from 'node:fs'
import {arch} from 'node:os'

import {mustResolveContainer, viewOf} from './container.js'
import {attachSocketDir, containerDir, readContainerRecord} from './container-store.js'
import type {CallContext} from './context.js'
import {notFoundError, PodctlError, prerequisiteError, usageError} from './errors.js'
import {run} from './exec.js'
import {monitorFiles} from './monitor.js'

/** prctl(PR_SET_PDEATHSIG, SIGKILL) by syscall number: 157 on x86_64, 167 on aarch64. */
const prctlNumber: Record<string, number> = {x64: 157, arm64: 167}

/** The relay: perl -e <this> <socket path> <1: relay stdin> <prctl syscall number or 0>. */
export const attachRelay = `
use strict; use warnings; use Socket; use IO::Select;
my ($path, $stdin, $prctl) = @ARGV;
syscall($prctl, 1, 9) if $prctl;
socket(my $s, AF_UNIX, SOCK_SEQPACKET, 0) or die "cannot create a SOCK_SEQPACKET socket: $!\\n";
connect($s, pack_sockaddr_un($path)) or die "cannot connect to the attach socket $path: $!\\n";
binmode $s; binmode STDIN; binmode STDOUT; binmode STDERR;
my $sel = IO::Select->new($s);
$sel->add(\\*STDIN) if $stdin;
sub out { my ($fh, $data) = @_; while (length $data) { my $n = syswrite($fh, $data); exit 0 unless defined $n; substr($data, 0, $n) = ''; } }
while (1) {
  for my $fh ($sel->can_read) {
    if ($fh == $s) {
      my $n = sysread($s, my $buf, 8193);
      exit 0 unless $n;
      my $id = ord(substr($buf, 0, 1));
      out($id == 3 ? \\*STDERR : \\*STDOUT, substr($buf, 1));
    } else {
      my $n = sysread(STDIN, my $buf, 32768);
      if (!$n) { shutdown($s, 1); $sel->remove(\\*STDIN); next; }
      defined send($s, $buf, 0) or exit 0;
    }
  }
}
`

export interface AttachOptions {
  stdin: boolean
  tty: boolean
  /** runs the relay with stdio of the caller's own instead of podctl's (serve's streaming Attach); resolves with its exit status */
  launch?: (file: string, args: string[]) => Promise<number>
}

/** Tell the monitor the terminal's size (conmon's ctl FIFO: "1 <rows> <cols>"); quietly nothing when it is not listening. */
export function sendTerminalSize(ctl: string, rows: number, columns: number): void {
  let fd: number
  try {
    fd = openSync(ctl, constants.O_WRONLY | constants.O_NONBLOCK)
  } catch {
    return
  }
  try {
    writeSync(fd, `1 ${rows} ${columns}\n`)
  } catch {
    // the monitor went away
  } finally {
    closeSync(fd)
  }
}

/** The container, checked for attach: running, with stdin and tty as asked. Its monitor's files. */
export function attachTarget(rt: CallContext, ref: string, options: AttachOptions): {id: string; socket: string; ctl: string} {
  const found = mustResolveContainer(rt, ref)
  const record = readContainerRecord(rt.store, found.podId, found.id)
  if (!record) throw notFoundError(`container "${ref}" not found`, 'list containers with: podctl ps -a')
  const {state} = viewOf(rt, record)
  if (state !== 'CONTAINER_RUNNING') throw new PodctlError(`container "${found.id}" is not running (${state})`, {hint: 'attach needs a running container'})
  if (options.tty && !record.config.tty) throw usageError(`container "${found.id}" has no terminal: attach without -t`, 'only a container created with tty: true has one')
  if (options.stdin && !record.config.stdin) throw usageError(`container "${found.id}" was created without stdin: attach without -i`, 'create it with stdin: true to write to it')
  return {id: found.id, socket: `${attachSocketDir(rt.store)}/${found.id}/attach`, ctl: monitorFiles(containerDir(rt.store, found.podId, found.id)).ctl}
}

/** Relay podctl's stdio to the container until it exits (or stdin ends, without a way to send more). */
export async function attachContainer(rt: CallContext, ref: string, options: AttachOptions): Promise<void> {
  const target = attachTarget(rt, ref, options)
  const args = ['-e', attachRelay, target.socket, options.stdin ? '1' : '0', String(prctlNumber[arch()] ?? 0)]
  const launched = options.launch ? options.launch('perl', args).then((exitCode) => ({exitCode})) : run(rt.ctx, 'perl', args, {inherit: {stdin: options.stdin}})
  const result = await launched.catch((err: unknown) => {
    if (err instanceof PodctlError && /ENOENT/.test(err.message)) throw prerequisiteError('perl not found: attach relays the monitor\'s socket through it', 'install it (Debian/Ubuntu: apt-get install perl-base)')
    throw err
  })
  if (result.exitCode !== 0) throw new PodctlError(`cannot attach to container "${target.id}": the relay exited with status ${result.exitCode}`, {hint: 'its error is above'})
}
