import {Args} from '../cli/oclif.js'

import {BaseCommand, exitStatusHelp} from '../base-command.js'
import {goTemplate, outputFlag, quietFlag, templateFlag} from '../flags/output.js'
import {statusDocuments} from '../render/format.js'
import {imageStatusTable, statusInfo} from '../render/images.js'
import {notFoundError, usageError} from '../runtime/errors.js'
import type {CriImage} from '../runtime/images.js'

export default class Inspecti extends BaseCommand<typeof Inspecti> {
  static override summary = 'Display the status of one or more images'
  static override description = `Prints {"status": {...}, "info": {...}} for one image, and a JSON array of them for several. status is CRI's Image message; info holds the chain ID of the image's top layer and its whole OCI image config (Entrypoint, Cmd, Env, User, ...), as containerd's. -q leaves info out.

An image is named by a reference as pull takes it (busybox, docker.io/library/busybox:latest, a repo digest), or by its ID or a unique prefix of it.

EXIT STATUS
${exitStatusHelp}`

  static override examples = [
    {description: 'Inspect an image', command: '<%= config.bin %> <%= command.id %> busybox'},
    {description: 'Its entrypoint and command', command: `<%= config.bin %> <%= command.id %> busybox | jq '.info.imageSpec.config | {Entrypoint, Cmd}'`},
    {description: 'Status only, as YAML', command: '<%= config.bin %> <%= command.id %> -q -o yaml busybox'},
    {description: 'The ID of an image, with a Go template', command: `<%= config.bin %> <%= command.id %> -o go-template --template '{{.status.id}}' busybox`},
  ]

  static override strict = false
  static override args = {
    image: Args.string({description: 'image reference, ID or unique ID prefix; repeat for several'}),
  }

  static override flags = {
    output: outputFlag({formats: ['json', 'yaml', 'table', 'go-template'], default: 'json'}),
    template: templateFlag(),
    quiet: quietFlag('do not show verbose information (no info)'),
  }

  async run(): Promise<void> {
    const template = goTemplate(this.flags)
    if (this.positionals.length === 0) throw usageError('no image given', `name an image, or list them with: ${this.config.bin} images`)
    const backend = await this.imageBackend()
    const results: {image: CriImage; info: Record<string, string>}[] = []
    for (const ref of this.positionals) {
      const result = await backend.imageStatus(ref, !this.flags.quiet)
      if (!result.image) throw notFoundError(`no such image "${ref}" present`, `list images with: ${this.config.bin} images`)
      results.push({image: result.image, info: result.info})
    }
    const docs = results.map((r) => statusInfo(r.image, r.info))
    for (const text of statusDocuments(docs, this.flags.output, template, () => results.map((r) => imageStatusTable(r.image, r.info)).join('\n'))) this.out(text)
  }
}
