import {Args, Flags} from '../cli/oclif.js'

import {BaseCommand, exitStatusHelp} from '../base-command.js'

export default class Attach extends BaseCommand<typeof Attach> {
  static override summary = 'Attach to a running container'
  static override description = `Joins podctl's stdout and stderr (and with -i its stdin) to the running container's, through the attach socket of the container's monitor (conmon), until the container exits. Output written before the attach is not replayed: read it with podctl logs. A small perl relay, started by podctl and ended with it, bridges the monitor's SOCK_SEQPACKET socket, which node cannot open.

-i needs a container created with stdin: true; the end of podctl's stdin closes the container's stdin when it was created with stdin_once: true. -t needs a container created with tty: true: the local terminal is then put in raw mode and its size is passed on. Ctrl-C with -t goes to the container; without -t it ends podctl, not the container.

With --runtime-endpoint attach is refused: it needs the CRI's streaming Attach, which podctl's client does not speak (crictl attach does).

EXIT STATUS
${exitStatusHelp}`

  static override examples = [
    {description: 'Watch what a container writes from now on', command: '<%= config.bin %> <%= command.id %> web'},
    {description: 'Feed a container its input', command: 'echo hello | <%= config.bin %> <%= command.id %> -i cat-server'},
    {description: 'The terminal of a container created with tty and stdin', command: '<%= config.bin %> <%= command.id %> -it shell'},
  ]

  static override args = {
    container: Args.string({description: 'container ID, unique ID prefix or container name', required: true}),
  }

  static override flags = {
    stdin: Flags.boolean({char: 'i', description: 'pass stdin to the container'}),
    tty: Flags.boolean({char: 't', description: 'the container has a terminal: raw mode, and its size passed on'}),
    // -t is --tty here, as crictl's: the global timeout keeps its long name and PODCTL_TIMEOUT.
    timeout: Flags.string({env: 'PODCTL_TIMEOUT', helpGroup: 'GLOBAL', description: 'give up after this long, e.g. 30s [default: none for attach]'}),
  }

  async run(): Promise<void> {
    const {stdin, tty} = this.flags
    const {usageError} = await import('../runtime/errors.js')
    if (tty && !process.stdin.isTTY) throw usageError('-t needs a terminal on stdin: input is not a terminal', 'run it from a terminal, or leave -t out')
    const rt = this.containerRuntime({untimed: this.flags.timeout === undefined})
    const {attachContainer, attachTarget, sendTerminalSize} = await import('../runtime/container-attach.js')
    if (!tty) return attachContainer(rt, this.args.container, {stdin, tty})
    const {ctl} = attachTarget(rt, this.args.container, {stdin, tty})
    const resize = () => sendTerminalSize(ctl, process.stdout.rows ?? 24, process.stdout.columns ?? 80)
    resize()
    process.on('SIGWINCH', resize)
    process.stdin.setRawMode(true)
    try {
      await attachContainer(rt, this.args.container, {stdin, tty})
    } finally {
      process.stdin.setRawMode(false)
      process.off('SIGWINCH', resize)
    }
  }
}
