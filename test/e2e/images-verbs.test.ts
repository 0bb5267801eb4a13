// images, inspecti, rmi and imagefsinfo against images pulled from a real
// registry (Debian's docker-registry on 127.0.0.1), in-process and through
// podctl serve's ImageService with podctl's own CRI client.

import assert from 'node:assert/strict'
import {execFileSync, spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'

import {e2eOptionsWith, podctlBin, TestEnv} from './harness.js'
import {missingRegistryTools, type PushedRefs, pushFixtures, type Registry, registryAlive, run, startRegistry} from './registry.js'
import {type Served, startServe, stopServe} from './serve-helpers.js'

describe('image verbs', e2eOptionsWith('image verb tests', missingRegistryTools), () => {
  let env: TestEnv
  let reg: Registry
  let refs: PushedRefs

  before(async () => {
    env = new TestEnv(110)
    reg = await startRegistry({dir: env.dir})
    refs = await pushFixtures(reg, join(env.dir, 'fixtures'))
  })

  after(async () => {
    env.podctl(['rmi', '-a'])
    await reg.stop()
    assert.equal(registryAlive(reg), false, 'registry process left')
    env.teardown()
  })

  const images = () => JSON.parse(env.ok(['images', '-o', 'json'])).images as {id: string; repoTags: string[]; repoDigests: string[]; size: string; uid: {value: string} | null; username: string}[]

  test('images lists what was pulled, in every output form', () => {
    env.ok(['pull', '-q', refs.busybox])
    env.ok(['pull', '-q', refs.multilayer])
    const list = images()
    assert.deepEqual(list.map((i) => i.repoTags[0]).sort(), [refs.busybox, refs.multilayer].sort())
    const bb = list.find((i) => i.repoTags[0] === refs.busybox)!
    assert.equal(bb.id, `sha256:${refs.fixtures.busybox.configDigest.slice(7)}`)
    assert.deepEqual(bb.repoDigests, [`${refs.busybox.replace(/:latest$/, '')}@${refs.fixtures.busybox.manifestDigest}`])
    assert.match(bb.size, /^[1-9]\d*$/)
    // every field present, as crictl's -o json
    assert.deepEqual(Object.keys(bb), ['id', 'repoTags', 'repoDigests', 'size', 'uid', 'username', 'spec', 'pinned'])

    const table = env.ok(['images']).trimEnd().split('\n')
    assert.match(table[0], /^IMAGE\s+TAG\s+IMAGE ID\s+SIZE$/)
    const row = table.find((l) => l.startsWith(`${reg.host}/test/busybox `))!.split(/\s+/)
    assert.equal(row[1], 'latest')
    assert.equal(row[2], bb.id.slice(7, 20))
    assert.match(row[3], /^[\d.]+(B|kB|MB)$/)

    const digests = env.ok(['images', '--digests', '--no-trunc']).trimEnd().split('\n')
    assert.match(digests[0], /^IMAGE\s+TAG\s+DIGEST\s+IMAGE ID\s+SIZE$/)
    assert.ok(digests.some((l) => l.includes(refs.fixtures.busybox.manifestDigest.slice(7)) && l.includes(bb.id.slice(7))), digests.join('\n'))

    assert.deepEqual(env.ok(['images', '-q']).trim().split('\n').sort(), list.map((i) => i.id).sort())
    assert.match(env.ok(['images', '-v']), new RegExp(`^ID: ${bb.id}$[\\s\\S]*^RepoTags: ${refs.busybox}$`, 'm'))
    assert.equal(env.ok(['images', '-o', 'go-template', '--template', '{{range .images}}{{.id}}{{"\\n"}}{{end}}']).trim().split('\n').length, 2)
    const yaml = env.ok(['images', '-o', 'yaml'])
    assert.match(yaml, /^images:\n/)
    // crictl's positional filter: the repository, with or without its tag
    assert.deepEqual(JSON.parse(env.ok(['images', '-o', 'json', `${reg.host}/test/busybox`])).images.map((i: {id: string}) => i.id), [bb.id])
    assert.deepEqual(JSON.parse(env.ok(['images', '-o', 'json', refs.multilayer])).images.length, 1)
    assert.deepEqual(JSON.parse(env.ok(['images', '-o', 'json', 'nosuch/thing'])).images, [])
  })

  test('inspecti shows the status and the image config; unknown images exit 3', () => {
    env.ok(['pull', '-q', refs.busybox])
    const doc = JSON.parse(env.ok(['inspecti', refs.busybox]))
    assert.equal(doc.status.repoTags[0], refs.busybox)
    assert.equal(doc.info.chainID.startsWith('sha256:'), true)
    assert.equal(doc.info.imageSpec.os, 'linux')
    // by ID, by a unique ID prefix, and by repo digest: the same image
    assert.equal(JSON.parse(env.ok(['inspecti', '-q', doc.status.id])).status.id, doc.status.id)
    assert.equal(JSON.parse(env.ok(['inspecti', '-q', doc.status.id.slice(7, 19)])).status.id, doc.status.id)
    assert.equal(JSON.parse(env.ok(['inspecti', '-q', doc.status.repoDigests[0]])).status.id, doc.status.id)
    assert.deepEqual(Object.keys(JSON.parse(env.ok(['inspecti', '-q', refs.busybox]))), ['status'])
    assert.match(env.ok(['inspecti', '-o', 'table', refs.busybox]), new RegExp(`^ID: ${doc.status.id}\nTag: ${refs.busybox}\nDigest: .*\nSize: `))
    assert.match(env.ok(['inspecti', '-o', 'yaml', refs.busybox]), /^status:\n/)
    assert.equal(env.ok(['inspecti', '-o', 'go-template', '--template', '{{.status.id}}', refs.busybox]).trim(), doc.status.id)

    const r = env.podctl(['inspecti', `${reg.host}/test/nosuch:latest`])
    assert.equal(r.code, 3, r.stderr)
    assert.match(r.stderr, /^error: no such image ".*nosuch:latest" present$/m)
    assert.equal(r.stdout, '')
    assert.equal(env.podctl(['inspecti']).code, 2)
  })

  test('imagefsinfo reports the store', () => {
    env.ok(['pull', '-q', refs.busybox])
    const doc = JSON.parse(env.ok(['imagefsinfo']))
    assert.equal(doc.status.fsId.mountpoint, env.root)
    assert.ok(Number(doc.status.usedBytes.value) > 1_000_000, 'busybox is in the store')
    assert.ok(Number(doc.status.inodesUsed.value) > 1)
    assert.match(doc.status.timestamp, /^\d+$/)
    assert.match(env.ok(['imagefsinfo', '-o', 'table']), /^TimeStamp: \d+\nUsedBytes: &UInt64Value\{Value:\d+,\}\nMountpoint: /)
  })

  test('rmi removes by reference, -a removes all, and nothing is left', () => {
    env.ok(['pull', '-q', refs.busybox])
    env.ok(['pull', '-q', refs.multilayer])
    assert.equal(env.ok(['rmi', refs.busybox]).trim(), `Deleted: ${refs.busybox}`)
    assert.deepEqual(images().map((i) => i.repoTags[0]), [refs.multilayer])

    const unknown = env.podctl(['rmi', `${reg.host}/test/nosuch:latest`])
    assert.equal(unknown.code, 3)
    assert.match(unknown.stderr, /no such image/)
    assert.equal(env.podctl(['rmi']).code, 2, 'no image named: usage')

    assert.equal(env.ok(['rmi', '-a']).trim(), `Deleted: ${refs.multilayer}`)
    assert.deepEqual(images(), [])
    const none = env.podctl(['rmi', '--prune'])
    assert.equal(none.code, 0)
    assert.match(none.stderr, /No images to remove/)
    // The layers went with the images that used them.
    const snapshots = join(env.root, 'snapshots')
    assert.deepEqual(existsSync(snapshots) ? readdirSync(snapshots) : [], [])
  })

  test('save writes an oci-archive that skopeo reads and load takes back; docker-archives load too', async () => {
    env.ok(['pull', '-q', refs.busybox])
    env.ok(['pull', '-q', refs.multilayer])
    const before = images()
    const archive = join(env.dir, 'saved.tar')
    assert.equal(env.ok(['save', '-o', archive, refs.busybox, refs.multilayer]), '')
    const inspected = await run('skopeo', ['inspect', `oci-archive:${archive}:latest`])
    assert.equal(inspected.code, 0, inspected.stderr)
    assert.equal(JSON.parse(inspected.stdout).Digest, refs.fixtures.busybox.manifestDigest)

    env.ok(['rmi', '-a'])
    const loaded = env.ok(['load', '-i', archive]).trim().split('\n').sort()
    assert.deepEqual(loaded, [`Loaded image: ${refs.busybox}`, `Loaded image: ${refs.multilayer}`].sort())
    const after = images()
    assert.deepEqual(after.map((i) => [i.id, i.repoTags]).sort(), before.map((i) => [i.id, i.repoTags]).sort())
    // Each loaded layer is unpacked, under its chain ID.
    for (const ref of [refs.busybox, refs.multilayer]) {
      const chainId: string = JSON.parse(env.ok(['inspecti', ref])).info.chainID
      assert.ok(existsSync(join(env.root, 'snapshots', chainId.slice(7))), `snapshot of ${ref}`)
    }

    // A docker-archive (docker save's format), through standard input.
    env.ok(['rmi', '-a'])
    const dockerArchive = join(env.dir, 'docker.tar')
    const copied = await run('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${refs.busybox}`, `docker-archive:${dockerArchive}:${reg.host}/test/loaded:v1`])
    assert.equal(copied.code, 0, copied.stderr)
    const r = spawnSync(podctlBin, ['load', '-i', '-'], {env: env.env(), input: readFileSync(dockerArchive), encoding: 'utf8'})
    assert.equal(r.status, 0, r.stderr)
    assert.equal(r.stdout.trim(), `Loaded image: ${reg.host}/test/loaded:v1`)
    const [image] = images()
    assert.equal(image.id, `sha256:${refs.fixtures.busybox.configDigest.slice(7)}`)
    env.ok(['rmi', '-a'])
  })

  test('a truncated archive, one with ../ paths, or one that is not an archive is refused and nothing is kept', () => {
    env.ok(['pull', '-q', refs.busybox])
    const archive = join(env.dir, 'whole.tar')
    env.ok(['save', '-o', archive, refs.busybox])
    env.ok(['rmi', '-a'])
    const cut = join(env.dir, 'cut.tar')
    const whole = readFileSync(archive)
    writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2)))
    const truncated = env.podctl(['load', '-i', cut])
    assert.equal(truncated.code, 1, truncated.stderr)
    assert.match(truncated.stderr, /^error: loading ".*cut\.tar": .*(truncated|ends)/m)

    mkdirSync(join(env.dir, 'evil', 'sub'), {recursive: true})
    writeFileSync(join(env.dir, 'evil', 'escape'), 'x')
    const evil = join(env.dir, 'evil.tar')
    execFileSync('tar', ['-C', join(env.dir, 'evil', 'sub'), '-cPf', evil, '../escape'])
    const escaping = env.podctl(['load', '-i', evil])
    assert.notEqual(escaping.code, 0)
    assert.match(escaping.stderr, /escapes/)

    const notArchive = join(env.dir, 'plain.tar')
    execFileSync('tar', ['-C', join(env.dir, 'evil'), '-cf', notArchive, 'escape'])
    const plain = env.podctl(['load', '-i', notArchive])
    assert.equal(plain.code, 2)
    assert.match(plain.stderr, /not an image archive/)

    assert.deepEqual(images(), [])
    const ingest = join(env.root, 'ingest')
    assert.deepEqual(existsSync(ingest) ? readdirSync(ingest) : [], [], 'nothing left of the loads')
    assert.equal(env.podctl(['save', '-o', join(env.dir, 'x.tar'), 'nosuch']).code, 3)
    assert.equal(existsSync(join(env.dir, 'x.tar')), false)
  })

  describe('through podctl serve', () => {
    let serve: Served
    before(async () => {
      serve = await startServe(env)
    })
    after(async () => {
      await stopServe(serve)
    })

    test('client mode lists, inspects and removes through the ImageService', () => {
      env.ok(['pull', '-q', refs.busybox])
      const endpoint = ['--runtime-endpoint', serve.endpoint]
      const local = images()
      assert.deepEqual(JSON.parse(env.ok([...endpoint, 'images', '-o', 'json'])).images, local)
      assert.equal(env.ok([...endpoint, 'images']), env.ok(['images']))
      assert.deepEqual(JSON.parse(env.ok([...endpoint, 'inspecti', refs.busybox])), JSON.parse(env.ok(['inspecti', refs.busybox])))
      assert.equal(JSON.parse(env.ok([...endpoint, 'imagefsinfo'])).status.fsId.mountpoint, env.root)
      const missing = env.podctl([...endpoint, 'inspecti', `${reg.host}/test/nosuch:latest`])
      assert.equal(missing.code, 3, missing.stderr)
      assert.equal(env.ok([...endpoint, 'rmi', refs.busybox]).trim(), `Deleted: ${refs.busybox}`)
      assert.deepEqual(images(), [])
    })
  })
})
