// Container stats: the cgroup figures on the v1 and v2 fixture trees, and the
// writable layer counted as du counts (blocks once per inode, inodes).

import assert from 'node:assert/strict'
import {linkSync, lstatSync, mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'node:test'
import {fileURLToPath} from 'node:url'

import {diskUsage, readContainerStats} from '../../../src/runtime/container-stats.js'
import type {StatsSource} from '../../../src/runtime/stats.js'
import {tempDir} from '../helpers.js'

const fixtures = fileURLToPath(new URL('../../../../test/fixtures/', import.meta.url))
const cgroupsPath = `/podctl/${'0123456789abcdef'.repeat(4)}`
const attributes = {id: 'c'.repeat(64), metadata: {name: 'web', attempt: 0}, labels: {}, annotations: {}}

function source(tree: 'cgroup-v1' | 'cgroup-v2'): StatsSource {
  return {cgroupMount: `${fixtures}${tree}`, mode: tree === 'cgroup-v1' ? 'v1' : 'v2', now: () => 42n}
}

test('cpu and the memory working set (usage less inactive_file) on cgroup v1 and v2', () => {
  const upper = tempDir()
  const v1 = readContainerStats({attributes, cgroupsPath, upperDir: upper, rootfs: '/r'}, source('cgroup-v1'))
  assert.equal(v1.cpu?.usageCoreNanoSeconds.value, '123456789012')
  assert.equal(v1.memory?.workingSetBytes.value, String(104857600 - 10485760))
  const v2 = readContainerStats({attributes, cgroupsPath, upperDir: upper, rootfs: '/r'}, source('cgroup-v2'))
  assert.equal(v2.cpu?.usageCoreNanoSeconds.value, '2500000000')
  assert.equal(v2.memory?.workingSetBytes.value, String(67108864 - 4194304))
  assert.equal(v2.writableLayer?.fsId.mountpoint, '/r')
  assert.equal(v2.writableLayer?.timestamp, '42')
})

test('a container whose cgroup and upper directory are gone has null figures, not an error', () => {
  const stats = readContainerStats({attributes, cgroupsPath: '/podctl/gone', upperDir: '/nonexistent/podctl/upper', rootfs: '/r'}, source('cgroup-v1'))
  assert.deepEqual([stats.cpu, stats.memory, stats.writableLayer], [null, null, null])
})

test('the writable layer grows with what is written; a hard link is counted once', () => {
  const upper = tempDir()
  const empty = diskUsage(upper)!
  assert.equal(empty.inodes, 1n)
  mkdirSync(join(upper, 'tmp'))
  writeFileSync(join(upper, 'tmp', 'big'), Buffer.alloc(1 << 20, 1))
  linkSync(join(upper, 'tmp', 'big'), join(upper, 'big-again'))
  const grown = diskUsage(upper)!
  assert.equal(grown.inodes, 3n)
  const blocks = lstatSync(join(upper, 'tmp', 'big')).blocks * 512
  assert.ok(blocks >= 1 << 20)
  assert.equal(grown.bytes - empty.bytes, BigInt(blocks + lstatSync(join(upper, 'tmp')).blocks * 512))
  assert.equal(diskUsage('/nonexistent/podctl'), null)
})
