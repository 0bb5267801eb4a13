import {Args} from '../cli/oclif.js'

import type {ContainerStatus} from '../cri/container-types.js'

import {BaseCommand, exitStatusHelp} from '../base-command.js'
import {goTemplate, outputFlag, quietFlag, templateFlag} from '../flags/output.js'
import {containerStatusTable, withContainerTimes} from '../render/containers.js'
import {statusDocuments} from '../render/format.js'
import {wrap} from '../runtime/errors.js'

export default class Inspect extends BaseCommand<typeof Inspect> {
  static override summary = 'Display the status of one or more containers'
  static override description = `Prints {"status": {...}, "info": {...}} for one container, and a JSON array of them for several. status is the CRI ContainerStatus (lowerCamelCase, enum names; createdAt, startedAt and finishedAt as RFC 3339, the zero time 0001-01-01T00:00:00Z for "not yet"); an exited container has its exitCode and a reason: Completed (0), Error, or OOMKilled. info holds the process's PID (as containerd's, so that jq .info.pid works), the monitor's PID, the config, the effective OCI spec, the rootfs and the cgroup. -q leaves info out.

-o go-template runs --template on each container's JSON object; see podctl(1), TEMPLATES.

EXIT STATUS
${exitStatusHelp}`

  static override examples = [
    {description: 'Inspect a container by ID prefix', command: '<%= config.bin %> <%= command.id %> 9c1e'},
    {description: 'Its PID on the host', command: '<%= config.bin %> <%= command.id %> 9c1e | jq .info.pid'},
    {description: 'State and exit code, with a Go template', command: `<%= config.bin %> <%= command.id %> -o go-template --template '{{.status.state}} {{.status.exitCode}}' 9c1e`},
  ]

  static override strict = false
  static override args = {
    container: Args.string({description: 'container ID, unique ID prefix or container name; repeat for several', required: true}),
  }

  static override flags = {
    output: outputFlag({formats: ['json', 'yaml', 'table', 'go-template'], default: 'json'}),
    template: templateFlag(),
    quiet: quietFlag('do not show verbose information (no info)'),
  }

  async run(): Promise<void> {
    const template = goTemplate(this.flags)
    const containers = await this.containerBackend()
    const results: {status: ContainerStatus; info?: Record<string, unknown>}[] = []
    for (const ref of this.positionals) {
      try {
        results.push(await containers.containerStatus(await this.mustResolveContainer(containers, ref), !this.flags.quiet))
      } catch (err) {
        throw wrap(`getting the status of the container "${ref}"`, err)
      }
    }
    const shaped = results.map((r) => (r.info ? {status: withContainerTimes(r.status), info: r.info} : {status: withContainerTimes(r.status)}))
    for (const text of statusDocuments(shaped, this.flags.output, template, () => results.map((r) => containerStatusTable(r.status, r.info)).join('\n'))) this.out(text)
  }
}
