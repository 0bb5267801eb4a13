import {Args, Flags} from '../cli/oclif.js'

import {BaseCommand, exitStatusHelp} from '../base-command.js'

export default class Update extends BaseCommand<typeof Update> {
  static override summary = 'Update one or more running containers'
  static override description = `Changes the CPU and memory limits of running (or created) containers: the runtime applies them to each container's cgroup (runc update), and podctl keeps them in the container's record and spec, so inspect shows them and later updates start from them. A flag left out, or given as 0 or "", leaves its limit as it is, as crictl's. Containers are updated in order, each ID printed when done; the first failure stops the command.

Limits are checked as in a container config: a CFS period of 1000 to 1000000 microseconds, a quota of at least 1000 (-1: none), CPUs and memory nodes this host has. A memory limit below what the container already uses is refused by the kernel.

With --runtime-endpoint each container gets that CRI runtime's UpdateContainerResources with these six fields (0 and "" unchanged, as crictl sends them); podctl serve refuses by name any other field it cannot apply.

EXIT STATUS
${exitStatusHelp}`

  static override examples = [
    {description: 'Limit a container to half a CPU and 128 MiB', command: '<%= config.bin %> <%= command.id %> --cpu-quota 50000 --cpu-period 100000 --memory 134217728 web'},
    {description: 'Pin two containers to CPU 0', command: '<%= config.bin %> <%= command.id %> --cpuset-cpus 0 web sidecar'},
  ]

  static override strict = false
  static override args = {
    container: Args.string({description: 'container ID, unique ID prefix or container name; repeat for several', required: true}),
  }

  static override flags = {
    'cpu-period': Flags.integer({description: 'CPU CFS period, microseconds (0: unchanged)', default: 0, min: 0}),
    'cpu-quota': Flags.integer({description: 'CPU CFS quota per period, microseconds (-1: none; 0: unchanged)', default: 0, min: -1}),
    'cpu-share': Flags.integer({description: 'CPU shares, the relative weight (0: unchanged)', default: 0, min: 0}),
    'cpuset-cpus': Flags.string({description: 'CPUs the container may use, e.g. 0-2,4 ("": unchanged)', default: ''}),
    'cpuset-mems': Flags.string({description: 'memory nodes the container may use, e.g. 0 ("": unchanged)', default: ''}),
    memory: Flags.integer({description: 'memory limit, bytes (0: unchanged)', default: 0, min: 0}),
  }

  async run(): Promise<void> {
    const f = this.flags
    const {wrap} = await import('../runtime/errors.js')
    const update = {
      cpu_period: f['cpu-period'],
      cpu_quota: f['cpu-quota'],
      cpu_shares: f['cpu-share'],
      cpuset_cpus: f['cpuset-cpus'],
      cpuset_mems: f['cpuset-mems'],
      memory_limit_in_bytes: f.memory,
    }
    // With --runtime-endpoint, the runtime's UpdateContainerResources of each container the runtime resolves.
    let apply: (ref: string) => Promise<void>
    if (this.settings.runtimeEndpoint) {
      const [containers, tools] = [await this.containerBackend(), await this.containerTools()]
      apply = async (ref) => tools.updateContainer(await this.mustResolveContainer(containers, ref), update)
    } else {
      const rt = this.containerRuntime()
      const {updateContainer} = await import('../runtime/container-update.js')
      apply = (ref) => updateContainer(rt, ref, update)
    }
    for (const ref of this.positionals) {
      await apply(ref).catch((err) => {
        throw wrap(`updating the container "${ref}"`, err)
      })
      this.out(ref)
    }
  }
}
