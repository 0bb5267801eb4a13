import {Args, Flags} from '../cli/oclif.js'

import {BaseCommand, exitStatusHelp} from '../base-command.js'
import {ensureImage} from '../runtime/container-image.js'
import {usageError} from '../runtime/errors.js'

export default class Create extends BaseCommand<typeof Create> {
  static override summary = 'Create a new container in a pod'
  static override description = `Reads a CRI ContainerConfig (JSON or YAML, crictl's snake_case keys; lowerCamelCase keys and enum names are accepted too), creates the container in the ready pod POD and prints its 64-hex ID. The container is CREATED: its process waits for podctl start.

The image must be in the store already: create does not pull (crictl's default), unless --with-pull is given; an absent image is an error naming podctl pull. The container's rootfs is an overlay of the image's layer snapshots under a writable layer of its own; it joins the pod's network, IPC and UTS namespaces (and its PID namespace unless namespace_options.pid says CONTAINER), gets the pod's /etc/hosts, /etc/resolv.conf, /etc/hostname and /dev/shm, and a cgroup under the pod's. A monitor (conmon) is started for it: it holds the container's stdio, writes the CRI log (the pod's log_directory plus the config's log_path, else container.log in the container's directory) and keeps its exit code.

Unknown keys are reported on stderr with a did-you-mean; every field podctl cannot honour is refused by name. The pod config (crictl requires it) is read and checked; the pod's own config, as runp was given it, is what the container gets. If any step fails, everything made so far is undone.

EXIT STATUS
${exitStatusHelp}`

  static override examples = [
    {description: 'Create a container in a pod', command: '<%= config.bin %> <%= command.id %> 3f2a container.json pod.json'},
    {description: 'Create and start it', command: '<%= config.bin %> start $(<%= config.bin %> <%= command.id %> 3f2a container.json pod.json)'},
  ]

  static override args = {
    pod: Args.string({description: 'pod ID, unique ID prefix or pod name', required: true}),
    'container-config': Args.string({description: 'container config file (JSON or YAML)', required: true}),
    'pod-config': Args.string({description: 'pod sandbox config file (JSON or YAML), as crictl takes it'}),
  }

  static override flags = {
    'no-pull': Flags.boolean({description: 'do not pull the image (the default)'}),
    'with-pull': Flags.boolean({description: 'pull the image first if it is not in the store'}),
  }

  async run(): Promise<void> {
    if (this.flags['no-pull'] && this.flags['with-pull']) throw usageError('--no-pull and --with-pull cannot be used together')
    const {readContainerConfig} = await import('../runtime/containerconfig.js')
    const {config, warnings} = readContainerConfig(this.args['container-config'])
    for (const w of warnings) this.warning(w)
    let podConfig
    if (this.args['pod-config']) {
      const {readPodSandboxConfig} = await import('../runtime/podconfig.js')
      const pod = await readPodSandboxConfig(this.args['pod-config'])
      for (const w of pod.warnings) this.warning(w)
      podConfig = pod.config
    }
    const containers = await this.containerBackend()
    if (this.flags['with-pull']) await ensureImage(await this.imageBackend(), config.image.image ?? '')
    this.out(await containers.createContainer(this.args.pod, config, podConfig))
  }
}
