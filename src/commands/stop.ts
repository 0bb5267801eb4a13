import {Args, Flags} from '../cli/oclif.js'

import {BaseCommand, exitStatusHelp} from '../base-command.js'

export default class Stop extends BaseCommand<typeof Stop> {
  static override summary = 'Stop one or more running containers'
  static override description = `Sends each container's stop signal (the image's StopSignal, else SIGTERM), waits up to --timeout seconds for it to exit, then sends SIGKILL. With --timeout 0 (the default, as crictl's) it is killed at once. The container is then EXITED, its exit code kept, until rm.

Idempotent, as the CRI requires: stopping a container that is not running succeeds. Containers are stopped in order; the first failure stops the command. A container name or ID that matches nothing is an error (exit 3).

EXIT STATUS
${exitStatusHelp}`

  static override examples = [
    {description: 'Stop a container, giving it 10 seconds', command: '<%= config.bin %> <%= command.id %> -t 10 9c1e'},
    {description: 'Kill every running container', command: '<%= config.bin %> <%= command.id %> $(<%= config.bin %> ps -q)'},
  ]

  static override strict = false
  static override args = {
    container: Args.string({description: 'container ID, unique ID prefix or container name; repeat for several', required: true}),
  }

  static override flags = {
    timeout: Flags.integer({char: 't', description: 'seconds to wait after the stop signal before SIGKILL (0: SIGKILL at once)', default: 0, min: 0}),
  }

  async run(): Promise<void> {
    // Its own -t shadows the global --timeout (a duration): here it is seconds, as crictl's.
    const seconds = (this.flags as unknown as {timeout: number}).timeout
    // The whole command may wait the grace period per container.
    this.settings.timeoutMs += seconds * 1000 * this.positionals.length
    const containers = await this.containerBackend()
    const {wrap} = await import('../runtime/errors.js')
    for (const ref of this.positionals) {
      await (async () => containers.stopContainer(await this.mustResolveContainer(containers, ref), seconds))().catch((err) => {
        throw wrap(`stopping the container "${ref}"`, err)
      })
      this.out(ref)
    }
  }
}
