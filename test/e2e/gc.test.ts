// podctl gc: what no record owns is found, listed with --dry-run, removed;
// pods with a record and things that are not podctl's are left alone.

import assert from 'node:assert/strict'
import {existsSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'

import {e2eOptions, TestEnv} from './harness.js'

describe('gc', e2eOptions(), () => {
  let env: TestEnv
  before(() => {
    env = new TestEnv(54)
  })
  after(() => env.teardown())

  test('finds and removes the resources of a pod whose record was deleted by hand', () => {
    const kept = env.runPod('kept', {}, 'gc')
    const lost = env.runPod('lost', {}, 'gc')
    rmSync(join(env.root, 'pods', lost), {recursive: true})
    // Not podctl's: a file in the netns dir that is not named by a pod ID.
    const foreign = join(env.runRoot, 'netns', 'not-a-pod')
    writeFileSync(foreign, '')

    const dry = env.ok(['gc', '--dry-run']).trim().split('\n')
    const kinds = dry.map((l) => l.split(' ')[2]).sort()
    assert.deepEqual([...new Set(kinds)].sort(), ['cgroup', 'ipam-allocation', 'iptables', 'lock', 'name-reservation', 'netns', 'runtime-container'].sort(), dry.join('\n'))
    assert.ok(dry.every((l) => l.startsWith('Would remove ') && l.includes(lost)), 'only the lost pod is named')
    assert.equal(env.inspect(kept).status.state, 'SANDBOX_READY', '--dry-run removed nothing')
    assert.equal(env.ipamAllocations().length, 2)

    const removed = env.ok(['gc']).trim().split('\n')
    assert.equal(removed.length, dry.length)
    assert.ok(removed.every((l) => l.startsWith('Removed ')))
    assert.equal(env.ipamAllocations().length, 1, 'the lost pod\'s IP was released')
    assert.equal(env.inspect(kept).status.state, 'SANDBOX_READY', 'a pod with a record is untouched')
    assert.ok(existsSync(foreign), 'what is not named by a pod ID is untouched')
    rmSync(foreign)

    const again = env.podctl(['gc'])
    assert.equal(again.code, 0)
    assert.equal(again.stdout, '')
    assert.match(again.stderr, /Nothing to remove/)
    env.ok(['rmp', '-f', kept])
    env.assertNoLeaks()
  })
})
