// Hostile input: a name that looks like an ID, a lock another user could take,
// a record that names someone else's process. Each case checks afterwards
// that podctl acted on nothing it should not have, and that nothing is left.

import assert from 'node:assert/strict'
import {after, before, describe, test} from 'node:test'

import {e2eOptions, TestEnv} from './harness.js'

const hostNet = {linux: {security_context: {namespace_options: {network: 2}}}}

describe('a name never selects another pod', e2eOptions(), () => {
  let env: TestEnv
  before(() => {
    env = new TestEnv(120)
  })
  after(() => env.teardown())

  test('a hex name that is another pod\'s ID prefix is ambiguous for every verb, and removes nothing', () => {
    const victim = env.runPod('victim', hostNet)
    // Names that are prefixes of the victim's ID: one hex digit, and four.
    for (const name of [victim.slice(0, 1), victim.slice(0, 4)]) {
      const named = env.runPod(name, hostNet)
      for (const verb of [['rmp', '-f'], ['stopp'], ['inspectp'], ['statsp']]) {
        const r = env.podctl([...verb, name])
        assert.equal(r.code, 2, `${verb.join(' ')} ${name}: exit ${r.code}\n${r.stderr}`)
        assert.match(r.stderr, new RegExp(`"${name}" is ambiguous: it is the name of pod ${named.slice(0, 13)} and the ID prefix of pod ${victim.slice(0, 13)}`))
      }
      // Both still there and READY.
      const states = JSON.parse(env.ok(['pods', '-o', 'json'])).items.map((p: {id: string; state: string}) => `${p.id}:${p.state}`)
      assert.ok(states.includes(`${victim}:SANDBOX_READY`), `victim kept: ${states}`)
      assert.ok(states.includes(`${named}:SANDBOX_READY`), `named pod kept: ${states}`)
      // The full ID still names each; longer prefixes too.
      assert.equal(JSON.parse(env.ok(['inspectp', victim.slice(0, 13)])).status.id, victim)
      env.ok(['rmp', '-f', named])
    }
    // With no pod of that name left, the prefix selects the victim again.
    assert.equal(JSON.parse(env.ok(['inspectp', victim.slice(0, 4)])).status.id, victim)
    env.ok(['rmp', '-f', victim])
    env.assertNoLeaks()
  })

  test('a name that matches only its own pod, and whose pod\'s ID it prefixes, resolves', () => {
    const id = env.runPod('solo', hostNet)
    assert.equal(JSON.parse(env.ok(['inspectp', 'solo'])).status.id, id)
    env.ok(['rmp', '-f', 'solo'])
    assert.equal(env.ok(['pods', '-q']), '')
    env.assertNoLeaks()
  })
})
