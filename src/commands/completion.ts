import {readFileSync} from 'node:fs'

import {Args, Flags} from '../cli/oclif.js'

import {BaseCommand, exitStatusHelp} from '../base-command.js'
import {bashCompletion, completionModel, fishCompletion, type ManifestCommand, shells, zshCompletion} from '../render/completion.js'
import {PodctlError, usageError} from '../runtime/errors.js'
import {Store} from '../runtime/store.js'


export default class Completion extends BaseCommand<typeof Completion> {
  static override summary = 'Print a shell completion script'
  static override description = `Prints a completion script for bash, zsh or fish. It completes verbs, flags, the values of flags with fixed choices (-o json|yaml|...), files where a file is expected, and the IDs and names of the pods that exist when you press TAB, wherever a pod is expected (stopp, rmp, inspectp, statsp, --id).

Verbs and flags are written into the script, so completing them runs nothing; regenerate the script after upgrading podctl. Pods are listed by running podctl itself, which reads the state directory only (the --root of the environment: PODCTL_ROOT or the config file); an error there completes nothing and prints nothing.

EXIT STATUS
${exitStatusHelp}`

  static override examples = [
    {description: 'Complete in this bash session', command: 'source <(<%= config.bin %> <%= command.id %> bash)'},
    {description: 'Complete in every bash session', command: '<%= config.bin %> <%= command.id %> bash > /etc/bash_completion.d/<%= config.bin %>'},
    {description: 'zsh: install into the first directory of $fpath (compinit must be loaded)', command: '<%= config.bin %> <%= command.id %> zsh > "${fpath[1]}/_<%= config.bin %>"'},
    {description: 'fish', command: '<%= config.bin %> <%= command.id %> fish > ~/.config/fish/completions/<%= config.bin %>.fish'},
  ]

  static override args = {
    shell: Args.string({description: `the shell: ${shells.join(', ')}`}),
  }

  static override flags = {
    // What the scripts run to complete pods: IDs and names, one per line, from the state directory alone.
    'list-pods': Flags.boolean({hidden: true, description: 'print pod IDs and names for completion'}),
  }

  async run(): Promise<void> {
    if (this.flags['list-pods']) return this.listPods()
    const shell = this.args.shell
    if (shell === undefined) throw usageError('missing shell: bash, zsh or fish', `e.g. source <(${this.config.bin} completion bash)`)
    if (!shells.includes(shell)) throw usageError(`unsupported shell "${shell}": use bash, zsh or fish`)
    const verbs = completionModel(readManifest())
    const render = {bash: bashCompletion, zsh: zshCompletion, fish: fishCompletion}[shell as 'bash' | 'zsh' | 'fish']
    this.out(render(this.config.bin, verbs))
  }

  /** Silent and cheap: records only (no /proc, no runtime), nothing on any error. */
  private async listPods(): Promise<void> {
    try {
      const {records} = await new Store(this.settings.root, this.settings.runRoot).listRecords()
      const words = records.flatMap((r) => [r.id, r.config.metadata.name].filter(Boolean))
      if (words.length > 0) this.out(words.join('\n'))
    } catch {
      // Completion must never print an error into the user's command line.
    }
  }
}

/** The command definitions, as `oclif manifest` wrote them at build time. */
function readManifest(): ManifestCommand[] {
  const path = new URL('../../../oclif.manifest.json', import.meta.url)
  try {
    return Object.values((JSON.parse(readFileSync(path, 'utf8')) as {commands: Record<string, ManifestCommand>}).commands)
  } catch (err) {
    throw new PodctlError(`cannot read the command definitions: ${(err as Error).message}`, {hint: 'reinstall podctl, or run `npm run build` in its source tree'})
  }
}
