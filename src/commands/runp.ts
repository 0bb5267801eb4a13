import {Args, Flags} from '../cli/oclif.js'

import {BaseCommand, exitStatusHelp} from '../base-command.js'
import {readPodSandboxConfig} from '../runtime/podconfig.js'

export default class Runp extends BaseCommand<typeof Runp> {
  static override summary = 'Run a new pod'
  static override description = `Reads a CRI PodSandboxConfig (JSON or YAML, crictl's snake_case keys; lowerCamelCase keys and enum names such as "NODE" are accepted too), starts its pause container with the OCI runtime in a new network namespace attached with CNI, and prints the 64-hex pod ID and nothing else.

Unknown keys are reported on stderr with a did-you-mean (crictl ignores them silently). A missing metadata.uid gets a random UUID. If any step fails, everything made so far is undone; if the undo fails too, the pod is kept as NotReady so that rmp can finish.

"runp jsonschema" prints the JSON Schema of the config instead (see podctl runp jsonschema --help); a config file named jsonschema is run as ./jsonschema.

EXIT STATUS
${exitStatusHelp}`

  static override examples = [
    {description: 'Run a pod from a config file', command: '<%= config.bin %> <%= command.id %> pod.json'},
    {description: 'Run it with crun instead of the default runtime', command: '<%= config.bin %> <%= command.id %> --runtime crun pod.yaml'},
    {description: 'Keep the ID for later verbs', command: 'POD=$(<%= config.bin %> <%= command.id %> pod.json) && <%= config.bin %> inspectp "$POD"'},
  ]

  static override args = {
    config: Args.string({description: 'pod sandbox config file (JSON or YAML)', required: true}),
  }

  static override flags = {
    runtime: Flags.string({
      char: 'r',
      description: 'runtime handler to use: runc, crun, or one under "runtimes" in the config file [default: the config file\'s default-runtime, else runc]',
      default: '',
    }),
  }

  async run(): Promise<void> {
    const backend = await this.backend()
    const {config, warnings} = await readPodSandboxConfig(this.args.config)
    for (const w of warnings) this.warning(w)
    const id = await backend.runPod(config, this.flags.runtime)
    this.out(id)
  }
}
