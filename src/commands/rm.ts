import {Args, Flags} from '../cli/oclif.js'

import {BaseCommand, exitStatusHelp} from '../base-command.js'
import {messageOf, PodctlError, wrap} from '../runtime/errors.js'

export default class Rm extends BaseCommand<typeof Rm> {
  static override summary = 'Remove one or more containers'
  static override description = `Removes each container: its runtime container and cgroup, its monitor, its rootfs mount and writable layer, its name, its record. The log file is left, as kubelet expects. A RUNNING container is refused unless -f is given, which kills it first.

Every container is attempted; errors are reported and counted at the end. Removing a container that is already gone succeeds (the CRI says so), but an ID you typed that matches nothing is reported and makes the exit status 3.

EXIT STATUS
${exitStatusHelp}`

  static override examples = [
    {description: 'Remove an exited container', command: '<%= config.bin %> <%= command.id %> 9c1e'},
    {description: 'Kill and remove a running one', command: '<%= config.bin %> <%= command.id %> -f 9c1e'},
    {description: 'Remove every container', command: '<%= config.bin %> <%= command.id %> -af'},
  ]

  static override strict = false
  static override args = {
    container: Args.string({description: 'container ID, unique ID prefix or container name; repeat for several'}),
  }

  static override flags = {
    force: Flags.boolean({char: 'f', description: 'kill the container first if it is running'}),
    all: Flags.boolean({char: 'a', description: 'remove all containers (IDs given are ignored)'}),
  }

  async run(): Promise<void> {
    const {force, all} = this.flags
    if (!all && this.positionals.length === 0) {
      throw new PodctlError('no container ID given', {exitCode: 2, hint: `name at least one container, or use -a: ${this.config.bin} rm --help`})
    }
    const containers = await this.containerBackend()
    const targets = all ? (await containers.listContainers({})).map((c) => ({ref: c.id, found: c.id})) : this.positionals.map((ref) => ({ref, found: undefined}))
    if (all && targets.length === 0) {
      process.stderr.write('No containers to remove\n')
      return
    }
    const errors: PodctlError[] = []
    for (const {ref, found} of targets) {
      try {
        await containers.removeContainer(found ?? (await this.mustResolveContainer(containers, ref)), force)
        this.out(ref)
      } catch (err) {
        const e = wrap(`removing the container "${ref}"`, err instanceof PodctlError ? err : new PodctlError(messageOf(err), {cause: err}))
        if (targets.length === 1) throw e
        this.printError(e)
        errors.push(e)
      }
    }
    if (errors.length > 0) {
      const code = errors.every((e) => e.exitCode === errors[0].exitCode) ? errors[0].exitCode : 1
      throw new PodctlError(`failed to remove ${errors.length} of ${targets.length} containers`, {exitCode: code})
    }
  }
}
