// The source tree's own rules, run with the unit tests: no import circles
// under src/, and no export that no module of src/ uses.
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'
import {test} from 'node:test'

const repo = fileURLToPath(new URL('../../../', import.meta.url))

function check(script: string): void {
  const r = spawnSync(process.execPath, [`scripts/${script}`], {cwd: repo, encoding: 'utf8'})
  assert.equal(r.status, 0, `${script} failed:\n${r.stderr}`)
}

test('no import circles under src/ (scripts/check-imports.js)', () => check('check-imports.js'))
test('no unused exports under src/ (scripts/check-exports.js)', () => check('check-exports.js'))
