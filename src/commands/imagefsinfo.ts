import {BaseCommand, exitStatusHelp} from '../base-command.js'
import {goTemplate, outputFlag, templateFlag} from '../flags/output.js'
import {toJson, toYamlText} from '../render/format.js'
import {fsInfoTable} from '../render/images.js'

export default class Imagefsinfo extends BaseCommand<typeof Imagefsinfo> {
  static override summary = 'Return image filesystem info'
  static override description = `Prints {"status": {...}} with CRI's FilesystemUsage of the image store: the directory its unpacked layers live in (mountpoint), the bytes and inodes its blobs and snapshots take, and when that was measured. The kubelet's image garbage collector reads the same figures over CRI.

EXIT STATUS
${exitStatusHelp}`

  static override examples = [
    {description: 'The image store\'s usage', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Bytes used, for a script', command: `<%= config.bin %> <%= command.id %> -o go-template --template '{{.status.usedBytes.value}}'`},
  ]

  static override flags = {
    output: outputFlag({formats: ['json', 'yaml', 'table', 'go-template'], default: 'json'}),
    template: templateFlag(),
  }

  async run(): Promise<void> {
    const template = goTemplate(this.flags)
    const filesystems = await (await this.imageBackend()).imageFsInfo()
    switch (this.flags.output) {
      case 'table':
        return this.out(fsInfoTable(filesystems))
      case 'go-template':
        for (const status of filesystems) {
          const text = template!.execute({status})
          if (text) this.out(text)
        }
        return
      case 'yaml':
        return this.out(filesystems.map((status) => toYamlText({status})).join('---\n'))
      default:
        return this.out(filesystems.map((status) => toJson({status})).join('\n'))
    }
  }
}
