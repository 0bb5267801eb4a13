// The pause-image setting against a real registry: runp pulls the image on
// first use and runs its Entrypoint as the pause process, from a rootfs its
// layers were merged into once (a whiteout in the upper layer hides a file
// of the lower); later pods reuse it without a pull; rmi --prune keeps it;
// an image that is not in the registry fails runp with one line and no pod.

import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {createHash} from 'node:crypto'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {gzipSync} from 'node:zlib'

import {e2eOptionsWith, TestEnv, which} from './harness.js'
import {missingRegistryTools, push, type Registry, registryAlive, startRegistry} from './registry.js'

const catatonitMissing = () => (which('catatonit') ? undefined : 'catatonit is not installed (apt-get install catatonit)')

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`

/**
 * A two-layer pause image as an OCI layout: the host's static catatonit and a
 * file "junk" below; above, a whiteout of junk and a file "marker".
 */
function buildPauseImage(dir: string): {layout: string; configDigest: string} {
  const layout = join(dir, 'pause-layout')
  mkdirSync(join(layout, 'blobs', 'sha256'), {recursive: true})
  writeFileSync(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}')
  const blob = (data: Buffer) => {
    const digest = sha256(data)
    writeFileSync(join(layout, 'blobs', 'sha256', digest.slice(7)), data)
    return {digest, size: data.length}
  }
  const tree = (name: string, files: Record<string, string | {copy: string}>) => {
    const root = join(dir, name)
    mkdirSync(root, {recursive: true})
    for (const [path, content] of Object.entries(files)) {
      if (typeof content === 'string') writeFileSync(join(root, path), content)
      else copyFileSync(content.copy, join(root, path))
    }
    const tar = execFileSync('tar', ['--sort=name', '--mtime=@0', '--numeric-owner', '-cf', '-', '-C', root, '.'], {maxBuffer: 64 << 20})
    return {blob: blob(gzipSync(tar)), diffId: sha256(tar)}
  }
  const lower = tree('pause-lower', {catatonit: {copy: which('catatonit')!}, junk: 'hidden by the upper layer\n'})
  const upper = tree('pause-upper', {'.wh.junk': '', marker: 'upper\n'})
  const config = blob(
    Buffer.from(
      JSON.stringify({
        created: '2026-01-01T00:00:00Z',
        architecture: 'amd64',
        os: 'linux',
        config: {Entrypoint: ['/catatonit'], Cmd: ['-P']},
        rootfs: {type: 'layers', diff_ids: [lower.diffId, upper.diffId]},
      }),
    ),
  )
  const manifest = blob(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: {mediaType: 'application/vnd.oci.image.config.v1+json', ...config},
        layers: [lower, upper].map((l) => ({mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...l.blob})),
      }),
    ),
  )
  const index = {
    schemaVersion: 2,
    manifests: [{mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: {'org.opencontainers.image.ref.name': '1'}}],
  }
  writeFileSync(join(layout, 'index.json'), JSON.stringify(index))
  return {layout, configDigest: config.digest}
}

describe('pause-image', e2eOptionsWith('pause image tests', missingRegistryTools, catatonitMissing), () => {
  let reg: Registry
  let env: TestEnv
  let missingEnv: TestEnv
  let pauseRef: string
  let imageId: string
  const dir = `/tmp/podctl-e2e-pause-image-${process.pid}`

  before(async () => {
    mkdirSync(dir, {recursive: true})
    reg = await startRegistry({dir})
    const built = buildPauseImage(dir)
    imageId = built.configDigest
    await push(reg, built.layout, '1', 'test/pause:1')
    pauseRef = `${reg.host}/test/pause:1`
    env = new TestEnv(111, `pause-image: ${pauseRef}\n`)
    missingEnv = new TestEnv(112, `pause-image: ${reg.host}/test/no-such-pause:1\n`)
  })

  after(async () => {
    for (const e of [env, missingEnv]) e?.teardown()
    await reg?.stop()
    if (reg) assert.equal(registryAlive(reg), false, `registry ${reg.pid} is still running`)
    execFileSync('rm', ['-rf', dir])
  })

  test('runp pulls the image on first use and runs its entrypoint from its merged layers', () => {
    assert.equal(env.podctl(['images', '-q']).stdout, '', 'the store starts empty')
    const id = env.runPod('first')
    const {status, info} = env.inspect(id)
    assert.equal(status.state, 'SANDBOX_READY')
    assert.equal(info.image, imageId)
    // the image is in the store, by its tag
    const listed = JSON.parse(env.ok(['images', '-o', 'json'])).images as {id: string; repoTags: string[]}[]
    assert.deepEqual(listed.map((i) => [i.id, i.repoTags]), [[imageId, [pauseRef]]])
    // the pause is the image's Entrypoint + Cmd, its root the merged layers: the whiteout hid junk
    const cmdline = readFileSync(`/proc/${info.pid}/cmdline`, 'utf8').split('\0').filter(Boolean)
    assert.deepEqual(cmdline, ['/catatonit', '-P'])
    const root = info.runtimeSpec.root.path as string
    assert.equal(root, join(env.root, 'pause-images', imageId.slice(7), 'rootfs'))
    assert.equal(info.runtimeSpec.root.readonly, true)
    assert.equal(readFileSync(join(root, 'marker'), 'utf8'), 'upper\n')
    assert.equal(existsSync(join(root, 'junk')), false, 'the upper layer\'s whiteout hides junk')
    assert.equal(existsSync(join(root, '.wh.junk')), false)
    // the process sees the same tree
    assert.equal(readFileSync(`/proc/${info.pid}/root/marker`, 'utf8'), 'upper\n')
    // no mount is left of the merge
    assert.deepEqual(readFileSync('/proc/self/mounts', 'utf8').split('\n').filter((l) => l.includes(join(env.root, 'pause-images'))), [])
  })

  test('later pods reuse the image and its rootfs: no second pull', () => {
    const before = reg.requests().filter((r) => r.includes('/manifests/')).length
    const id = env.runPod('second')
    assert.equal(env.inspect(id).status.state, 'SANDBOX_READY')
    assert.equal(reg.requests().filter((r) => r.includes('/manifests/')).length, before)
  })

  test('rmi --prune keeps the pause image', () => {
    const r = env.podctl(['rmi', '--prune'])
    assert.equal(r.code, 0, r.stderr)
    assert.doesNotMatch(r.stdout, /Deleted/)
    assert.equal(env.ok(['images', '-q']).trim(), imageId)
    env.ok(['rmp', '-af'])
    env.assertNoLeaks()
  })

  test('a pause image the registry does not have: runp fails with one line, and no pod is left', () => {
    const r = missingEnv.podctl(['runp', missingEnv.podConfig({metadata: {name: 'nopause', namespace: 'default'}})])
    assert.notEqual(r.code, 0)
    assert.equal(r.stdout, '')
    const lines = r.stderr.trimEnd().split('\n')
    assert.match(lines[0], /^error: pulling the pause image ".*no-such-pause:1" \(the pause-image setting\): /)
    assert.ok(lines.length <= 2, r.stderr)
    assert.equal(missingEnv.podctl(['pods', '-q']).stdout, '')
    missingEnv.assertNoLeaks()
  })
})
