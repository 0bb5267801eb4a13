// Pod stats from the kernel's files: the parsers on their documented formats,
// and the reader on hand-written cgroup v1 and v2 trees (test/fixtures/).

import assert from 'node:assert/strict'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, test} from 'node:test'
import {fileURLToPath} from 'node:url'

import {PodctlError} from '../../../src/runtime/errors.js'
import {type PodView, toPodSandbox} from '../../../src/runtime/listing.js'
import {
  countProcesses,
  type CpuUsage,
  cpuUsageV1,
  cpuUsageV2,
  memoryFigures,
  memoryFiles,
  memoryUsage,
  parseCounter,
  parseFlatKeyed,
  parseMemoryLimit,
  parseNetDev,
  type PodStatsEntry,
  readPodSandboxStats,
  type StatsSource,
  usageNanoCores,
  v1ControllerDirs,
  withCpuRates,
} from '../../../src/runtime/stats.js'
import {podctlError, tempDir} from '../helpers.js'

const fixtures = fileURLToPath(new URL('../../../../test/fixtures/', import.meta.url))
const podId = '0123456789abcdef'.repeat(4)
const kubepodsId = 'fedcba9876543210'.repeat(4)

/** A pod as listPods shows it; pid 4242 is the pause process of test/fixtures/proc. */
function podView(overrides: {id?: string; cgroupParent?: string; hostNetwork?: boolean; pidStartTime?: string; pid?: number; ready?: boolean} = {}): PodView {
  const id = overrides.id ?? podId
  return {
    record: {
      version: 1,
      id,
      name: 'web_default_uid-1_1',
      createdAt: '1700000000000000000',
      phase: 'ready',
      config: {
        metadata: {name: 'web', uid: 'uid-1', namespace: 'default', attempt: 1},
        labels: {app: 'web'},
        annotations: {note: 'kept'},
        linux: overrides.cgroupParent ? {cgroup_parent: overrides.cgroupParent} : undefined,
      },
      runtimeHandler: '',
      runtimePath: 'runc',
      netnsPath: overrides.hostNetwork ? undefined : `/run/podctl/netns/${id}`,
      containerCreated: true,
      pid: overrides.pid ?? 4242,
      pidStartTime: overrides.pidStartTime ?? '123456',
    },
    state: overrides.ready === false ? 'SANDBOX_NOTREADY' : 'SANDBOX_READY',
  }
}

/** A fixture tree, and a clock that ticks one microsecond per reading. */
function source(tree: 'cgroup-v1' | 'cgroup-v2'): StatsSource {
  let t = 1_700_000_000_000_000_000n
  return {cgroupMount: `${fixtures}${tree}`, mode: tree === 'cgroup-v1' ? 'v1' : 'v2', procRoot: `${fixtures}proc`, now: () => (t += 1000n)}
}

const v = (n: number | bigint) => ({value: String(n)})

describe('parsers of the kernel files', () => {
  test('single counters, flat-keyed files and cgroup.procs', () => {
    assert.equal(parseCounter('123456789012\n'), 123456789012n)
    assert.throws(() => parseCounter('max\n'), PodctlError)
    const stat = parseFlatKeyed('usage_usec 2500000\nuser_usec 2000000\n\nweird line here\n')
    assert.deepEqual([...stat], [['usage_usec', 2500000n], ['user_usec', 2000000n]])
    assert.equal(countProcesses('4242\n4300\n'), 2)
    assert.equal(countProcesses(''), 0)
  })

  test('flat-keyed files read for some keys: the same entries as a whole parse, limited to those keys', () => {
    const text = 'cache 4096\n total_rss\t8192 \ntotal_rss_huge 0\ntotal_pgfault 12 extra\ntotal_inactive_file x\nanon\n\n'
    const keys = new Set(['total_rss', 'total_pgfault', 'total_inactive_file', 'anon', 'missing'])
    const whole = parseFlatKeyed(text)
    assert.deepEqual([...parseFlatKeyed(text, keys)], [...whole].filter(([k]) => keys.has(k)))
    assert.deepEqual([...parseFlatKeyed(text, keys)], [['total_rss', 8192n]])
  })

  test('memory limits: v2 "max" and v1 "no limit" (2^63 rounded down to a page) are none', () => {
    assert.equal(parseMemoryLimit('max\n'), null)
    assert.equal(parseMemoryLimit('9223372036854771712\n'), null)
    assert.equal(parseMemoryLimit('536870912\n'), 536870912n)
  })

  test('/proc/net/dev: headers skipped, a wide counter glued to the colon', () => {
    const ifaces = parseNetDev(
      'Inter-|   Receive                                                |  Transmit\n' +
        ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n' +
        '    lo:     560       8    0    0    0     0          0         0      560       8    0    0    0     0       0          0\n' +
        '  eth0:1234567890  912345    3    0    0     0          0         0   987654    4321    1    0    0     0       0          0\n',
    )
    assert.deepEqual(ifaces, [
      {name: 'lo', rxBytes: 560n, rxErrors: 0n, txBytes: 560n, txErrors: 0n},
      {name: 'eth0', rxBytes: 1234567890n, rxErrors: 3n, txBytes: 987654n, txErrors: 1n},
    ])
  })

  test('v1 controllers: a controller\'s own directory first, a co-mount otherwise', () => {
    const separate = v1ControllerDirs(['blkio', 'cpu', 'cpu,cpuacct', 'cpuacct', 'memory', 'pids', 'unified'])
    assert.equal(separate.get('cpuacct'), 'cpuacct')
    assert.equal(separate.get('cpu'), 'cpu')
    const comounted = v1ControllerDirs(['cpu,cpuacct', 'memory', 'net_cls,net_prio'])
    assert.equal(comounted.get('cpuacct'), 'cpu,cpuacct')
    assert.equal(comounted.get('net_prio'), 'net_cls,net_prio')
  })
})

describe('figures', () => {
  test('cpu: cpuacct.usage is nanoseconds; cpu.stat usage_usec is microseconds', () => {
    assert.deepEqual(cpuUsageV1('123456789012\n', 5n), {timestamp: '5', usageCoreNanoSeconds: v(123456789012n), usageNanoCores: null})
    assert.deepEqual(cpuUsageV2('usage_usec 2500000\nuser_usec 1\n', 6n).usageCoreNanoSeconds, v(2_500_000_000))
    assert.throws(() => cpuUsageV2('user_usec 1\n', 6n), /usage_usec/)
  })

  test('working set = usage - inactive file, floored at 0; available only under a limit', () => {
    const f = {usage: 100n, inactiveFile: 30n, rss: 50n, pageFaults: 7n, majorPageFaults: 1n, limit: 200n}
    const m = memoryUsage(f, 9n)
    assert.deepEqual(m, {
      timestamp: '9',
      workingSetBytes: v(70),
      availableBytes: v(130),
      usageBytes: v(100),
      rssBytes: v(50),
      pageFaults: v(7),
      majorPageFaults: v(1),
    })
    assert.deepEqual(memoryUsage({...f, inactiveFile: 150n}, 9n).workingSetBytes, v(0))
    assert.equal(memoryUsage({...f, limit: null}, 9n).availableBytes, null)
    assert.deepEqual(memoryUsage({...f, limit: 60n}, 9n).availableBytes, v(0), 'over the limit: nothing available, never negative')
  })

  test('v1 reads the hierarchical total_* entries; v2 reads anon as rss', () => {
    const stat1 = 'rss 1\ntotal_rss 10\ninactive_file 2\ntotal_inactive_file 20\npgfault 3\ntotal_pgfault 30\npgmajfault 4\ntotal_pgmajfault 40\n'
    assert.deepEqual(memoryFigures(memoryFiles.v1, {usage: '100', stat: stat1, limit: '9223372036854771712'}), {
      usage: 100n,
      inactiveFile: 20n,
      rss: 10n,
      pageFaults: 30n,
      majorPageFaults: 40n,
      limit: null,
    })
    const stat2 = 'anon 11\nfile 5\ninactive_file 21\npgfault 31\npgmajfault 41\n'
    assert.deepEqual(memoryFigures(memoryFiles.v2, {usage: '100', stat: stat2, limit: '4096'}), {
      usage: 100n,
      inactiveFile: 21n,
      rss: 11n,
      pageFaults: 31n,
      majorPageFaults: 41n,
      limit: 4096n,
    })
  })

  test('usage_nano_cores: CPU time over wall time between two samples', () => {
    const at = (timestamp: bigint, usage: bigint): CpuUsage => ({timestamp: String(timestamp), usageCoreNanoSeconds: v(usage), usageNanoCores: null})
    assert.deepEqual(usageNanoCores(at(1_000_000_000n, 0n), at(3_000_000_000n, 1_000_000_000n)), v(500_000_000), 'half a core')
    assert.deepEqual(usageNanoCores(at(0n, 0n), at(1_000_000_000n, 2_000_000_000n)), v(2_000_000_000), 'two cores')
    assert.equal(usageNanoCores(undefined, at(1n, 1n)), null, 'one sample: no rate')
    assert.equal(usageNanoCores(at(5n, 1n), at(5n, 9n)), null, 'the clock did not move')
    assert.equal(usageNanoCores(at(1n, 9n), at(5n, 1n)), null, 'the counter went backwards')
  })
})

describe('readPodSandboxStats on fixture trees', () => {
  const attributes = {id: podId, metadata: {name: 'web', uid: 'uid-1', namespace: 'default', attempt: 1}, labels: {app: 'web'}, annotations: {note: 'kept'}}
  const network = (timestamp: string) => {
    const eth0 = {name: 'eth0', rxBytes: v(1234567890), rxErrors: v(3), txBytes: v(987654), txErrors: v(1)}
    return {
      timestamp,
      defaultInterface: eth0,
      interfaces: [{name: 'lo', rxBytes: v(560), rxErrors: v(0), txBytes: v(560), txErrors: v(0)}, eth0, {name: 'net1', rxBytes: v(1000), rxErrors: v(0), txBytes: v(2000), txErrors: v(0)}],
    }
  }

  test('cgroup v1: cpuacct, memory with a limit, processes of the pod cgroup and below', async () => {
    const stats = await readPodSandboxStats(podView(), source('cgroup-v1'))
    assert.deepEqual(stats, {
      attributes,
      linux: {
        cpu: {timestamp: '1700000000000001000', usageCoreNanoSeconds: v(123456789012), usageNanoCores: null},
        memory: {
          timestamp: '1700000000000002000',
          workingSetBytes: v(104857600 - 10485760),
          availableBytes: v(536870912 - (104857600 - 10485760)),
          usageBytes: v(104857600),
          rssBytes: v(73400320),
          pageFaults: v(250000),
          majorPageFaults: v(12),
        },
        network: network('1700000000000004000'),
        process: {timestamp: '1700000000000003000', processCount: v(4)},
        containers: [],
      },
    })
  })

  test('cgroup v2: cpu.stat, memory without a limit, cgroup.procs', async () => {
    const stats = await readPodSandboxStats(podView(), source('cgroup-v2'))
    assert.deepEqual(stats, {
      attributes,
      linux: {
        cpu: {timestamp: '1700000000000001000', usageCoreNanoSeconds: v(2_500_000_000), usageNanoCores: null},
        memory: {
          timestamp: '1700000000000002000',
          workingSetBytes: v(67108864 - 4194304),
          availableBytes: null,
          usageBytes: v(67108864),
          rssBytes: v(50331648),
          pageFaults: v(18000),
          majorPageFaults: v(3),
        },
        network: network('1700000000000004000'),
        process: {timestamp: '1700000000000003000', processCount: v(1)},
        containers: [],
      },
    })
  })

  test('cgroup v2: a pod under its cgroup_parent, in a subtree without the memory controller', async () => {
    const stats = await readPodSandboxStats(podView({id: kubepodsId, cgroupParent: '/kubepods'}), source('cgroup-v2'))
    assert.deepEqual(stats?.linux.cpu?.usageCoreNanoSeconds, v(42_000))
    assert.equal(stats?.linux.memory, null)
    assert.deepEqual(stats?.linux.process?.processCount, v(1))
  })

  test('a host-network pod has no network figures of its own', async () => {
    const stats = await readPodSandboxStats(podView({hostNetwork: true}), source('cgroup-v1'))
    assert.equal(stats?.linux.network, null)
    assert.ok(stats?.linux.cpu)
  })

  test('NotReady, stopped meanwhile, or a reused PID: no figures, no error', async () => {
    assert.equal(await readPodSandboxStats(podView({ready: false}), source('cgroup-v1')), null)
    assert.equal(await readPodSandboxStats(podView({pidStartTime: '999'}), source('cgroup-v2')), null, 'the PID is another process now')
    assert.equal(await readPodSandboxStats(podView({id: kubepodsId, pid: 4343}), source('cgroup-v1')), null, 'cgroup and pause both gone')
  })

  test('a file the kernel would not write is an error that names the pod', async () => {
    const mount = tempDir()
    mkdirSync(join(mount, 'podctl', podId), {recursive: true})
    writeFileSync(join(mount, 'podctl', podId, 'cpu.stat'), 'user_usec 1\n')
    await assert.rejects(readPodSandboxStats(podView(), {...source('cgroup-v2'), cgroupMount: mount}), podctlError(1, `pod "${podId}"`, 'usage_usec'))
  })

  test('a live pause process without its cgroup is an error that names the cgroup', async () => {
    await assert.rejects(readPodSandboxStats(podView({id: kubepodsId}), source('cgroup-v1')), (err: unknown) => {
      assert.ok(err instanceof PodctlError)
      assert.match(err.message, new RegExp(`cannot read the stats of pod "${kubepodsId}".*"/podctl/${kubepodsId}"`))
      return true
    })
  })
})

describe('sampling', () => {
  test('withCpuRates: each pod rated against its own previous sample; new pods get none', async () => {
    const cpuAt = (entry: PodStatsEntry, timestamp: bigint, usage: bigint): PodStatsEntry => ({
      ...entry,
      stats: {...entry.stats!, linux: {...entry.stats!.linux, cpu: {timestamp: String(timestamp), usageCoreNanoSeconds: v(usage), usageNanoCores: null}}},
    })
    const view = podView()
    const base: PodStatsEntry = {pod: toPodSandbox(view), stats: await readPodSandboxStats(view, source('cgroup-v1'))}
    const other: PodStatsEntry = {pod: toPodSandbox(podView({id: kubepodsId})), stats: base.stats}
    const notReady: PodStatsEntry = {pod: toPodSandbox(podView({ready: false})), stats: null}
    const rated = withCpuRates([cpuAt(base, 0n, 0n)], [cpuAt(base, 2_000_000_000n, 1_500_000_000n), cpuAt(other, 1n, 1n), notReady])
    assert.deepEqual(rated[0].stats?.linux.cpu?.usageNanoCores, v(750_000_000))
    assert.equal(rated[1].stats?.linux.cpu?.usageNanoCores, null)
    assert.equal(rated[2].stats, null)
  })
})
