// linux.security_context on a real pod, read from the pause process as the
// kernel sees it: /proc/<pid>/status (Uid, Gid, Groups, CapEff, CapBnd,
// NoNewPrivs, Seccomp) and /proc/<pid>/mountinfo (the read-only root, /sys,
// the masked paths). Refusals name the field and leave nothing behind.

import assert from 'node:assert/strict'
import {appendFileSync, existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, afterEach, before, describe, test} from 'node:test'

import {assertRefused, capabilityMask, hexMask, procStatus} from './config-helpers.js'
import {e2eOptions, TestEnv} from './harness.js'

/** The default capability set of a pod (containerd's and Docker's), as the kernel masks it. */
const defaultCaps = capabilityMask([
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
])

/** Mount options of the pod's mounts, by mount point (the last mount over a point wins). */
function podMounts(pid: number): Map<string, string[]> {
  const mounts = new Map<string, string[]>()
  for (const line of readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n').filter(Boolean)) {
    const fields = line.split(' ')
    mounts.set(fields[4], fields[5].split(','))
  }
  return mounts
}

/** A path the runtime masks in an unprivileged pod (it skips the ones this kernel lacks). */
const maskedPath = () => ['/proc/keys', '/proc/timer_list', '/proc/kcore'].find((p) => existsSync(p))!

/** What the tests read of the pause process. */
function seen(pid: number) {
  const s = procStatus(pid)
  return {
    uid: s.Uid.split(/\s+/),
    gid: s.Gid.split(/\s+/),
    groups: s.Groups.split(/\s+/).filter(Boolean),
    capEff: hexMask(s.CapEff),
    capBnd: hexMask(s.CapBnd),
    noNewPrivs: s.NoNewPrivs,
    seccomp: s.Seccomp,
  }
}

describe('linux.security_context', e2eOptions(), () => {
  let env: TestEnv
  /** This process's bounding set: what podctl (run by it) may grant. */
  let ownBounding: bigint
  before(() => {
    env = new TestEnv(35)
    // Localhost profiles must be inside the seccomp profile root: this env's dir.
    appendFileSync(env.configFile, `seccomp-profile-root: ${env.dir}\n`)
    ownBounding = hexMask(procStatus(process.pid).CapBnd)
  })
  after(() => env.teardown())
  afterEach(() => env.podctl(['rmp', '-af']))

  const run = (name: string, securityContext?: Record<string, unknown>) => {
    const id = env.runPod(name, securityContext ? {linux: {security_context: securityContext}} : {})
    return {id, pid: env.inspect(id).info.pid as number}
  }

  test('no security_context: root, the default capabilities, no_new_privs, no seccomp (CRI: unset is Unconfined), a read-only root', () => {
    const {id, pid} = run('plain')
    const s = seen(pid)
    assert.deepEqual(s.uid, ['0', '0', '0', '0'])
    assert.deepEqual(s.gid, ['0', '0', '0', '0'])
    assert.deepEqual(s.groups, [])
    assert.equal(s.capEff, defaultCaps & ownBounding)
    assert.equal(s.capBnd, defaultCaps & ownBounding)
    assert.equal(s.noNewPrivs, '1')
    assert.equal(s.seccomp, '0')
    const mounts = podMounts(pid)
    assert.ok(mounts.get('/')!.includes('ro'), 'the shared pause rootfs is read-only')
    assert.ok(mounts.get('/sys')!.includes('ro'), '/sys is read-only')
    assert.ok(mounts.has(maskedPath()), `${maskedPath()} is masked`)
    assert.ok(mounts.get('/proc/sys')!.includes('ro'), '/proc/sys is read-only')
    env.ok(['rmp', '-f', id])
    env.assertNoLeaks()
  })

  test('privileged: every capability podctl holds, no seccomp even when asked, no_new_privs off, /sys writable, nothing masked', () => {
    const {id, pid} = run('privileged', {privileged: true, seccomp: {profile_type: 'RuntimeDefault'}})
    const s = seen(pid)
    assert.equal(s.capEff, ownBounding)
    assert.equal(s.capBnd, ownBounding)
    assert.equal(s.seccomp, '0')
    assert.equal(s.noNewPrivs, '0')
    const mounts = podMounts(pid)
    assert.ok(mounts.get('/sys')!.includes('rw'), '/sys is writable')
    assert.ok(!mounts.has(maskedPath()), `${maskedPath()} is not masked`)
    assert.ok(!mounts.has('/proc/sys'), '/proc/sys is not remounted read-only')
    env.ok(['rmp', '-f', id])
    env.assertNoLeaks()
  })

  test('readonly_rootfs: the root is read-only either way (one pause rootfs is shared by every pod)', () => {
    for (const readonly of [true, false]) {
      const {id, pid} = run(`ro-${readonly}`, {readonly_rootfs: readonly})
      assert.ok(podMounts(pid).get('/')!.includes('ro'), `readonly_rootfs ${readonly}`)
      env.ok(['rmp', '-f', id])
    }
    env.assertNoLeaks()
  })

  test('run_as_user, run_as_group and supplemental_groups set every ID of the pause; a non-root pause holds no capabilities', () => {
    const cases: [string, Record<string, unknown>, {uid: string; gid: string; groups: string[]}][] = [
      ['user, group and supplemental groups', {run_as_user: {value: 1000}, run_as_group: {value: 2000}, supplemental_groups: [3000, 3001]}, {uid: '1000', gid: '2000', groups: ['3000', '3001']}],
      ['user only: group 0', {run_as_user: {value: 65534}}, {uid: '65534', gid: '0', groups: []}],
      ['user 0 and group', {run_as_user: {value: 0}, run_as_group: {value: 5}}, {uid: '0', gid: '5', groups: []}],
      ['supplemental groups only', {supplemental_groups: [44]}, {uid: '0', gid: '0', groups: ['44']}],
      // Merge and Strict are the same for the pause: its rootfs has no /etc/group to merge from.
      ['supplemental_groups_policy Strict', {run_as_user: {value: 1000}, supplemental_groups: [7], supplemental_groups_policy: 'Strict'}, {uid: '1000', gid: '0', groups: ['7']}],
    ]
    for (const [what, sc, want] of cases) {
      const {id, pid} = run('ids', sc)
      const s = seen(pid)
      assert.deepEqual(s.uid, Array(4).fill(want.uid), `${what}: Uid`)
      assert.deepEqual(s.gid, Array(4).fill(want.gid), `${what}: Gid`)
      assert.deepEqual(s.groups, want.groups, `${what}: Groups`)
      // The kernel clears the effective set of a process that leaves UID 0; the bounding set stays the pod's.
      assert.equal(s.capEff, want.uid === '0' ? defaultCaps & ownBounding : 0n, `${what}: CapEff`)
      assert.equal(s.capBnd, defaultCaps & ownBounding, `${what}: CapBnd`)
      env.ok(['rmp', '-f', id])
    }
    env.assertNoLeaks()
  })

  test('run_as_group without run_as_user, and IDs out of range, are refused, naming the field', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{run_as_group: {value: 2000}}, /linux\.security_context\.run_as_group is set without run_as_user/],
      [{run_as_user: {value: 4_294_967_295}}, /linux\.security_context\.run_as_user: 4294967295 is not a user or group ID/],
      [{supplemental_groups: [1, -1]}, /linux\.security_context\.supplemental_groups\[1\]/],
    ]
    for (const [sc, message] of cases) assertRefused(env, {security_context: sc}, message)
    env.assertNoLeaks()
  })

  test('seccomp: RuntimeDefault, Unconfined and Localhost, and the deprecated seccomp_profile_path', () => {
    const profile = join(env.dir, 'profile.json')
    writeFileSync(profile, JSON.stringify({defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{names: ['kexec_load', 'reboot'], action: 'SCMP_ACT_ERRNO'}]}))
    const cases: [string, Record<string, unknown>, string][] = [
      ['RuntimeDefault', {seccomp: {profile_type: 'RuntimeDefault'}}, '2'],
      ['Unconfined', {seccomp: {profile_type: 'Unconfined'}}, '0'],
      ['Localhost', {seccomp: {profile_type: 'Localhost', localhost_ref: profile}}, '2'],
      ['seccomp_profile_path runtime/default', {seccomp_profile_path: 'runtime/default'}, '2'],
      ['seccomp_profile_path unconfined', {seccomp_profile_path: 'unconfined'}, '0'],
      ['seccomp_profile_path localhost/<path>', {seccomp_profile_path: `localhost/${profile}`}, '2'],
    ]
    for (const [what, sc, mode] of cases) {
      const {id, pid} = run('seccomp', sc)
      const s = seen(pid)
      assert.equal(s.seccomp, mode, `${what}: Seccomp`)
      // A filter needs no_new_privs without CAP_SYS_ADMIN; podctl's pods always have it unless privileged.
      assert.equal(s.noNewPrivs, '1', `${what}: NoNewPrivs`)
      assert.equal(procStatus(pid).Seccomp_filters, mode === '2' ? '1' : '0', `${what}: one filter`)
      // inspectp shows the profile that was loaded.
      const loaded = env.inspect(id).info.runtimeSpec.linux.seccomp
      if (what.includes('Localhost') || what.includes('localhost')) assert.deepEqual(loaded, JSON.parse(readFileSync(profile, 'utf8')), what)
      else if (mode === '2') assert.equal(loaded.defaultAction, 'SCMP_ACT_ALLOW', what)
      else assert.equal(loaded, undefined, what)
      env.ok(['rmp', '-f', id])
    }
    env.assertNoLeaks()
  })

  test('a Localhost profile that is missing or not a profile is refused, naming the field, before anything is made', () => {
    const bad = join(env.dir, 'bad.json')
    writeFileSync(bad, '{"defaultAction": ')
    const cases: [Record<string, unknown>, RegExp][] = [
      [{seccomp: {profile_type: 'Localhost', localhost_ref: join(env.dir, 'missing.json')}}, /linux\.security_context\.seccomp\.localhost_ref: .*missing\.json/],
      [{seccomp: {profile_type: 'Localhost', localhost_ref: 'relative.json'}}, /linux\.security_context\.seccomp\.localhost_ref: "relative\.json" must be an absolute path/],
      [{seccomp: {profile_type: 'Localhost', localhost_ref: bad}}, /bad\.json/],
      [{seccomp_profile_path: 'chrome/default'}, /linux\.security_context\.seccomp_profile_path/],
    ]
    for (const [sc, message] of cases) assertRefused(env, {security_context: sc}, message)
    env.assertNoLeaks()
  })
})
