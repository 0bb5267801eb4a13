import {Args, Flags} from '../cli/oclif.js'

import {BaseCommand, exitStatusHelp} from '../base-command.js'
import {podFilter, podFilterFlags} from '../flags/filter.js'
import {outputFlag} from '../flags/output.js'
import {statsDocument, statsTable} from '../render/stats.js'
import {notFoundError, usageError} from '../runtime/errors.js'

export default class Statsp extends BaseCommand<typeof Statsp> {
  static override summary = 'List pod statistics'
  static override description = `Prints CPU, memory, network and process figures of ready pods, read in-process from each pod's cgroup (cgroup v1 or v2) and from its network namespace (/proc/<pause pid>/net/dev), sorted by pod ID as crictl's.

The table samples twice, --seconds apart, and shows POD, POD ID, CPU % (of one core, over the sample), MEM (the working set: usage less inactive page cache, in decimal units), NET RX/TX (bytes received and sent by the pod's interfaces, loopback left out) and PIDS (processes in the pod cgroup and below). A NotReady pod is listed with "-" for each figure.

-o json and -o yaml print {"stats": [PodSandboxStats...]} with the CRI's field names in lowerCamelCase and 64-bit integers as strings, as crictl; NotReady pods are left out. Like crictl they print one sample at once, so cpu.usageNanoCores is null; with an explicit -s/--seconds they sample twice, that far apart, and fill it in. memory.availableBytes (limit less working set) is null when the pod has no memory limit, where containerd says 0; network is null for a pod on the host network; network.interfaces lists every interface of the pod's namespace, eth0 being the defaultInterface.

--watch prints a new sample every --seconds until interrupted (Ctrl-C ends it with status 0). On a terminal the table is redrawn in place; piped, each table follows the last, and unlike crictl podctl never writes clear-screen codes to a pipe or file. JSON and YAML are streamed, one document per sample, each after the first with cpu.usageNanoCores over the interval. --timeout does not end a watch.

EXIT STATUS
${exitStatusHelp}`

  static override examples = [
    {description: 'CPU, memory, network and processes of every pod, over one second', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'One pod, by ID prefix, sampled over five seconds', command: '<%= config.bin %> <%= command.id %> -s 5 3f2a'},
    {description: 'Working set bytes of the pods labelled app=web', command: `<%= config.bin %> <%= command.id %> --label app=web -o json | jq -r '.stats[] | "\\(.attributes.metadata.name) \\(.linux.memory.workingSetBytes.value)"'`},
    {description: 'Watch every pod until Ctrl-C', command: '<%= config.bin %> <%= command.id %> -w'},
  ]

  static override args = {
    pod: Args.string({description: 'pod ID, unique ID prefix or pod name (the same as --id)'}),
  }

  static override flags = {
    id: podFilterFlags.id,
    label: podFilterFlags.label,
    output: outputFlag({formats: ['table', 'json', 'yaml'], default: 'table'}),
    seconds: Flags.integer({char: 's', min: 1, description: 'sample CPU usage over this many seconds; with --watch, the interval [default: 1]'}),
    watch: Flags.boolean({char: 'w', description: 'print a new sample every --seconds until interrupted'}),
  }

  async run(): Promise<void> {
    const {output, watch} = this.flags
    const seconds = this.flags.seconds ?? 1
    if (this.flags.id !== undefined && this.args.pod !== undefined && this.flags.id !== this.args.pod) {
      throw usageError('give the pod as an argument or with --id, not both')
    }
    this.widenTimeoutForSampling(seconds, watch)
    const backend = await this.backend()
    const ref = this.flags.id ?? this.args.pod
    const id = ref === undefined ? undefined : await backend.resolve(ref)
    if (id === null) throw notFoundError(`pod "${ref}" not found`, 'list pods with: podctl pods')
    const filter = {...podFilter({label: this.flags.label}), id}
    const rateFirst = output === 'table' || this.flags.seconds !== undefined
    await this.printSamples(backend.samplePodSandboxStats(filter, {seconds, rateFirst}), output, watch, {document: statsDocument, table: statsTable})
  }
}
