import {Flags} from '../cli/oclif.js'

import {BaseCommand, exitStatusHelp} from '../base-command.js'
import {podFilter, podFilterFlags} from '../flags/filter.js'
import {goTemplate, outputFlag, quietFlag, templateFlag} from '../flags/output.js'
import {toJson, toYamlText} from '../render/format.js'
import {podsTable, podsVerbose, withRfc3339} from '../render/pods.js'
import {ExitCode} from '../runtime/errors.js'

export default class Pods extends BaseCommand<typeof Pods> {
  static override summary = 'List pods'
  static override description = `Lists pods, newest first, with crictl's columns: POD ID, CREATED, STATE, NAME, NAMESPACE, ATTEMPT, RUNTIME. STATE is derived from the live system on every call: a pod whose pause process died shows NotReady.

--name and --namespace are unanchored regular expressions, as crictl's; --name-exact and --namespace-exact match the whole string instead (crictl has no such option). -o json prints {"items": [...]} with crictl's lowerCamelCase keys and enum names; unlike crictl, createdAt is an RFC 3339 time there too, the same as inspectp prints it. -o go-template runs --template on that same {"items": [...]} object.

An empty result exits 0, as crictl's; with --exit-code it exits 6 instead (the output is unchanged), so that a script can test for a pod as it would with grep.

EXIT STATUS
${exitStatusHelp}`

  static override examples = [
    {description: 'List every pod', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'IDs of ready pods in namespace "default"', command: '<%= config.bin %> <%= command.id %> -q --state ready --namespace "^default$"'},
    {description: 'Pods with a label, as JSON', command: '<%= config.bin %> <%= command.id %> --label app=web -o json'},
    {description: 'Name and ID of every pod, one per line', command: `<%= config.bin %> <%= command.id %> -o go-template --template '{{range .items}}{{.metadata.name}} {{.id}}{{"\\n"}}{{end}}'`},
    {description: 'Does a pod named "web" exist? (exit 0 if so, 6 if not)', command: '<%= config.bin %> <%= command.id %> -q --name-exact web --exit-code'},
  ]

  static override flags = {
    ...podFilterFlags,
    verbose: Flags.boolean({char: 'v', description: 'print a block of details per pod instead of a table'}),
    quiet: quietFlag('print only pod IDs, one per line'),
    output: outputFlag({formats: ['table', 'json', 'yaml', 'go-template'], default: 'table'}),
    template: templateFlag(),
    'no-trunc': Flags.boolean({description: 'do not truncate pod IDs'}),
    'exit-code': Flags.boolean({description: 'exit with status 6 when no pod matches the filters (default: 0, as crictl)'}),
  }

  async run(): Promise<void> {
    const template = goTemplate(this.flags)
    const filter = podFilter(this.flags)
    const backend = await this.backend()
    const pods = (await backend.listPods(filter))
    if (pods.length === 0 && this.flags['exit-code']) process.exitCode = ExitCode.noMatch
    const {output, quiet, verbose} = this.flags
    if (quiet) {
      if (pods.length > 0) this.out(pods.map((p) => p.id).join('\n'))
      return
    }
    if (output === 'json') return this.out(toJson({items: pods.map(withRfc3339)}))
    if (output === 'yaml') return this.out(toYamlText({items: pods.map(withRfc3339)}))
    if (template) {
      // As crictl prints a template's result: with a newline after it, unless it ends with one.
      const text = template.execute({items: pods.map(withRfc3339)})
      if (text) this.out(text)
      return
    }
    if (verbose) {
      if (pods.length > 0) this.out(podsVerbose(pods))
      return
    }
    this.out(podsTable(pods, this.flags['no-trunc']))
  }
}
