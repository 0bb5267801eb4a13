#!/usr/bin/env node
// podctl's entry point. oclif's import alone costs more than node's start-up,
// so the common calls avoid it (src/cli/oclif.ts says more):
// - `--version` is answered here, in oclif's format;
// - a plain invocation of a verb (known flags, no help) runs on the lean path;
// - everything else (help, bad command lines, no verb) goes through oclif.
import {readFileSync} from 'node:fs'

// A reader that goes away (podctl pods | head -1) is not an error: what is
// left to print is dropped and the verb finishes its work (rmp -af | head -1
// still removes every pod), with its own exit status.
process.stdout.on('error', (err) => {
  if (err.code !== 'EPIPE') throw err
  process.stdout.write = () => true
})

const root = new URL('../', import.meta.url)
const manifest = (() => {
  try {
    return JSON.parse(readFileSync(new URL('oclif.manifest.json', root), 'utf8'))
  } catch {
    return undefined
  }
})()
// Global flags before the verb, as crictl takes them, are moved behind it.
const given = process.argv.slice(2)
const argv =
  manifest && given.length > 1 && given[0].startsWith('-') ? (await import('../dist/src/cli/argv.js')).hoistGlobalFlags(given, manifest) : given

if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')) {
  const {version} = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'))
  process.stdout.write(`podctl/${version} ${process.platform}-${process.arch} node-${process.version}\n`)
} else {
  const lean = manifest && !process.env.PODCTL_NO_LEAN ? await import('../dist/src/cli/lean.js') : undefined
  const id = lean?.leanInvocation(argv, manifest)
  if (id) {
    globalThis.__podctlLean = true
    // A subcommand's ID (runp:jsonschema) stands for two words of the command line.
    await lean.runLean(id, argv.slice(id.split(':').length), manifest, root)
  } else {
    const {execute} = await import('@oclif/core/execute')
    await execute({dir: import.meta.url, args: argv})
  }
}
