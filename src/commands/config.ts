import {Flags} from '../cli/oclif.js'

import {BaseCommand, exitStatusHelp} from '../base-command.js'
import {tabwriter, toJson, toYamlText} from '../render/format.js'
import {getSetting, listSettings, readConfigDocument, setSettings} from '../runtime/config-file.js'
import {usageError} from '../runtime/errors.js'
import {defaultConfigFile} from '../runtime/settings.js'

export default class Config extends BaseCommand<typeof Config> {
  static override summary = 'Get, set or list podctl\'s settings'
  static override description = `As crictl config: --get prints a setting, --set changes it in the config file, --list shows every setting.

The config file is ${defaultConfigFile}, or the one named by --config or PODCTL_CONFIG. Its keys: root, run-root, cni-conf-dir, cni-bin-dir (colon-separated), default-runtime, runtimes, default-network, cgroup-parent (the parent cgroup of pods whose config names none: an absolute path such as /podctl, or a slice such as kubepods.slice), timeout (a duration such as 30s, or a number of seconds), debug (true or false) and runtime-endpoint (as --runtime-endpoint). Nested settings are named with dots: default-network.name, default-network.bridge, default-network.subnet, runtimes.<handler>.path and runtimes.<handler>.args.

A runtime handler (the name runp --runtime takes) maps to a binary and options: "path" is an absolute path or a name looked up on PATH; "args" is a list of global options given to the runtime before every command, each one element in --name=value form, e.g. [--debug]. podctl sets --root, --log and --log-format itself and places pods with cgroupfs paths, so those options and a systemd cgroup manager are refused. The handlers runc and crun are built in; the file's are merged over them.

--get and --list show the effective values: a flag beats its environment variable, which beats the file, which beats the built-in default; --list says which one each value came from (flag, env, file or default).

--set KEY=VALUE checks the value, and the file as a whole, exactly as loading it would, and only then replaces the file atomically (created with its directory if missing), keeping its other keys and comments. Lists and maps are written in YAML flow form: runtimes.kata.args=[--debug]. An empty VALUE removes the key, so that its default applies again. Several settings: repeat --set, or separate them with commas outside brackets (KEY=VALUE,KEY2=VALUE2).

EXIT STATUS
${exitStatusHelp}`

  static override examples = [
    {description: 'Where pods are kept', command: '<%= config.bin %> <%= command.id %> --get root'},
    {description: 'Every setting, its value and where it came from', command: '<%= config.bin %> <%= command.id %> --list'},
    {description: 'Give the built-in network another subnet', command: '<%= config.bin %> <%= command.id %> --set default-network.subnet=10.200.0.0/16'},
    {description: 'Add a runtime handler and make it the default', command: '<%= config.bin %> <%= command.id %> --set runtimes.debug-runc.path=/usr/sbin/runc --set runtimes.debug-runc.args=[--debug] --set default-runtime=debug-runc'},
    {description: 'Back to the default timeout', command: '<%= config.bin %> <%= command.id %> --set timeout='},
    {description: 'Edit another config file', command: '<%= config.bin %> <%= command.id %> -c ./podctl.yaml --set timeout=2m,debug=true'},
  ]

  static override flags = {
    get: Flags.string({description: 'print the effective value of a setting, e.g. root or default-network.subnet'}),
    set: Flags.string({description: 'set KEY=VALUE in the config file (repeatable; KEY= removes the key)', multiple: true}),
    list: Flags.boolean({description: 'list every setting: key, effective value, and where it came from (flag, env, file, default)'}),
    output: Flags.string({char: 'o', description: 'output format of --list, one of: table, json, yaml', options: ['table', 'json', 'yaml'], default: 'table'}),
  }

  public override async init(): Promise<void> {
    try {
      await super.init()
    } catch (err) {
      // --set needs only the file, which it may be about to create or repair; the flags did parse.
      if (this.flags?.set === undefined) throw err
    }
  }

  async run(): Promise<void> {
    const {get, set, list} = this.flags
    const given = [get !== undefined, set !== undefined, list === true].filter(Boolean).length
    if (given !== 1) throw usageError(given === 0 ? 'one of --get, --set or --list is required' : '--get, --set and --list cannot be combined', `see: ${this.config.bin} config --help`)
    const file = this.flags.config ?? defaultConfigFile
    if (set) return setSettings(file, set)
    const fileDoc = await readConfigDocument(file)
    if (get !== undefined) return this.out(show(getSetting(this.settings, fileDoc, get)))
    const entries = listSettings(this.settings, fileDoc, (key) => this.overriddenBy(key))
    if (this.flags.output === 'json') return this.out(toJson(entries))
    if (this.flags.output === 'yaml') return this.out(toYamlText(entries))
    this.out(tabwriter(['KEY', 'VALUE', 'SOURCE'], entries.map((e) => [e.key, show(e.value), e.source])))
  }

  /** Whether a global flag on the command line, or its environment variable, set this key. */
  private overriddenBy(key: string): 'flag' | 'env' | undefined {
    const flag = (this.ctor.baseFlags as Record<string, {char?: string; env?: string} | undefined>)[key]
    if (!flag) return undefined
    const onLine = this.argv.some((a) => a === `--${key}` || a.startsWith(`--${key}=`) || (flag.char !== undefined && /^-[A-Za-z]+/.test(a) && !a.startsWith('--') && a.slice(1).includes(flag.char)))
    if (onLine) return 'flag'
    return flag.env !== undefined && process.env[flag.env] !== undefined ? 'env' : undefined
  }
}

/** A value as one line: scalars as they are, lists and maps as JSON (which YAML reads too). */
function show(value: unknown): string {
  if (value === undefined || value === null) return ''
  return typeof value === 'object' ? JSON.stringify(value) : String(value)
}

