import {Args} from '../cli/oclif.js'

import {BaseCommand, exitStatusHelp} from '../base-command.js'

export default class Start extends BaseCommand<typeof Start> {
  static override summary = 'Start one or more created containers'
  static override description = `Starts each container's process (runc start); the container is then RUNNING until its process exits. Only a CREATED container can be started. Containers are started in order; the first failure stops the command.

EXIT STATUS
${exitStatusHelp}`

  static override examples = [{description: 'Start a container by ID prefix', command: '<%= config.bin %> <%= command.id %> 9c1e'}]

  static override strict = false
  static override args = {
    container: Args.string({description: 'container ID, unique ID prefix or container name; repeat for several', required: true}),
  }

  async run(): Promise<void> {
    const containers = await this.containerBackend()
    const {wrap} = await import('../runtime/errors.js')
    for (const ref of this.positionals) {
      await (async () => containers.startContainer(await this.mustResolveContainer(containers, ref)))().catch((err) => {
        throw wrap(`starting the container "${ref}"`, err)
      })
      this.out(ref)
    }
  }
}
