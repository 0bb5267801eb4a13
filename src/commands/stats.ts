import {Args, Flags} from '../cli/oclif.js'

import {BaseCommand, exitStatusHelp} from '../base-command.js'
import {labels} from '../flags/filter.js'
import {outputFlag} from '../flags/output.js'

export default class Stats extends BaseCommand<typeof Stats> {
  static override summary = 'List container resource usage statistics'
  static override description = `Prints CPU, memory and writable layer figures of running containers, read in-process from each container's cgroup (cgroup v1 or v2) and its overlay upper directory, sorted by container ID as crictl's.

The table samples twice, --seconds apart, and shows CONTAINER, NAME, CPU % (of one core, over the sample), MEM (the working set: usage less inactive page cache, in decimal units), DISK (what the container wrote to its writable layer, allocated blocks as du counts them) and INODES (the layer's inodes). Without -a, containers with neither CPU nor memory use are left out, as crictl's.

-o json and -o yaml print {"stats": [ContainerStats...]} with the CRI's field names in lowerCamelCase and 64-bit integers as strings, one sample at once (cpu.usageNanoCores null); with an explicit -s/--seconds they sample twice and fill it in.

With --runtime-endpoint the figures are that CRI runtime's ListContainerStats, filtered there by container, pod and labels; CPU % is over the interval between two of its samples, as above.

--watch prints a new sample every --seconds until interrupted (Ctrl-C ends it with status 0); on a terminal the table is redrawn in place.

EXIT STATUS
${exitStatusHelp}`

  static override examples = [
    {description: 'CPU, memory and disk of every running container, over one second', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'The containers of one pod, idle ones too', command: '<%= config.bin %> <%= command.id %> -a -p web'},
    {description: 'Writable layer bytes of one container', command: `<%= config.bin %> <%= command.id %> -o json 9c1e | jq -r '.stats[0].writableLayer.usedBytes.value'`},
  ]

  static override args = {
    container: Args.string({description: 'container ID, unique ID prefix or container name (the same as --id)'}),
  }

  static override flags = {
    all: Flags.boolean({char: 'a', description: 'also show containers with neither CPU nor memory use'}),
    id: Flags.string({description: 'only this container: ID, unique ID prefix or name'}),
    pod: Flags.string({char: 'p', description: 'only the containers of this pod: ID, unique ID prefix or name'}),
    label: Flags.string({description: 'only containers with this key=value label; repeat to AND several', multiple: true}),
    output: outputFlag({formats: ['table', 'json', 'yaml'], default: 'table'}),
    seconds: Flags.integer({char: 's', min: 1, description: 'sample CPU usage over this many seconds; with --watch, the interval [default: 1]'}),
    watch: Flags.boolean({char: 'w', description: 'print a new sample every --seconds until interrupted'}),
  }

  async run(): Promise<void> {
    const {output, watch, all} = this.flags
    const seconds = this.flags.seconds ?? 1
    const {notFoundError, usageError} = await import('../runtime/errors.js')
    if (this.flags.id !== undefined && this.args.container !== undefined && this.flags.id !== this.args.container) {
      throw usageError('give the container as an argument or with --id, not both')
    }
    this.widenTimeoutForSampling(seconds, watch)
    const rateFirst = output === 'table' || this.flags.seconds !== undefined
    if (this.settings.runtimeEndpoint) {
      // The runtime's ListContainerStats, filtered there; references resolve through ContainerStatus and PodSandboxStatus.
      const ref = this.flags.id ?? this.args.container
      const containers = await this.containerBackend()
      const id = ref === undefined ? undefined : await this.mustResolveContainer(containers, ref)
      let podSandboxId: string | undefined
      if (this.flags.pod !== undefined) {
        const pod = await (await this.backend()).resolve(this.flags.pod)
        if (pod === null) throw notFoundError(`pod "${this.flags.pod}" not found`, 'list pods with: podctl pods')
        podSandboxId = pod
      }
      const {containerStatsTable} = await import('../render/stats.js')
      const samples = (await this.containerTools()).sampleContainerStats({id, podSandboxId, labelSelector: labels(this.flags.label)}, {seconds, rateFirst})
      await this.printSamples(samples, output, watch, {document: (stats) => ({stats}), table: (stats) => containerStatsTable(stats, all)})
      return
    }
    const rt = this.containerRuntime()
    const {resolveContainer} = await import('../runtime/container.js')
    const {sampleContainerStats} = await import('../runtime/container-stats.js')
    const {containerStatsTable} = await import('../render/stats.js')
    const ref = this.flags.id ?? this.args.container
    const found = ref === undefined ? undefined : resolveContainer(rt, ref)
    if (found === null) throw notFoundError(`container "${ref}" not found`, 'list containers with: podctl ps -a')
    let podSandboxId: string | undefined
    if (this.flags.pod !== undefined) {
      const pod = await rt.store.resolve(this.flags.pod)
      if (pod === null) throw notFoundError(`pod "${this.flags.pod}" not found`, 'list pods with: podctl pods')
      podSandboxId = pod
    }
    const labelSelector = labels(this.flags.label)
    const filter = {id: found?.id, podSandboxId, labelSelector}
    await this.printSamples(sampleContainerStats(rt, filter, {seconds, rateFirst}), output, watch, {
      document: (stats) => ({stats}),
      table: (stats) => containerStatsTable(stats, all),
    })
  }
}

