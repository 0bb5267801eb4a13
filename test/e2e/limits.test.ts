// The caps that keep one client's pods from failing everybody's listing:
// max-pods (runp beyond it is refused, in the CLI and in serve, and leaves
// nothing) and serve's 16 MiB gRPC message caps.

import assert from 'node:assert/strict'
import {describe, test} from 'node:test'

import {lockName, locksNamed} from '../../src/runtime/lock.js'
import {e2eOptions} from './harness.js'
import {serveSuite} from './serve-helpers.js'

const RESOURCE_EXHAUSTED = 8

describe('max-pods and serve\'s message caps', e2eOptions(), () => {
  const s = serveSuite(162, 'max-pods: 2\n')

  const config = (name: string, extra: object = {}) => ({metadata: {name, namespace: 'limits', uid: `uid-${name}`}, ...extra})

  test('runp beyond max-pods is refused with the setting named, and makes nothing; a removal frees the place', () => {
    const first = s.env.ok(['runp', s.env.podConfig(config('one'))]).trim()
    s.env.ok(['runp', s.env.podConfig(config('two'))])
    const r = s.env.podctl(['runp', s.env.podConfig(config('three'))])
    assert.equal(r.code, 1, r.stderr)
    assert.equal(r.stderr.split('\n').filter(Boolean).length, 2, `one line and its hint:\n${r.stderr}`)
    assert.match(r.stderr, /cannot run pod "three_limits_uid-three_0": 2 pods exist, and the max-pods setting allows 2/)
    assert.match(r.stderr, /raise max-pods in the config file/)
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace')
    assert.equal(s.env.ok(['pods', '-q']).trim().split('\n').length, 2)
    assert.equal(s.env.ipamAllocations().length, 2, 'no IP for the refused pod')
    assert.equal(locksNamed(lockName(s.env.root, 'pod', '')).length, 2, 'nor a lock: a runp rolled back discards its pod\'s')
    s.env.ok(['rmp', '-f', first])
    s.env.ok(['runp', s.env.podConfig(config('three'))])
  })

  test('of three runp at once for the last place, exactly one wins', async () => {
    s.env.ok(['runp', s.env.podConfig(config('zero'))])
    const runs = ['a', 'b', 'c'].map((name) => {
      const child = s.env.spawn(['runp', s.env.podConfig(config(name))])
      let stderr = ''
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
      return new Promise<{code: number | null; stderr: string}>((resolve) => child.on('exit', (code) => resolve({code, stderr})))
    })
    const results = await Promise.all(runs)
    assert.deepEqual(results.map((r) => r.code).sort(), [0, 1, 1], results.map((r) => r.stderr).join('\n'))
    for (const r of results.filter((r) => r.code !== 0)) assert.match(r.stderr, /the max-pods setting allows 2/)
    assert.equal(s.env.ok(['pods', '-q']).trim().split('\n').length, 2)
    assert.equal(s.env.ipamAllocations().length, 2)
  })

  test('serve: RunPodSandbox beyond max-pods is ResourceExhausted, with the same message', async () => {
    for (const name of ['s1', 's2']) {
      const {err, res} = await s.cri.call('RunPodSandbox', {config: config(name)})
      assert.equal(err, null, err?.details)
      s.env.seen.add(res.pod_sandbox_id)
    }
    const {err} = await s.cri.call('RunPodSandbox', {config: config('s3')})
    assert.equal(err?.code, RESOURCE_EXHAUSTED, err?.details)
    assert.match(err!.details, /^cannot run pod "s3_limits_uid-s3_0": 2 pods exist, and the max-pods setting allows 2$/)
    assert.equal((await s.cri.ok('ListPodSandbox')).items.length, 2)
  })

  test('serve: a request over 16 MiB is refused before it is read, and serve goes on answering', async () => {
    // 17 MiB of annotations: far over runp's own bound, but the cap must refuse it first, undecoded.
    const big = {config: config('huge', {annotations: {blob: 'x'.repeat(17 * 1024 * 1024)}})}
    const {err} = await s.cri.call('RunPodSandbox', big)
    assert.equal(err?.code, RESOURCE_EXHAUSTED, err?.details)
    assert.match(err!.details, /Received message larger than max \(\d+ vs 16777216\)/)
    assert.equal((await s.cri.ok('ListPodSandbox')).items.length, 0)
    assert.match((await s.cri.ok('Version', {version: 'v1'})).runtime_name, /podctl/)
    // Under the cap, the same field meets runp's own bound: one line naming it.
    const {err: bounded} = await s.cri.call('RunPodSandbox', {config: config('big', {annotations: {blob: 'x'.repeat(1024 * 1024)}})})
    assert.match(bounded!.details, /labels and annotations hold \d+ bytes; a pod may carry at most 16384/)
  })
})
