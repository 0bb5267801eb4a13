import {Flags} from '../cli/oclif.js'

import {BaseCommand, exitStatusHelp} from '../base-command.js'
import {containerFilter, containerFilterFlags} from '../flags/filter.js'
import {outputFlag, quietFlag} from '../flags/output.js'
import {containersTable, containersVerbose} from '../render/containers.js'
import {toJson, toYamlText} from '../render/format.js'
import {withRfc3339} from '../render/pods.js'

export default class Ps extends BaseCommand<typeof Ps> {
  static override summary = 'List containers'
  static override description = `Lists containers, newest first, with crictl's columns: CONTAINER, IMAGE, CREATED, STATE, NAME, ATTEMPT, POD ID, POD. Without -a only running containers are shown, as crictl's; -s selects one state, and -l/-n the newest of any state. STATE is derived from the live system on every call (the process and its monitor's exit file).

--name is an unanchored regular expression, as crictl's; --image matches containers whose image is the same image (by ID) as the reference given. -o json prints {"containers": [...]} with crictl's lowerCamelCase keys and enum names; createdAt there is an RFC 3339 time, as pods prints it.

EXIT STATUS
${exitStatusHelp}`

  static override examples = [
    {description: 'Running containers', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Every container of a pod', command: '<%= config.bin %> <%= command.id %> -a --pod 3f2a'},
    {description: 'IDs of exited containers', command: '<%= config.bin %> <%= command.id %> -q -s exited'},
  ]

  static override flags = {
    ...containerFilterFlags,
    verbose: Flags.boolean({char: 'v', description: 'print a block of details per container instead of a table'}),
    quiet: quietFlag('print only container IDs, one per line'),
    output: outputFlag({formats: ['table', 'json', 'yaml'], default: 'table'}),
    'no-trunc': Flags.boolean({description: 'do not truncate IDs'}),
  }

  async run(): Promise<void> {
    const filter = containerFilter(this.flags)
    let containers = await (await this.containerBackend()).listContainers(filter)
    if (filter.name) containers = containers.filter((c) => filter.name!.test(c.metadata.name))
    if (this.flags.image !== undefined) {
      // The image the reference names, as the runtime's image service resolves it (crictl does the same).
      const want = (await (await this.imageBackend()).imageStatus(this.flags.image, false)).image?.id
      containers = want ? containers.filter((c) => c.imageRef === want) : []
    }
    if (filter.last) containers = containers.slice(0, filter.last)
    const {output, quiet, verbose} = this.flags
    if (quiet) {
      if (containers.length > 0) this.out(containers.map((c) => c.id).join('\n'))
      return
    }
    if (output === 'json') return this.out(toJson({containers: containers.map(withRfc3339)}))
    if (output === 'yaml') return this.out(toYamlText({containers: containers.map(withRfc3339)}))
    if (verbose) {
      if (containers.length > 0) this.out(containersVerbose(containers))
      return
    }
    this.out(containersTable(containers, this.flags['no-trunc']))
  }
}
