// statsp's shapes: go-units sizes, the table, and the {"stats": [...]} document.

import assert from 'node:assert/strict'
import {describe, test} from 'node:test'

import {humanSize, statsDocument, statsTable} from '../../../src/render/stats.js'
import {type PodView, toPodSandbox} from '../../../src/runtime/listing.js'
import type {PodSandboxStats, PodStatsEntry} from '../../../src/runtime/stats.js'

const v = (n: number) => ({value: String(n)})

function entry(id: string, name: string, stats: Partial<PodSandboxStats['linux']> | null): PodStatsEntry {
  const view = {
    record: {version: 1, id, name, createdAt: '1', phase: 'ready', config: {metadata: {name, uid: 'u', namespace: 'default', attempt: 0}}, runtimeHandler: '', runtimePath: 'runc'},
    state: stats ? 'SANDBOX_READY' : 'SANDBOX_NOTREADY',
  } as PodView
  if (!stats) return {pod: toPodSandbox(view), stats: null}
  const linux = {cpu: null, memory: null, network: null, process: null, containers: [], ...stats}
  return {pod: toPodSandbox(view), stats: {attributes: {id, metadata: view.record.config.metadata, labels: {}, annotations: {}}, linux}}
}

describe('statsp rendering', () => {
  test('humanSize is go-units HumanSize: decimal units, four significant digits', () => {
    const cases: [number, string][] = [
      [0, '0B'],
      [999, '999B'],
      [1000, '1kB'],
      [1806, '1.806kB'],
      [13_430_000, '13.43MB'],
      [1_234_567, '1.235MB'],
      [100_000, '100kB'],
      [999_999, '1000kB'],
      [67_108_864, '67.11MB'],
      [5e12, '5TB'],
    ]
    for (const [bytes, text] of cases) assert.equal(humanSize(bytes), text, `${bytes}`)
  })

  test('the table: CPU % of a core, working set, traffic without loopback, processes; "-" for what is unknown', () => {
    const a = 'a'.repeat(64)
    const b = 'b'.repeat(64)
    const c = 'c'.repeat(64)
    const nic = (name: string, rx: number, tx: number) => ({name, rxBytes: v(rx), rxErrors: v(0), txBytes: v(tx), txErrors: v(0)})
    const loaded = entry(a, 'web', {
      cpu: {timestamp: '1', usageCoreNanoSeconds: v(5), usageNanoCores: v(987_654_321)},
      memory: {timestamp: '1', workingSetBytes: v(13_430_000), availableBytes: null, usageBytes: v(1), rssBytes: v(1), pageFaults: v(1), majorPageFaults: v(1)},
      network: {timestamp: '1', defaultInterface: nic('eth0', 1500, 800), interfaces: [nic('lo', 999_999, 999_999), nic('eth0', 1500, 800), nic('net1', 500, 200)]},
      process: {timestamp: '1', processCount: v(3)},
    })
    const hostNetworkUnrated = entry(b, 'host', {cpu: {timestamp: '1', usageCoreNanoSeconds: v(5), usageNanoCores: null}, process: {timestamp: '1', processCount: v(1)}})
    const notReady = entry(c, 'gone', null)
    const lines = statsTable([loaded, hostNetworkUnrated, notReady]).split('\n')
    assert.deepEqual(lines, [
      'POD                 POD ID              CPU %               MEM                 NET RX/TX           PIDS',
      'web                 aaaaaaaaaaaaa       98.77               13.43MB             2kB / 1kB           3',
      'host                bbbbbbbbbbbbb       -                   -                   -                   1',
      'gone                ccccccccccccc       -                   -                   -                   -',
    ])
    assert.deepEqual(
      statsDocument([loaded, notReady]).stats.map((s) => s.attributes.id),
      [a],
      'JSON and YAML leave out pods without figures',
    )
  })
})
