// The container verbs that act on a running container, end to end on the
// real parts (busybox from a real docker-registry on loopback, runc, conmon,
// CNI): exec (-s output and exit statuses, --timeout, -it through a real pty
// driven by script(1)), logs (-f while the container writes, --tail, --since,
// --timestamps, -p), attach (-i to a container that echoes its stdin), stats
// (memory and a growing writable layer) and update (the memory limit read
// back from the cgroup). Every test checks that nothing is left: the pods'
// leak checks (overlay mounts and cgroups included), conmon monitors, exec
// temp files and attach relays.

import assert from 'node:assert/strict'
import {spawn, spawnSync} from 'node:child_process'
import {mkdirSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, afterEach, before, describe, test} from 'node:test'

import {conmonMissing, processesOf} from './container-helpers.js'
import {e2eOptionsWith, podctlBin, TestEnv, which} from './harness.js'
import {missingRegistryTools, type Registry, registryWithBusybox} from './registry.js'

const missingTools = () =>
  conmonMissing() ??
  (which('script') ? undefined : 'script is not installed (apt-get install bsdutils)') ??
  (which('perl') ? undefined : 'perl is not installed (apt-get install perl-base)')

/** Monitors and attach relays of this env left behind. */
const leftProcesses = (env: TestEnv): string[] => processesOf(env, /(conmon|perl)$/)

/** Exec temp directories left in the containers' directories. */
function execLeftovers(env: TestEnv): string[] {
  const out: string[] = []
  const pods = join(env.root, 'pods')
  for (const pod of safeList(pods)) {
    for (const c of safeList(join(pods, pod, 'containers'))) out.push(...safeList(join(pods, pod, 'containers', c)).filter((f) => f.startsWith('exec-')))
  }
  return out
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir)
  } catch {
    return []
  }
}

describe('container verbs', e2eOptionsWith('container verb tests', missingRegistryTools, missingTools), () => {
  let env: TestEnv
  let reg: Registry
  let image: string
  let pod: string
  let logs: string

  before(async () => {
    env = new TestEnv(150)
    ;({reg, image} = await registryWithBusybox(env.dir))
    env.ok(['pull', image])
    logs = join(env.dir, 'logs')
    pod = env.runPod('verbs', {log_directory: logs})
  })

  after(async () => {
    if (pod) env.ok(['rmp', '-f', pod])
    env?.teardown()
    assert.deepEqual(env ? leftProcesses(env) : [], [], 'monitors or relays left behind')
    await reg?.stop()
  })

  // What a failed test left: removed before the next one, so that one failure stays one.
  const made: string[] = []
  afterEach(() => {
    if (made.length > 0) env.podctl(['rm', '-f', ...made.splice(0)])
  })

  const clean = () => {
    assert.deepEqual([...leftProcesses(env), ...execLeftovers(env)], [], 'processes or exec files left behind')
  }

  /** create + start a container in the test's pod; its ID. */
  const container = (name: string, config: Record<string, unknown>): string => {
    const path = join(env.dir, `${name}.json`)
    writeFileSync(path, JSON.stringify({metadata: {name}, image: {image}, log_path: `${name}.log`, ...config}))
    const id = env.ok(['create', pod, path]).trim()
    made.push(id)
    env.ok(['start', id])
    return id
  }

  const state = (id: string) => (JSON.parse(env.ok(['inspect', id])) as {status: {state: string}}).status.state

  test('exec -s: output apart on stdout and stderr; the exit status is the command\'s, 126, 127 or 124 after --timeout', () => {
    const id = container('exec-target', {command: ['/bin/sleep', '1000'], envs: [{key: 'GREETING', value: 'hello'}], working_dir: '/tmp'})
    const hello = env.podctl(['exec', '-s', id, 'sh', '-c', 'echo $GREETING from $(pwd); echo to stderr >&2'])
    assert.equal(hello.code, 0, hello.stderr)
    assert.equal(hello.stdout, 'hello from /tmp\n', 'the container\'s env and cwd; -c went to sh')
    assert.equal(hello.stderr, 'to stderr\n')
    const three = env.podctl(['exec', '-s', id, 'sh', '-c', 'echo out; exit 3'])
    assert.equal(three.code, 3)
    assert.equal(three.stdout, 'out\n')
    const missing = env.podctl(['exec', '-s', id, 'nosuch-command'])
    assert.equal(missing.code, 127)
    assert.match(missing.stderr, /^error: cannot run "nosuch-command" not found in the container \(\$PATH\)$/m)
    const notExecutable = env.podctl(['exec', '-s', id, '/etc/passwd'])
    assert.equal(notExecutable.code, 126)
    assert.match(notExecutable.stderr, /"\/etc\/passwd" cannot be executed in the container: permission denied/)
    const slow = env.podctl(['exec', '-s', '--timeout', '1', id, 'sleep', '100'])
    assert.equal(slow.code, 124)
    assert.match(slow.stderr, /command "sleep 100" timed out after 1 s and was killed/)
    const ps = env.ok(['exec', '-s', id, 'ps', '-o', 'pid,stat,args'])
    assert.doesNotMatch(ps, /sleep 100$/m, `the timed-out command is gone:\n${ps}`)
    // Streaming, without -s: the same statuses.
    const streamed = env.podctl(['exec', id, 'sh', '-c', 'echo streamed; exit 5'])
    assert.equal(streamed.code, 5)
    assert.equal(streamed.stdout, 'streamed\n')
    // By name, and a container that is not running.
    assert.equal(env.ok(['exec', '-s', 'exec-target', 'cat', '/etc/hostname']).trim(), 'verbs')
    env.ok(['stop', id])
    const stopped = env.podctl(['exec', '-s', id, 'true'])
    assert.equal(stopped.code, 1)
    assert.match(stopped.stderr, /is not running \(CONTAINER_EXITED\)/)
    env.ok(['rm', id])
    clean()
  })

  test('exec -it through a real pty: the command has a terminal and reads what is typed', () => {
    const id = container('tty-target', {command: ['/bin/sleep', '1000']})
    const line = [podctlBin, 'exec', '-it', id, 'sh', '-c', 'tty; stty size; read answer; echo got:$answer'].map((w) => `'${w}'`).join(' ')
    // script(1) runs podctl on a new pty; what is written to script's stdin is typed on it.
    const r = spawnSync('script', ['-qec', line, '/dev/null'], {env: {...env.env(), COLUMNS: '100', LINES: '30'}, input: 'typed words\n', encoding: 'utf8', timeout: 60_000})
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`)
    assert.match(r.stdout, /\/dev\/pts\/\d+/, 'tty names a pseudo-terminal')
    assert.match(r.stdout, /got:typed words/)
    const notTty = env.podctl(['exec', '-it', id, 'true'])
    assert.equal(notTty.code, 2)
    assert.match(notTty.stderr, /input is not a terminal/)
    env.ok(['rm', '-f', id])
    clean()
  })

  test('logs: -f while the container writes ends when it exits; stdout and stderr apart; --tail, --since, --timestamps', async () => {
    const script = 'i=0; while [ $i -lt 6 ]; do echo line $i; echo err $i >&2; i=$((i+1)); sleep 0.2; done'
    const id = container('writer', {command: ['/bin/sh', '-c', script]})
    // Follow from the start: it ends on its own when the container has exited.
    const follow = spawn(podctlBin, ['logs', '-f', id], {env: env.env(), stdio: ['ignore', 'pipe', 'pipe']})
    let out = ''
    let err = ''
    follow.stdout.on('data', (d: Buffer) => (out += d.toString()))
    follow.stderr.on('data', (d: Buffer) => (err += d.toString()))
    const code = await new Promise<number | null>((resolve) => follow.on('exit', resolve))
    assert.equal(code, 0, err)
    assert.equal(out, [0, 1, 2, 3, 4, 5].map((i) => `line ${i}\n`).join(''))
    assert.equal(err, [0, 1, 2, 3, 4, 5].map((i) => `err ${i}\n`).join(''))
    assert.equal(state(id), 'CONTAINER_EXITED')
    const tail = env.podctl(['logs', '--tail', '2', id])
    assert.equal(tail.stdout + tail.stderr, 'line 5\nerr 5\n')
    assert.equal(env.podctl(['logs', '--since', '1h', id]).stdout.split('\n').length, 7)
    assert.equal(env.ok(['logs', '--since', new Date(Date.now() + 3_600_000).toISOString(), id]), '')
    assert.match(env.ok(['logs', '-t', '--tail', '1', id]) + env.podctl(['logs', '-t', '--tail', '1', id]).stderr, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}(Z|[+-]\d\d:\d\d) err 5\n$/)
    const bad = env.podctl(['logs', '--since', 'yesterday', id])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /--since "yesterday" is neither a duration/)
    const noPrevious = env.podctl(['logs', '-p', id])
    assert.equal(noPrevious.code, 3)
    assert.match(noPrevious.stderr, /previous terminated container "writer" not found/)
    env.ok(['rm', id])
    clean()
  })

  test('logs -p: the previous attempt\'s file, kubelet\'s <attempt>.log naming', () => {
    mkdirSync(join(logs, 'again'), {recursive: true})
    const first = container('again', {metadata: {name: 'again', attempt: 0}, log_path: 'again/0.log', command: ['/bin/sh', '-c', 'echo first attempt']})
    const second = container('again', {metadata: {name: 'again', attempt: 1}, log_path: 'again/1.log', command: ['/bin/sh', '-c', 'echo second attempt; sleep 1000']})
    assert.equal(env.ok(['logs', '-p', second]), 'first attempt\n')
    env.ok(['rm', '-f', first, second])
    clean()
  })

  test('attach -i: what is piped in reaches the container, what it writes comes back; the relay ends with it', () => {
    const id = container('echo', {command: ['/bin/sh', '-c', 'while read line; do echo echo:$line; done; echo bye >&2'], stdin: true, stdin_once: true})
    const r = env.podctl(['attach', '-i', id], {input: 'one\ntwo\n'})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'echo:one\necho:two\n')
    assert.equal(r.stderr, 'bye\n')
    const noStdin = container('no-stdin', {command: ['/bin/sleep', '1000']})
    const refused = env.podctl(['attach', '-i', noStdin])
    assert.equal(refused.code, 2)
    assert.match(refused.stderr, /was created without stdin: attach without -i/)
    env.ok(['rm', '-f', id, noStdin])
    clean()
  })

  test('stats: memory in use and the writable layer growing after a write; update changes the cgroup\'s memory limit and inspect shows it', () => {
    const id = container('busy', {command: ['/bin/sleep', '1000'], linux: {resources: {memory_limit_in_bytes: 256 * 1024 * 1024}}})
    type Stats = {stats: {attributes: {id: string}; memory: {workingSetBytes: {value: string}}; writableLayer: {usedBytes: {value: string}; inodesUsed: {value: string}}}[]}
    const sample = () => (JSON.parse(env.ok(['stats', '-o', 'json', '--id', id])) as Stats).stats
    const before = sample()
    assert.equal(before.length, 1)
    assert.equal(before[0].attributes.id, id)
    env.ok(['exec', '-s', id, 'dd', 'if=/dev/zero', 'of=/big', 'bs=1024', 'count=4096'])
    const after = sample()
    assert.ok(Number(after[0].memory.workingSetBytes.value) > 0, 'memory in use')
    assert.ok(Number(after[0].writableLayer.usedBytes.value) - Number(before[0].writableLayer.usedBytes.value) >= 4 * 1024 * 1024, 'the 4 MiB file is in the writable layer')
    assert.ok(Number(after[0].writableLayer.inodesUsed.value) > Number(before[0].writableLayer.inodesUsed.value))
    const table = env.ok(['stats', id]).split('\n')
    assert.match(table[0], /^CONTAINER\s+NAME\s+CPU %\s+MEM\s+DISK\s+INODES$/)
    assert.match(table[1], new RegExp(`^${id.slice(0, 13)}\\s+busy\\s+\\d+\\.\\d\\d\\s+\\S+B\\s+\\S+B\\s+\\d+$`))
    // update: the new limit in the cgroup, in inspect, and the rest kept.
    assert.equal(env.ok(['update', '--memory', String(128 * 1024 * 1024), '--cpu-share', '512', id]).trim(), id)
    const inspect = JSON.parse(env.ok(['inspect', id])) as {info: {runtimeSpec: {linux: {cgroupsPath: string; resources: {memory: {limit: number}}}}}; status: {resources?: {linux: Record<string, unknown>}}}
    const cgroup = inspect.info.runtimeSpec.linux.cgroupsPath
    const limitFile = existsAny([`/sys/fs/cgroup/memory${cgroup}/memory.limit_in_bytes`, `/sys/fs/cgroup${cgroup}/memory.max`])
    assert.equal(readFileSync(limitFile, 'utf8').trim(), String(128 * 1024 * 1024))
    assert.equal(inspect.info.runtimeSpec.linux.resources.memory.limit, 128 * 1024 * 1024)
    assert.equal(inspect.status.resources?.linux.memoryLimitInBytes, String(128 * 1024 * 1024))
    assert.equal(inspect.status.resources?.linux.cpuShares, '512')
    const tooSmall = env.podctl(['update', '--cpu-quota', '10', id])
    assert.equal(tooSmall.code, 2)
    assert.match(tooSmall.stderr, /cpu_quota: 10 is below the kernel's minimum/)
    env.ok(['rm', '-f', id])
    clean()
  })
})

function existsAny(paths: string[]): string {
  for (const p of paths) {
    try {
      readFileSync(p)
      return p
    } catch {
      // next
    }
  }
  return paths[0]
}
