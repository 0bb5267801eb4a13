import assert from 'node:assert/strict'
import {describe, test} from 'node:test'

import {defaultCapabilities} from '../../../src/runtime/oci-spec.js'
import {capabilitiesFromMask, parseProcStat} from '../../../src/runtime/proc.js'

/** A /proc/<pid>/stat line: fields 3..52, with state and starttime (field 22) set. */
function statLine(comm: string, state: string, startTime: string): string {
  const rest = Array.from({length: 50}, (_v, i) => String(i + 3))
  rest[0] = state
  rest[19] = startTime
  return `4242 (${comm}) ${rest.join(' ')}\n`
}

describe('parseProcStat', () => {
  const comms = ['catatonit', 'my cmd', 'a) b (c', ') S 1 2 3', '((', '']
  for (const comm of comms) {
    test(`command name ${JSON.stringify(comm)}`, () => {
      assert.deepEqual(parseProcStat(statLine(comm, 'S', '987654')), {state: 'S', startTime: '987654'})
    })
  }
  test('a zombie', () => assert.deepEqual(parseProcStat(statLine('pause', 'Z', '12')), {state: 'Z', startTime: '12'}))
  for (const [label, text] of [['no parenthesis', '4242 catatonit S 1 2'], ['truncated', '4242 (pause) S 1 2 3 4 5'], ['empty', '']]) {
    test(`${label} -> null`, () => assert.equal(parseProcStat(text), null))
  }
})

describe('capabilitiesFromMask', () => {
  const cases: [string, string[]][] = [
    ['0000000000000000', []],
    ['1', ['CAP_CHOWN']],
    ['0000000000000400', ['CAP_NET_BIND_SERVICE']],
    ['0000000000200000', ['CAP_SYS_ADMIN']],
    ['0000000000003000', ['CAP_NET_ADMIN', 'CAP_NET_RAW']],
    ['0000010000000000', ['CAP_CHECKPOINT_RESTORE']],
    ['8000000000000000', []],
  ]
  for (const [mask, want] of cases) test(`${mask} -> ${want.join(',') || '(none)'}`, () => assert.deepEqual(capabilitiesFromMask(mask), want))

  test("Docker's default mask a80425fb is exactly the default capability set", () => {
    assert.deepEqual(capabilitiesFromMask('00000000a80425fb').sort(), [...defaultCapabilities].sort())
  })
  test('a full mask names all 41 capabilities, in bit order', () => {
    const all = capabilitiesFromMask('000001ffffffffff')
    assert.equal(all.length, 41)
    assert.equal(all[0], 'CAP_CHOWN')
    assert.equal(all[40], 'CAP_CHECKPOINT_RESTORE')
    assert.equal(new Set(all).size, 41)
  })
})
