import {Args} from '../cli/oclif.js'

import {BaseCommand, exitStatusHelp} from '../base-command.js'

export default class Stopp extends BaseCommand<typeof Stopp> {
  static override summary = 'Stop one or more running pods'
  static override description = `Kills each pod's pause process and deletes its runtime container and cgroup, tears down its network with CNI DEL (releasing its IP) and removes its network namespace. The pod stays, NotReady, until rmp.

Idempotent, as the CRI requires: stopping a stopped pod, or an ID that matches no pod, succeeds. Pods are stopped in order; the first failure stops the command.

EXIT STATUS
${exitStatusHelp}`

  static override examples = [
    {description: 'Stop a pod by ID prefix', command: '<%= config.bin %> <%= command.id %> 3f2a'},
    {description: 'Stop every pod', command: '<%= config.bin %> <%= command.id %> $(<%= config.bin %> pods -q)'},
  ]

  static override strict = false
  static override args = {
    pod: Args.string({description: 'pod ID, unique ID prefix or pod name; repeat for several', required: true}),
  }

  async run(): Promise<void> {
    const backend = await this.backend()
    for (const ref of this.positionals) {
      await backend.stopPod(ref)
      // crictl echoes the ID as typed.
      this.out(`Stopped sandbox ${ref}`)
    }
  }
}
