import assert from 'node:assert/strict'
import {describe, test} from 'node:test'

import {humanDuration, rfc3339Nano, tabwriter} from '../../../src/render/format.js'

describe('rfc3339Nano', () => {
  const cases: [string, string][] = [
    ['0', '1970-01-01T00:00:00Z'],
    ['1700000000000000000', '2023-11-14T22:13:20Z'],
    ['1700000000100000000', '2023-11-14T22:13:20.1Z'],
    ['1700000000123000000', '2023-11-14T22:13:20.123Z'],
    ['1700000000123456789', '2023-11-14T22:13:20.123456789Z'],
    ['1700000000000000100', '2023-11-14T22:13:20.0000001Z'],
    ['1700000000000000001', '2023-11-14T22:13:20.000000001Z'],
    ['1700000000999999990', '2023-11-14T22:13:20.99999999Z'],
  ]
  for (const [nanos, want] of cases) test(`${nanos} -> ${want}`, () => assert.equal(rfc3339Nano(nanos), want))
})

describe('humanDuration (go-units HumanDuration)', () => {
  const s = 1000
  const m = 60 * s
  const h = 60 * m
  const d = 24 * h
  const cases: {ms: number; want: string; todo?: string}[] = [
    {ms: 0, want: 'Less than a second'},
    {ms: 999, want: 'Less than a second'},
    {ms: s, want: '1 second'},
    {ms: 2 * s - 1, want: '1 second'},
    {ms: 2 * s, want: '2 seconds'},
    {ms: 59 * s, want: '59 seconds'},
    {ms: 60 * s - 1, want: '59 seconds'},
    {ms: 60 * s, want: 'About a minute'},
    {ms: 2 * m - 1, want: 'About a minute'},
    {ms: 2 * m, want: '2 minutes'},
    {ms: 59 * m + 59 * s, want: '59 minutes'},
    {ms: h, want: 'About an hour'},
    {ms: 89 * m + 59 * s, want: 'About an hour'},
    {ms: 90 * m, want: '2 hours'},
    {ms: 47 * h, want: '47 hours'},
    {ms: 47 * h + 29 * m, want: '47 hours'},
    {ms: 47 * h + 30 * m, want: '2 days'},
    {ms: 2 * d, want: '2 days'},
    {ms: 13 * d + 23 * h, want: '13 days'},
    {ms: 14 * d, want: '2 weeks'},
    {ms: 59 * d, want: '8 weeks'},
    {ms: 60 * d, want: '2 months'},
    {ms: 729 * d, want: '24 months'},
    {ms: 730 * d, want: '2 years'},
    {ms: 3650 * d, want: '10 years'},
    {
      ms: 730 * d - 20 * m,
      want: '1 years',
    },
  ]
  for (const {ms, want, todo} of cases) test(`${ms} ms -> ${want}`, {todo}, () => assert.equal(humanDuration(ms), want))
})

describe('tabwriter (minwidth 20, padding 3, last column unpadded)', () => {
  // eslint-disable-next-line no-control-regex
  const strip = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, '')
  /** The visible start column of each cell, splitting on runs of 2+ spaces. */
  const starts = (line: string) => [...strip(line).matchAll(/(?:^|(?<=\s{2}))\S/g)].map((x) => x.index)

  const cases: {label: string; header: string[]; rows: string[][]; want: string[]}[] = [
    {
      label: 'short cells pad to 20',
      header: ['POD ID', 'STATE', 'NAME'],
      rows: [['abc', 'Ready', 'web']],
      want: ['POD ID              STATE               NAME', 'abc                 Ready               web'],
    },
    {
      label: 'a long cell widens its column to length + 3',
      header: ['POD ID', 'NAME'],
      rows: [['a'.repeat(25), 'x'], ['b', 'a-much-longer-last-column']],
      want: [`POD ID${' '.repeat(22)}NAME`, `${'a'.repeat(25)}   x`, `b${' '.repeat(27)}a-much-longer-last-column`],
    },
    {
      label: 'a 17-character cell still fits 20; 18 needs 21',
      header: ['A', 'B'],
      rows: [['x'.repeat(17), '1'], ['y'.repeat(18), '2']],
      want: [`A${' '.repeat(20)}B`, `${'x'.repeat(17)}    1`, `${'y'.repeat(18)}   2`],
    },
    {
      label: 'header only',
      header: ['POD ID', 'NAME'],
      rows: [],
      want: [`POD ID${' '.repeat(14)}NAME`],
    },
  ]
  for (const {label, header, rows, want} of cases) test(label, () => assert.equal(tabwriter(header, rows), want.join('\n')))

  test('no line has trailing spaces', () => {
    const out = tabwriter(['A', 'B', 'C'], [['1', '2', ''], ['3', '', '']])
    for (const line of out.split('\n')) assert.equal(line, line.trimEnd())
  })

  test('ANSI-coloured cells keep the columns aligned', () => {
    const green = (s: string) => `\u001b[32m${s}\u001b[39m`
    const out = tabwriter(['POD ID', 'STATE', 'NAME'], [['abc', green('SANDBOX_READY'), 'web'], ['def', 'SANDBOX_NOTREADY', 'db']])
    const lines = out.split('\n')
    assert.ok(lines[1].includes(green('SANDBOX_READY')), 'the colour codes survive')
    for (const line of lines) assert.deepEqual(starts(line), [0, 20, 40], JSON.stringify(line))
  })

  test('a coloured cell counts by its visible width', () => {
    const red = `\u001b[31m${'r'.repeat(19)}\u001b[39m`
    const out = tabwriter(['A', 'B'], [[red, 'x']])
    assert.equal(strip(out), `A${' '.repeat(21)}B\n${'r'.repeat(19)}   x`)
  })
})
