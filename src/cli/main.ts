// What bin/run.js and the start-up snapshot (./snapshot.ts) both do with a
// command line. oclif's import alone costs more than node's start-up, so the
// common calls avoid it (./oclif.ts says more):
// - `--version` is answered here, in oclif's format;
// - a plain invocation of a verb (known flags, no help) runs on the lean path;
// - everything else (help, bad command lines, no verb) goes to oclif.

import {readFileSync} from 'node:fs'

import {hoistGlobalFlags} from './argv.js'
import {type CommandClass, leanInvocation, type Manifest, runLean} from './lean.js'

export interface Entry {
  /** The package's root directory. */
  root: URL
  /** oclif's manifest, when the entry has it already (the snapshot, from its build); else it is read from root. */
  manifest?: Manifest
  /** A verb's command class, by its ID (runp:jsonschema) and its file's path in the package. */
  loadCommand: (id: string, relativePath: string[]) => Promise<CommandClass>
  /** oclif with this command line: help, errors in it, anything the lean path does not take. */
  oclif: (argv: string[]) => Promise<void>
}

export async function main(given: string[], entry: Entry): Promise<void> {
  restoreLauncherEnv(process.env)
  // node's own warnings (a listener count, an experimental API, a deprecation in a
  // dependency) are not the user's business and would read as podctl's: --debug shows them.
  if (!given.includes('--debug')) process.removeAllListeners('warning')
  // A reader that goes away (podctl pods | head -1) is not an error: what is
  // left to print is dropped and the verb finishes its work (rmp -af | head -1
  // still removes every pod), with its own exit status.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err
    process.stdout.write = () => true
  })

  const manifest = entry.manifest ?? readJson<Manifest>(new URL('oclif.manifest.json', entry.root))
  // Global flags before the verb, as crictl takes them, are moved behind it.
  const argv = manifest && given.length > 1 && given[0].startsWith('-') ? hoistGlobalFlags(given, manifest) : given

  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')) {
    const {version} = readJson<{version: string}>(new URL('package.json', entry.root)) ?? {version: 'unknown'}
    process.stdout.write(`podctl/${version} ${process.platform}-${process.arch} node-${process.version}\n`)
    return
  }
  const id = manifest && !process.env.PODCTL_NO_LEAN ? leanInvocation(argv, manifest) : undefined
  if (!id || !manifest) return entry.oclif(argv)
  // ./oclif.ts reads this when the command's module is first loaded.
  Object.assign(globalThis, {__podctlLean: true})
  // A subcommand's ID (runp:jsonschema) stands for two words of the command line.
  const Cmd = await entry.loadCommand(id, manifest.commands[id].relativePath ?? [])
  await runLean(Cmd, id, argv.slice(id.split(':').length), manifest.version)
}

function readJson<T>(url: URL): T | undefined {
  try {
    return JSON.parse(readFileSync(url, 'utf8')) as T
  } catch {
    return undefined
  }
}

/**
 * bin/podctl starts node without NODE_EXTRA_CA_CERTS, which makes node parse
 * every root certificate before it runs a line (60-70 ms on a 2-core VM), and
 * podctl makes no TLS connection: its gRPC is over unix sockets. The variable
 * waits here meanwhile, and is put back for the processes podctl starts.
 */
const savedCaCerts = 'PODCTL_NODE_EXTRA_CA_CERTS'

/**
 * bin/podctl starts node from the snapshot with glibc's malloc asking for
 * huge pages (its comment says why). GLIBC_TUNABLES as it was is kept here:
 * "=" and the value, or empty when it was unset.
 */
const savedTunables = 'PODCTL_GLIBC_TUNABLES'

/** Put back what bin/podctl changed for node alone, before podctl starts any process. */
function restoreLauncherEnv(env: NodeJS.ProcessEnv): void {
  if (env[savedCaCerts] !== undefined) {
    env.NODE_EXTRA_CA_CERTS = env[savedCaCerts]
    delete env[savedCaCerts]
  }
  const tunables = env[savedTunables]
  if (tunables !== undefined) {
    if (tunables.startsWith('=')) env.GLIBC_TUNABLES = tunables.slice(1)
    else delete env.GLIBC_TUNABLES
    delete env[savedTunables]
  }
}

/** env for another podctl node process: NODE_EXTRA_CA_CERTS put aside, as bin/podctl does. */
export function withoutExtraCaCerts(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const {NODE_EXTRA_CA_CERTS: caCerts, ...rest} = env
  return caCerts === undefined ? env : {...rest, [savedCaCerts]: caCerts}
}
