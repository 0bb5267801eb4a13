import {Args} from '../cli/oclif.js'

import {BaseCommand, exitStatusHelp} from '../base-command.js'
import {podFilter, podFilterFlags} from '../flags/filter.js'
import {goTemplate, outputFlag, quietFlag, templateFlag} from '../flags/output.js'
import {statusDocuments} from '../render/format.js'
import {statusTable, withRfc3339} from '../render/pods.js'
import {notFoundError, usageError} from '../runtime/errors.js'

export default class Inspectp extends BaseCommand<typeof Inspectp> {
  static override summary = 'Display the status of one or more pods'
  static override description = `Prints {"status": {...}, "info": {...}} for one pod, and a JSON array of them for several. status is the CRI PodSandboxStatus (lowerCamelCase, enum names, createdAt as RFC 3339); info holds the pause PID, the config, the effective OCI spec, the CNI result, the network namespace path and the runtime used. -q leaves info out.

With no IDs, the filter flags select the pods, as crictl's.

-o go-template runs --template on each pod's JSON object ({"status": ..., "info": ...}) and prints one result per pod; see podctl(1), TEMPLATES, for what templates can do.

EXIT STATUS
${exitStatusHelp}`

  static override examples = [
    {description: 'Inspect a pod by ID prefix', command: '<%= config.bin %> <%= command.id %> 3f2a'},
    {description: 'The IP of the newest pod', command: `<%= config.bin %> <%= command.id %> --latest | jq -r .status.network.ip`},
    {description: 'Status only, as YAML', command: '<%= config.bin %> <%= command.id %> -q -o yaml 3f2a'},
    {description: 'The IP of a pod, with a Go template', command: `<%= config.bin %> <%= command.id %> -o go-template --template '{{.status.network.ip}}' 3f2a`},
    {description: 'Name and PID of every ready pod', command: `<%= config.bin %> <%= command.id %> -s ready -o go-template --template '{{.status.metadata.name}} {{.info.pid}}'`},
  ]

  static override strict = false
  static override args = {
    pod: Args.string({description: 'pod ID, unique ID prefix or pod name; repeat for several'}),
  }

  static override flags = {
    ...podFilterFlags,
    output: outputFlag({formats: ['json', 'yaml', 'table', 'go-template'], default: 'json'}),
    template: templateFlag(),
    quiet: quietFlag('do not show verbose information (no info)'),
  }

  async run(): Promise<void> {
    const template = goTemplate(this.flags)
    const backend = await this.backend()
    let ids: string[]
    if (this.positionals.length > 0) {
      ids = []
      for (const ref of this.positionals) {
        const id = await backend.resolve(ref)
        if (id === null) throw notFoundError(`pod "${ref}" not found`, 'list pods with: podctl pods')
        ids.push(id)
      }
    } else {
      ids = (await backend.listPods(podFilter(this.flags))).map((p) => p.id)
      if (ids.length === 0) throw usageError('no IDs provided or nothing found per filter', `give a pod ID, or see: ${this.config.bin} inspectp --help`)
    }
    const results = await Promise.all(ids.map((id) => backend.podStatus(id, !this.flags.quiet)))
    const shaped = results.map((r) => (r.info ? {status: withRfc3339(r.status), info: r.info} : {status: withRfc3339(r.status)}))
    for (const text of statusDocuments(shaped, this.flags.output, template, () => results.map((r) => statusTable(r.status, r.info)).join('\n'))) this.out(text)
  }
}
