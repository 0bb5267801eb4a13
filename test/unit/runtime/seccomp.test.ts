import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, test} from 'node:test'

import type {PodSandboxConfig} from '../../../src/cri/types.js'
import {defaultSeccompProfile, loadLocalhostSeccomp, parseSeccompProfile, seccompProfileOf} from '../../../src/runtime/seccomp.js'
import {podctlError, tempDir} from '../helpers.js'

describe('the RuntimeDefault profile', () => {
  const profile = defaultSeccompProfile() as {defaultAction: string; syscalls: {names: string[]; action: string; errnoRet?: number; args?: unknown[]}[]}
  const deniedAlways = profile.syscalls.filter((r) => !r.args).flatMap((r) => r.names)
  test('allows by default, denies with EPERM', () => {
    assert.equal(profile.defaultAction, 'SCMP_ACT_ALLOW')
    assert.equal(profile.syscalls[0].errnoRet, 1)
  })
  for (const name of ['mount', 'umount2', 'unshare', 'setns', 'ptrace', 'kexec_load', 'init_module', 'bpf', 'reboot', 'keyctl', 'pivot_root']) {
    test(`denies ${name}`, () => assert.ok(deniedAlways.includes(name)))
  }
  test('clone with any CLONE_NEW* flag is denied, one rule per flag', () => {
    const clone = profile.syscalls.filter((r) => r.names.includes('clone'))
    assert.equal(clone.length, 7)
    const flags = clone.map((r) => (r.args as {value: number; valueTwo: number; op: string}[])[0])
    assert.ok(flags.every((a) => a.op === 'SCMP_CMP_MASKED_EQ' && a.value === a.valueTwo))
    assert.equal(flags.reduce((m, a) => m | a.value, 0), 0x7e020000)
  })
  test('clone3 gets ENOSYS so that libc falls back to clone', () => {
    assert.deepEqual(profile.syscalls.find((r) => r.names.includes('clone3')), {names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38})
  })
  test('a fresh copy each time', () => {
    ;(defaultSeccompProfile().syscalls as unknown[]).length = 0
    assert.ok((defaultSeccompProfile().syscalls as unknown[]).length > 0)
  })
})

describe('seccompProfileOf: the field, or the deprecated seccomp_profile_path', () => {
  const cases: [string, Record<string, unknown> | undefined, unknown][] = [
    ['no security context', undefined, undefined],
    ['seccomp set', {seccomp: {profile_type: 1}}, {profile_type: 1}],
    ['an empty path', {seccomp_profile_path: ''}, undefined],
    ['unconfined', {seccomp_profile_path: 'unconfined'}, undefined],
    ['runtime/default', {seccomp_profile_path: 'runtime/default'}, {profile_type: 0}],
    ['docker/default', {seccomp_profile_path: 'docker/default'}, {profile_type: 0}],
    ['localhost/<path>', {seccomp_profile_path: 'localhost//var/lib/kubelet/seccomp/a.json'}, {profile_type: 2, localhost_ref: '/var/lib/kubelet/seccomp/a.json'}],
  ]
  for (const [label, sc, want] of cases) test(label, () => assert.deepEqual(seccompProfileOf(sc), want))
  test('anything else is a usage error', () => {
    assert.throws(() => seccompProfileOf({seccomp_profile_path: 'docker/strict'}), podctlError(2, 'seccomp_profile_path: "docker/strict" is not a seccomp profile'))
  })
})

describe('parseSeccompProfile', () => {
  const ok: [string, unknown, unknown][] = [
    ['an OCI profile as is', {defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64'], syscalls: [{names: ['read'], action: 'SCMP_ACT_ALLOW'}]}, {defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64'], syscalls: [{names: ['read'], action: 'SCMP_ACT_ALLOW'}]}],
    [
      "Docker's archMap, name and comments converted",
      {defaultAction: 'SCMP_ACT_ERRNO', archMap: [{architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86']}], syscalls: [{name: 'read', action: 'SCMP_ACT_ALLOW', comment: 'c', includes: {}, excludes: {}}]},
      {defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'], syscalls: [{names: ['read'], action: 'SCMP_ACT_ALLOW'}]},
    ],
  ]
  for (const [label, doc, want] of ok) test(label, () => assert.deepEqual(parseSeccompProfile(JSON.stringify(doc), 'p'), want))

  const bad: [string, string, string][] = [
    ['not JSON', '{', 'p is not valid JSON'],
    ['a list', '[]', 'p must be a JSON object'],
    ['no defaultAction', '{}', 'p: defaultAction must be a seccomp action'],
    ['an unknown key', '{"defaultAction": "SCMP_ACT_ALLOW", "defaultaction": 1}', 'p: unknown key "defaultaction"'],
    ['a rule without names', '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"action": "SCMP_ACT_ERRNO"}]}', 'p: syscalls[0]: names must be a non-empty list'],
    ['a bad action', '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["x"], "action": "deny"}]}', 'p: syscalls[0]: action must be a seccomp action'],
    ['conditional rules', '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["x"], "action": "SCMP_ACT_ERRNO", "includes": {"caps": ["CAP_SYS_ADMIN"]}}]}', 'p: syscalls[0]: conditional rules ("includes")'],
  ]
  for (const [label, text, needle] of bad) test(`refused: ${label}`, () => assert.throws(() => parseSeccompProfile(text, 'p'), podctlError(2, needle)))
})

describe('loadLocalhostSeccomp', () => {
  const dir = tempDir()
  const file = join(dir, 'profile.json')
  writeFileSync(file, JSON.stringify({defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{names: ['mkdir'], action: 'SCMP_ACT_ERRNO'}]}))
  const config = (securityContext: Record<string, unknown>): PodSandboxConfig => ({metadata: {name: 'a', namespace: 'b', uid: 'c', attempt: 0}, linux: {security_context: securityContext}})

  test('reads a Localhost profile', async () => {
    assert.deepEqual(await loadLocalhostSeccomp(config({seccomp: {profile_type: 2, localhost_ref: file}}), dir), {defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{names: ['mkdir'], action: 'SCMP_ACT_ERRNO'}]})
  })
  test('and one named by the deprecated path', async () => {
    assert.ok(await loadLocalhostSeccomp(config({seccomp_profile_path: `localhost/${file}`}), dir))
  })
  test('nothing for other kinds', async () => assert.equal(await loadLocalhostSeccomp(config({seccomp: {profile_type: 0}}), dir), undefined))
  test('a missing file names the field and the path', async () => {
    await assert.rejects(loadLocalhostSeccomp(config({seccomp: {profile_type: 2, localhost_ref: join(dir, 'none.json')}}), dir), podctlError(2, 'linux.security_context.seccomp.localhost_ref: seccomp profile'))
  })
  test('a relative path is refused', async () => {
    await assert.rejects(loadLocalhostSeccomp(config({seccomp_profile_path: 'localhost/p.json'}), dir), podctlError(2, 'linux.security_context.seccomp_profile_path: "p.json" must be an absolute path'))
  })
  test('a bad profile names the file', async () => {
    const bad = join(dir, 'bad.json')
    writeFileSync(bad, '{"syscalls": []}')
    await assert.rejects(loadLocalhostSeccomp(config({seccomp: {profile_type: 2, localhost_ref: bad}}), dir), podctlError(2, `seccomp profile "${bad}": defaultAction`))
  })
})
