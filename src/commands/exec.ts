import {Args, Flags} from '../cli/oclif.js'

import {BaseCommand, exitStatusHelp} from '../base-command.js'

/** Global flags that take a value: a word after one of them is not the container. */
const valueFlags = new Set(['-c', '--config', '--root', '--run-root', '--cni-conf-dir', '--cni-bin-dir', '--runtime-endpoint', '--timeout'])

/**
 * Flags end at the container, as crictl's (urfave/cli stops at the first
 * positional): `exec -s web sh -c 'echo $HOME'` passes -c to sh. A `--`
 * before the container says so to either parser; one the user put right
 * after the container is dropped.
 */
export function endFlagsAtContainer(argv: string[]): string[] {
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]
    if (word === '--') return argv
    if (word.startsWith('-') && word !== '-') {
      if (valueFlags.has(word)) i++
      continue
    }
    const rest = argv.slice(i + 1)
    return [...argv.slice(0, i), '--', word, ...(rest[0] === '--' ? rest.slice(1) : rest)]
  }
  return argv
}

export default class Exec extends BaseCommand<typeof Exec> {
  static override summary = 'Run a command in a running container'
  static override description = `Runs the command in the container with the container's own environment, user, working directory and capabilities (runc exec of its process spec, with the command as args), in the foreground: podctl exits when the command does, with its exit status. Flags come before the container: everything after it is the command.

Without -s the command's output streams to podctl's stdout and stderr as it is written; -i passes podctl's stdin to it, and -t (with -i, from a terminal) runs it on a new pseudo-terminal, the local terminal in raw mode until it ends. With -s (--sync, the CRI's ExecSync) the output is collected (up to 16 MiB per stream) and printed when the command ends, stdout to stdout and stderr to stderr. Unlike crictl, whose exec exits 1 for any failing command, podctl exits with the command's own status.

--timeout N kills the command (SIGKILL) after N seconds; podctl then says so and exits 124. It is exec's own flag, as crictl's: the global operation timeout is set with PODCTL_TIMEOUT for exec.

podctl exits with the command's exit status (128 + N when signal N ended it), or with one of the statuses below when the command did not run to its end.

With --runtime-endpoint the command runs through that CRI runtime's ExecSync (podctl serve, containerd, CRI-O), with or without -s: its output is printed when it ends (podctl serve keeps up to 8 MiB of each stream), and podctl exits with its status as above. -i and -t are refused there: they need the CRI's streaming Exec, which podctl's client does not speak (crictl exec -it does).

EXIT STATUS
${exitStatusHelp}
124  exec --timeout elapsed: the command was killed
126  the command exists in the container but cannot be executed
127  the command was not found in the container`

  static override examples = [
    {description: 'Run a command and collect its output', command: '<%= config.bin %> <%= command.id %> -s web cat /etc/hostname'},
    {description: 'A shell command line (-c goes to sh: flags end at the container)', command: `<%= config.bin %> <%= command.id %> web sh -c 'echo $HOSTNAME'`},
    {description: 'An interactive shell', command: '<%= config.bin %> <%= command.id %> -it web sh'},
    {description: 'Give up after five seconds', command: '<%= config.bin %> <%= command.id %> -s --timeout 5 web wget -qO- http://10.0.0.1/'},
  ]

  static override strict = false
  static override args = {
    container: Args.string({description: 'container ID, unique ID prefix or container name', required: true}),
    command: Args.string({description: 'the command and its arguments', required: true}),
  }

  static override flags = {
    interactive: Flags.boolean({char: 'i', description: "pass stdin to the command"}),
    tty: Flags.boolean({char: 't', description: 'run the command on a pseudo-terminal (needs -i and a terminal)'}),
    sync: Flags.boolean({char: 's', description: 'collect the output and print it when the command ends (ExecSync)'}),
    timeout: Flags.integer({description: 'kill the command after this many seconds (0: never)', default: 0, min: 0}),
  }

  public override async init(): Promise<void> {
    const argv = endFlagsAtContainer(this.argv)
    this.argv.splice(0, this.argv.length, ...argv)
    await super.init()
  }

  async run(): Promise<void> {
    // Its own --timeout (seconds) shadows the global one (a duration), so the flags' inferred type is spelled out.
    const {interactive, tty, sync, timeout: timeoutSeconds} = this.flags as unknown as {interactive: boolean; tty: boolean; sync: boolean; timeout: number}
    const {ExitCode, PodctlError, usageError} = await import('../runtime/errors.js')
    if (tty && !interactive) throw usageError('-t needs -i: a terminal is for input too', 'use -it')
    if (tty && sync) throw usageError('-t cannot be used with -s: a synchronous exec has no terminal')
    if (tty && !process.stdin.isTTY) throw usageError('-t needs a terminal on stdin: input is not a terminal', 'run it from a terminal, or leave -t out')
    // A command (a shell) may run as long as it likes, unless PODCTL_TIMEOUT sets a deadline; that one covers --timeout too.
    if (process.env.PODCTL_TIMEOUT === undefined) this.settings.timeoutMs = 2 ** 31 - 1
    else this.settings.timeoutMs += timeoutSeconds * 1000
    const [container, ...cmd] = this.positionals
    const result = this.settings.runtimeEndpoint ? await this.remoteExec(container, cmd, {interactive, tty, timeoutSeconds}) : await this.localExec(container, cmd, {interactive, tty, sync, timeoutSeconds})
    if (result.stdout?.length) process.stdout.write(result.stdout)
    if (result.stderr?.length) process.stderr.write(result.stderr)
    if (result.timedOut) throw new PodctlError(`command "${cmd.join(' ')}" timed out after ${timeoutSeconds} s and was killed`, {exitCode: ExitCode.execTimedOut, hint: 'raise --timeout, or 0 for none'})
    process.exitCode = result.exitCode
  }

  private async localExec(container: string, cmd: string[], o: {interactive: boolean; tty: boolean; sync: boolean; timeoutSeconds: number}) {
    const rt = this.containerRuntime()
    const {execContainer} = await import('../runtime/container-exec.js')
    return execContainer(rt, container, {cmd, tty: o.tty, stdin: o.interactive, sync: o.sync, timeoutSeconds: o.timeoutSeconds})
  }

  /** The runtime's ExecSync: with or without -s the output comes when the command ends. */
  private async remoteExec(container: string, cmd: string[], o: {interactive: boolean; tty: boolean; timeoutSeconds: number}) {
    const {usageError} = await import('../runtime/errors.js')
    if (o.interactive || o.tty) {
      throw usageError(`exec ${o.tty ? '-t' : '-i'} with --runtime-endpoint needs the CRI's streaming Exec, which podctl's client does not speak`, 'use crictl exec -it against that endpoint, or leave -i and -t out (the command then runs by ExecSync)')
    }
    if (cmd.length === 0) throw usageError('exec needs a command to run')
    const containers = await this.containerBackend()
    const id = await this.mustResolveContainer(containers, container)
    return (await this.containerTools()).execSync(id, cmd, o.timeoutSeconds)
  }
}
