// podctl serve's ImageService through the real crictl (../shared/bin/crictl,
// cri-tools 1.26): pull from a real registry (anonymous and with Basic
// credentials), images in every output form, inspecti, imagefsinfo and rmi,
// each answer checked against what podctl itself says of the same store.

import assert from 'node:assert/strict'
import {mkdirSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'

import {e2eOptionsWith, repoRoot, TestEnv} from './harness.js'
import {missingRegistryTools, type PushedRefs, pushFixtures, type Registry, registryAlive, run, startRegistry} from './registry.js'
import {criToolMissing, type Served, startServe, stopServe} from './serve-helpers.js'

const crictlBin = join(repoRoot, '..', 'shared', 'bin', 'crictl')

describe('crictl against podctl serve: the ImageService', e2eOptionsWith('crictl image tests', missingRegistryTools, criToolMissing('crictl')), () => {
  let env: TestEnv
  let served: Served
  let plain: Registry
  let basic: Registry
  let refs: PushedRefs
  let basicRefs: PushedRefs
  const fixturesDir = `/tmp/podctl-e2e-images-crictl-${process.pid}`

  before(async () => {
    mkdirSync(fixturesDir, {recursive: true})
    env = new TestEnv(113)
    plain = await startRegistry({dir: fixturesDir})
    basic = await startRegistry({dir: fixturesDir, auth: 'basic'})
    refs = await pushFixtures(plain, join(fixturesDir, 'fx'))
    basicRefs = await pushFixtures(basic, join(fixturesDir, 'fx'))
    served = await startServe(env)
  })

  after(async () => {
    if (served) assert.equal((await stopServe(served)).code, 0, served.log())
    env?.podctl(['rmi', '-a'])
    for (const reg of [plain, basic]) await reg?.stop()
    for (const reg of [plain, basic]) if (reg) assert.equal(registryAlive(reg), false, `registry ${reg.pid} is still running`)
    env?.teardown()
    await run('rm', ['-rf', fixturesDir])
  })

  /** crictl with both endpoints on serve's socket, so that it asks nothing else. */
  const crictl = (args: string[]) => run(crictlBin, ['--runtime-endpoint', served.endpoint, '--image-endpoint', served.endpoint, '--timeout', '60s', ...args])
  const ok = async (args: string[]) => {
    const r = await crictl(args)
    assert.equal(r.code, 0, `crictl ${args.join(' ')} exited ${r.code}: ${r.stderr}\nserve: ${served.log()}`)
    return r.stdout
  }

  test('crictl pull: anonymous, then with --creds from a Basic-auth registry', async () => {
    // PullImage answers the image ID, as containerd's, and crictl prints it.
    assert.equal(await ok(['pull', refs.busybox]), `Image is up to date for ${refs.fixtures.busybox.configDigest}\n`)
    const denied = await crictl(['pull', basicRefs.multilayer])
    assert.notEqual(denied.code, 0, 'a pull without credentials from the Basic registry is refused')
    assert.match(denied.stderr, /401|unauthori[sz]ed|denied|credentials/i)
    const user = basic.user!
    assert.equal(await ok(['pull', '--creds', `${user.username}:${user.password}`, basicRefs.multilayer]), `Image is up to date for ${basicRefs.fixtures.multilayer.configDigest}\n`)
  })

  test('crictl images: the same images podctl lists, in every output form', async () => {
    const ours = JSON.parse(env.ok(['images', '-o', 'json']))
    const theirs = JSON.parse(await ok(['images', '-o', 'json']))
    assert.deepEqual(theirs, ours)
    assert.deepEqual(theirs.images.map((i: {repoTags: string[]}) => i.repoTags[0]).sort(), [refs.busybox, basicRefs.multilayer].sort())
    // YAML: the same document
    const yaml = await ok(['images', '-o', 'yaml'])
    for (const image of ours.images) assert.ok(yaml.includes(image.id), `${image.id} in crictl's YAML`)
    // the table: the same rows as podctl's
    assert.equal(await ok(['images']), env.ok(['images']))
    assert.equal(await ok(['images', '--digests', '--no-trunc']), env.ok(['images', '--digests', '--no-trunc']))
    assert.equal(await ok(['images', '-q']), env.ok(['images', '-q']))
    assert.equal(await ok(['images', '-v']), env.ok(['images', '-v']))
    // the REPOSITORY filter is served: only busybox
    const filtered = JSON.parse(await ok(['images', '-o', 'json', refs.busybox.replace(/:latest$/, '')]))
    assert.deepEqual(filtered.images.map((i: {repoTags: string[]}) => i.repoTags), [[refs.busybox]])
  })

  test('crictl inspecti: {"status", "info"} with the chain ID and the image config, as podctl prints it', async () => {
    const theirs = JSON.parse(await ok(['inspecti', refs.busybox]))
    const ours = JSON.parse(env.ok(['inspecti', refs.busybox]))
    assert.deepEqual(theirs, ours)
    assert.equal(theirs.status.id, `sha256:${refs.fixtures.busybox.configDigest.slice(7)}`)
    assert.deepEqual(theirs.info.imageSpec.rootfs.diff_ids, refs.fixtures.busybox.diffIds)
    assert.match(theirs.info.chainID, /^sha256:[0-9a-f]{64}$/)
    const quiet = JSON.parse(await ok(['inspecti', '-q', refs.busybox]))
    assert.deepEqual(Object.keys(quiet), ['status'])
    const missing = await crictl(['inspecti', `${plain.host}/test/nope:1`])
    assert.notEqual(missing.code, 0)
    assert.match(missing.stderr, /no such image/)
  })

  test('crictl imagefsinfo: the store\'s mountpoint and real figures', async () => {
    const theirs = JSON.parse(await ok(['imagefsinfo']))
    assert.equal(theirs.status.fsId.mountpoint, env.root)
    assert.ok(Number(theirs.status.usedBytes.value) > 1_000_000, `usedBytes ${theirs.status.usedBytes.value}: busybox alone is over 1 MB`)
    assert.ok(Number(theirs.status.inodesUsed.value) > 10)
    assert.match(theirs.status.timestamp, /^\d+$/)
    const table = await ok(['imagefsinfo', '-o', 'table'])
    assert.match(table, new RegExp(`Mountpoint: ${env.root}\\n`))
    // the table as podctl prints it, but for the time of the call
    const noTime = (t: string) => t.replace(/^TimeStamp: \d+$/m, 'TimeStamp: T')
    assert.equal(noTime(env.ok(['imagefsinfo', '-o', 'table'])), noTime(table))
  })

  test('crictl rmi: Deleted: <tag>; an unknown image fails; the store is empty after', async () => {
    assert.equal(await ok(['rmi', refs.busybox]), `Deleted: ${refs.busybox}\n`)
    assert.equal(env.ok(['images', '-q']).trim().split('\n').length, 1)
    const unknown = await crictl(['rmi', refs.busybox])
    assert.notEqual(unknown.code, 0)
    assert.match(unknown.stderr, /no such image/)
    assert.equal(await ok(['rmi', '-a']), `Deleted: ${basicRefs.multilayer}\n`)
    assert.equal(env.ok(['images', '-q']), '')
  })
})
