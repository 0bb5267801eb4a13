// cgroup_parent and resources against host layouts built in temp dirs: the
// v1 (and hybrid) and v2 trees a pod cgroup lands in, and what a host's
// cgroups can apply. The live v2 case is in test/e2e/config-cgroups.test.ts.

import assert from 'node:assert/strict'
import {existsSync, mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, test} from 'node:test'

import type {LinuxContainerResources} from '../../../src/cri/types.js'
import {type CgroupFacts, checkResources, pageSizeName, parseCpuset, podCgroupsPath, readCgroupFacts, removePodCgroup} from '../../../src/runtime/cgroups.js'
import {podctlError, tempDir} from '../helpers.js'

const id = 'fa'.repeat(32)

function tree(root: string, files: Record<string, string>, dirs: string[] = []): string {
  for (const d of dirs) mkdirSync(join(root, d), {recursive: true})
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), {recursive: true})
    writeFileSync(join(root, path), content)
  }
  return root
}

describe('removePodCgroup: the pod cgroup goes from every hierarchy, its parents stay', () => {
  const parents: [string, string][] = [
    ['a cgroupfs parent', '/podctl-e2e/burstable'],
    ['a root slice', '/test.slice'],
    ['a nested slice', 'kubepods-burstable.slice'],
  ]
  for (const [label, parent] of parents) {
    const path = podCgroupsPath(parent, id)
    test(`v1/hybrid, ${label}: ${path}`, async () => {
      const root = tempDir()
      const hierarchies = ['cpu', 'cpuacct', 'memory', 'pids', 'cpuset', 'systemd', 'unified']
      tree(root, {}, hierarchies.map((h) => join(h, path)))
      await removePodCgroup(path, root)
      for (const h of hierarchies) {
        assert.ok(!existsSync(join(root, h, path)), `${h}${path} removed`)
        assert.ok(existsSync(join(root, h, path, '..')), `${h}: the parent stays`)
      }
    })
    test(`v2, ${label}: ${path}`, async () => {
      const root = tempDir()
      tree(root, {'cgroup.controllers': 'cpu memory pids'}, [path, 'system.slice', 'init.scope'])
      await removePodCgroup(path, root)
      assert.ok(!existsSync(join(root, path)))
      assert.ok(existsSync(join(root, path, '..')))
      assert.ok(existsSync(join(root, 'system.slice')), 'other cgroups are left alone')
    })
  }
  test('already gone is fine', async () => removePodCgroup(podCgroupsPath('/x', id), tempDir()))
  test('a cgroup that still holds something is an error', async () => {
    const root = tempDir()
    const path = podCgroupsPath('/busy', id)
    tree(root, {[join('memory', path, 'child', 'f')]: ''})
    await assert.rejects(removePodCgroup(path, root), /cannot remove cgroup/)
  })
})

describe('readCgroupFacts', () => {
  test('v1 / hybrid: mounted hierarchies, joined ones split, the cpuset root, memsw', async () => {
    const root = tree(tempDir(), {
      'cpuset/cpuset.effective_cpus': '0-3\n',
      'cpuset/cpuset.effective_mems': '0\n',
      'memory/memory.memsw.limit_in_bytes': '9223372036854771712\n',
    }, ['cpu,cpuacct', 'pids', 'hugetlb', 'systemd', 'unified'])
    const pages = tree(tempDir(), {}, ['hugepages-2048kB', 'hugepages-1048576kB'])
    const facts = await readCgroupFacts('hybrid', root, pages)
    assert.deepEqual({...facts, hugepageSizes: [...facts.hugepageSizes].sort()}, {
      mode: 'hybrid',
      controllers: ['cpu', 'cpuacct', 'cpuset', 'hugetlb', 'memory', 'pids'],
      hugepageSizes: ['1GB', '2MB'],
      cpus: '0-3',
      mems: '0',
      swapLimit: true,
    })
  })
  test('v1 without swap accounting or huge pages', async () => {
    const facts = await readCgroupFacts('v1', tree(tempDir(), {}, ['memory', 'cpu']), join(tempDir(), 'none'))
    assert.equal(facts.swapLimit, false)
    assert.deepEqual(facts.hugepageSizes, [])
    assert.deepEqual(facts.controllers, ['cpu', 'memory'])
  })
  test('v2: the root cgroup.controllers and effective cpuset', async () => {
    const root = tree(tempDir(), {'cgroup.controllers': 'cpuset cpu io memory hugetlb pids\n', 'cpuset.cpus.effective': '0-7\n', 'cpuset.mems.effective': '0-1\n'})
    assert.deepEqual(await readCgroupFacts('v2', root, join(root, 'none')), {
      mode: 'v2',
      controllers: ['cpuset', 'cpu', 'io', 'memory', 'hugetlb', 'pids'],
      hugepageSizes: [],
      cpus: '0-7',
      mems: '0-1',
      swapLimit: true,
    })
  })
})

describe('pageSizeName and parseCpuset', () => {
  const sizes: [number, string][] = [[4096, '4KB'], [2 << 20, '2MB'], [1 << 30, '1GB'], [64 << 10, '64KB'], [32 << 20, '32MB']]
  for (const [bytes, want] of sizes) test(`${bytes} → ${want}`, () => assert.equal(pageSizeName(bytes), want))
  const lists: [string, number[] | undefined][] = [['', []], ['0', [0]], ['0-3,6', [0, 1, 2, 3, 6]], [' 1 , 3-4', [1, 3, 4]], ['3-1', undefined], ['a', undefined], ['0-', undefined], ['1,,2', undefined]]
  for (const [list, want] of lists) test(`cpuset ${JSON.stringify(list)}`, () => assert.deepEqual(parseCpuset(list) && [...parseCpuset(list)!], want))
})

describe('checkResources: what the host cannot apply is refused, naming the field', () => {
  const v1: CgroupFacts = {mode: 'hybrid', controllers: ['cpu', 'cpuacct', 'cpuset', 'memory', 'pids'], hugepageSizes: ['2MB'], cpus: '0-1', mems: '0', swapLimit: false}
  const v2: CgroupFacts = {mode: 'v2', controllers: ['cpu', 'memory', 'hugetlb'], hugepageSizes: ['2MB', '1GB'], cpus: '0-3', mems: '0', swapLimit: true}
  const ok: [string, LinuxContainerResources, CgroupFacts][] = [
    ['plain cpu and memory on v1', {cpu_shares: 512, cpu_quota: 10_000, memory_limit_in_bytes: 1 << 26}, v1],
    ['a cpuset inside the host\'s', {cpuset_cpus: '1', cpuset_mems: '0'}, v1],
    ['huge pages on v2', {hugepage_limits: [{page_size: '1GB', limit: 1 << 30}]}, v2],
    ['unified on v2', {unified: {'memory.high': '100M'}}, v2],
    ['swap where accounted', {memory_limit_in_bytes: 1, memory_swap_limit_in_bytes: 2}, v2],
  ]
  for (const [label, r, facts] of ok) test(`accepted: ${label}`, () => checkResources(r, facts, 'linux.resources'))
  const bad: [string, LinuxContainerResources, CgroupFacts, string][] = [
    ['huge pages without hugetlb', {hugepage_limits: [{page_size: '2MB', limit: 1}]}, v1, 'linux.resources.hugepage_limits: this host has no hugetlb cgroup controller mounted as a cgroup v1 hierarchy'],
    ['huge pages without hugetlb on v2', {hugepage_limits: [{page_size: '2MB', limit: 1}]}, {...v2, controllers: ['cpu']}, 'linux.resources.hugepage_limits: this host has no hugetlb cgroup controller'],
    ['a page size the host lacks', {hugepage_limits: [{page_size: '16MB', limit: 1}]}, v2, 'linux.resources.hugepage_limits[0].page_size: "16MB" is not a huge page size of this host (2MB, 1GB)'],
    ['unified on v1', {unified: {'pids.max': '5'}}, v1, 'linux.resources.unified: needs cgroup v2'],
    ['swap without swap accounting', {memory_swap_limit_in_bytes: 1 << 30}, v1, 'linux.resources.memory_swap_limit_in_bytes: this host has no swap accounting'],
    ['a CPU the host does not have', {cpuset_cpus: '0-5'}, v1, 'linux.resources.cpuset_cpus: "0-5" names 2, 3, 4, 5, which this host does not offer (0-1)'],
    ['a memory node the host does not have', {cpuset_mems: '1'}, v1, 'linux.resources.cpuset_mems: "1" names 1'],
  ]
  for (const [label, r, facts, needle] of bad) test(`refused: ${label}`, () => assert.throws(() => checkResources(r, facts, 'linux.resources'), podctlError(2, needle)))
  test('the field prefix is the caller\'s (overhead)', () => {
    assert.throws(() => checkResources({unified: {'a.b': '1'}}, v1, 'linux.overhead'), podctlError(2, 'linux.overhead.unified'))
  })
})
