import assert from 'node:assert/strict'
import {describe, test} from 'node:test'

import {canRemoveWithoutForce, criState, needsStop, type PodPhase} from '../../../src/runtime/state.js'

const phases: PodPhase[] = ['creating', 'ready', 'stopped', 'unknown']

describe('criState', () => {
  for (const phase of phases) {
    for (const pauseAlive of [false, true]) {
      const want = phase === 'ready' && pauseAlive ? 'SANDBOX_READY' : 'SANDBOX_NOTREADY'
      test(`${phase}, pause ${pauseAlive ? 'alive' : 'dead'}: ${want}`, () => {
        assert.equal(criState(phase, {pauseAlive}), want)
      })
    }
  }
})

describe('needsStop', () => {
  const clean = {pauseAlive: false, networkAdded: false, netnsMounted: false}
  test('a cleanly stopped pod has nothing left to stop', () => {
    assert.equal(needsStop({phase: 'stopped', ...clean}), false)
  })
  for (const phase of ['creating', 'ready', 'unknown'] as const) {
    test(`${phase}: the stop path runs even with nothing left (it finishes a crashed runp or stopp)`, () => {
      assert.equal(needsStop({phase, ...clean}), true)
    })
  }
  for (const left of ['pauseAlive', 'networkAdded', 'netnsMounted'] as const) {
    test(`stopped, but ${left}: the stop path runs again`, () => {
      assert.equal(needsStop({phase: 'stopped', ...clean, [left]: true}), true)
    })
  }
})

describe('canRemoveWithoutForce', () => {
  test('a READY pod needs -f', () => assert.equal(canRemoveWithoutForce('SANDBOX_READY'), false))
  test('a NotReady pod does not', () => assert.equal(canRemoveWithoutForce('SANDBOX_NOTREADY'), true))
  test('a pod whose pause died is NotReady, so removable without -f', () => {
    assert.equal(canRemoveWithoutForce(criState('ready', {pauseAlive: false})), true)
  })
})
