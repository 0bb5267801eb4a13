import {Flags} from '../cli/oclif.js'

import {BaseCommand, exitStatusHelp} from '../base-command.js'
import {usageError} from '../runtime/errors.js'

export default class Load extends BaseCommand<typeof Load> {
  static override summary = 'Load images from an archive'
  static override description = `Loads every image of an oci-archive (a tar of an OCI image layout, as podman save --format oci-archive and skopeo copy ... oci-archive: write it) or a docker-archive (docker save, podman save), and prints "Loaded image: <name>" for each name, as podman load. Every blob is verified against its digest and each layer is unpacked once, as by pull; an image is named only once all of it is in the store.

An oci-archive that names only a tag (skopeo's oci-archive:FILE:TAG) is named after its file, localhost/<file>:<tag>, as podman does. An archive with any entry other than files and directories, or a path that climbs out of it, is refused and nothing is kept.

The CRI has no call for this: with --runtime-endpoint, load on that node.

EXIT STATUS
${exitStatusHelp}`

  static override examples = [
    {description: 'Load an archive', command: '<%= config.bin %> <%= command.id %> -i busybox.tar'},
    {description: 'Load from standard input', command: 'skopeo copy docker://127.0.0.1:5000/app:v1 docker-archive:/dev/stdout:app:v1 | <%= config.bin %> <%= command.id %> -i -'},
  ]

  static override flags = {
    input: Flags.string({char: 'i', description: 'the archive: a file, or - for standard input', required: true}),
  }

  async run(): Promise<void> {
    if (this.settings.runtimeEndpoint) throw usageError('load works on the local image store only: the CRI has no call to load an archive', 'run it on the node, without --runtime-endpoint')
    const {store, loadArchive} = await this.imageStore()
    for (const image of await loadArchive(store, this.flags.input)) {
      for (const name of image.repoTags) this.out(`Loaded image: ${name}`)
    }
  }
}
