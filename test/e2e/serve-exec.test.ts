// ExecSync, ContainerStats, ListContainerStats and UpdateContainerResources
// through `podctl serve`, over a raw gRPC client and through the real crictl
// 1.26.1 (exec -s, stats, update), on real runc, conmon, CNI and a busybox
// image from a real docker-registry on loopback: the bytes a command writes,
// its exit code, the 16 MiB cap, a timeout that kills the command, stats
// filtered as the CRI says, and a new memory limit read back from the cgroup.

import assert from 'node:assert/strict'
import {existsSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, afterEach, before, describe, test} from 'node:test'

import * as grpc from '@grpc/grpc-js'

import {assertClean, conmonMissing} from './container-helpers.js'
import {e2eOptionsWith, TestEnv} from './harness.js'
import {missingRegistryTools, type Registry, registryWithBusybox} from './registry.js'
import {criToolMissing, RawCri, runCriTool, type Served, startServe, stopServe} from './serve-helpers.js'

/** Live processes whose command line is exactly `argv`. */
function processesRunning(argv: string[]): number[] {
  const want = `${argv.join('\0')}\0`
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8') === want && !/\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
      } catch {
        return false
      }
    })
    .map(Number)
}

describe('podctl serve: ExecSync, container stats and resource updates', e2eOptionsWith('serve exec tests', missingRegistryTools, conmonMissing, criToolMissing('crictl')), () => {
  let env: TestEnv
  let reg: Registry
  let image: string
  let served: Served
  let cri: RawCri

  before(async () => {
    env = new TestEnv(181)
    ;({reg, image} = await registryWithBusybox(env.dir))
    served = await startServe(env)
    // A kubelet's limit for CRI messages: ExecSync's two streams fit in it.
    cri = new RawCri(served.socket, undefined, {'grpc.max_receive_message_length': 16 * 1024 * 1024})
    await cri.ok('PullImage', {image: {image}}, {service: 'image'})
  })

  after(async () => {
    cri?.close()
    if (served) await stopServe(served)
    await reg?.stop()
    env?.teardown()
  })

  afterEach(() => {
    env.ok(['rmp', '-af'])
    assertClean(env)
  })

  const podConfig = (name: string) => ({metadata: {name, namespace: 'serve-exec', uid: `uid-${name}`, attempt: 0}, log_directory: join(env.dir, 'logs', name)})

  /** A pod with one container running `command`, started. */
  async function running(name: string, command: string[], extra: object = {}): Promise<{pod: string; id: string}> {
    const config = podConfig(name)
    const {pod_sandbox_id: pod} = await cri.ok('RunPodSandbox', {config})
    env.seen.add(pod)
    const {container_id: id} = await cri.ok('CreateContainer', {pod_sandbox_id: pod, config: {metadata: {name, attempt: 0}, image: {image}, command, log_path: `${name}.log`, ...extra}, sandbox_config: config})
    env.seen.add(id)
    await cri.ok('StartContainer', {container_id: id})
    return {pod, id}
  }

  test('ExecSync: the bytes and exit code of the command, 8 MiB at most of each stream, a timeout that kills it', async () => {
    const {id} = await running('exec', ['sleep', '3600'])
    const exec = (cmd: string[], timeout = 0) => cri.call('ExecSync', {container_id: id, cmd, timeout}, {deadlineMs: 120_000})

    const hello = await cri.ok('ExecSync', {container_id: id, cmd: ['echo', '-n', 'hello'], timeout: 30})
    assert.deepEqual({stdout: hello.stdout.toString(), stderr: hello.stderr.toString(), exit_code: hello.exit_code}, {stdout: 'hello', stderr: '', exit_code: 0})
    // Bytes, not text; stderr apart; the command's own status.
    const mixed = (await exec(['sh', '-c', "printf '\\377\\000A'; printf oops >&2; exit 3"])).res
    assert.deepEqual([...mixed.stdout], [0xff, 0, 0x41])
    assert.equal(mixed.stderr.toString(), 'oops')
    assert.equal(mixed.exit_code, 3)
    // The container's environment and working directory, as podctl exec.
    assert.equal((await exec(['sh', '-c', 'echo $PATH; pwd'])).res.stdout.toString(), '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n/\n')
    // A command that cannot start: a shell's status, the reason on stderr.
    const missing = (await exec(['no-such-command'])).res
    assert.equal(missing.exit_code, 127)
    assert.match(missing.stderr.toString(), /"no-such-command" not found in the container/)
    // Just under 8 MiB of each stream is kept, the rest read and dropped: the answer fits a kubelet's 16 MiB message.
    const big = await exec(['sh', '-c', 'head -c 9000000 /dev/zero; head -c 9000000 /dev/zero >&2; echo done'])
    assert.equal(big.err, null, big.err?.details)
    assert.equal(big.res.stdout.length, 8 * 1024 * 1024 - 1024)
    assert.equal(big.res.stderr.length, 8 * 1024 * 1024 - 1024)
    assert.equal(big.res.exit_code, 0, 'the command ran to its end')
    // A timeout: DeadlineExceeded (containerd's answer), and the command is gone.
    const slow = await exec(['sleep', '4181'], 1)
    assert.equal(slow.err?.code, grpc.status.DEADLINE_EXCEEDED, slow.err?.details)
    assert.match(slow.err!.details, /timed out after 1 s and was killed/)
    assert.deepEqual(processesRunning(['sleep', '4181']), [], 'the timed-out command was killed')
    // Timeout 0 is none: longer than a second is fine.
    assert.equal((await exec(['sleep', '1.5'])).res.exit_code, 0)
    // An unknown container, no command, a container not running.
    assert.equal((await cri.call('ExecSync', {container_id: 'f'.repeat(64), cmd: ['true']})).err?.code, grpc.status.NOT_FOUND)
    assert.equal((await exec([])).err?.code, grpc.status.INVALID_ARGUMENT)
    await cri.ok('StopContainer', {container_id: id, timeout: 0})
    const stopped = await exec(['true'])
    assert.ok(stopped.err, 'a stopped container runs nothing')
    assert.match(stopped.err.details, /is not running \(CONTAINER_EXITED\)/)
  })

  test('ContainerStats and ListContainerStats: running containers, filtered by ID prefix, pod and labels, CPU rated against the previous call', async () => {
    const a = await running('stats-a', ['sleep', '3600'], {labels: {app: 'a'}})
    const b = await running('stats-b', ['sh', '-c', 'head -c 300000 /dev/zero > /tmp/fill; sleep 3600'], {labels: {app: 'b'}})
    const list = async (filter?: object) => ((await cri.ok('ListContainerStats', filter ? {filter} : {})).stats as {attributes: {id: string}}[]).map((s) => s.attributes.id)
    assert.deepEqual(await list(), [a.id, b.id].sort())
    assert.deepEqual(await list({id: a.id.slice(0, 12)}), [a.id])
    assert.deepEqual(await list({pod_sandbox_id: b.pod}), [b.id])
    assert.deepEqual(await list({label_selector: {app: 'b'}}), [b.id])
    assert.deepEqual(await list({label_selector: {app: 'none'}}), [])

    const first = (await cri.ok('ContainerStats', {container_id: b.id})).stats
    assert.equal(first.attributes.id, b.id)
    assert.deepEqual(first.attributes.metadata, {name: 'stats-b', attempt: 0})
    assert.deepEqual(first.attributes.labels, {app: 'b'})
    assert.match(first.cpu.timestamp, /^[1-9]\d{18}$/)
    assert.match(first.memory.timestamp, /^[1-9]\d{18}$/)
    assert.ok(Number(first.memory.working_set_bytes.value) > 0, 'memory in use')
    assert.equal(first.writable_layer.fs_id.mountpoint.endsWith('rootfs'), true, first.writable_layer.fs_id.mountpoint)
    // The write is there once the shell has made it.
    for (let i = 0; i < 100 && Number((await cri.ok('ContainerStats', {container_id: b.id})).stats.writable_layer.used_bytes.value) < 300000; i++) await new Promise((r) => setTimeout(r, 50))
    const second = (await cri.ok('ContainerStats', {container_id: b.id})).stats
    assert.ok(Number(second.writable_layer.used_bytes.value) >= 300000, 'the writable layer holds the write')
    assert.notEqual(second.cpu.usage_nano_cores, null, 'a second call has a rate')

    assert.equal((await cri.call('ContainerStats', {container_id: 'f'.repeat(64)})).err?.code, grpc.status.NOT_FOUND)
    await cri.ok('StopContainer', {container_id: a.id, timeout: 0})
    assert.equal((await cri.call('ContainerStats', {container_id: a.id})).err?.code, grpc.status.FAILED_PRECONDITION)
    assert.deepEqual(await list(), [b.id], 'stats of running containers only')
  })

  test('UpdateContainerResources: the new limits in the cgroup, zero fields kept, the fields it cannot apply refused by name', async () => {
    const {id} = await running('update', ['sleep', '3600'], {linux: {resources: {memory_limit_in_bytes: 256 * 1024 * 1024, cpu_shares: 256}}})
    await cri.ok('UpdateContainerResources', {container_id: id, linux: {memory_limit_in_bytes: 128 * 1024 * 1024}})
    const spec = JSON.parse((await cri.ok('ContainerStatus', {container_id: id, verbose: true})).info.info).runtimeSpec
    const cgroup = spec.linux.cgroupsPath as string
    const v1 = `/sys/fs/cgroup/memory${cgroup}/memory.limit_in_bytes`
    assert.equal(readFileSync(existsSync(v1) ? v1 : `/sys/fs/cgroup${cgroup}/memory.max`, 'utf8').trim(), String(128 * 1024 * 1024))
    assert.equal(spec.linux.resources.memory.limit, 128 * 1024 * 1024)
    assert.equal(spec.linux.resources.cpu.shares, 256, 'a field left at 0 is kept')
    for (const [field, linux] of [
      ['linux.oom_score_adj', {oom_score_adj: 10}],
      ['linux.unified', {unified: {'memory.high': '1000000'}}],
      ['linux.hugepage_limits', {hugepage_limits: [{page_size: '2MB', limit: 0}]}],
    ] as const) {
      const refused = await cri.call('UpdateContainerResources', {container_id: id, linux})
      assert.equal(refused.err?.code, grpc.status.INVALID_ARGUMENT, field)
      assert.match(refused.err!.details, new RegExp(`cannot change ${field.replace('.', '\\.')} `))
    }
    assert.equal((await cri.call('UpdateContainerResources', {container_id: 'f'.repeat(64), linux: {cpu_shares: 512}})).err?.code, grpc.status.NOT_FOUND)
  })

  test('crictl 1.26.1 exec -s, stats and update against serve', async () => {
    const crictl = (...args: string[]) => runCriTool('crictl', served, args, {cwd: env.dir})
    const ok = (...args: string[]) => {
      const r = crictl(...args)
      assert.equal(r.code, 0, `crictl ${args.join(' ')}: ${r.stderr}`)
      return r.stdout
    }
    const podFile = join(env.dir, 'crictl-pod.json')
    const ctrFile = join(env.dir, 'crictl-ctr.json')
    writeFileSync(podFile, JSON.stringify(podConfig('crictl')))
    writeFileSync(ctrFile, JSON.stringify({metadata: {name: 'web', attempt: 0}, image: {image}, command: ['sleep', '3600'], log_path: 'web.log'}))
    const id = ok('run', ctrFile, podFile).trim()
    env.seen.add(id)
    // crictl prints stdout and stderr, each with a newline, on its stdout.
    assert.equal(ok('exec', '-s', id, 'sh', '-c', 'echo out; echo err >&2'), 'out\n\nerr\n\n')
    const failed = crictl('exec', '-s', id, 'sh', '-c', 'echo why >&2; exit 4')
    assert.equal(failed.code, 1)
    assert.match(failed.stderr, /command 'sh -c echo why >&2; exit 4' exited with 4: why/)
    const timedOut = crictl('exec', '-s', '--timeout', '1', id, 'sleep', '4182')
    assert.equal(timedOut.code, 1)
    assert.match(timedOut.stderr, /timed out/)
    assert.deepEqual(processesRunning(['sleep', '4182']), [])

    const stats = JSON.parse(ok('stats', '-o', 'json', '--id', id)).stats as {attributes: {id: string}; memory: {workingSetBytes: {value: string}}}[]
    assert.deepEqual(stats.map((s) => s.attributes.id), [id])
    assert.ok(Number(stats[0].memory.workingSetBytes.value) > 0)
    const table = ok('stats', '-a', id).replace(/\x1b\[2J\x1b\[H/g, '').trim().split('\n')
    assert.match(table[0], /^CONTAINER\s+NAME\s+CPU %\s+MEM\s+DISK\s+INODES$/)
    assert.match(table[1], new RegExp(`^${id.slice(0, 13)}\\s+web\\s+\\d+\\.\\d\\d\\s+\\S+B\\s+\\S+B\\s+\\d+$`))

    assert.equal(ok('update', '--memory', String(64 * 1024 * 1024), '--cpu-share', '512', id).trim(), id)
    const spec = JSON.parse(ok('inspect', id)).info.runtimeSpec
    assert.equal(spec.linux.resources.memory.limit, 64 * 1024 * 1024)
    assert.equal(spec.linux.resources.cpu.shares, 512)
    ok('rm', '-f', id)
  })

  test('podctl as a CRI client (--runtime-endpoint): exec, logs, stats and update act through serve; -i and attach are refused in one line', async () => {
    // A client root of its own: what it printed from local state would be empty.
    const remote = (...args: string[]) => env.podctl(['--runtime-endpoint', served.endpoint, ...args], {env: {PODCTL_ROOT: join(env.dir, 'client-root')}})
    const ok = (...args: string[]) => {
      const r = remote(...args)
      assert.equal(r.code, 0, `podctl --runtime-endpoint ${args.join(' ')}: ${r.stderr}`)
      return r.stdout
    }
    const {id} = await running('client', ['sh', '-c', 'echo hello; echo oops >&2; sleep 3600'], {labels: {app: 'client'}})
    // exec, with and without -s: ExecSync, stdout and stderr apart, the command's status.
    const mixed = remote('exec', '-s', 'client', 'sh', '-c', 'echo out; echo err >&2; exit 5')
    assert.deepEqual([mixed.code, mixed.stdout, mixed.stderr], [5, 'out\n', 'err\n'])
    // Without -s too (ExecSync: the output when it ends), by an ID prefix.
    assert.equal(ok('exec', id.slice(0, 12), 'cat', '/etc/hostname'), ok('exec', '-s', id, 'hostname'))
    const slow = remote('exec', '-s', '--timeout', '1', id, 'sleep', '4183')
    assert.equal(slow.code, 124, slow.stderr)
    assert.match(slow.stderr, /^error: command "sleep 4183" timed out after 1 s and was killed$/m)
    assert.deepEqual(processesRunning(['sleep', '4183']), [])
    const missing = remote('exec', 'no-such-container', 'true')
    assert.equal(missing.code, 3, missing.stderr)
    const interactive = remote('exec', '-i', id, 'sh')
    assert.equal(interactive.code, 2)
    assert.match(interactive.stderr, /^error: exec -i with --runtime-endpoint needs the CRI's streaming Exec, which podctl's client does not speak$/m)
    const attach = remote('attach', id)
    assert.equal(attach.code, 2)
    assert.match(attach.stderr, /^error: attach with --runtime-endpoint needs the CRI's streaming Attach/m)

    // logs: the path from ContainerStatus, the file read here.
    assert.deepEqual(await (async () => {
      for (let i = 0; i < 100; i++) {
        const r = remote('logs', 'client')
        if (r.stdout === 'hello\n' && r.stderr === 'oops\n') return [r.stdout, r.stderr]
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      return 'no log lines'
    })(), ['hello\n', 'oops\n'])
    const last = remote('logs', '--timestamps', '--tail', '1', id)
    assert.deepEqual([last.code, last.stdout], [0, ''])
    assert.match(last.stderr, /^\d{4}-\d\d-\d\dT\S+ oops\n$/)
    const previous = remote('logs', '-p', id)
    assert.equal(previous.code, 3)

    // stats: ListContainerStats, filtered by the runtime.
    type Stats = {stats: {attributes: {id: string; labels: Record<string, string>}; memory: {workingSetBytes: {value: string}}; cpu: {usageNanoCores: {value: string} | null}}[]}
    const all = JSON.parse(ok('stats', '-o', 'json')) as Stats
    assert.deepEqual(all.stats.map((x) => x.attributes.id), [id])
    assert.deepEqual(all.stats[0].attributes.labels, {app: 'client'})
    assert.ok(Number(all.stats[0].memory.workingSetBytes.value) > 0)
    assert.deepEqual((JSON.parse(ok('stats', '-o', 'json', '--label', 'app=none')) as Stats).stats, [])
    assert.deepEqual((JSON.parse(ok('stats', '-o', 'json', '-p', 'client')) as Stats).stats.map((x) => x.attributes.id), [id])
    const rated = JSON.parse(ok('stats', '-o', 'json', '-s', '1', 'client')) as Stats
    assert.match(rated.stats[0].cpu.usageNanoCores?.value ?? '', /^\d+$/)
    const table = ok('stats', '-a').trim().split('\n')
    assert.match(table[0], /^CONTAINER\s+NAME\s+CPU %\s+MEM\s+DISK\s+INODES$/)
    assert.match(table[1], new RegExp(`^${id.slice(0, 13)}\\s+client\\s+\\d+\\.\\d\\d\\s+`))

    // update: UpdateContainerResources, read back from the runtime's spec.
    assert.equal(ok('update', '--memory', String(96 * 1024 * 1024), 'client').trim(), 'client')
    const spec = JSON.parse((await cri.ok('ContainerStatus', {container_id: id, verbose: true})).info.info).runtimeSpec
    assert.equal(spec.linux.resources.memory.limit, 96 * 1024 * 1024)
    const tooSmall = remote('update', '--cpu-quota', '10', id)
    assert.equal(tooSmall.code, 2, tooSmall.stderr)
    assert.match(tooSmall.stderr, /cpu_quota: 10 is below the kernel's minimum/)
  })
})
