import {Args, Flags} from '../cli/oclif.js'

import {BaseCommand, exitStatusHelp} from '../base-command.js'
import {parseCreds} from '../images/auth.js'
import {ImageStore, type PullAuth} from '../images/store.js'
import {pullDisplay} from '../render/pull.js'
import {usageError} from '../runtime/errors.js'

export default class Pull extends BaseCommand<typeof Pull> {
  static override summary = 'Pull an image from a registry'
  static override description = `Fetches the image's manifest (for a multi-platform image, the one for --platform, linux/amd64 by default), its config and each layer not already in the store, verifies every blob's digest and size, and unpacks each layer once into the store's snapshots. Then prints, as crictl does: Image is up to date for <name>@<digest>.

The reference is read as docker reads it: busybox is docker.io/library/busybox:latest; a tag, an @sha256: digest, or a registry host with a port may be given. Mirrors, insecure registries and CA files come from the config file's registries setting; credentials from --creds or --auth, else from $REGISTRY_AUTH_FILE, /run/containers/0/auth.json or ~/.docker/config.json.

An image already present is up to date after one manifest request. Two pulls of the same image at once fetch each blob once; a pull that is killed leaves no image behind, and the next one resumes it. On a terminal each layer's progress is shown on stderr; otherwise one line per layer; with -q, nothing.

EXIT STATUS
${exitStatusHelp}`

  static override examples = [
    {description: 'Pull busybox from Docker Hub (or its mirror)', command: '<%= config.bin %> <%= command.id %> busybox'},
    {description: 'Pull from a local registry with credentials', command: '<%= config.bin %> <%= command.id %> --creds admin:secret 127.0.0.1:5000/team/app:v1'},
    {description: 'Pull the arm64 image of a multi-platform image', command: '<%= config.bin %> <%= command.id %> --platform linux/arm64 registry.k8s.io/pause:3.9'},
  ]

  static override args = {
    image: Args.string({description: 'image reference: [registry/]repository[:tag][@digest]', required: true}),
  }

  static override flags = {
    creds: Flags.string({description: 'registry credentials, USERNAME[:PASSWORD]'}),
    auth: Flags.string({description: 'registry credentials as auth.json holds them: base64 of USERNAME:PASSWORD'}),
    username: Flags.string({char: 'u', description: 'registry user name (the password is read from --creds or prompted by crictl; here give --creds)'}),
    platform: Flags.string({description: 'the platform of a multi-platform image, os/arch[/variant] [default: linux/amd64]'}),
    'pod-config': Flags.string({char: 'p', description: 'pod config file (accepted as crictl takes it; the pull does not depend on it)'}),
    annotation: Flags.string({char: 'a', multiple: true, description: 'annotation key=value for the pull (accepted as crictl takes it)'}),
    quiet: Flags.boolean({char: 'q', description: 'print nothing but the result line, no progress'}),
  }

  async run(): Promise<void> {
    let auth: PullAuth | undefined
    if (this.flags.creds !== undefined && this.flags.auth !== undefined) throw usageError('--creds and --auth cannot be given together')
    if (this.flags.creds !== undefined) auth = parseCreds(this.flags.creds)
    else if (this.flags.auth !== undefined) auth = {auth: this.flags.auth}
    else if (this.flags.username !== undefined) auth = {username: this.flags.username, password: ''}
    if (this.settings.runtimeEndpoint) {
      // crictl's pull: the runtime at the endpoint pulls, with its own registry settings; it answers an image reference.
      const imageRef = await (await this.imageBackend()).pullImage(this.args.image, auth ?? {})
      this.out(`Image is up to date for ${imageRef}`)
      return
    }
    const rt = this.runtime({perCall: true})
    const display = pullDisplay(process.stderr, this.flags.quiet)
    const image = await new ImageStore(rt.settings).pull(this.args.image, {
      platform: this.flags.platform,
      auth,
      signal: rt.ctx.signal,
      log: rt.ctx.log,
      onProgress: (p) => display.onProgress(p),
    })
    display.finish()
    const repoDigest = image.repoDigests[0] ?? image.id
    this.out(`Image is up to date for ${repoDigest}`)
  }
}
