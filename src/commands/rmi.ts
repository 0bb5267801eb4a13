import {Args, Flags} from '../cli/oclif.js'

import {BaseCommand, exitStatusHelp} from '../base-command.js'
import {ExitCode, messageOf, PodctlError, usageError} from '../runtime/errors.js'

export default class Rmi extends BaseCommand<typeof Rmi> {
  static override summary = 'Remove one or more images'
  static override description = `Removes images from the store and prints "Deleted: <tag>" for each of their tags (or "Deleted: <digest>" for an image without tags), as crictl. An image is named by a reference, its ID or a unique ID prefix. Layers that no other image shares go with it.

-a removes every image; --prune every image that nothing uses: neither a container (of any state) nor the pause image (the pause-image setting). An image a container uses is refused by rmi, -a included, until the container is removed. With nothing to remove, it says so on stderr and exits 0.

Every named image is tried; the exit status is that of the first that failed (3 for an unknown image).

EXIT STATUS
${exitStatusHelp}`

  static override examples = [
    {description: 'Remove an image', command: '<%= config.bin %> <%= command.id %> busybox'},
    {description: 'Remove every image nothing uses', command: '<%= config.bin %> <%= command.id %> --prune'},
    {description: 'Remove every image', command: '<%= config.bin %> <%= command.id %> -a'},
  ]

  static override strict = false
  static override args = {
    image: Args.string({description: 'image reference, ID or unique ID prefix; repeat for several'}),
  }

  static override flags = {
    all: Flags.boolean({char: 'a', description: 'remove every image'}),
    prune: Flags.boolean({description: 'remove every image that nothing uses'}),
  }

  async run(): Promise<void> {
    const {all, prune} = this.flags
    if ((all || prune) && this.positionals.length > 0) throw usageError(`${all ? '-a' : '--prune'} takes no image names`, 'give either image names or one of -a, --prune')
    if (all && prune) throw usageError('-a and --prune cannot be used together')
    if (!all && !prune && this.positionals.length === 0) throw usageError('no image given', `name an image, or use -a or --prune; list them with: ${this.config.bin} images`)
    const backend = await this.imageBackend()
    let refs = this.positionals
    if (all || prune) {
      const images = await backend.listImages()
      const inUse = prune ? await this.inUse() : new Set<string>()
      refs = images.map((i) => i.id).filter((id) => !inUse.has(id))
      if (refs.length === 0) {
        process.stderr.write('No images to remove\n')
        return
      }
    }
    let failed: PodctlError | undefined
    for (const ref of refs) {
      try {
        const {image} = await backend.imageStatus(ref, false)
        if (!image) throw new PodctlError(`no such image "${ref}"`, {exitCode: ExitCode.notFound, hint: `list images with: ${this.config.bin} images`})
        await backend.removeImage(image.id)
        for (const name of image.repoTags.length > 0 ? image.repoTags : image.repoDigests) this.out(`Deleted: ${name}`)
      } catch (err) {
        const e = err instanceof PodctlError ? err : new PodctlError(messageOf(err), {cause: err})
        this.printError(e)
        failed ??= e
      }
    }
    if (failed) process.exitCode = failed.exitCode
  }

  /** The IDs of the images something uses: the pause image, when one is set and present. */
  private async inUse(): Promise<Set<string>> {
    // The containers' images (local state only: a remote runtime refuses its own).
    const used = new Set<string>()
    if (!this.settings.runtimeEndpoint) {
      const [{imagesInUse}, {Store}] = await Promise.all([import('../runtime/container-store.js'), import('../runtime/store.js')])
      for (const id of imagesInUse(new Store(this.settings.root, this.settings.runRoot)).images.keys()) used.add(id)
    }
    const pause = this.settings.pauseImage
    if (!pause) return used
    const {image} = await (await this.imageBackend()).imageStatus(pause, false)
    if (image) used.add(image.id)
    return used
  }
}
