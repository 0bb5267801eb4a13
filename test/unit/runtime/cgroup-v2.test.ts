import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, test} from 'node:test'

import {cpuWeight, preparePodCgroupV2, v2ResourceFiles} from '../../../src/runtime/cgroup-v2.js'
import {pauseCgroupsPath} from '../../../src/runtime/cgroups.js'

const id = 'ab'.repeat(32)

describe('pauseCgroupsPath', () => {
  test('v1 and hybrid: the pod cgroup itself', () => {
    assert.equal(pauseCgroupsPath(`/podctl/${id}`, 'v1'), `/podctl/${id}`)
    assert.equal(pauseCgroupsPath(`/podctl/${id}`, 'hybrid'), `/podctl/${id}`)
  })
  test('v2: a leaf beside the containers', () => assert.equal(pauseCgroupsPath(`/podctl/${id}`, 'v2'), `/podctl/${id}/pause`))
})

describe('v2ResourceFiles: runc fs2 conversions', () => {
  test('CPU shares to weight at the ends and the default', () => {
    assert.equal(cpuWeight(2), 1)
    assert.equal(cpuWeight(1024), 39)
    assert.equal(cpuWeight(262144), 10000)
  })
  const cases: [string, Parameters<typeof v2ResourceFiles>[0], [string, string][]][] = [
    ['nothing set', {}, []],
    ['quota and period', {cpu_quota: 50_000, cpu_period: 100_000}, [['cpu.max', '50000 100000']]],
    ['no quota (-1) with a period', {cpu_quota: -1, cpu_period: 100_000}, [['cpu.max', 'max 100000']]],
    ['a quota alone keeps the kernel\'s period', {cpu_quota: 20_000}, [['cpu.max', '20000']]],
    ['memory, and memory + swap as swap alone', {memory_limit_in_bytes: 100 << 20, memory_swap_limit_in_bytes: 300 << 20}, [['memory.max', String(100 << 20)], ['memory.swap.max', String(200 << 20)]]],
    ['unlimited memory means unlimited swap', {memory_limit_in_bytes: -1}, [['memory.max', 'max'], ['memory.swap.max', 'max']]],
    ['cpusets', {cpuset_cpus: '0-1', cpuset_mems: '0'}, [['cpuset.cpus', '0-1'], ['cpuset.mems', '0']]],
    ['hugepages by page size', {hugepage_limits: [{page_size: '2MB', limit: 1 << 21}]}, [['hugetlb.2MB.max', String(1 << 21)]]],
    ['unified keys last, so they win', {cpu_shares: 1024, unified: {'cpu.weight': '500', 'pids.max': '64'}}, [['cpu.weight', '39'], ['cpu.weight', '500'], ['pids.max', '64']]],
  ]
  for (const [label, r, want] of cases) test(label, () => assert.deepEqual(v2ResourceFiles(r), want))

  test('swap without a memory limit is refused by field', () => {
    assert.throws(() => v2ResourceFiles({memory_swap_limit_in_bytes: 1 << 20}), /linux\.resources\.memory_swap_limit_in_bytes: a swap limit needs a memory limit/)
  })
  test('memory + swap below memory is refused', () => {
    assert.throws(() => v2ResourceFiles({memory_limit_in_bytes: 2 << 20, memory_swap_limit_in_bytes: 1 << 20}), /is below memory_limit_in_bytes/)
  })
})

describe('preparePodCgroupV2 on a fixture hierarchy', () => {
  // The kernel makes a cgroup's interface files on mkdir; the fixture has them made beforehand.
  let root: string
  const pod = `/podctl/${id}`
  const controllersOf = (dir: string, list: string) => {
    mkdirSync(dir, {recursive: true})
    writeFileSync(join(dir, 'cgroup.controllers'), `${list}\n`)
    writeFileSync(join(dir, 'cgroup.subtree_control'), '')
  }
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'podctl-cgv2-'))
    controllersOf(root, 'cpuset cpu io memory pids')
    controllersOf(join(root, 'podctl'), 'cpuset cpu io memory pids')
    controllersOf(join(root, pod), 'cpu memory pids')
    for (const f of ['cpu.max', 'cpu.weight', 'memory.max', 'memory.swap.max']) writeFileSync(join(root, pod, f), '')
  })
  afterEach(() => rmSync(root, {recursive: true, force: true}))
  const read = (rel: string) => readFileSync(join(root, rel), 'utf8')

  test('controllers are given down to the pod and below it, and the limits written into the pod cgroup', () => {
    preparePodCgroupV2(pod, {cpu_shares: 512, cpu_quota: 50_000, cpu_period: 100_000, memory_limit_in_bytes: 256 << 20}, root)
    assert.equal(read('cgroup.subtree_control'), '+cpuset +cpu +io +memory +pids')
    assert.equal(read('podctl/cgroup.subtree_control'), '+cpuset +cpu +io +memory +pids')
    assert.equal(read(`${pod}/cgroup.subtree_control`), '+cpu +memory +pids', 'the pause leaf and the containers get them')
    assert.equal(read(`${pod}/cpu.weight`), String(cpuWeight(512)))
    assert.equal(read(`${pod}/cpu.max`), '50000 100000')
    assert.equal(read(`${pod}/memory.max`), String(256 << 20))
  })

  test('a limit whose controller the pod cgroup lacks is refused by name, with what to do', () => {
    assert.throws(
      () => preparePodCgroupV2(pod, {cpuset_cpus: '0'}, root),
      (err: Error & {hint?: string}) => /cpuset\.cpus needs the cpuset controller, which the pod cgroup \/podctl\/(ab)+ does not have/.test(err.message) && /cgroup\.subtree_control/.test(err.hint ?? ''),
    )
  })

  test('an interface file the kernel did not make is an error, never a new plain file', () => {
    rmSync(join(root, pod, 'memory.max'))
    assert.throws(() => preparePodCgroupV2(pod, {memory_limit_in_bytes: 1 << 20}, root), /cannot write "1048576" to .*memory\.max: ENOENT/)
  })

  test('no limits: only the directories and controllers', () => {
    rmSync(join(root, 'podctl'), {recursive: true})
    controllersOf(root, 'memory')
    preparePodCgroupV2(pod, {}, root)
    assert.equal(read('cgroup.subtree_control'), '+memory')
  })
})
