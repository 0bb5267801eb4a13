#!/usr/bin/env node
// Builds podctl's start-up snapshot (src/cli/snapshot.ts says why and how it
// is used): esbuild bundles dist/src/cli/snapshot.js into one script,
// and `node --build-snapshot` evaluates it into dist/snapshot/podctl.blob.
// A blob only works with the node binary that built it, so beside it goes a
// stamp file naming that binary, given the binary's mtime: bin/podctl
// compares the two mtimes (a shell builtin: no process spawned) before using
// the blob. Run by `npm run build`, after tsc.
import {spawnSync} from 'node:child_process'
import {mkdirSync, readFileSync, realpathSync, rmSync, statSync, utimesSync, writeFileSync} from 'node:fs'
import {resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

import * as esbuild from 'esbuild'

const root = fileURLToPath(new URL('../', import.meta.url))
const out = `${root}dist/snapshot/`
rmSync(out, {recursive: true, force: true})
mkdirSync(out, {recursive: true})

// Packages that stay out of the bundle, loaded from node_modules by node's own
// require when first used (grpc only by serve and --runtime-endpoint): a
// smaller snapshot is a faster start for every verb. Only ES-module-only
// packages (chalk), which node 20 cannot require, are bundled.
const atRunTime = ['@grpc/grpc-js', '@grpc/proto-loader']
const bundledPackages = ['chalk']

const {metafile} = await esbuild.build({
  entryPoints: [`${root}dist/src/cli/snapshot.js`],
  outfile: `${out}podctl.cjs`,
  bundle: true,
  platform: 'node',
  format: 'iife',
  target: 'node20',
  // Less text for V8 to hold (the blob's size is start-up time); names are kept for --debug's stack traces.
  minifyWhitespace: true,
  minifySyntax: true,
  metafile: true,
  logLevel: 'warning',
  define: {
    // One file has no per-module import.meta: the snapshot's main sets this global.
    'import.meta.url': 'globalThis.__podctlModuleUrl',
    // oclif's manifest, made just before by `oclif manifest`, parsed into the snapshot (src/cli/snapshot.ts).
    __podctlBuiltManifest: readFileSync(`${root}oclif.manifest.json`, 'utf8'),
  },
  plugins: [
    {
      // ./oclif.js chooses between oclif and the lean path at import, with a
      // top-level await that a script cannot hold; the snapshot is lean only.
      name: 'lean-oclif',
      setup(build) {
        const oclif = `${root}dist/src/cli/oclif.js`
        build.onResolve({filter: /\/oclif\.js$/}, (args) => (resolve(args.resolveDir, args.path) === oclif ? {path: `${root}dist/src/cli/oclif-lean.js`} : undefined))
      },
    },
    {
      name: 'at-run-time',
      setup(build) {
        build.onResolve({filter: /^@grpc\//}, (args) => (atRunTime.includes(args.path) ? {path: args.path, namespace: 'at-run-time'} : undefined))
        build.onLoad({filter: /.*/, namespace: 'at-run-time'}, (args) => ({
          contents: `module.exports = globalThis.__podctlRequire(${JSON.stringify(args.path)})`,
          loader: 'js',
        }))
      },
    },
  ],
})
const bundled = new Set(
  Object.keys(metafile.inputs)
    .filter((file) => file.includes('node_modules/'))
    .map((file) => file.split('node_modules/').pop().split('/').slice(0, file.includes('node_modules/@') ? 2 : 1).join('/')),
)
const unexpected = [...bundled].filter((name) => !bundledPackages.includes(name))
if (unexpected.length > 0) {
  process.stderr.write(`build-snapshot: ${unexpected.join(', ')} would be bundled into the snapshot; load it at run time or list it in bundledPackages\n`)
  process.exit(1)
}

const blob = `${out}podctl.blob`
// The V8 flags bin/podctl gives node (its v8flags line says why): the blob is
// built under them, and they go into the stamp, as node loads a blob only
// under the flags it was built with; bin/podctl runs the blob with the stamp's.
const v8flags = /^v8flags=(.*)$/m.exec(readFileSync(`${root}bin/podctl`, 'utf8'))?.[1].split(' ').filter(Boolean)
if (!v8flags) {
  process.stderr.write('build-snapshot: bin/podctl has no v8flags= line\n')
  process.exit(1)
}
// And the blob is not rehashed when node loads it. Otherwise each process draws
// a new hash seed, since node 20.20 (rapidhash) derives prime secrets from it
// (a Miller-Rabin search), and rehashes every table in the blob: ~6 ms of every
// verb on a 2-core VM (perf: HashSeed::InitializeRoots, detail::sprp, Rehash,
// DescriptorArray::Sort). The price: string hashes use the seed of node's own
// built-in snapshot, the same in every process, so keys chosen to collide slow
// a table down (HashDoS). The verbs read only what root gave them: their
// arguments, pod configs and files under root-owned directories. serve reads
// CRI requests, and a CRI client a server's answers, carrying the labels and
// annotations of whoever wrote the pod: bin/podctl never starts serve from the
// blob, and a verb from the blob given a runtime endpoint runs again on
// bin/run.js (src/base-command.ts).
const flags = [...v8flags, '--no-rehash-snapshot']
const built = spawnSync(process.execPath, [...flags, '--snapshot-blob', blob, '--build-snapshot', `${out}podctl.cjs`], {encoding: 'utf8'})
// node warns about built-in modules it has not verified in snapshots; the e2e tests run every verb from this blob.
const stderr = built.stderr
  .split('\n')
  .filter((line) => line && !/not yet fully verified|may still work in some cases|request support for the module|node --trace-warnings/.test(line))
  .join('\n')
if (built.status !== 0) {
  process.stderr.write(`build-snapshot: node --build-snapshot failed (${built.status ?? built.signal})\n${stderr}\n`)
  process.exit(1)
}
if (stderr) process.stderr.write(`${stderr}\n`)

// The stamp's second line is what `podctl --version` prints with this node:
// bin/podctl answers it from here, without starting node at all.
const version = spawnSync(process.execPath, [`${root}bin/run.js`, '--version'], {encoding: 'utf8'})
if (version.status !== 0 || !/^podctl\/\S+ \S+ node-v\S+\n$/.test(version.stdout)) {
  process.stderr.write(`build-snapshot: bin/run.js --version failed (${version.status ?? version.signal}): ${version.stderr}${version.stdout}\n`)
  process.exit(1)
}
const nodePath = realpathSync(process.execPath)
const node = statSync(nodePath)
writeFileSync(`${blob}.node`, `${process.version} ${nodePath}\n${version.stdout}${flags.join(' ')}\n`)
utimesSync(`${blob}.node`, node.atime, node.mtime)
