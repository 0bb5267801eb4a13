import {Args, Flags} from '../cli/oclif.js'

import {BaseCommand, exitStatusHelp} from '../base-command.js'

export default class Logs extends BaseCommand<typeof Logs> {
  static override summary = 'Fetch the logs of a container'
  static override description = `Reads the container's CRI log file (the pod's log_directory joined with the container's log_path, written by its monitor, conmon) in-process, as crictl reads it with kubelet's reader: the container's stdout lines to stdout, its stderr lines to stderr, partial records joined into their lines.

--tail N prints the last N records of the file (a line longer than the monitor's 8 KiB read is several records). --since takes a duration before now (42m, 1h30m), an RFC 3339 time (2024-01-02T13:23:37Z; without a zone, UTC) or Unix seconds. --timestamps prefixes each line with its time at nanosecond width. -p reads the previous attempt's file beside this one (kubelet's <attempt>.log naming: .../web/1.log for attempt 2). -f reads on while the container runs and ends when it has exited; Ctrl-C ends it with status 0.

With --runtime-endpoint, as crictl logs: the runtime's ContainerStatus gives the log path, and the file is read here, so the client runs on the runtime's node; -f reads on while the runtime reports the container running.

-t is --timestamps, as crictl's; the global operation timeout is then set with PODCTL_TIMEOUT (logs -f never times out).

EXIT STATUS
${exitStatusHelp}`

  static override examples = [
    {description: 'Every line the container wrote', command: '<%= config.bin %> <%= command.id %> web'},
    {description: 'Follow the last 10 lines while it runs', command: '<%= config.bin %> <%= command.id %> -f --tail 10 9c1e'},
    {description: 'The last five minutes, with timestamps', command: '<%= config.bin %> <%= command.id %> --since 5m -t web'},
    {description: 'The previous attempt of a restarted container', command: '<%= config.bin %> <%= command.id %> -p web'},
  ]

  static override args = {
    container: Args.string({description: 'container ID, unique ID prefix or container name', required: true}),
  }

  static override flags = {
    follow: Flags.boolean({char: 'f', description: 'read on while the container runs; end when it has exited'}),
    tail: Flags.integer({description: 'print only the last N records of the file (-1: all)', default: -1, min: -1}),
    since: Flags.string({description: 'only records since this time: a duration before now (42m), an RFC 3339 time or Unix seconds'}),
    timestamps: Flags.boolean({char: 't', description: 'prefix each line with its timestamp'}),
    previous: Flags.boolean({char: 'p', description: "the previous attempt's log"}),
    'limit-bytes': Flags.integer({description: 'stop after this many bytes of output (-1: no limit)', default: -1, min: -1}),
    // -t is --timestamps here, as crictl's: the global timeout keeps its long name and PODCTL_TIMEOUT.
    timeout: Flags.string({env: 'PODCTL_TIMEOUT', helpGroup: 'GLOBAL', description: 'give up after this long, e.g. 30s (not with -f) [default: 60s]'}),
  }

  async run(): Promise<void> {
    const {follow, since, timestamps, previous, tail} = this.flags
    // With --runtime-endpoint, as crictl logs: the runtime names the file, read here.
    const rt = this.settings.runtimeEndpoint ? undefined : this.containerRuntime({untimed: follow})
    const {containerLogs, parseSince, remoteContainerLogs} = await import('../runtime/container-logs.js')
    const {nowNanos} = await import('../runtime/stats.js')
    const options = {follow, tail, timestamps, previous, limitBytes: this.flags['limit-bytes'], since: since === undefined ? undefined : parseSince(since, nowNanos())}
    const write = (stream: 'stdout' | 'stderr', data: Buffer) => {
      const out = stream === 'stdout' ? process.stdout : process.stderr
      // Backpressure: a slow reader of the pipe holds the file reading back.
      if (!out.write(data)) return new Promise<void>((resolve) => out.once('drain', resolve))
    }
    // A reader that closes the pipe (head) ends the logs quietly.
    process.stdout.on('error', () => process.exit())
    const signal = rt ? rt.ctx.signal : this.interrupted()
    try {
      if (rt) {
        await containerLogs(rt, this.args.container, options, {write})
      } else {
        const containers = await this.containerBackend()
        await remoteContainerLogs(containers, await this.mustResolveContainer(containers, this.args.container), options, {write, signal})
      }
    } catch (err) {
      // Ctrl-C is how a follow ends, as crictl's.
      if (follow && signal.aborted) return
      throw err
    }
  }
}
