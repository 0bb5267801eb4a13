import {BaseCommand, exitStatusHelp} from '../base-command.js'
import {outputFlag} from '../flags/output.js'
import {toJson, toYamlText} from '../render/format.js'
import {criVersion, versionInfo} from '../runtime/info.js'
import {Store} from '../runtime/store.js'

export default class Version extends BaseCommand<typeof Version> {
  static override summary = 'Display the versions of podctl, its OCI runtime and its CNI plugins'
  static override description = `Prints crictl version's four lines (Version is the kubelet runtime API version, 0.1.0; RuntimeName and RuntimeVersion are podctl's; RuntimeApiVersion is the CRI API version, v1), as crictl prints them against "podctl serve", then the default OCI runtime handler's name, version and binary, and the release of each CNI plugin of the network pods would join (its "CNI <type> plugin <version>" banner; distribution builds often say "unknown") with the CNI spec versions it supports.

A runtime or plugin that cannot be found is reported as such (in -o json, in an "error" field) rather than failing: version answers on a half-installed node; use info to check one.

With --runtime-endpoint, version asks the CRI runtime there (podctl serve, containerd, CRI-O) and prints its answer to Version, as crictl version does: the four lines only, since the OCI runtime and CNI plugins are the remote node's.

EXIT STATUS
${exitStatusHelp}`

  static override examples = [
    {description: 'Show the versions', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'The OCI runtime version, for a script', command: `<%= config.bin %> <%= command.id %> -o json | jq -r .ociRuntime.version`},
    {description: 'podctl\'s own version only', command: '<%= config.bin %> --version'},
    {description: 'What the CRI runtime at a socket says it is', command: '<%= config.bin %> --runtime-endpoint unix:///run/containerd/containerd.sock <%= command.id %>'},
  ]

  static override flags = {
    output: outputFlag({formats: ['text', 'json', 'yaml'], default: 'text'}),
  }

  async run(): Promise<void> {
    const remote = await this.remoteRuntime()
    if (remote) return this.render(await remote.version(), [])
    const ctx = {signal: AbortSignal.timeout(this.settings.timeoutMs), log: () => undefined}
    const {ociRuntime, cniPlugins} = await versionInfo(this.settings, new Store(this.settings.root, this.settings.runRoot), ctx)
    const report = {...criVersion(this.config.version), ociRuntime, cniPlugins}
    this.render(report, [
      ['OCIRuntimeHandler', ociRuntime.handler],
      ['OCIRuntimeName', ociRuntime.name ?? 'unknown'],
      ['OCIRuntimeVersion', ociRuntime.version ?? 'unknown'],
      ['OCIRuntimePath', ociRuntime.path ?? `not found: ${ociRuntime.error}`],
      ...cniPlugins.map((p): [string, string] => [`CNIPlugin.${p.type}`, p.error ? `not found: ${p.error}` : `${p.version} (CNI spec up to ${p.cniVersions?.at(-1) ?? 'unknown'})`]),
    ])
  }

  /** The CRI Version fields first, as crictl prints them, then the local node's lines. */
  private render(report: ReturnType<typeof criVersion>, more: [string, string][]): void {
    if (this.flags.output === 'json') return this.out(toJson(report))
    if (this.flags.output === 'yaml') return this.out(toYamlText(report))
    const lines: [string, string][] = [
      ['Version', report.version],
      ['RuntimeName', report.runtimeName],
      ['RuntimeVersion', report.runtimeVersion],
      ['RuntimeApiVersion', report.runtimeApiVersion],
      ...more,
    ]
    // crictl's layout: the name, a colon, two spaces.
    this.out(lines.map(([k, v]) => `${k}:  ${v}`).join('\n'))
  }
}
