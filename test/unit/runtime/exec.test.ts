import assert from 'node:assert/strict'
import {describe, test} from 'node:test'

import {limiter} from '../../../src/runtime/exec.js'

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
