// The start-up snapshot's table of verbs must name every command oclif's
// manifest has, with the class oclif would load from the command's file.

import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {test} from 'node:test'

import {snapshotCommands} from '../../../src/cli/snapshot.js'
import {warm} from '../../../src/cli/warm.js'

const repoRoot = new URL('../../../../', import.meta.url)
const manifest = JSON.parse(readFileSync(new URL('oclif.manifest.json', repoRoot), 'utf8')) as {commands: Record<string, {relativePath: string[]}>}

test('every command of the manifest is in the snapshot, as the class its file exports', async () => {
  assert.deepEqual(Object.keys(snapshotCommands).sort(), Object.keys(manifest.commands).sort())
  for (const [id, {relativePath}] of Object.entries(manifest.commands)) {
    const {default: fromFile} = (await import(new URL(relativePath.join('/'), repoRoot).href)) as {default: unknown}
    assert.equal(await snapshotCommands[id](), fromFile, id)
  }
})

test("the snapshot's warm-up sample still passes podctl's checks, and never touches stdout or stderr", () => {
  // The snapshot keeps whatever warm() leaves in module state: a colour decision taken on
  // process.stdout at build time (no terminal) would hold in every later process.
  const touched: string[] = []
  const saved = (['stdout', 'stderr'] as const).map((name) => {
    const descriptor = Object.getOwnPropertyDescriptor(process, name)!
    Object.defineProperty(process, name, {...descriptor, get: () => (touched.push(name), descriptor.get!.call(process))})
    return [name, descriptor] as const
  })
  let result
  try {
    result = warm()
  } finally {
    for (const [name, descriptor] of saved) Object.defineProperty(process, name, descriptor)
  }
  assert.deepEqual(touched, [])
  const {spec, stats} = result
  assert.match(spec, /"path": "\/run\/netns\/warm"/)
  assert.match(spec, /"\/catatonit"/)
  const parsed = JSON.parse(stats) as {proc: {startTime: string}; processes: number}
  assert.equal(parsed.proc.startTime, '9047312')
  assert.equal(parsed.processes, 1)
  assert.match(stats, /"eth0"/)
})
