// Small helpers shared by the unit tests: error assertions and temp dirs.

import assert from 'node:assert/strict'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {PodctlError} from '../../src/runtime/errors.js'

/**
 * A validator for assert.throws/rejects: a PodctlError with this exit code,
 * a one-line message containing every needle.
 */
export function podctlError(exitCode: number, ...needles: string[]): (err: unknown) => true {
  return (err: unknown) => {
    assert.ok(err instanceof PodctlError, `expected a PodctlError, got ${String(err)}`)
    assert.equal(err.exitCode, exitCode, `exit code of: ${err.message}`)
    assert.ok(!err.message.includes('\n'), `message is not a single line: ${JSON.stringify(err.message)}`)
    for (const needle of needles) assert.ok(err.message.includes(needle), `${JSON.stringify(err.message)} does not contain ${JSON.stringify(needle)}`)
    return true
  }
}

const made: string[] = []
process.once('exit', () => {
  for (const dir of made) rmSync(dir, {recursive: true, force: true})
})

/** A fresh temp directory, removed when the test process exits. */
export function tempDir(prefix = 'podctl-unit-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  made.push(dir)
  return dir
}
