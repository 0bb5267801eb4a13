import {BaseCommand, exitStatusHelp} from '../../base-command.js'
import {podSandboxConfigSchema} from '../../cri/jsonschema.js'
import {toJson} from '../../render/format.js'

export default class RunpJsonschema extends BaseCommand<typeof RunpJsonschema> {
  static override summary = 'Print the JSON Schema of the pod config runp reads'
  static override description = `Prints a JSON Schema (draft 2020-12) of CRI PodSandboxConfig, as crictl runp jsonschema does, for editors to complete and check pod configs with. It is derived from the same CRI message table the runp parser walks, so it accepts what runp accepts: snake_case keys or their lowerCamelCase JSON names, enum names (in any case) or numbers, integers as numbers or decimal strings. It flags unknown keys, which runp warns about and ignores. Values that depend on the host (sysctls, resources, IP addresses) are checked by runp only.

"runp jsonschema" is this command only when "jsonschema" directly follows "runp"; to run a pod config file named jsonschema, give a path: podctl runp ./jsonschema.

EXIT STATUS
${exitStatusHelp}`

  static override aliases = ['runp:js']

  static override examples = [
    {description: 'Save the schema', command: '<%= config.bin %> <%= command.id %> > pod-config.schema.json'},
    {description: 'Have editors that use yaml-language-server check and complete pod.yaml with it', command: "sed -i '1i # yaml-language-server: $schema=./pod-config.schema.json' pod.yaml"},
    {description: 'The names a namespace mode may take', command: `<%= config.bin %> <%= command.id %> | jq '."$defs".NamespaceOption.properties.network'`},
  ]

  async run(): Promise<void> {
    this.out(toJson(podSandboxConfigSchema()))
  }
}
