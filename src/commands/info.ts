import {BaseCommand, exitStatusHelp} from '../base-command.js'
import {outputFlag} from '../flags/output.js'
import {toJson, toYamlText} from '../render/format.js'
import {ExitCode, PodctlError} from '../runtime/errors.js'
import {nodeInfo, type RuntimeCondition} from '../runtime/info.js'
import {effectiveConfig} from '../runtime/settings.js'
import {Store} from '../runtime/store.js'

export default class Info extends BaseCommand<typeof Info> {
  static override summary = 'Display whether this node can run pods, and the effective configuration'
  static override description = `The first command to run on a broken node. Prints, as crictl info does, {"status": {"conditions": [...]}} with the CRI conditions RuntimeReady and NetworkReady, each with a status, a CamelCase reason when not ready and a message saying what was found or what is wrong; then "config" (the effective settings in the config file's keys, flags and environment applied), and what was checked: "runtime", "network", "pause" and "cgroup".

RuntimeReady: the default runtime handler's binary is found and "<runtime> --version" works (reasons OCIRuntimeNotFound, OCIRuntimeNotWorking); the pause rootfs is built, or a static catatonit to build it from is installed (PauseRootfsNotReady); cgroups are mounted (CgroupsNotMounted); conmon, the monitor every container runs under, is installed and executable (ContainerMonitorNotFound). The cgroup version (1, also on hybrid hosts, or 2) and driver (always cgroupfs) are reported.

NetworkReady: the network pods would join, the first file in the CNI conf dir or, when there is none, podctl's built-in network, is a valid CNI config (CNIConfigInvalid), and every plugin it runs, IPAM plugins included, is in the CNI bin dirs (CNIPluginNotFound).

info only looks: it creates no directory, writes no default network and builds no pause rootfs (runp does those on first use). It does not need root.

With --runtime-endpoint, info asks the CRI runtime there (podctl serve, containerd, CRI-O) for its Status with verbose info and prints it as crictl info does: "status" with the runtime's conditions, then each key of its info map in sorted order, its value embedded as JSON when it is JSON, else as a string. The exit status follows the remote conditions in the same way.

When a condition is false, the report is still printed on stdout, one line on stderr names the reasons, and the exit status is ${ExitCode.prerequisite}; both true: 0.

EXIT STATUS
${exitStatusHelp}`

  static override examples = [
    {description: 'Check the node', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'Only the conditions that are not met', command: `<%= config.bin %> <%= command.id %> | jq '.status.conditions[] | select(.status == false)'`},
    {description: 'Check another set of CNI plugins, as YAML', command: '<%= config.bin %> <%= command.id %> --cni-bin-dir /opt/cni/bin -o yaml'},
    {description: 'Fail a script early when the node is not ready', command: '<%= config.bin %> <%= command.id %> >/dev/null || exit 1'},
    {description: 'Ask the CRI runtime at a socket', command: '<%= config.bin %> --runtime-endpoint unix:///run/podctl/cri.sock <%= command.id %>'},
  ]

  static override flags = {
    output: outputFlag({formats: ['json', 'yaml'], default: 'json'}),
  }

  async run(): Promise<void> {
    const remote = await this.remoteRuntime()
    const {status, report} = remote ? await this.remoteReport(remote) : await this.localReport()
    this.out(this.flags.output === 'yaml' ? toYamlText(report) : toJson(report))
    const failed = status.conditions.filter((c) => !c.status)
    if (failed.length > 0) {
      throw new PodctlError(`node not ready: ${failed.map((c) => `${c.type} is false (${c.reason})`).join(', ')}`, {
        exitCode: ExitCode.prerequisite,
        hint: 'the message of each condition says what is missing',
      })
    }
  }

  private async localReport(): Promise<{status: {conditions: RuntimeCondition[]}; report: object}> {
    const ctx = {signal: AbortSignal.timeout(this.settings.timeoutMs), log: () => undefined}
    const {status, ...checked} = await nodeInfo(this.settings, new Store(this.settings.root, this.settings.runRoot), ctx)
    return {status, report: {status, config: {...effectiveConfig(this.settings), 'config-file': this.settings.configFile ?? null}, ...checked}}
  }

  /** crictl info's object: the status first, then the info map's keys in sorted order (a key "status" there cannot replace it). */
  private async remoteReport(remote: NonNullable<Awaited<ReturnType<Info['remoteRuntime']>>>): Promise<{status: {conditions: RuntimeCondition[]}; report: object}> {
    const {status, info} = await remote.status(true)
    return {status, report: {status, ...Object.fromEntries(Object.entries(info).filter(([k]) => k !== 'status'))}}
  }
}
