import {Args, Flags} from '../cli/oclif.js'

import {BaseCommand, exitStatusHelp} from '../base-command.js'
import {ensureImage} from '../runtime/container-image.js'
import {usageError, wrap} from '../runtime/errors.js'

export default class Run extends BaseCommand<typeof Run> {
  static override summary = 'Run a new container inside a new pod'
  static override description = `What crictl run does: runs a pod from the pod config (as runp), pulls the container's image if it is not in the store (unless --no-pull), creates the container in the pod (as create) and starts it (as start), then prints the container's ID and nothing else.

As crictl's, a failure after the pod runs leaves the pod (remove it with podctl rmp -f); the container itself is rolled back by create, as always.

EXIT STATUS
${exitStatusHelp}`

  static override examples = [
    {description: 'Run a container in a new pod', command: '<%= config.bin %> <%= command.id %> container.json pod.json'},
    {description: 'Then see it', command: '<%= config.bin %> ps --pod $(<%= config.bin %> inspect -o go-template --template "{{.info.sandboxID}}" $(<%= config.bin %> <%= command.id %> container.json pod.json))'},
  ]

  static override args = {
    'container-config': Args.string({description: 'container config file (JSON or YAML)', required: true}),
    'pod-config': Args.string({description: 'pod sandbox config file (JSON or YAML)', required: true}),
  }

  static override flags = {
    runtime: Flags.string({char: 'r', description: 'runtime handler for the pod: runc, crun, or one under "runtimes" in the config file', default: ''}),
    'no-pull': Flags.boolean({description: 'do not pull the image: it must be in the store'}),
    'with-pull': Flags.boolean({description: 'pull the image if it is not in the store (the default)'}),
  }

  async run(): Promise<void> {
    if (this.flags['no-pull'] && this.flags['with-pull']) throw usageError('--no-pull and --with-pull cannot be used together')
    const [{readContainerConfig}, {readPodSandboxConfig}] = await Promise.all([import('../runtime/containerconfig.js'), import('../runtime/podconfig.js')])
    const {config, warnings} = readContainerConfig(this.args['container-config'])
    const pod = await readPodSandboxConfig(this.args['pod-config'])
    for (const w of [...warnings, ...pod.warnings]) this.warning(w)
    const [pods, containers, images] = await Promise.all([this.backend(), this.containerBackend(), this.imageBackend()])
    // The image first: a registry that fails leaves no pod behind.
    if (!this.flags['no-pull']) await ensureImage(images, config.image.image ?? '')
    const podId = await pods.runPod(pod.config, this.flags.runtime ?? '').catch((err) => {
      throw wrap('running container: run pod sandbox', err)
    })
    const id = await containers.createContainer(podId, config, pod.config).catch((err) => {
      throw wrap(`running container: creating container failed (the pod ${podId.slice(0, 13)} is left: podctl rmp -f ${podId.slice(0, 13)})`, err)
    })
    await containers.startContainer(id).catch((err) => {
      throw wrap(`running container: starting the container "${id}" (the pod ${podId.slice(0, 13)} is left: podctl rmp -f ${podId.slice(0, 13)})`, err)
    })
    this.out(id)
  }
}
