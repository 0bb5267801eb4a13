// The image verbs' shapes as crictl 1.26 prints them: sizes, the images
// table and -v records, inspecti's and imagefsinfo's tables, outputStatusInfo.

import assert from 'node:assert/strict'
import {describe, test} from 'node:test'

import {fsInfoTable, imageStatusTable, imagesTable, imagesVerbose, statusInfo} from '../../../src/render/images.js'
import {humanSize} from '../../../src/render/stats.js'
import type {CriImage} from '../../../src/runtime/images.js'

const hex = (c: string) => c.repeat(64)
const image = (over: Partial<CriImage>): CriImage => ({id: `sha256:${hex('a')}`, repoTags: [], repoDigests: [], size: '1000', uid: null, username: '', spec: null, pinned: false, ...over})
const cells = (line: string) => line.split(/ {3,}/)

describe('image sizes: go-units HumanSizeWithPrecision(…, 3)', () => {
  for (const [bytes, text] of [
    [0, '0B'],
    [999, '999B'],
    [1000, '1kB'],
    [1_460_000, '1.46MB'],
    [12_345, '12.3kB'],
    [100_000_000, '100MB'],
    // Go's %.3g turns to an exponent rather than to the next unit
    [999_999, '1e+03kB'],
  ] as const) {
    test(`${bytes} -> ${text}`, () => assert.equal(humanSize(bytes, 3), text))
  }
  test('precision 4 (statsp MEM) is unchanged for ordinary figures', () => {
    assert.equal(humanSize(13_430_000), '13.43MB')
    assert.equal(humanSize(999_960), '1000kB')
    assert.equal(humanSize(9_999_600), '10MB')
  })
})

describe('imagesTable', () => {
  const bb = image({
    id: `sha256:${hex('b')}`,
    repoTags: ['docker.io/library/busybox:latest', '127.0.0.1:5000/busybox:1.36'],
    repoDigests: [`docker.io/library/busybox@sha256:${hex('d')}`],
    size: '2150000',
  })
  test('a row per tag, split at its last colon (a registry port is not a tag); IDs without sha256:, 13 long', () => {
    const lines = imagesTable([bb], {digests: false, noTrunc: false}).split('\n')
    assert.match(lines[0], /^IMAGE +TAG +IMAGE ID +SIZE$/)
    assert.deepEqual(cells(lines[1]), ['docker.io/library/busybox', 'latest', 'b'.repeat(13), '2.15MB'])
    assert.deepEqual(cells(lines[2]), ['127.0.0.1:5000/busybox', '1.36', 'b'.repeat(13), '2.15MB'])
  })
  test('--digests and --no-trunc', () => {
    const short = imagesTable([bb], {digests: true, noTrunc: false}).split('\n')
    assert.match(short[0], /^IMAGE +TAG +DIGEST +IMAGE ID +SIZE$/)
    assert.deepEqual(cells(short[1]).slice(2, 4), ['d'.repeat(13), 'b'.repeat(13)])
    const full = imagesTable([bb], {digests: true, noTrunc: true}).split('\n')
    assert.deepEqual(cells(full[1]).slice(2, 4), [`sha256:${hex('d')}`, `sha256:${hex('b')}`])
  })
  test('no tags: the digest\'s name and <none>; no digest either: <none> everywhere', () => {
    const lines = imagesTable([image({repoDigests: [`r/x@sha256:${hex('d')}`]}), image({})], {digests: true, noTrunc: false}).split('\n')
    assert.deepEqual(cells(lines[1]).slice(0, 3), ['r/x', '<none>', 'd'.repeat(13)])
    assert.deepEqual(cells(lines[2]).slice(0, 3), ['<none>', '<none>', '<none>'])
  })
})

test('imagesVerbose: crictl\'s records, each ending in an empty line, Uid as gogo prints the wrapper', () => {
  const text = imagesVerbose([image({repoTags: ['a/b:c'], repoDigests: ['a/b@sha256:x'], size: '5', uid: {value: '1002'}}), image({size: '0', username: 'www'})])
  assert.equal(text, `ID: sha256:${hex('a')}\nRepoTags: a/b:c\nRepoDigests: a/b@sha256:x\nSize: 5\nUid: &Int64Value{Value:1002,}\n\nID: sha256:${hex('a')}\nUsername: www\n\n`)
})

test('imageStatusTable and fsInfoTable', () => {
  assert.equal(imageStatusTable(image({repoTags: ['a/b:c'], repoDigests: ['a/b@sha256:x'], size: '1460000'}), {}), `ID: sha256:${hex('a')}\nTag: a/b:c\nDigest: a/b@sha256:x\nSize: 1.46MB`)
  assert.equal(
    fsInfoTable([{timestamp: '17', fsId: {mountpoint: '/var/lib/podctl'}, usedBytes: {value: '4096'}, inodesUsed: {value: '3'}}]),
    'TimeStamp: 17\nUsedBytes: &UInt64Value{Value:4096,}\nMountpoint: /var/lib/podctl',
  )
})

test('statusInfo: status first, info keys sorted, JSON values embedded, others as strings', () => {
  const out = statusInfo({id: 'x'}, {zeta: 'not json', info: '{"chainID":"sha256:1"}'})
  assert.deepEqual(Object.keys(out), ['status', 'info', 'zeta'])
  assert.deepEqual(out, {status: {id: 'x'}, info: {chainID: 'sha256:1'}, zeta: 'not json'})
})
