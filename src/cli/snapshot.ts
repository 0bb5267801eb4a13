// The entry point of podctl's start-up snapshot. node spends 40-60 ms of a
// verb's time resolving, reading, compiling and evaluating its ~30 ES modules;
// a V8 start-up snapshot holds them already evaluated, so a verb started from
// it begins where bin/run.js would be after its imports.
//
// scripts/build-snapshot.js bundles this file (with ./oclif-lean.ts in place
// of ./oclif.ts) and runs `node --build-snapshot` on the bundle, at build
// time. The modules imported below are evaluated then, once, with no terminal
// and no pod: what they read of the process (environment, streams, clock)
// must be read inside functions, never at module level. bin/podctl starts
// node from the snapshot when it was built by that same node binary, as
//   node --snapshot-blob dist/snapshot/podctl.blob -- <package root> <args...>
// and falls back to bin/run.js otherwise.

import {spawnSync} from 'node:child_process'
import cluster from 'node:cluster'
import {createRequire} from 'node:module'
import {startupSnapshot} from 'node:v8'
import {constants} from 'node:os'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {parseArgs} from 'node:util'

import Attach from '../commands/attach.js'
import Completion from '../commands/completion.js'
import Config from '../commands/config.js'
import Create from '../commands/create.js'
import Exec from '../commands/exec.js'
import Gc from '../commands/gc.js'
import Imagefsinfo from '../commands/imagefsinfo.js'
import Images from '../commands/images.js'
import Info from '../commands/info.js'
import Inspect from '../commands/inspect.js'
import Inspecti from '../commands/inspecti.js'
import Inspectp from '../commands/inspectp.js'
import Logs from '../commands/logs.js'
import Pods from '../commands/pods.js'
import Ps from '../commands/ps.js'
import Rm from '../commands/rm.js'
import Rmi from '../commands/rmi.js'
import Rmp from '../commands/rmp.js'
import RunpJsonschema from '../commands/runp/jsonschema.js'
import Run from '../commands/run.js'
import Runp from '../commands/runp.js'
import Start from '../commands/start.js'
import Stats from '../commands/stats.js'
import Statsp from '../commands/statsp.js'
import Stop from '../commands/stop.js'
import Stopp from '../commands/stopp.js'
import Update from '../commands/update.js'
import Version from '../commands/version.js'
// What the pod verbs load on first use, evaluated now too.
import '../runtime/sandbox.js'
import '../runtime/stats.js'
import '../runtime/container.js'
import '../runtime/container-status.js'
import '../runtime/containerconfig.js'
import '../runtime/container-exec.js'
import '../runtime/container-logs.js'
import '../runtime/container-stats.js'
import '../runtime/container-update.js'
import '../runtime/container-attach.js'
import {warmUp} from '../runtime/lock.js'
import type {CommandClass, Manifest} from './lean.js'
import {main, withoutExtraCaCerts} from './main.js'
import {warm} from './warm.js'

/** The verbs, by command ID. serve's module (and grpc's) is evaluated only when serve runs. */
export const snapshotCommands: Record<string, () => Promise<unknown>> = {
  attach: async () => Attach,
  completion: async () => Completion,
  config: async () => Config,
  create: async () => Create,
  exec: async () => Exec,
  gc: async () => Gc,
  imagefsinfo: async () => Imagefsinfo,
  images: async () => Images,
  info: async () => Info,
  inspect: async () => Inspect,
  inspecti: async () => Inspecti,
  inspectp: async () => Inspectp,
  logs: async () => Logs,
  load: async () => (await import('../commands/load.js')).default,
  pods: async () => Pods,
  ps: async () => Ps,
  // The image verbs load their modules on use: most commands never pull.
  pull: async () => (await import('../commands/pull.js')).default,
  rm: async () => Rm,
  rmi: async () => Rmi,
  rmp: async () => Rmp,
  run: async () => Run,
  runp: async () => Runp,
  'runp:jsonschema': async () => RunpJsonschema,
  save: async () => (await import('../commands/save.js')).default,
  serve: async () => (await import('../commands/serve.js')).default,
  start: async () => Start,
  stats: async () => Stats,
  statsp: async () => Statsp,
  stop: async () => Stop,
  stopp: async () => Stopp,
  update: async () => Update,
  version: async () => Version,
}

/**
 * oclif.manifest.json as the build found it, put in by esbuild's define
 * (scripts/build-snapshot.js): held in the snapshot already parsed, instead
 * of 80 KB read and parsed by every verb. It describes the commands compiled
 * into this same bundle.
 */
declare const __podctlBuiltManifest: Manifest

if (startupSnapshot.isBuildingSnapshot()) {
  // Bytecode for the common verbs' pure code, kept in the snapshot (./warm.ts).
  warm()
  // node's own modules that load on first use, which every verb would
  // otherwise compile at run time (~2 ms of rmp's): the global performance
  // (perf_hooks: the step timers), util.parseArgs (the lean path's parser) and
  // cluster, which net requires when a server listens (the locks).
  void [performance.timeOrigin, parseArgs, cluster.isPrimary]
  // A socket listened on and closed (abstract: nothing on disk), so that
  // the verbs' first lock is not their net server's first listen: rmp's pod
  // lock 1.9 -> 1.1 ms. Only a warm-up: a build where it fails goes on
  // without it.
  void warmUp(String(process.pid)).catch(() => undefined)
  startupSnapshot.setDeserializeMainFunction(async () => {
    // argv: node, the package root, then the command line.
    const [rootDir, ...given] = process.argv.slice(1)
    const root = pathToFileURL(`${rootDir}/`)
    // The bundle's modules are all one file: import.meta.url stands for this
    // module's place (a module three directories down, as each of theirs).
    // Packages left out of the bundle (grpc) are required from the package's
    // node_modules, with a require made on first use (making one costs ~3 ms).
    const moduleUrl = new URL('dist/src/cli/snapshot.js', root).href
    let require: NodeJS.Require | undefined
    const requireAtRunTime = (id: string): unknown => (require ??= createRequire(moduleUrl))(id)
    const runJs = new URL('bin/run.js', root)
    // The same command line on bin/run.js, for a CRI client (../base-command.ts says why).
    const rerun = () => runJsInChild(runJs, given)
    Object.assign(globalThis, {__podctlSnapshot: true, __podctlModuleUrl: moduleUrl, __podctlRequire: requireAtRunTime, __podctlRerun: rerun})
    await main(given, {
      root,
      manifest: __podctlBuiltManifest,
      loadCommand: async (id) => (await snapshotCommands[id]()) as CommandClass,
      // oclif loads the command files as ES modules, which a snapshot cannot
      // import: help and bad command lines run in a child, on bin/run.js.
      oclif: async (argv) => runJsInChild(runJs, argv),
    })
  })
}

/** bin/run.js with this command line, in a child on this terminal; its exit status becomes this process's. */
function runJsInChild(runJs: URL, argv: string[]): void {
  // Ctrl-C reaches the child (same process group); this process waits for it.
  const ignore = () => undefined
  process.on('SIGINT', ignore).on('SIGTERM', ignore)
  const child = spawnSync(process.execPath, [fileURLToPath(runJs), ...argv], {stdio: 'inherit', env: withoutExtraCaCerts(process.env)})
  if (child.error) throw child.error
  process.exitCode = child.status ?? 128 + (constants.signals[child.signal as NodeJS.Signals] ?? 0)
}
