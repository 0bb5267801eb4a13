import assert from 'node:assert/strict'
import {describe, test} from 'node:test'

import {formatBytes, pullDisplay} from '../../../src/render/pull.js'

function stream(isTTY: boolean) {
  let text = ''
  const s = {isTTY, columns: 80, write: (t: string) => ((text += t), true)} as unknown as NodeJS.WriteStream
  return {s, text: () => text}
}

const a = `sha256:${'a'.repeat(64)}`
const b = `sha256:${'b'.repeat(64)}`

describe('pullDisplay', () => {
  test('not a terminal: one line per layer when it is done, nothing while it downloads', () => {
    const out = stream(false)
    const d = pullDisplay(out.s, false)
    d.onProgress({digest: a, total: 2_500_000, done: 0, state: 'waiting'})
    d.onProgress({digest: a, total: 2_500_000, done: 1000, state: 'downloading'})
    d.onProgress({digest: b, total: 100, done: 100, state: 'exists'})
    d.onProgress({digest: a, total: 2_500_000, done: 2_500_000, state: 'done'})
    d.finish()
    assert.equal(out.text(), 'bbbbbbbbbbbb: Already exists (100 B)\naaaaaaaaaaaa: Pull complete (2.50 MB)\n')
  })

  test('a terminal: the layers redrawn in place, with bytes and rate', () => {
    const out = stream(true)
    let now = 0
    const d = pullDisplay(out.s, false, () => now)
    d.onProgress({digest: a, total: 4_000_000, done: 0, state: 'waiting'})
    now = 1000
    d.onProgress({digest: a, total: 4_000_000, done: 2_000_000, state: 'downloading'})
    d.onProgress({digest: a, total: 4_000_000, done: 4_000_000, state: 'done'})
    d.finish()
    assert.match(out.text(), /aaaaaaaaaaaa: Downloading 2.00 MB\/4.00 MB 2.00 MB\/s/)
    assert.match(out.text(), /\u001b\[1A\r\u001b\[Kaaaaaaaaaaaa: Pull complete 4.00 MB\n$/)
  })

  test('-q: nothing', () => {
    const out = stream(true)
    const d = pullDisplay(out.s, true)
    d.onProgress({digest: a, total: 1, done: 1, state: 'done'})
    d.finish()
    assert.equal(out.text(), '')
  })

  test('formatBytes', () => {
    assert.deepEqual([0, 999, 1000, 1_234_567, 12_345_678_901].map(formatBytes), ['0 B', '999 B', '1.00 kB', '1.23 MB', '12.3 GB'])
  })
})
