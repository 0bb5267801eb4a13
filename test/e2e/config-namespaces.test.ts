// namespace_options, hostname, dns_config and log_directory on a real pod,
// each checked from outside: /proc/<pause pid>/ns/* against the host's,
// the pod's files through /proc/<pid>/root, its UTS name through nsenter.

import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {existsSync, readFileSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {after, afterEach, before, describe, test} from 'node:test'

import {procStatus} from './config-helpers.js'
import {e2eOptions, nsInode, TestEnv} from './harness.js'

describe('namespace_options, hostname, dns_config, log_directory', e2eOptions(), () => {
  let env: TestEnv
  before(() => {
    env = new TestEnv(32)
  })
  after(() => env.teardown())
  afterEach(() => env.podctl(['rmp', '-af']))

  const shared = (pid: number, kind: string) => nsInode(pid, kind) === nsInode('self', kind)

  // [network, pid, ipc] → which of the pause's namespaces are the host's
  const matrix: [string, Record<string, string>, Record<string, boolean>][] = [
    ['all POD', {network: 'POD', pid: 'POD', ipc: 'POD'}, {net: false, uts: false, pid: false, ipc: false}],
    ['network NODE (and so the host UTS)', {network: 'NODE'}, {net: true, uts: true, pid: false, ipc: false}],
    ['pid NODE', {pid: 'NODE'}, {net: false, uts: false, pid: true, ipc: false}],
    ['pid CONTAINER: the sandbox still has its own', {pid: 'CONTAINER'}, {net: false, uts: false, pid: false, ipc: false}],
    ['ipc NODE', {ipc: 'NODE'}, {net: false, uts: false, pid: false, ipc: true}],
    ['every namespace NODE', {network: 'NODE', pid: 'NODE', ipc: 'NODE'}, {net: true, uts: true, pid: true, ipc: true}],
  ]
  for (const [label, options, want] of matrix) {
    test(`namespaces: ${label}`, () => {
      const id = env.runPod(`ns-${label.split(' ')[0].toLowerCase()}`, {linux: {security_context: {namespace_options: options}}})
      const {status, info} = env.inspect(id)
      const pid = info.pid as number
      const got = Object.fromEntries(['net', 'uts', 'pid', 'ipc'].map((kind) => [kind, shared(pid, kind)]))
      assert.deepEqual(got, want)
      // The mount namespace is always the pod's own.
      assert.equal(shared(pid, 'mnt'), false)
      // In its own pid namespace the pause is PID 1 there; in the host's it has one PID only.
      const nspid = procStatus(pid).NSpid.split(/\s+/)
      assert.deepEqual(nspid, want.pid ? [String(pid)] : [String(pid), '1'])
      // With ipc NODE /dev/shm is the host's; else a private tmpfs.
      const podShm = statSync(`/proc/${pid}/root/dev/shm`)
      const hostShm = statSync('/dev/shm')
      assert.equal(podShm.dev === hostShm.dev && podShm.ino === hostShm.ino, want.ipc, '/dev/shm is the host\'s exactly with ipc NODE')
      // status echoes what was asked.
      assert.equal(status.linux.namespaces.options.network, options.network ?? 'POD')
      assert.equal(status.linux.namespaces.options.pid, options.pid ?? 'POD')
      assert.equal(status.linux.namespaces.options.ipc, options.ipc ?? 'POD')
      env.ok(['rmp', '-f', id])
      env.assertNoLeaks()
    })
  }

  test('target_id and user namespaces are refused, naming the field', () => {
    const cases: [object, RegExp][] = [
      [{target_id: 'abc'}, /linux\.security_context\.namespace_options\.target_id is not supported/],
      [{pid: 'TARGET'}, /linux\.security_context\.namespace_options\.pid: TARGET is not supported/],
      [{userns_options: {mode: 'POD', uids: [{host_id: 100000, container_id: 0, length: 65536}]}}, /linux\.security_context\.namespace_options\.userns_options: user namespaces are not supported/],
    ]
    for (const [options, message] of cases) {
      const r = env.podctl(['runp', env.podConfig({metadata: {name: 'refused', namespace: 'default'}, linux: {security_context: {namespace_options: options}}})])
      assert.equal(r.code, 2, r.stderr)
      assert.match(r.stderr, message)
    }
    // userns NODE is what a pod without user namespaces has: accepted.
    const id = env.runPod('userns-node', {linux: {security_context: {namespace_options: {userns_options: {mode: 'NODE'}}}}})
    assert.equal(shared(env.inspect(id).info.pid, 'user'), true)
    env.ok(['rmp', '-f', id])
    env.assertNoLeaks()
  })

  test('hostname: in the UTS namespace, /etc/hostname and /etc/hosts; refused for a host-network pod', () => {
    const id = env.runPod('named', {hostname: 'pod-host.example'})
    const {status, info} = env.inspect(id)
    const pid = info.pid as number
    assert.equal(execFileSync('nsenter', ['-t', String(pid), '-u', 'hostname'], {encoding: 'utf8'}).trim(), 'pod-host.example')
    assert.equal(readFileSync(`/proc/${pid}/root/etc/hostname`, 'utf8'), 'pod-host.example\n')
    assert.match(readFileSync(`/proc/${pid}/root/etc/hosts`, 'utf8'), new RegExp(`^${status.network.ip.replaceAll('.', '\\.')}\\tpod-host\\.example$`, 'm'))
    env.ok(['rmp', '-f', id])

    // Without hostname the pod's name, made a valid host name.
    const unnamed = env.runPod('Web_Server')
    assert.equal(execFileSync('nsenter', ['-t', String(env.inspect(unnamed).info.pid), '-u', 'hostname'], {encoding: 'utf8'}).trim(), 'web-server')
    env.ok(['rmp', '-f', unnamed])

    const r = env.podctl(['runp', env.podConfig({metadata: {name: 'hn', namespace: 'default'}, hostname: 'mine', linux: {security_context: {namespace_options: {network: 'NODE'}}}})])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /hostname: a host-network pod has the host's own host name/)
    env.assertNoLeaks()
  })

  test('dns_config: servers, searches and options in the pod\'s resolv.conf; more than 6 searches refused', () => {
    const dns = {servers: ['10.96.0.10', 'fd00::a'], searches: ['ns1.svc.cluster.local', 'svc.cluster.local', 'cluster.local'], options: ['ndots:5', 'timeout:2', 'edns0']}
    const id = env.runPod('dns', {dns_config: dns})
    const pid = env.inspect(id).info.pid as number
    assert.equal(
      readFileSync(`/proc/${pid}/root/etc/resolv.conf`, 'utf8'),
      'search ns1.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\nnameserver fd00::a\noptions ndots:5 timeout:2 edns0\n',
    )
    // Read-only inside the pod.
    const mount = readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n').find((l) => l.split(' ')[4] === '/etc/resolv.conf')
    assert.ok(mount?.split(' ')[5].split(',').includes('ro'), mount)
    env.ok(['rmp', '-f', id])

    // Without dns_config the host's resolv.conf (this host's has no loopback resolver to replace).
    const plain = env.runPod('no-dns')
    const hostResolv = readFileSync('/etc/resolv.conf', 'utf8')
    if (!/^\s*nameserver\s+(127\.|::1\b)/m.test(hostResolv)) assert.equal(readFileSync(`/proc/${env.inspect(plain).info.pid}/root/etc/resolv.conf`, 'utf8'), hostResolv)
    env.ok(['rmp', '-f', plain])

    const r = env.podctl(['runp', env.podConfig({metadata: {name: 'dns7', namespace: 'default'}, dns_config: {searches: ['a', 'b', 'c', 'd', 'e', 'f', 'g']}})])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /dns_config\.searches has 7 domains; at most 6 are allowed/)
    env.assertNoLeaks()
  })

  test('log_directory: created 0755 whatever the umask, and left after rmp as kubelet expects', () => {
    const dir = join(env.dir, 'logs', 'default_logged_uid')
    const previous = process.umask(0o077)
    let id: string
    try {
      id = env.runPod('logged', {log_directory: dir})
    } finally {
      process.umask(previous)
    }
    assert.equal(statSync(dir).mode & 0o777, 0o755)
    assert.equal((env.inspect(id).info.runtimeSpec.annotations as Record<string, string>)['io.kubernetes.cri.sandbox-log-directory'], dir)
    env.ok(['rmp', '-f', id])
    assert.ok(existsSync(dir), 'the log directory outlives the pod')
    env.assertNoLeaks()
  })
})
