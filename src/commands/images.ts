import {Args, Flags} from '../cli/oclif.js'

import {BaseCommand, exitStatusHelp} from '../base-command.js'
import {goTemplate, outputFlag, quietFlag, templateFlag} from '../flags/output.js'
import {toJson, toYamlText} from '../render/format.js'
import {imagesTable, imagesVerbose} from '../render/images.js'

export default class Images extends BaseCommand<typeof Images> {
  static override summary = 'List images'
  static override description = `Lists the images in the store with crictl's columns: IMAGE, TAG, IMAGE ID, SIZE (with --digests, DIGEST too). An image has one row per tag; one without tags shows TAG <none>. SIZE is what its blobs take, compressed, in decimal units.

The optional argument is crictl's REPOSITORY[:TAG] filter: "busybox" lists every tag of docker.io/library/busybox, "busybox:1.36" that tag alone. -o json prints {"images": [...]}, CRI's Image messages with crictl's lowerCamelCase keys; -o go-template runs --template on that object.

EXIT STATUS
${exitStatusHelp}`

  static override examples = [
    {description: 'List every image', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Every tag of busybox, with digests', command: '<%= config.bin %> <%= command.id %> --digests busybox'},
    {description: 'Full image IDs, one per line', command: '<%= config.bin %> <%= command.id %> -q'},
    {description: 'Tags and sizes, as JSON', command: `<%= config.bin %> <%= command.id %> -o json | jq -r '.images[] | "\\(.repoTags[0]) \\(.size)"'`},
  ]

  static override args = {
    image: Args.string({description: 'REPOSITORY[:TAG]: list only the images with that repository (and tag)'}),
  }

  static override flags = {
    verbose: Flags.boolean({char: 'v', description: 'print a record of details per image instead of a table'}),
    quiet: quietFlag('print only image IDs, one per line'),
    output: outputFlag({formats: ['table', 'json', 'yaml', 'go-template'], default: 'table'}),
    template: templateFlag(),
    digests: Flags.boolean({description: 'show a DIGEST column'}),
    'no-trunc': Flags.boolean({description: 'do not truncate image IDs and digests'}),
  }

  async run(): Promise<void> {
    const template = goTemplate(this.flags)
    const backend = await this.imageBackend()
    const images = await backend.listImages(this.args.image)
    const {output, quiet, verbose} = this.flags
    if (quiet) {
      if (images.length > 0) this.out(images.map((i) => i.id).join('\n'))
      return
    }
    if (output === 'json') return this.out(toJson({images}))
    if (output === 'yaml') return this.out(toYamlText({images}))
    if (template) {
      const text = template.execute({images})
      if (text) this.out(text)
      return
    }
    if (verbose) {
      if (images.length > 0) process.stdout.write(imagesVerbose(images))
      return
    }
    this.out(imagesTable(images, {digests: this.flags.digests, noTrunc: this.flags['no-trunc']}))
  }
}
