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

test("the snapshot's warm-up sample still passes podctl's checks, and runs the code runp and pods run", () => {
  const {spec, table, stats} = warm()
  assert.match(spec, /"path": "\/run\/netns\/warm"/)
  assert.match(spec, /"\/catatonit"/)
  assert.match(table, /^POD ID\s+CREATED\s+STATE\s+NAME/)
  assert.match(table, /\bReady\s+warm\s+default\s+1\b/)
  const parsed = JSON.parse(stats) as {proc: {startTime: string}; processes: number; network: {defaultInterface?: {name: string}}}
  assert.equal(parsed.proc.startTime, '9047312')
  assert.equal(parsed.processes, 1)
  assert.match(stats, /"eth0"/)
})
