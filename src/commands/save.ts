import {Args, Flags} from '../cli/oclif.js'

import {BaseCommand, exitStatusHelp} from '../base-command.js'
import {usageError} from '../runtime/errors.js'

export default class Save extends BaseCommand<typeof Save> {
  static override summary = 'Save images to an oci-archive'
  static override description = `Writes the images as one oci-archive: a tar of an OCI image layout holding their manifests, configs and layers, with each image's name in index.json (as containerd's io.containerd.image.name and the OCI ref.name annotations). podctl load, podman load, skopeo (oci-archive:FILE) and ctr images import read it. The file appears only once complete.

The CRI has no call for this: with --runtime-endpoint, save on that node.

EXIT STATUS
${exitStatusHelp}`

  static override examples = [
    {description: 'Save an image', command: '<%= config.bin %> <%= command.id %> -o busybox.tar busybox'},
    {description: 'Save two images in one archive', command: '<%= config.bin %> <%= command.id %> -o images.tar busybox 127.0.0.1:5000/app:v1'},
  ]

  static override strict = false
  static override args = {
    image: Args.string({description: 'image reference, ID or unique ID prefix; repeat for several'}),
  }

  static override flags = {
    output: Flags.string({char: 'o', description: 'the archive file to write', required: true}),
  }

  async run(): Promise<void> {
    if (this.settings.runtimeEndpoint) throw usageError('save works on the local image store only: the CRI has no call to export an image', 'run it on the node, without --runtime-endpoint')
    if (this.positionals.length === 0) throw usageError('no image given', `name an image; list them with: ${this.config.bin} images`)
    const {store, saveArchive} = await this.imageStore()
    await saveArchive(store, this.positionals, this.flags.output)
  }
}
