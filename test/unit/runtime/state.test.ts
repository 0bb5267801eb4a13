import assert from 'node:assert/strict'
import {describe, test} from 'node:test'

import {canRemoveWithoutForce, criState, needsStop, type PodPhase} from '../../../src/runtime/state.js'

describe('pod state predicates', () => {
  const cases: {phase: PodPhase; pauseAlive: boolean; state: string; stop: boolean}[] = [
    {phase: 'creating', pauseAlive: false, state: 'SANDBOX_NOTREADY', stop: true},
    {phase: 'creating', pauseAlive: true, state: 'SANDBOX_NOTREADY', stop: true},
    {phase: 'ready', pauseAlive: true, state: 'SANDBOX_READY', stop: true},
    {phase: 'ready', pauseAlive: false, state: 'SANDBOX_NOTREADY', stop: true},
    {phase: 'stopped', pauseAlive: false, state: 'SANDBOX_NOTREADY', stop: false},
    {phase: 'stopped', pauseAlive: true, state: 'SANDBOX_NOTREADY', stop: true},
    {phase: 'unknown', pauseAlive: false, state: 'SANDBOX_NOTREADY', stop: true},
    {phase: 'unknown', pauseAlive: true, state: 'SANDBOX_NOTREADY', stop: true},
  ]
  for (const {phase, pauseAlive, state, stop} of cases) {
    test(`${phase}, pause ${pauseAlive ? 'alive' : 'dead'}: ${state}, ${stop ? 'needs' : 'no'} stop, rmp ${state === 'SANDBOX_READY' ? 'needs' : 'without'} -f`, () => {
      const live = {pauseAlive}
      assert.equal(criState(phase, live), state)
      assert.equal(needsStop(phase, live), stop)
      assert.equal(canRemoveWithoutForce(criState(phase, live)), state !== 'SANDBOX_READY')
    })
  }
  test('canRemoveWithoutForce per CRI state', () => {
    assert.equal(canRemoveWithoutForce('SANDBOX_READY'), false)
    assert.equal(canRemoveWithoutForce('SANDBOX_NOTREADY'), true)
  })
})
