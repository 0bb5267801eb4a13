// linux.cgroup_parent, linux.resources and linux.overhead on a real pod,
// read from the kernel's cgroup files: the pause process's /proc/<pid>/cgroup
// in every hierarchy, the pod cgroup's directory under each controller that
// matters (cpu, cpuacct, memory, pids, cpuset on v1; the one tree on v2), the
// limits in it, and its removal on rmp. Parents the tests cause to exist are
// named after a random tag and removed by the tests themselves.

import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, afterEach, before, describe, test} from 'node:test'

import {assertRefused, capabilityMask, hexMask, procCgroupPaths, procStatus, removeTestCgroups} from './config-helpers.js'
import {cgroupDirs, cgroupV2Host, e2eOptions, TestEnv} from './harness.js'

const MiB = 1024 * 1024
/** v1's "no limit": the largest page-aligned long (a string: a JS number cannot hold it). */
const v1Unlimited = '9223372036854771712'
const v2 = () => cgroupV2Host()
/** Where the pod cgroup must be: per controller on v1 (hybrid too), the one tree on v2. */
const controllerDirs = (path: string): Record<string, string> =>
  v2() ? {unified: join('/sys/fs/cgroup', path)} : Object.fromEntries(['cpu', 'cpuacct', 'memory', 'pids', 'cpuset'].map((c) => [c, join('/sys/fs/cgroup', c, path)]))

const read = (file: string) => readFileSync(file, 'utf8').trim()

/** The limits the kernel holds for a pod cgroup, in v1 units on either version. */
function limitsOf(path: string): Record<string, string> {
  if (v2()) {
    const dir = join('/sys/fs/cgroup', path)
    const [quota, period] = read(join(dir, 'cpu.max')).split(' ')
    const memory = read(join(dir, 'memory.max'))
    const swap = read(join(dir, 'memory.swap.max'))
    return {
      // runc's conversion of cpu.shares to cpu.weight (libcontainer/cgroups/utils.go ConvertCPUSharesToCgroupV2Value)
      weight: read(join(dir, 'cpu.weight')),
      quota: quota === 'max' ? '-1' : quota,
      period,
      memory: memory === 'max' ? 'max' : memory,
      memsw: swap === 'max' || memory === 'max' ? 'max' : String(Number(swap) + Number(memory)),
      cpus: read(join(dir, 'cpuset.cpus')),
      mems: read(join(dir, 'cpuset.mems')),
    }
  }
  const at = (controller: string, file: string) => read(join('/sys/fs/cgroup', controller, path, file))
  const memsw = existsSync(join('/sys/fs/cgroup/memory', path, 'memory.memsw.limit_in_bytes')) ? at('memory', 'memory.memsw.limit_in_bytes') : 'none'
  return {
    shares: at('cpu', 'cpu.shares'),
    quota: at('cpu', 'cpu.cfs_quota_us'),
    period: at('cpu', 'cpu.cfs_period_us'),
    memory: at('memory', 'memory.limit_in_bytes'),
    memsw,
    cpus: at('cpuset', 'cpuset.cpus'),
    mems: at('cpuset', 'cpuset.mems'),
  }
}


/** What limitsOf should read for these v1 values on this host. */
function expected(want: {shares: number; quota: number; period: number; memory: number; memsw?: number; cpus: string; mems: string}): Record<string, string> {
  if (v2()) {
    return {
      weight: String(1 + Math.floor(((want.shares - 2) * 9999) / 262_142)),
      quota: String(want.quota),
      period: String(want.period),
      memory: String(want.memory),
      memsw: want.memsw === undefined ? 'max' : String(want.memsw),
      cpus: want.cpus,
      mems: want.mems,
    }
  }
  return {
    shares: String(want.shares),
    quota: String(want.quota),
    period: String(want.period),
    memory: String(want.memory),
    memsw: existsSync('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes') ? (want.memsw === undefined ? v1Unlimited : String(want.memsw)) : 'none',
    cpus: want.cpus,
    mems: want.mems,
  }
}

describe('linux.cgroup_parent, linux.resources, linux.overhead', e2eOptions(), () => {
  let env: TestEnv
  const tag = randomBytes(3).toString('hex')
  /** Parents this file's pods were placed under; removed after each test. */
  const parents: string[] = []
  before(() => {
    env = new TestEnv(34)
  })
  after(() => env.teardown())
  afterEach(() => {
    env.podctl(['rmp', '-af'])
    assert.deepEqual(removeTestCgroups(parents.splice(0), tag), [])
  })

  /** The env's config file without its cgroup-parent line, for tests of the setting and of the default. */
  const settingsWithoutParent = () => readFileSync(env.configFile, 'utf8').replace(/^cgroup-parent: .*\n/m, '')

  /** Run a pod and return its ID and pause PID. */
  const run = (name: string, linux: Record<string, unknown>) => {
    const id = env.runPod(name, {linux})
    return {id, pid: env.inspect(id).info.pid as number}
  }

  // [cgroup_parent, the directory its pods land in, the parents to remove afterwards]
  const placements: [string, string, string[]][] = [
    [`/e2e${tag}/burstable`, `/e2e${tag}/burstable`, [`/e2e${tag}/burstable`, `/e2e${tag}`]],
    [`/test${tag}.slice`, `/test${tag}.slice`, [`/test${tag}.slice`]],
    [`test${tag}.slice`, `/test${tag}.slice`, [`/test${tag}.slice`]],
    [
      `kubepods${tag}-burstable.slice`,
      `/kubepods${tag}.slice/kubepods${tag}-burstable.slice`,
      [`/kubepods${tag}.slice/kubepods${tag}-burstable.slice`, `/kubepods${tag}.slice`],
    ],
    [
      `/kubepods${tag}.slice/kubepods${tag}-besteffort.slice`,
      `/kubepods${tag}.slice/kubepods${tag}-besteffort.slice`,
      [`/kubepods${tag}.slice/kubepods${tag}-besteffort.slice`, `/kubepods${tag}.slice`],
    ],
  ]

  test('no cgroup_parent and no cgroup-parent setting: the pod\'s own cgroup under /podctl, in every hierarchy, gone on rmp', () => {
    // The env's config names its own parent; this pod is run with the same file without it.
    const defaults = {env: {PODCTL_CONFIG: env.podConfig(settingsWithoutParent(), 'default-parent.yaml')}}
    // podctl leaves the parent it made, as runc does; this test removes it only if it made it.
    const hadDefault = cgroupDirs('/podctl').length > 0
    const id = env.ok(['runp', env.podConfig({metadata: {name: 'default-parent', namespace: 'default'}})], defaults).trim()
    const pid = env.inspect(id).info.pid as number
    const path = `/podctl/${id}`
    assert.deepEqual(new Set(procCgroupPaths(pid)), new Set([path]), 'the pause is in the pod cgroup in every hierarchy')
    for (const [controller, dir] of Object.entries(controllerDirs(path))) {
      assert.ok(read(join(dir, 'cgroup.procs')).split('\n').includes(String(pid)), `${controller}: the pause is in ${dir}`)
    }
    assert.equal(env.inspect(id).info.runtimeSpec.linux.cgroupsPath, path)
    env.ok(['rmp', '-f', id])
    assert.deepEqual(cgroupDirs(path), [], 'no hierarchy keeps the pod cgroup')
    env.assertNoLeaks()
    if (!hadDefault) assert.deepEqual(removeTestCgroups(['/podctl'], 'podctl'), [])
  })

  test('the env\'s cgroup-parent setting: the pod cgroup is <parent>/<id>', () => {
    const {id, pid} = run('env-parent', {})
    const path = `${env.cgroupParent}/${id}`
    assert.deepEqual(new Set(procCgroupPaths(pid)), new Set([path]), 'the pause is in the pod cgroup in every hierarchy')
    env.ok(['rmp', '-f', id])
    assert.deepEqual(cgroupDirs(path), [], 'no hierarchy keeps the pod cgroup')
    assert.ok(cgroupDirs(env.cgroupParent).length > 0, 'the parent stays until the env removes it')
    env.assertNoLeaks()
  })

  for (const [parent, dir, made] of placements) {
    test(`cgroup_parent ${parent.replaceAll(tag, '<tag>')}: the pod cgroup is ${dir.replaceAll(tag, '<tag>')}/<id>`, () => {
      parents.push(...made)
      const {id, pid} = run('parented', {cgroup_parent: parent})
      const path = `${dir}/${id}`
      assert.deepEqual(new Set(procCgroupPaths(pid)), new Set([path]), 'the pause is in the pod cgroup in every hierarchy')
      for (const [controller, d] of Object.entries(controllerDirs(path))) {
        assert.ok(read(join(d, 'cgroup.procs')).split('\n').includes(String(pid)), `${controller}: the pause is in ${d}`)
      }
      env.ok(['rmp', '-f', id])
      assert.deepEqual(cgroupDirs(path), [], 'the pod cgroup goes with the pod')
      // The parent is the caller's (kubelet's QoS cgroups): it stays.
      assert.ok(cgroupDirs(dir).length > 0, 'the parent stays')
      env.assertNoLeaks()
    })
  }

  test('the cgroup-parent setting places the pods that name no parent; a pod\'s own parent still wins', () => {
    const settingsText = settingsWithoutParent()
    const withSetting = {env: {PODCTL_CONFIG: env.podConfig(`${settingsText}\ncgroup-parent: setting${tag}.slice\n`, 'cgroup-parent.yaml')}}
    const dir = `/setting${tag}.slice`
    parents.push(dir, `/own${tag}`)
    const id = env.ok(['runp', env.podConfig({metadata: {name: 'by-setting', namespace: 'default'}})], withSetting).trim()
    // Inspected, stopped and removed with the file's settings (no cgroup-parent): the record says where the pod is.
    const {info} = env.inspect(id)
    assert.deepEqual(new Set(procCgroupPaths(info.pid)), new Set([`${dir}/${id}`]), 'the pause is under the setting\'s parent')
    assert.equal(info.cgroupParent, `setting${tag}.slice`)
    assert.equal(info.runtimeSpec.linux.cgroupsPath, `${dir}/${id}`)
    env.ok(['rmp', '-f', id])
    assert.deepEqual(cgroupDirs(`${dir}/${id}`), [], 'the pod cgroup goes with the pod')

    const own = env.ok(['runp', env.podConfig({metadata: {name: 'own-parent', namespace: 'default'}, linux: {cgroup_parent: `/own${tag}`}})], withSetting).trim()
    assert.deepEqual(new Set(procCgroupPaths(env.inspect(own).info.pid)), new Set([`/own${tag}/${own}`]), 'the config\'s parent wins')
    env.ok(['rmp', '-f', own])

    const bad = {env: {PODCTL_CONFIG: env.podConfig(`${settingsText}\ncgroup-parent: relative/path\n`, 'bad-parent.yaml')}}
    const refused = env.podctl(['runp', env.podConfig({metadata: {name: 'refused', namespace: 'default'}})], bad)
    assert.equal(refused.code, 2, refused.stderr)
    assert.match(refused.stderr, /^error: config file ".*bad-parent\.yaml": cgroup-parent: "relative\/path" is not a cgroup parent\n/)
    const badSlice = {env: {PODCTL_CONFIG: env.podConfig(`${settingsText}\ncgroup-parent: e2e${tag}--x.slice\n`, 'bad-slice.yaml')}}
    const refusedSlice = env.podctl(['runp', env.podConfig({metadata: {name: 'refused', namespace: 'default'}})], badSlice)
    assert.equal(refusedSlice.code, 2, refusedSlice.stderr)
    assert.match(refusedSlice.stderr, /the cgroup-parent setting \(config file ".*bad-slice\.yaml"\): ".*" is not a valid systemd slice name/)
    assert.deepEqual(env.ok(['pods', '-q']), '')
    env.assertNoLeaks()
  })

  test('an invalid slice parent is refused, naming the field, before anything is made', () => {
    for (const parent of [`-e2e${tag}.slice`, `e2e${tag}--x.slice`]) {
      assertRefused(env, {cgroup_parent: parent}, /linux\.cgroup_parent: ".*" is not a valid systemd slice name/)
      assert.deepEqual(cgroupDirs(`/e2e${tag}.slice`), [])
    }
    env.assertNoLeaks()
  })

  test('resources plus overhead: cpu shares, quota, period, memory, memory+swap and cpuset in the pod cgroup', () => {
    const cpus = read(v2() ? '/sys/fs/cgroup/cpuset.cpus.effective' : '/sys/fs/cgroup/cpuset/cpuset.effective_cpus')
    const lastCpu = cpus.split(/[,-]/).pop()!
    const swap = v2() || existsSync('/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes')
    const resources: Record<string, unknown> = {cpu_shares: 512, cpu_quota: 30_000, cpu_period: 100_000, memory_limit_in_bytes: 64 * MiB, cpuset_cpus: lastCpu, cpuset_mems: '0'}
    const overhead: Record<string, unknown> = {cpu_shares: 128, cpu_quota: 10_000, memory_limit_in_bytes: 16 * MiB}
    if (swap) {
      resources.memory_swap_limit_in_bytes = 128 * MiB
      overhead.memory_swap_limit_in_bytes = 32 * MiB
    }
    const {id} = run('limited', {resources, overhead})
    const path = `${env.cgroupParent}/${id}`
    assert.deepEqual(
      limitsOf(path),
      expected({shares: 640, quota: 40_000, period: 100_000, memory: 80 * MiB, memsw: swap ? 160 * MiB : undefined, cpus: lastCpu, mems: '0'}),
    )
    // inspectp shows the limits that were applied, not only the config.
    assert.deepEqual(env.inspect(id).info.runtimeSpec.linux.resources.memory, swap ? {limit: 80 * MiB, swap: 160 * MiB} : {limit: 80 * MiB})
    env.ok(['rmp', '-f', id])
    env.assertNoLeaks()
  })

  test('overhead alone limits the pod; a quota of -1 is no limit; oom_score_adj reaches the pause', () => {
    const {id, pid} = run('overhead-only', {overhead: {cpu_shares: 256, cpu_quota: -1, cpu_period: 50_000, memory_limit_in_bytes: 32 * MiB, oom_score_adj: 500}})
    const limits = limitsOf(`${env.cgroupParent}/${id}`)
    const all = read(v2() ? '/sys/fs/cgroup/cpuset.cpus.effective' : '/sys/fs/cgroup/cpuset/cpuset.effective_cpus')
    assert.deepEqual(limits, expected({shares: 256, quota: -1, period: 50_000, memory: 32 * MiB, cpus: all, mems: limits.mems}))
    assert.equal(read(`/proc/${pid}/oom_score_adj`), '500')
    env.ok(['rmp', '-f', id])
    env.assertNoLeaks()
  })

  test('what this host cannot apply is refused, naming the field, before anything is made', () => {
    const hugetlb = v2() ? read('/sys/fs/cgroup/cgroup.controllers').split(' ').includes('hugetlb') : existsSync('/sys/fs/cgroup/hugetlb')
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['a CPU the host lacks', {resources: {cpuset_cpus: '0,4095'}}, /linux\.resources\.cpuset_cpus: "0,4095" names 4095, which this host does not offer/],
      ['a memory node the host lacks', {overhead: {cpuset_mems: '63'}}, /linux\.overhead\.cpuset_mems: "63" names 63, which this host does not offer/],
      ['a page size no kernel has', {resources: {hugepage_limits: [{page_size: '3MB', limit: 1}]}}, hugetlb ? /linux\.resources\.hugepage_limits\[0\]\.page_size: "3MB" is not a huge page size of this host/ : /linux\.resources\.hugepage_limits: this host has no hugetlb cgroup controller/],
      ['a quota below the kernel\'s minimum', {resources: {cpu_quota: 999}}, /linux\.resources\.cpu_quota: 999 is below the kernel's minimum/],
      ['a period out of range', {overhead: {cpu_period: 2_000_000}}, /linux\.overhead\.cpu_period: 2000000 is out of range/],
      ['memory+swap below memory', {resources: {memory_limit_in_bytes: 64 * MiB, memory_swap_limit_in_bytes: 32 * MiB}}, /linux\.resources\.memory_swap_limit_in_bytes: 33554432 is below memory_limit_in_bytes 67108864/],
    ]
    if (!v2()) cases.push(['unified files on cgroup v1', {resources: {unified: {'memory.high': '1000000'}}}, /linux\.resources\.unified: needs cgroup v2/])
    if ((hexMask(procStatus(process.pid).CapEff) & capabilityMask(['CAP_SYS_RESOURCE'])) === 0n) {
      cases.push(['a negative oom_score_adj without CAP_SYS_RESOURCE', {resources: {oom_score_adj: -500}}, /linux\.resources\.oom_score_adj: -500 needs CAP_SYS_RESOURCE/])
    }
    for (const [what, linux, message] of cases) assertRefused(env, linux, message, what)
    env.assertNoLeaks()
  })

  test('huge page limits are applied where the host has the hugetlb controller', (t) => {
    const sizes = existsSync('/sys/kernel/mm/hugepages') ? readFileSync('/proc/meminfo', 'utf8').match(/^Hugepagesize:\s+(\d+) kB/m) : null
    const hugetlbDir = v2() ? '/sys/fs/cgroup' : '/sys/fs/cgroup/hugetlb'
    const hugetlb = v2() ? read('/sys/fs/cgroup/cgroup.controllers').split(' ').includes('hugetlb') : existsSync(hugetlbDir)
    if (!sizes || !hugetlb) {
      // Checked above: such a host refuses hugepage_limits by name.
      t.skip(`this host has no hugetlb cgroup controller${v2() ? '' : ' mounted as a v1 hierarchy'}; the refusal is tested instead`)
      return
    }
    const pageSize = `${Number(sizes[1]) / 1024}MB`
    const {id} = run('huge', {resources: {hugepage_limits: [{page_size: pageSize, limit: 4 * Number(sizes[1]) * 1024}]}})
    const file = join(hugetlbDir, env.cgroupParent, id, v2() ? `hugetlb.${pageSize}.max` : `hugetlb.${pageSize}.limit_in_bytes`)
    assert.equal(read(file), String(4 * Number(sizes[1]) * 1024))
    env.ok(['rmp', '-f', id])
    env.assertNoLeaks()
  })
})
