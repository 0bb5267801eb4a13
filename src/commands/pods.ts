import {Flags} from '../cli/oclif.js'

import {BaseCommand, exitStatusHelp} from '../base-command.js'
import {podFilter, podFilterFlags} from '../flags/filter.js'
import {outputFlag, quietFlag} from '../flags/output.js'
import {toJson, toYamlText} from '../render/format.js'
import {podsTable, podsVerbose, withRfc3339} from '../render/pods.js'
import {listPods, toPodSandbox} from '../runtime/sandbox.js'

export default class Pods extends BaseCommand<typeof Pods> {
  static override summary = 'List pods'
  static override description = `Lists pods, newest first, with crictl's columns: POD ID, CREATED, STATE, NAME, NAMESPACE, ATTEMPT, RUNTIME. STATE is derived from the live system on every call: a pod whose pause process died shows NotReady.

--name and --namespace are unanchored regular expressions, as crictl's; anchor them (^name$) for an exact match. -o json prints {"items": [...]} with crictl's lowerCamelCase keys and enum names; unlike crictl, createdAt is an RFC 3339 time there too, the same as inspectp prints it.

EXIT STATUS
${exitStatusHelp}`

  static override examples = [
    {description: 'List every pod', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'IDs of ready pods in namespace "default"', command: '<%= config.bin %> <%= command.id %> -q --state ready --namespace "^default$"'},
    {description: 'Pods with a label, as JSON', command: '<%= config.bin %> <%= command.id %> --label app=web -o json'},
  ]

  static override flags = {
    ...podFilterFlags,
    verbose: Flags.boolean({char: 'v', description: 'print a block of details per pod instead of a table'}),
    quiet: quietFlag('print only pod IDs, one per line'),
    output: outputFlag({formats: ['table', 'json', 'yaml'], default: 'table'}),
    'no-trunc': Flags.boolean({description: 'do not truncate pod IDs'}),
  }

  async run(): Promise<void> {
    const rt = this.runtime()
    const pods = (await listPods(rt, podFilter(this.flags))).map(toPodSandbox)
    const {output, quiet, verbose} = this.flags
    if (quiet) {
      if (pods.length > 0) this.out(pods.map((p) => p.id).join('\n'))
      return
    }
    if (output === 'json') return this.out(toJson({items: pods.map(withRfc3339)}))
    if (output === 'yaml') return this.out(toYamlText({items: pods.map(withRfc3339)}))
    if (verbose) {
      if (pods.length > 0) this.out(podsVerbose(pods))
      return
    }
    this.out(podsTable(pods, this.flags['no-trunc']))
  }
}
