import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, test} from 'node:test'

import {limiter, run, type OpContext} from '../../../src/runtime/exec.js'

describe('limiter', () => {
  test('runs at most n operations at once, starting them in the order given', async () => {
    const inTurn = limiter(2)
    const started: number[] = []
    let running = 0
    let most = 0
    const release: (() => void)[] = []
    const done = [0, 1, 2, 3, 4].map((i) =>
      inTurn(async () => {
        started.push(i)
        running++
        most = Math.max(most, running)
        await new Promise<void>((resolve) => release.push(resolve))
        running--
        return i * 10
      }),
    )
    // Let the first two start; the rest wait.
    await new Promise((resolve) => setImmediate(resolve))
    assert.deepEqual(started, [0, 1])
    // Finishing the second lets the third in, not any other.
    release[1]()
    await new Promise((resolve) => setImmediate(resolve))
    assert.deepEqual(started, [0, 1, 2])
    while (release.length < 5) {
      release[release.length - 1]()
      await new Promise((resolve) => setImmediate(resolve))
    }
    for (const r of release) r()
    assert.deepEqual(await Promise.all(done), [0, 10, 20, 30, 40])
    assert.deepEqual(started, [0, 1, 2, 3, 4])
    assert.equal(most, 2)
  })

  test('a failed operation frees its place, and its error reaches only its caller', async () => {
    const inTurn = limiter(1)
    const failed = inTurn(async () => {
      throw new Error('boom')
    })
    const next = inTurn(async () => 'ran')
    await assert.rejects(failed, /boom/)
    assert.equal(await next, 'ran')
  })
})

describe('run: a helper killed by a terminal signal before it ran', () => {
  // A real process that dies of SIGINT the first `times` runs (each one counted in a file), and then succeeds.
  const dying = (dir: string, times: number, signal = 'INT') => [
    '-c',
    `n=$(cat ${dir}/runs 2>/dev/null || echo 0); echo $((n+1)) > ${dir}/runs; if [ "$n" -lt ${times} ]; then kill -${signal} $$; fi; echo ran`,
  ]
  const context = (lines: string[]): OpContext => ({signal: new AbortController().signal, log: (m) => lines.push(m)})

  test('is run again, and what the run that ran printed is returned', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'podctl-exec-'))
    try {
      const lines: string[] = []
      const r = await run(context(lines), '/bin/sh', dying(dir, 2))
      assert.deepEqual({exitCode: r.exitCode, stdout: r.stdout}, {exitCode: 0, stdout: 'ran'})
      assert.equal(readFileSync(join(dir, 'runs'), 'utf8').trim(), '3')
      assert.equal(lines.filter((l) => l.includes('-> SIGINT before it ran')).length, 2)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  test('three times at most, then it is the error it always was', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'podctl-exec-'))
    try {
      await assert.rejects(run(context([]), '/bin/sh', dying(dir, 99)), /\/bin\/sh was killed by SIGINT/)
      assert.equal(readFileSync(join(dir, 'runs'), 'utf8').trim(), '4')
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  test('any other signal is not retried', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'podctl-exec-'))
    try {
      await assert.rejects(run(context([]), '/bin/sh', dying(dir, 1, 'TERM')), /killed by SIGTERM/)
      assert.equal(readFileSync(join(dir, 'runs'), 'utf8').trim(), '1')
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})
