// The pod verbs as CRI clients (--runtime-endpoint) against `podctl serve`:
// every verb prints the same, and exits the same, as the in-process CLI on
// the same state; grpc is loaded only in client mode.

import assert from 'node:assert/strict'
import {existsSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, afterEach, before, describe, test} from 'node:test'

import {lockName, tryLock} from '../../src/runtime/lock.js'
import {e2eOptions, type Result, startPaths, TestEnv} from './harness.js'
import {type Served, startServe, stopServe, waitForLog} from './serve-helpers.js'

describe('pod verbs as CRI clients of podctl serve', e2eOptions(), () => {
  let env: TestEnv
  let served: Served
  before(async () => {
    env = new TestEnv(63)
    served = await startServe(env)
  })
  after(async () => {
    await stopServe(served)
    env.teardown()
  })
  afterEach(() => {
    const clientPods = join(env.dir, 'client-root', 'pods')
    assert.deepEqual(existsSync(clientPods) ? readdirSync(clientPods) : [], [], 'the client made no pod in-process')
    env.ok(['rmp', '-af'])
    env.assertNoLeaks()
  })

  /**
   * The same command line in client mode, with state roots of its own that stay empty: a verb that
   * acted in-process instead of over the socket would see no pods there.
   */
  const remote = (args: string[], extraEnv: Record<string, string> = {}) =>
    env.podctl([args[0], '--runtime-endpoint', served.endpoint, ...args.slice(1)], {
      env: {PODCTL_ROOT: join(env.dir, 'client-root'), PODCTL_RUN_ROOT: join(env.runRoot, 'client-run'), ...extraEnv},
    })
  const config = (name: string, extra: object = {}) => env.podConfig({metadata: {name, namespace: 'client', uid: `uid-${name}`}, ...extra})

  /** crictl's CREATED column moves with the clock (and its width with it): compare it as a placeholder, columns as one space. */
  const steady = (r: Result): Result => ({...r, stdout: r.stdout.replace(/(Less than a second|About an? \w+|\d+ \w+) ago/g, 'AGO').replace(/ {2,}/g, ' ')})

  /** Client mode and in-process give the same stdout, stderr and exit code. */
  function same(args: string[]): Result {
    const local = steady(env.podctl(args))
    const viaCri = steady(remote(args))
    assert.deepEqual(viaCri, local, `podctl ${args.join(' ')}`)
    return local
  }

  test('runp, stopp and rmp over CRI; the output is the CLI’s', () => {
    const r = remote(['runp', config('run-me', {labels: {app: 'web'}})])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stderr, '')
    const id = r.stdout.trim()
    assert.match(id, /^[0-9a-f]{64}$/)
    assert.equal(env.inspect(id).status.state, 'SANDBOX_READY', 'the in-process CLI sees it ready')

    // rmp of a ready pod without -f: refused the same way.
    const refused = same(['rmp', id])
    assert.equal(refused.code, 1)
    assert.match(refused.stderr, /is running, please stop it first/)

    assert.equal(remote(['stopp', id.slice(0, 8)]).stdout, `Stopped sandbox ${id.slice(0, 8)}\n`)
    assert.equal(env.inspect(id).status.state, 'SANDBOX_NOTREADY')
    assert.deepEqual(remote(['rmp', id]), {code: 0, stdout: `Removed sandbox ${id}\n`, stderr: ''})
    assert.deepEqual(JSON.parse(env.ok(['pods', '-o', 'json'])).items, [])

    // -f stops a ready pod first, and says so.
    const again = remote(['runp', config('run-me-too')]).stdout.trim()
    env.seen.add(again)
    assert.deepEqual(remote(['rmp', '-f', again]), {code: 0, stdout: `Stopped sandbox ${again}\nRemoved sandbox ${again}\n`, stderr: ''})
    env.assertNoLeaks()
  })

  test('a config with every section reaches the server as the file says', () => {
    const body = {
      hostname: 'full',
      log_directory: join(env.dir, 'logs'),
      dns_config: {servers: ['10.96.0.10'], searches: ['svc.cluster.local'], options: ['ndots:5']},
      labels: {app: 'full', 'example.com/tier': 'x'},
      annotations: {'example.com/note': 'a: b'},
      linux: {
        sysctls: {'net.core.somaxconn': '1024', 'kernel.shm_rmid_forced': '1'},
        resources: {cpu_period: 100000, cpu_quota: 50000, cpu_shares: 512, memory_limit_in_bytes: 268435456},
        overhead: {memory_limit_in_bytes: 16777216},
        security_context: {namespace_options: {pid: 'POD', ipc: 'POD'}, seccomp: {profile_type: 'RuntimeDefault'}, run_as_user: {value: 0}},
      },
    }
    const local = env.ok(['runp', env.podConfig({metadata: {name: 'full-local', namespace: 'client', uid: 'u1', attempt: 2}, ...body})]).trim()
    const viaCri = remote(['runp', env.podConfig({metadata: {name: 'full-remote', namespace: 'client', uid: 'u2', attempt: 2}, ...body})])
    assert.equal(viaCri.code, 0, viaCri.stderr)
    const id = viaCri.stdout.trim()
    env.seen.add(id)
    const configOf = (pod: string) => {
      const {config} = env.inspect(pod).info
      delete config.metadata.name
      delete config.metadata.uid
      return config
    }
    assert.deepEqual(configOf(id), configOf(local))
    assert.equal(env.inspect(id).status.metadata.attempt, 2)
  })

  test('runp errors: the same messages and exit codes', () => {
    // Checked by the client before any call.
    same(['runp', env.podConfig('{"metadata": {}}', 'bad.json')])
    same(['runp', join(env.dir, 'missing.json')])
    // Refused by the server: a name reserved by another pod.
    const file = config('reserved')
    const id = env.ok(['runp', file]).trim()
    const local = env.podctl(['runp', file])
    const viaCri = remote(['runp', file])
    assert.equal(local.code, 2)
    assert.deepEqual(viaCri, local)
    assert.match(viaCri.stderr, new RegExp(`reserved by pod "${id}"`))
    // Unknown keys are warned about by the client, as runp does.
    const typo = env.podConfig({metadata: {name: 'typo', namespace: 'client'}, lables: {a: 'b'}})
    const warned = remote(['runp', typo])
    assert.equal(warned.code, 0, warned.stderr)
    assert.match(warned.stderr, /lables/)
  })

  test('pods and inspectp print the same in every format and filter', () => {
    const web = env.runPod('web', {labels: {app: 'web'}, annotations: {a: '1'}}, 'client')
    const db = env.runPod('db', {labels: {app: 'db'}}, 'client')
    const other = env.runPod('db', {}, 'other')
    env.ok(['stopp', db])
    for (const args of [
      ['pods'],
      ['pods', '-q'],
      ['pods', '-o', 'json'],
      ['pods', '-o', 'yaml'],
      ['pods', '-v'],
      ['pods', '--no-trunc'],
      ['pods', '--name', 'd'],
      ['pods', '--namespace', '^client$', '-q'],
      ['pods', '--state', 'ready', '-q'],
      ['pods', '-s', 'notready', '-o', 'json'],
      ['pods', '--label', 'app=web', '-q'],
      ['pods', '--id', web.slice(0, 10), '-q'],
      ['pods', '--id', 'ffffffffff', '-q'],
      ['pods', '--latest', '-q'],
      ['pods', '-n', '2', '-q'],
      ['pods', '--state', 'up'],
      ['inspectp', web],
      ['inspectp', '-q', web.slice(0, 7)],
      ['inspectp', '-o', 'yaml', db],
      ['inspectp', '-o', 'table', web, db],
      ['inspectp', '-q', web, db, other],
      ['inspectp', '-q', '--namespace', 'other'],
      ['inspectp', '-q', '--label', 'app=none'],
      ['inspectp', 'no-such-pod'],
      ['stopp', 'ffffffffffff'],
      ['rmp', 'ffffffffffff'],
    ]) {
      same(args)
    }
    assert.equal(remote(['inspectp', 'no-such-pod']).code, 3, 'an unknown pod is exit status 3')
    assert.equal(remote(['rmp', 'ffffffffffff']).code, 3)
  })

  test('statsp: the same pods, columns and document', () => {
    const ready = env.runPod('stats-ready', {labels: {app: 'stats'}}, 'client')
    const stopped = env.runPod('stats-stopped', {}, 'client')
    env.ok(['stopp', stopped])
    const table = remote(['statsp'])
    assert.equal(table.code, 0, table.stderr)
    const rows = table.stdout.trim().split('\n')
    assert.match(rows[0], /^POD\s+POD ID\s+CPU %\s+MEM\s+NET RX\/TX\s+PIDS$/)
    const byName = Object.fromEntries(rows.slice(1).map((l) => [l.split(/\s+/)[0], l.split(/\s+/)]))
    assert.equal(byName['stats-ready'][1], ready.slice(0, 13))
    assert.match(byName['stats-ready'][2], /^\d+\.\d\d$/, 'a CPU rate over the sample')
    assert.deepEqual(byName['stats-stopped'].slice(2), ['-', '-', '-', '-'], 'CPU %, MEM, NET RX/TX and PIDS')

    // The document: the same pods and fields; figures move between two reads.
    const shape = (doc: unknown): unknown =>
      JSON.parse(JSON.stringify(doc), (key, value) => (typeof value === 'string' && /^\d+$/.test(value) && key !== 'id' ? 'N' : value))
    const local = JSON.parse(env.ok(['statsp', '-o', 'json', '--label', 'app=stats']))
    const viaCri = JSON.parse(remote(['statsp', '-o', 'json', '--label', 'app=stats']).stdout)
    assert.equal(viaCri.stats.length, 1)
    assert.equal(viaCri.stats[0].attributes.id, ready)
    // The server keeps the previous sample of the pod (as containerd): its usageNanoCores may be set.
    for (const doc of [local, viaCri]) for (const s of doc.stats) s.linux.cpu.usageNanoCores = null
    assert.deepEqual(shape(viaCri), shape(local))

    same(['statsp', 'no-such-pod'])
    same(['statsp', '--id', 'a', 'b'])
    assert.equal(remote(['statsp', '-o', 'json', ready.slice(0, 9)]).code, 0)
  })

  test('the endpoint from the environment and the config file; bad endpoints are one line', () => {
    const id = env.runPod('endpoint', {}, 'client')
    assert.equal(env.ok(['pods', '-q'], {env: {CONTAINER_RUNTIME_ENDPOINT: served.endpoint}}), `${id}\n`)
    const withKey = join(env.dir, 'client.yaml')
    writeFileSync(withKey, `${readFileSync(env.configFile, 'utf8')}runtime-endpoint: ${served.endpoint}\n`)
    assert.equal(env.ok(['pods', '-q', '--config', withKey]), `${id}\n`)
    // The flag beats the file: a socket that is not there.
    const missing = `unix://${join(env.runRoot, 'nothing.sock')}`
    const r = env.podctl(['pods', '--config', withKey, '--runtime-endpoint', missing])
    assert.equal(r.code, 4)
    assert.equal(r.stderr.split('\n')[0], `error: cannot connect to the CRI runtime at "${missing}": connect ENOENT ${join(env.runRoot, 'nothing.sock')}`)
    const tcp = env.podctl(['pods', '--runtime-endpoint', 'tcp://127.0.0.1:1'])
    assert.equal(tcp.code, 2)
    assert.match(tcp.stderr, /^error: --runtime-endpoint: "tcp:\/\/127\.0\.0\.1:1": only unix:\/\/ endpoints are supported, not tcp:\/\/$/m)
    writeFileSync(withKey, `${readFileSync(env.configFile, 'utf8')}runtime-endpoint: relative.sock\n`)
    const badKey = env.podctl(['pods', '--config', withKey])
    assert.equal(badKey.code, 2)
    assert.match(badKey.stderr, /^error: config file ".*client\.yaml": runtime-endpoint: "relative\.sock" is not an endpoint$/m)
    for (const x of [r, tcp, badKey]) assert.doesNotMatch(x.stderr, /\n\s+at .+:\d+:\d+/)
  })

  test('--timeout bounds each call, runp twice as long; the server rolls back what the client gave up on', async () => {
    // The name index held here: the server's RunPodSandbox waits for it, past the client's deadline.
    const names = await tryLock(lockName(env.root, 'names'))
    assert.ok(names)
    try {
      const r = remote(['runp', '--timeout', '1s', config('too-slow')])
      assert.equal(r.code, 5, r.stderr)
      assert.equal(r.stderr.split('\n')[0], `error: RunPodSandbox timed out after 2000 ms at "${served.endpoint}"`)
      // The server learns that the client is gone, and gives up too.
      await waitForLog(served, /RunPodSandbox client\/too-slow attempt 0 failed .*cancelled/)
    } finally {
      await names.release()
    }
    assert.equal(remote(['pods', '-q']).stdout, '', 'nothing was made')
    env.assertNoLeaks()
  })

  test('grpc is loaded only in client mode, from the snapshot, on the lean path and through oclif alike', () => {
    // A resolve hook that records every module the CLI imports.
    const hooks = join(env.dir, 'hooks.mjs')
    const seen = join(env.dir, 'imports.txt')
    writeFileSync(
      hooks,
      `import {appendFileSync} from 'node:fs'\nexport async function resolve(spec, context, next) {\n  appendFileSync(${JSON.stringify(seen)}, spec + '\\n')\n  return next(spec, context)\n}\n`,
    )
    const register = join(env.dir, 'register.mjs')
    writeFileSync(register, `import {register} from 'node:module'\nregister(${JSON.stringify(`file://${hooks}`)})\n`)
    const importsOf = (args: string[], extra: Record<string, string> = {}) => {
      writeFileSync(seen, '')
      const r = env.podctl(args, {env: {NODE_OPTIONS: `--import ${register}`, ...startPaths.lean, ...extra}})
      assert.equal(r.code, 0, r.stderr)
      return readFileSync(seen, 'utf8')
    }
    assert.doesNotMatch(importsOf(['pods', '-q']), /@grpc/)
    assert.match(importsOf(['pods', '-q', '--runtime-endpoint', served.endpoint]), /@grpc\/grpc-js/)
    // From the snapshot, grpc is not in it: node's CommonJS loader loads it (NODE_DEBUG=module says so) in client mode only.
    const requires = (args: string[]) => env.podctl(args, {env: {NODE_DEBUG: 'module'}}).stderr
    assert.doesNotMatch(requires(['pods', '-q']), /@grpc/)
    assert.match(requires(['pods', '-q', '--runtime-endpoint', served.endpoint]), /@grpc\/grpc-js/)
    for (const args of [['pods', '-o', 'json'], ['inspectp', '-q', '--namespace', 'x'], ['rmp', 'ffffffffffff']]) {
      const snapshot = remote(args)
      const lean = remote(args, startPaths.lean)
      const oclif = remote(args, startPaths.oclif)
      assert.deepEqual(lean, oclif, `podctl ${args.join(' ')}: lean path and oclif`)
      assert.deepEqual(snapshot, lean, `podctl ${args.join(' ')}: snapshot and lean path`)
    }
    // A client reruns on bin/run.js, for node's own hash seed (scripts/build-snapshot.js): once, and nothing said twice.
    const debug = remote(['pods', '-q', '--debug'])
    assert.match(debug.stderr, /^debug: start-up: [\d.]+ ms \(lean path\)$/m)
    assert.equal(debug.stderr.match(/^debug: start-up:/gm)?.length, 1, debug.stderr)
    assert.match(debug.stderr, /^debug: cri: ListPodSandbox ok: [\d.]+ ms$/m)
  })
})
