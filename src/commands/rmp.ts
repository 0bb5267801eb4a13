import {Args, Flags} from '../cli/oclif.js'

import {BaseCommand, exitStatusHelp} from '../base-command.js'
import {progressLine} from '../render/progress.js'
import {messageOf, notFoundError, PodctlError, wrap} from '../runtime/errors.js'
import {limiter} from '../runtime/exec.js'

/** Pods removed at once by rmp -a. */
const parallelRemovals = 4

export default class Rmp extends BaseCommand<typeof Rmp> {
  static override summary = 'Remove one or more pods'
  static override description = `Removes each pod: the stop path first (kill the pause process and delete its runtime container, CNI DEL, remove the network namespace), then the pod's files and its name reservation. The pod's log directory is left, as kubelet expects.

A READY pod is refused unless -f is given. Every pod is attempted; errors are collected and reported at the end. With -a, up to four pods are removed at a time; the lines about them still come in the order of the listing. When stderr is a terminal and there are several pods, a progress line ("removing pod 3 of 40") is shown there; nothing of it is written to a pipe or file. Removing a pod that is already gone succeeds (the CRI says so), but an ID you typed that matches no pod is reported and makes the exit status 3.

EXIT STATUS
${exitStatusHelp}`

  static override examples = [
    {description: 'Remove a stopped pod', command: '<%= config.bin %> <%= command.id %> 3f2a'},
    {description: 'Stop and remove a running pod', command: '<%= config.bin %> <%= command.id %> -f 3f2a'},
    {description: 'Wipe every pod', command: '<%= config.bin %> <%= command.id %> -af'},
  ]

  static override strict = false
  static override args = {
    pod: Args.string({description: 'pod ID, unique ID prefix or pod name; repeat for several'}),
  }

  static override flags = {
    force: Flags.boolean({char: 'f', description: 'stop the pod first if it is running'}),
    all: Flags.boolean({char: 'a', description: 'remove all pods (IDs given are ignored)'}),
  }

  async run(): Promise<void> {
    const backend = await this.backend()
    const {force, all} = this.flags
    if (!all && this.positionals.length === 0) {
      throw new PodctlError('no pod ID given', {exitCode: 2, hint: `name at least one pod, or use -a: ${this.config.bin} rmp --help`})
    }
    const refs = all ? await backend.listIds() : this.positionals
    if (all && refs.length === 0) {
      process.stderr.write('No pods to remove\n')
      return
    }
    const errors: PodctlError[] = []
    // Only a terminal sees it; cleared before each line of data.
    const progress = progressLine(refs.length > 1 ? process.stderr : undefined)
    // -a: several pods at a time, as podman removes them; a removal mostly
    // waits for its helper processes (runc delete, the CNI plugins). Pods
    // named one by one go one after the other, so that a pod named twice is
    // found by the first name only, as it always was. What is said of each pod
    // comes in the order of the pods either way.
    const inTurn = limiter(all ? parallelRemovals : 1)
    const removals = refs.map((ref) =>
      inTurn(async () => {
        const id = await backend.resolve(ref)
        if (id === null) throw notFoundError(`pod "${ref}" not found`)
        return backend.removePod(id, {force})
      }).then(
        (removed) => ({removed}),
        (err: unknown) => ({err}),
      ),
    )
    for (const [i, ref] of refs.entries()) {
      progress.update(`removing pod ${i + 1} of ${refs.length}: ${ref}`)
      const outcome = await removals[i]
      progress.clear()
      if ('removed' in outcome) {
        if (outcome.removed.stopped) this.out(`Stopped sandbox ${ref}`)
        this.out(`Removed sandbox ${ref}`)
      } else {
        const err = outcome.err
        const e = err instanceof PodctlError ? err : new PodctlError(messageOf(err), {cause: err})
        // One pod: its error is the command's, on one line; several: each is said, then a count.
        if (refs.length === 1) throw wrap(`removing the pod sandbox "${ref}"`, e)
        this.printError(wrap(`removing the pod sandbox "${ref}"`, e))
        errors.push(e)
      }
    }
    if (errors.length > 0) {
      const code = errors.every((e) => e.exitCode === errors[0].exitCode) ? errors[0].exitCode : 1
      throw new PodctlError(`failed to remove ${errors.length} of ${refs.length} pods`, {exitCode: code})
    }
  }
}
