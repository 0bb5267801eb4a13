// The pod lifecycle on real runc, CNI and network namespaces, as a user runs it.

import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {appendFileSync, existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, afterEach, before, describe, test} from 'node:test'

import {e2eOptions, nsInode, ping, TestEnv} from './harness.js'

describe('pod lifecycle', e2eOptions(), () => {
  let env: TestEnv
  before(() => {
    env = new TestEnv(11)
  })
  after(() => env.teardown())
  // A failed test must not leave its pods to the next one.
  afterEach(() => env.podctl(['rmp', '-af']))

  test('runp prints only the ID; the pod is READY, reachable, and has its files', () => {
    const podFile = env.podConfig({
      metadata: {name: 'web-sandbox', namespace: 'default', uid: 'uid-1', attempt: 1},
      hostname: 'web-host',
      dns_config: {servers: ['10.0.0.10'], searches: ['svc.cluster.local'], options: ['ndots:5']},
      labels: {app: 'web', tier: 'front'},
      annotations: {'example.com/note': 'kept verbatim: {"a": 1}'},
      log_directory: `${env.dir}/logs/web`,
    })
    const r = env.podctl(['runp', podFile])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^[0-9a-f]{64}\n$/, 'runp prints the ID and nothing else')
    const id = r.stdout.trim()

    const {status, info} = env.inspect(id)
    assert.equal(status.id, id)
    assert.equal(status.state, 'SANDBOX_READY')
    assert.deepEqual(status.metadata, {name: 'web-sandbox', uid: 'uid-1', namespace: 'default', attempt: 1})
    assert.deepEqual(status.labels, {app: 'web', tier: 'front'})
    assert.deepEqual(status.annotations, {'example.com/note': 'kept verbatim: {"a": 1}'})
    assert.match(status.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/)
    assert.deepEqual(Object.keys(status), ['id', 'metadata', 'state', 'createdAt', 'network', 'linux', 'labels', 'annotations', 'runtimeHandler'])
    assert.ok(status.network.ip.startsWith(`${env.subnetPrefix}.`), `pod IP ${status.network.ip} is in the env's subnet`)

    // A real pause process in its own network namespace.
    const pid = info.pid as number
    assert.ok(pid > 0)
    assert.equal(readFileSync(`/proc/${pid}/comm`, 'utf8').trim(), 'catatonit')
    assert.notEqual(nsInode(pid, 'net'), nsInode('self', 'net'))
    assert.equal(info.processStatus, 'running')
    assert.equal(info.netNamespaceClosed, false)
    assert.equal(info.config.metadata.name, 'web-sandbox')
    assert.equal(info.runtimeSpec.hostname, 'web-host')
    assert.equal(info.cniResult.cniVersion, '1.0.0')

    // The host reaches the pod.
    assert.ok(ping(status.network.ip), `ping ${status.network.ip}`)

    // Files as seen from inside the pod.
    const inPod = (path: string) => readFileSync(`/proc/${pid}/root${path}`, 'utf8')
    assert.equal(inPod('/etc/hostname'), 'web-host\n')
    assert.equal(inPod('/etc/resolv.conf'), 'search svc.cluster.local\nnameserver 10.0.0.10\noptions ndots:5\n')
    assert.match(inPod('/etc/hosts'), new RegExp(`^${status.network.ip.replaceAll('.', '\\.')}\\tweb-host$`, 'm'))
    assert.match(inPod('/etc/hosts'), /^127\.0\.0\.1\tlocalhost$/m)
    // The UTS namespace carries the hostname too.
    assert.equal(execFileSync('nsenter', ['-t', String(pid), '-u', 'hostname'], {encoding: 'utf8'}).trim(), 'web-host')
    // A private /dev/shm of 64 MiB.
    const shm = readFileSync(`/proc/${pid}/mounts`, 'utf8').split('\n').find((l) => l.split(' ')[1] === '/dev/shm')
    assert.ok(shm?.startsWith('shm /dev/shm tmpfs') && shm.includes('size=65536k'), `pod /dev/shm: ${shm}`)
    assert.ok(existsSync(`${env.dir}/logs/web`), 'log_directory is created')

    // pods: crictl's columns, Ready.
    const table = env.ok(['pods']).split('\n')
    assert.match(table[0], /^POD ID\s+CREATED\s+STATE\s+NAME\s+NAMESPACE\s+ATTEMPT\s+RUNTIME$/)
    const row = table.find((l) => l.startsWith(id.slice(0, 13)))
    assert.ok(row, 'the pod is listed')
    assert.match(row!, /\s(Less than a second|\d+ seconds?) ago\s+Ready\s+web-sandbox\s+default\s+1\s+\(default\)$/)
    assert.equal(env.ipamAllocations().length, 1)

    assert.ok(existsSync(join('/sys/fs/cgroup', 'memory', env.cgroupParent, id)), 'the pod cgroup, under the cgroup-parent setting')

    // stopp: NotReady, IP and netns released, status still answers; idempotent.
    assert.equal(env.ok(['stopp', id]), `Stopped sandbox ${id}\n`)
    const stopped = env.inspect(id)
    assert.equal(stopped.status.state, 'SANDBOX_NOTREADY')
    assert.equal(stopped.status.network.ip, '')
    assert.equal(stopped.info.netNamespaceClosed, true)
    assert.equal(existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z'), false, 'pause process is gone')
    // The runtime container and the pod cgroup go with the pause, as containerd deletes a sandbox's task on its exit.
    assert.equal(stopped.info.processStatus, 'deleted')
    assert.equal(execFileSync('runc', ['--root', join(env.runRoot, 'runtime', 'runc'), 'list', '-q'], {encoding: 'utf8'}).trim(), '')
    for (const controller of ['memory', 'pids', 'cpu']) assert.equal(existsSync(join('/sys/fs/cgroup', controller, env.cgroupParent, id)), false, `${controller} cgroup of the pod`)
    assert.deepEqual(env.ipamAllocations(), [], 'the IP is released on stop')
    assert.ok(!ping(status.network.ip))
    assert.equal(env.ok(['stopp', id]), `Stopped sandbox ${id}\n`, 'stopping a stopped pod succeeds')
    assert.equal(env.ok(['stopp', 'ffffffffffff']), 'Stopped sandbox ffffffffffff\n', 'stopping an unknown pod succeeds (CRI)')

    // rmp: gone, and nothing left.
    assert.equal(env.ok(['rmp', id.slice(0, 8)]), `Removed sandbox ${id.slice(0, 8)}\n`)
    assert.equal(env.ok(['pods', '-q']), '')
    assert.ok(existsSync(`${env.dir}/logs/web`), 'log_directory outlives the pod, as kubelet expects')
    const again = env.podctl(['rmp', id])
    assert.equal(again.code, 3, 'an ID the user typed that matches nothing is reported')
    assert.match(again.stderr, /not found/)
    env.assertNoLeaks()
  })

  test('a host-network pod has no network namespace and no IP', () => {
    const id = env.runPod('host-net', {linux: {security_context: {namespace_options: {network: 2}}}})
    const {status, info} = env.inspect(id)
    assert.equal(status.state, 'SANDBOX_READY')
    assert.equal(status.network.ip, '')
    assert.equal(status.linux.namespaces.options.network, 'NODE')
    assert.equal(info.netNamespacePath, '')
    assert.equal(info.cniResult, null)
    assert.equal(nsInode(info.pid, 'net'), nsInode('self', 'net'), 'shares the host network namespace')
    assert.equal(nsInode(info.pid, 'uts'), nsInode('self', 'uts'), 'and the host UTS namespace')
    assert.equal(env.ipamAllocations().length, 0)
    env.ok(['rmp', '-f', id])
    env.assertNoLeaks()
  })

  test('enum names and lowerCamelCase keys work; unknown keys are warned about', () => {
    const r = env.podctl([
      'runp',
      env.podConfig(
        `metadata:\n  name: yaml-pod\n  namespace: ns1\nlogDirectory: ${env.dir}/logs/y\nlinux:\n  securityContext:\n    namespaceOptions:\n      network: NODE\n  sysctl: {}\n`,
        'pod.yaml',
      ),
    ])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stderr, /unknown key "linux\.sysctl" ignored \(did you mean "sysctls"\?\)/)
    const id = r.stdout.trim()
    const {status, info} = env.inspect(id)
    assert.equal(status.linux.namespaces.options.network, 'NODE')
    assert.equal(info.config.log_directory, `${env.dir}/logs/y`)
    assert.match(status.metadata.uid, /^[0-9a-f-]{36}$/, 'a missing uid gets a random UUID')
    env.ok(['rmp', '-f', id])
    env.assertNoLeaks()
  })

  test('a pause process killed by hand shows NotReady; stop and rm still work', () => {
    const id = env.runPod('killed')
    const {info, status} = env.inspect(id)
    process.kill(info.pid, 'SIGKILL')
    for (let i = 0; i < 200 && existsSync(`/proc/${info.pid}/root/catatonit`); i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10)
    const row = env.ok(['pods', '--id', id]).split('\n')[1]
    assert.match(row, /\sNotReady\s/)
    assert.equal(env.inspect(id).status.state, 'SANDBOX_NOTREADY')
    // Still holding its IP and netns until stopped, as the CRI says NOTREADY means.
    assert.equal(env.ipamAllocations().length, 1)
    assert.equal(env.ok(['stopp', id]), `Stopped sandbox ${id}\n`)
    assert.equal(env.ipamAllocations().length, 0)
    assert.ok(!ping(status.network.ip))
    env.ok(['rmp', id])
    env.assertNoLeaks()
  })

  test('rmp refuses a READY pod without -f; -f stops it first', () => {
    const id = env.runPod('busy')
    const r = env.podctl(['rmp', id])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /is running, please stop it first/)
    assert.equal(env.inspect(id).status.state, 'SANDBOX_READY', 'a refused rmp leaves the pod alone')
    assert.equal(env.ok(['rmp', '-f', id]), `Stopped sandbox ${id}\nRemoved sandbox ${id}\n`)
    env.assertNoLeaks()
  })

  test('the same metadata cannot run twice; after rmp it can', () => {
    const md = {metadata: {name: 'dup', namespace: 'default', uid: 'u-dup'}}
    const first = env.ok(['runp', env.podConfig(md)]).trim()
    const second = env.podctl(['runp', env.podConfig(md)])
    assert.equal(second.code, 2)
    assert.match(second.stderr, new RegExp(`name is reserved by pod "${first}"`))
    assert.equal(env.ok(['pods', '-q']).trim(), first, 'the refused runp left no pod')
    env.ok(['rmp', '-f', first])
    const third = env.ok(['runp', env.podConfig(md)]).trim()
    assert.notEqual(third, first)
    env.ok(['rmp', '-f', third])
    env.assertNoLeaks()
  })

  test('a failing runtime rolls runp back completely', () => {
    // A runtime that fails `run` (as runc would on a bad spec) and works otherwise.
    const broken = new TestEnv(12)
    const script = `${broken.dir}/broken-runtime`
    writeFileSync(
      script,
      '#!/bin/sh\nfor a; do [ "$prev" = --log ] && log=$a; prev=$a; done\n' +
        'case " $* " in *" run "*) echo \'{"level":"error","msg":"injected run failure"}\' >> "$log"; exit 1;; esac\nexec runc "$@"\n',
      {mode: 0o755},
    )
    appendFileSync(broken.configFile, `runtimes:\n  broken:\n    path: ${script}\n`)
    try {
      const r = broken.podctl(['runp', '-r', 'broken', broken.podConfig({metadata: {name: 'rollback', namespace: 'default'}})])
      assert.equal(r.code, 1)
      assert.match(r.stderr, /broken run of pod "[0-9a-f]{64}" failed: injected run failure/)
      assert.equal(r.stdout, '')
      assert.equal(broken.ok(['pods', '-q']), '')
      broken.assertNoLeaks()
    } finally {
      broken.teardown()
    }
  })
})
