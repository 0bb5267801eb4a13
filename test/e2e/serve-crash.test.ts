// `podctl serve` under load and killed: concurrent RunPodSandbox calls over
// one socket, and the server SIGKILLed in the middle of one, then restarted
// on the same socket; rmp -af and gc leave nothing behind.

import assert from 'node:assert/strict'
import {existsSync} from 'node:fs'
import {after, afterEach, before, describe, test} from 'node:test'

import {e2eOptions, TestEnv} from './harness.js'
import {RawCri, type Served, startServe, stopServe, waitForLog} from './serve-helpers.js'

describe('podctl serve: concurrency and crashes', e2eOptions(), () => {
  let env: TestEnv
  before(() => {
    env = new TestEnv(62)
  })
  after(() => env.teardown())
  afterEach(() => {
    env.ok(['rmp', '-af'])
    env.ok(['gc'])
    env.assertNoLeaks()
  })

  const config = (name: string) => ({metadata: {name, namespace: 'serve-crash', uid: `uid-${name}`}})

  /** After a crash: a new serve on the same socket lists the pod NotReady (or not at all), and removes it. */
  async function recovers(served: Served, name: string): Promise<void> {
    assert.ok(existsSync(served.socket), 'the killed server left its socket')
    const again = await startServe(env)
    const cri = new RawCri(again.socket)
    try {
      const items = (await cri.ok('ListPodSandbox')).items as {id: string; state: string; metadata: {name: string}}[]
      for (const p of items) {
        env.seen.add(p.id)
        assert.equal(p.state, 'SANDBOX_NOTREADY', `${p.metadata.name} after the crash`)
      }
      // The CRI's way out, as a kubelet would do it.
      for (const p of items) await cri.ok('RemovePodSandbox', {pod_sandbox_id: p.id})
      env.ok(['gc'])
      env.assertNoLeaks()
      // The same pod runs again.
      const {pod_sandbox_id: id} = await cri.ok('RunPodSandbox', {config: config(name)})
      env.seen.add(id)
      assert.equal((await cri.ok('PodSandboxStatus', {pod_sandbox_id: id})).status.state, 'SANDBOX_READY')
    } finally {
      cri.close()
      await stopServe(again)
    }
  }

  test('6 RunPodSandbox calls at once over one socket: all succeed, unique IPs', async () => {
    const served = await startServe(env)
    const cri = new RawCri(served.socket)
    try {
      const results = await Promise.all(Array.from({length: 6}, (_v, i) => cri.call('RunPodSandbox', {config: config(`par-${i}`)})))
      for (const r of results) assert.equal(r.err, null, r.err?.details)
      const ids = results.map((r) => r.res.pod_sandbox_id as string)
      for (const id of ids) env.seen.add(id)
      assert.equal(new Set(ids).size, 6)
      const statuses = await Promise.all(ids.map((id) => cri.ok('PodSandboxStatus', {pod_sandbox_id: id})))
      assert.ok(statuses.every((s) => s.status.state === 'SANDBOX_READY'))
      const ips = statuses.map((s) => s.status.network.ip as string)
      assert.equal(new Set(ips).size, 6, `unique IPs: ${ips.join(' ')}`)
      assert.equal(env.ipamAllocations().length, 6)
      // Six removals at once too.
      const removed = await Promise.all(ids.map((id) => cri.call('RemovePodSandbox', {pod_sandbox_id: id})))
      for (const r of removed) assert.equal(r.err, null, r.err?.details)
      env.assertNoLeaks()
    } finally {
      cri.close()
      await stopServe(served)
    }
  })

  // Points of runPod where a kill leaves the most behind: network added (6), container created (8), started (9).
  for (const step of [6, 8, 9]) {
    test(`serve killed at step ${step} of RunPodSandbox, then restarted`, async () => {
      const served = await startServe(env, [], {PODCTL_FAULT_AT_STEP: String(step)})
      const cri = new RawCri(served.socket)
      try {
        const r = await cri.call('RunPodSandbox', {config: config(`step-${step}`)})
        assert.notEqual(r.err, null, 'the call cannot succeed: its server died')
        assert.equal((await served.exited).signal, 'SIGKILL')
      } finally {
        cri.close()
      }
      await recovers(served, `step-${step}`)
    })
  }

  test('serve SIGKILLed with calls in flight, then restarted: rmp -af and gc leave nothing', async () => {
    const served = await startServe(env, ['--debug'])
    const cri = new RawCri(served.socket)
    let results
    try {
      const calls = Array.from({length: 3}, (_v, i) => cri.call('RunPodSandbox', {config: config(`inflight-${i}`)}))
      // --debug logs each step of runPod: kill once a call is under way.
      await waitForLog(served, /RunPodSandbox: step/)
      served.child.kill('SIGKILL')
      results = await Promise.all(calls)
    } finally {
      cri.close()
    }
    assert.equal((await served.exited).signal, 'SIGKILL')
    // Which calls had finished when the kill came is the scheduler's business; what matters is what is left.
    for (const r of results) if (r.res?.pod_sandbox_id) env.seen.add(r.res.pod_sandbox_id)
    // The CLI cleans up what the dead server left; a new server starts on its socket.
    env.ok(['rmp', '-af'])
    env.ok(['gc'])
    env.assertNoLeaks()
    const again = await startServe(env)
    const client = new RawCri(again.socket)
    try {
      assert.deepEqual((await client.ok('ListPodSandbox')).items, [])
    } finally {
      client.close()
      await stopServe(again)
    }
  })
})
