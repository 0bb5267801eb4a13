// podctl pull against a real docker-registry on 127.0.0.1: fresh, up to
// date, by digest and platform, through a mirror, with Basic and Bearer
// auth, concurrent, killed mid-pull, and the ways a pull must fail; the
// snapshots' content, and the store read by skopeo and umoci; a cut
// connection, kills after each layer and the states a kill leaves.

import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, statSync, writeFileSync} from 'node:fs'
import {createHash} from 'node:crypto'
import {createServer, request, type Server} from 'node:http'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {gunzipSync} from 'node:zlib'

import {chainIds, ImageStore} from '../../src/images/store.js'
import {resolveSettings} from '../../src/runtime/settings.js'
import {e2eOptionsWith, podctlBin, startPaths, TestEnv} from './harness.js'
import {missingRegistryTools, push, pushFixtures, registryAlive, registryBlobPath, run, startRegistry, type PushedRefs, type Registry} from './registry.js'

const options = e2eOptionsWith('image e2e tests', missingRegistryTools)

/** A fresh env (state root) per case; slots 100-109 are this file's. */
let slot = 100
const envs: TestEnv[] = []
function newEnv(extraConfig = ''): TestEnv {
  const env = new TestEnv(slot, extraConfig)
  slot = slot === 109 ? 100 : slot + 1
  envs.push(env)
  return env
}

/** podctl without blocking this process (the token issuer and the proxies answer from it). */
async function podctl(env: TestEnv, args: string[], extra: Record<string, string> = {}) {
  return run(podctlBin, args, env.env(extra))
}

function storeOf(env: TestEnv): ImageStore {
  return new ImageStore(resolveSettings({config: env.configFile, root: env.root}))
}

const upToDate = (ref: string, digest: string) => `Image is up to date for ${ref.replace(/:[^:/]+$/, '')}@${digest}\n`

describe('podctl pull', options, () => {
  let plain: Registry
  let basic: Registry
  let token: Registry
  let refs: PushedRefs
  let basicRefs: PushedRefs
  let tokenRefs: PushedRefs
  let privateRefs: PushedRefs
  const fixturesDir = `/tmp/podctl-e2e-images-fixtures-${process.pid}`

  before(async () => {
    mkdirSync(fixturesDir, {recursive: true})
    plain = await startRegistry({dir: fixturesDir})
    basic = await startRegistry({dir: fixturesDir, auth: 'basic'})
    token = await startRegistry({dir: fixturesDir, auth: 'token', publicPrefix: 'public/'})
    refs = await pushFixtures(plain, join(fixturesDir, 'fx'))
    basicRefs = await pushFixtures(basic, join(fixturesDir, 'fx'))
    tokenRefs = await pushFixtures(token, join(fixturesDir, 'fx'), 'public/')
    privateRefs = await pushFixtures(token, join(fixturesDir, 'fx'), 'private/')
  })

  after(async () => {
    for (const env of envs) env.teardown()
    for (const reg of [plain, basic, token]) await reg?.stop()
    for (const reg of [plain, basic, token]) if (reg) assert.equal(registryAlive(reg), false, `registry ${reg.pid} is still running`)
    execFileSync('rm', ['-rf', fixturesDir])
  })

  test('a fresh pull: the exact line, the layers unpacked once with their hard links, and up to date in one manifest request', async () => {
    const env = newEnv()
    const fx = refs.fixtures.busybox
    const r = await podctl(env, ['pull', refs.busybox])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, upToDate(refs.busybox, fx.manifestDigest))
    // Not a terminal: one line per layer on stderr.
    assert.match(r.stderr, new RegExp(`^${fx.layerDigests[0].slice(7, 19)}: Pull complete`, 'm'))
    const image = storeOf(env).status(refs.busybox)
    assert.ok(image)
    assert.equal(image.id, fx.configDigest)
    assert.deepEqual(image.repoTags, [refs.busybox])
    assert.equal(image.chainIds[0], fx.diffIds[0])
    const {lowerDirs} = storeOf(env).rootfs(refs.busybox)
    assert.equal(lowerDirs.length, 1)
    const bb = statSync(join(lowerDirs[0], 'bin', 'busybox'))
    assert.equal(statSync(join(lowerDirs[0], 'bin', 'sh')).ino, bb.ino, 'applets are hard links of busybox')
    assert.ok(bb.nlink > 100)
    assert.equal(bb.mode & 0o7777, 0o755)
    assert.equal(statSync(join(lowerDirs[0], 'tmp')).mode & 0o7777, 0o1777)
    assert.equal(statSync(join(lowerDirs[0], 'root')).mode & 0o7777, 0o700)
    assert.equal(execFileSync(join(lowerDirs[0], 'bin', 'busybox'), ['echo', 'ran'], {encoding: 'utf8'}), 'ran\n')
    // On ext2/3/4, snapshots/ is the top of unrelated trees (chattr +T): each snapshot is placed in a block group of its own.
    if (execFileSync('stat', ['-f', '-c', '%T', env.root], {encoding: 'utf8'}).trim() === 'ext2/ext3') {
      assert.match(execFileSync('lsattr', ['-d', join(env.root, 'snapshots')], {encoding: 'utf8'}), /^\S*T\S* /)
    }

    const before = plain.requests().length
    const again = await podctl(env, ['pull', '-q', refs.busybox])
    assert.equal(again.code, 0, again.stderr)
    assert.equal(again.stdout, upToDate(refs.busybox, fx.manifestDigest))
    assert.equal(again.stderr, '', '-q prints nothing but the result')
    assert.deepEqual(plain.requests().slice(before), [`GET /v2/test/busybox/manifests/latest 200`])
  })

  test('pull runs from every start path: the snapshot, the lean path, oclif', async () => {
    for (const [path, extra] of Object.entries(startPaths)) {
      const env = newEnv()
      const r = await podctl(env, ['pull', '-q', refs.busybox], extra)
      assert.equal(r.code, 0, `${path}: ${r.stderr}`)
      assert.equal(r.stdout, upToDate(refs.busybox, refs.fixtures.busybox.manifestDigest), path)
      assert.equal(r.stderr, '', path)
    }
  })

  test('a Docker schema 2 manifest pulls as an OCI one does, and stays Docker-typed in the store', async () => {
    const env = newEnv()
    const r = await podctl(env, ['pull', refs.busyboxDocker])
    assert.equal(r.code, 0, r.stderr)
    const index = JSON.parse(readFileSync(join(env.root, 'images', 'index.json'), 'utf8'))
    assert.equal(index.manifests[0].mediaType, 'application/vnd.docker.distribution.manifest.v2+json')
    const image = storeOf(env).status(refs.busyboxDocker)
    assert.ok(image)
    // The same layer content: the same snapshot as the OCI image's.
    assert.deepEqual(image.chainIds, [refs.fixtures.busybox.diffIds[0]])
    assert.equal(r.stdout, upToDate(refs.busyboxDocker, image.manifestDigest))
  })

  test('the multi-layer image: whiteouts, opaque dirs, hard links, owners, modes, devices, xattrs; overlayfs stacks the snapshots', async () => {
    const env = newEnv()
    const r = await podctl(env, ['pull', refs.multilayer])
    assert.equal(r.code, 0, r.stderr)
    const {image, lowerDirs} = storeOf(env).rootfs(refs.multilayer)
    assert.equal(lowerDirs.length, 3)
    const [, upper, base] = lowerDirs
    assert.equal(image.config.config?.User, '1000:2000')
    assert.deepEqual(image.config.config?.Entrypoint, ['/bin/sh', '-c'])
    // Layer 2 as overlayfs wants it: a 0/0 character device, and the opaque xattr.
    const wh = lstatSync(join(upper, 'etc', 'app', 'remove-me'))
    assert.ok(wh.isCharacterDevice())
    assert.equal(wh.rdev, 0)
    assert.equal(existsSync(join(upper, 'etc', 'app', '.wh.remove-me')), false)
    assert.equal(execFileSync('getfattr', ['--absolute-names', '--only-values', '-n', 'trusted.overlay.opaque', join(upper, 'etc', 'app', 'conf.d')], {encoding: 'utf8'}), 'y')
    assert.equal(statSync(join(upper, 'srv', 'a')).ino, statSync(join(upper, 'srv', 'b')).ino)
    const owned = statSync(join(base, 'opt', 'data', 'owned'))
    assert.deepEqual([owned.uid, owned.gid, owned.mode & 0o7777], [1000, 2000, 0o640])
    assert.equal(statSync(join(base, 'opt', 'data', 'setuid')).mode & 0o7777, 0o4755)
    assert.equal(readlinkSync(join(base, 'opt', 'link-to-keep')), '../etc/app/keep')
    const dev = lstatSync(join(base, 'dev', 'null'))
    assert.ok(dev.isCharacterDevice())
    assert.equal(dev.rdev, (1 << 8) | 3)
    assert.equal(execFileSync('getfattr', ['--absolute-names', '--only-values', '-n', 'user.podctl', join(base, 'etc', 'app', 'keep')], {encoding: 'utf8'}), 'xattr-kept')

    // The snapshots as a container will mount them.
    const mnt = join(env.dir, 'mnt')
    mkdirSync(mnt)
    execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `ro,lowerdir=${lowerDirs.join(':')}`, mnt])
    try {
      assert.deepEqual(readdirSync(join(mnt, 'etc', 'app')).sort(), ['conf.d', 'keep'])
      assert.deepEqual(readdirSync(join(mnt, 'etc', 'app', 'conf.d')), ['new.conf'])
      assert.equal(readFileSync(join(mnt, 'opt', 'link-to-keep'), 'utf8'), 'kept\n')
      assert.equal(statSync(join(mnt, 'data', 'random')).size, 8 << 20)
    } finally {
      execFileSync('umount', [mnt])
    }
  })

  test('skopeo and umoci read the store as an OCI layout', async () => {
    const env = newEnv()
    assert.equal((await podctl(env, ['pull', refs.multilayer])).code, 0)
    assert.equal((await podctl(env, ['pull', refs.busybox])).code, 0)
    const layout = join(env.root, 'images')
    const names = execFileSync('umoci', ['ls', '--layout', layout], {encoding: 'utf8'}).trim().split('\n').sort()
    assert.deepEqual(names, [refs.busybox, refs.multilayer].sort())
    const inspect = JSON.parse(execFileSync('skopeo', ['inspect', `oci:${layout}:${refs.multilayer}`], {encoding: 'utf8'}))
    assert.equal(inspect.Digest, refs.fixtures.multilayer.manifestDigest)
    assert.deepEqual(inspect.Layers, refs.fixtures.multilayer.layerDigests)
  })

  test('by digest, and by platform from an index', async () => {
    const env = newEnv()
    const byDigest = `${refs.multilayer.replace(/:v1$/, '')}@${refs.fixtures.multilayer.manifestDigest}`
    const r = await podctl(env, ['pull', byDigest])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, `Image is up to date for ${byDigest}\n`)
    assert.ok(storeOf(env).status(byDigest))

    const fx = refs.fixtures.multiarch
    const amd = await podctl(env, ['pull', refs.multiarch])
    assert.equal(amd.code, 0, amd.stderr)
    // The repo digest is the index's, as the registry knows the image.
    assert.equal(amd.stdout, upToDate(refs.multiarch, fx.manifestDigest))
    assert.equal(storeOf(env).status(refs.multiarch)?.manifestDigest, fx.amd64)
    const env2 = newEnv()
    const arm = await podctl(env2, ['pull', '--platform', 'linux/arm64/v8', refs.multiarch])
    assert.equal(arm.code, 0, arm.stderr)
    const {image, lowerDirs} = storeOf(env2).rootfs(refs.multiarch)
    assert.equal(image.manifestDigest, fx.arm64)
    assert.equal(image.config.architecture, 'arm64')
    assert.equal(readFileSync(join(lowerDirs[0], 'arch'), 'utf8'), 'arm64\n')
    const none = await podctl(env2, ['pull', '--platform', 'linux/s390x', refs.multiarch])
    assert.notEqual(none.code, 0)
    assert.match(none.stderr, /has no manifest for platform linux\/s390x/)
    assert.match(none.stderr, /linux\/amd64, linux\/arm64\/v8/)
  })

  test('a docker.io image through the mirror of the registries setting', async () => {
    const env = newEnv(`registries:\n  docker.io:\n    mirrors: [http://${plain.host}]\n`)
    const r = await podctl(env, ['pull', 'test/busybox'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, `Image is up to date for docker.io/test/busybox@${refs.fixtures.busybox.manifestDigest}\n`)
    assert.ok(storeOf(env).status('docker.io/test/busybox:latest'))
    const listed = await podctl(env, ['config', '--list'])
    assert.match(listed.stdout, new RegExp(`registries\\.docker\\.io\\.mirrors.*${plain.host.replace(/\./g, '\\.')}`))
  })

  test('Basic auth: refused without credentials, with wrong ones; pulled with --creds and with auth.json', async () => {
    const env = newEnv()
    const anon = await podctl(env, ['pull', basicRefs.busybox])
    assert.notEqual(anon.code, 0)
    assert.match(anon.stderr, /access denied by registry .* \(401, anonymously\)/)
    const wrong = await podctl(env, ['pull', '--creds', 'podctl:wrong', basicRefs.busybox])
    assert.notEqual(wrong.code, 0)
    assert.match(wrong.stderr, /access denied .*with the credentials given/)
    assert.deepEqual(storeOf(env).list(), [])
    const ok = await podctl(env, ['pull', '--creds', 'podctl:secret', basicRefs.busybox])
    assert.equal(ok.code, 0, ok.stderr)
    const env2 = newEnv()
    const authFile = join(env2.dir, 'auth.json')
    writeFileSync(authFile, JSON.stringify({auths: {[basic.host]: {auth: Buffer.from('podctl:secret').toString('base64')}}}))
    const viaFile = await podctl(env2, ['pull', basicRefs.multilayer], {REGISTRY_AUTH_FILE: authFile})
    assert.equal(viaFile.code, 0, viaFile.stderr)
  })

  test('Bearer tokens: anonymous pull of a public repository, credentials for a private one', async () => {
    const env = newEnv()
    const pub = await podctl(env, ['pull', tokenRefs.busybox])
    assert.equal(pub.code, 0, pub.stderr)
    const denied = await podctl(env, ['pull', privateRefs.busybox])
    assert.notEqual(denied.code, 0)
    assert.match(denied.stderr, /access denied/)
    const n = token.tokenRequests.length
    const priv = await podctl(env, ['pull', '--creds', 'podctl:secret', privateRefs.multilayer])
    assert.equal(priv.code, 0, priv.stderr)
    assert.ok(token.tokenRequests.slice(n).every((t) => t.authenticated && t.scope === 'repository:private/multilayer:pull'))
  })

  test('two pulls of the same image at once both succeed and fetch each blob once', async () => {
    const env = newEnv()
    const before = plain.requests().length
    const [a, b] = await Promise.all([podctl(env, ['pull', refs.multilayer]), podctl(env, ['pull', refs.multilayer])])
    assert.equal(a.code, 0, a.stderr)
    assert.equal(b.code, 0, b.stderr)
    assert.equal(a.stdout, b.stdout)
    const blobGets = plain.requests().slice(before).filter((l) => l.startsWith('GET ') && l.includes('/blobs/'))
    const digests = [...refs.fixtures.multilayer.layerDigests, refs.fixtures.multilayer.configDigest]
    for (const d of digests.slice(0, -1)) assert.equal(blobGets.filter((l) => l.includes(d)).length, 1, `layer ${d} fetched once: ${blobGets.join(', ')}`)
  })

  test('kill -9 in the middle of a layer leaves no image; the next pull resumes the download with Range', async () => {
    const env = newEnv()
    const big = refs.fixtures.multilayer.layerDigests[2]
    const {reached, release, ranges, close} = await holdingMirror(env, plain, big)
    try {
      const child = env.spawn(['pull', refs.multilayer])
      await reached
      const partial = join(env.root, 'ingest', big.slice(7))
      // The bytes sent must have reached the file before the kill.
      while (!(existsSync(partial) && statSync(partial).size > 0)) await new Promise((r) => setTimeout(r, 20))
      child.kill('SIGKILL')
      await new Promise((r) => child.once('exit', r))
      assert.equal(storeOf(env).status(refs.multilayer), undefined, 'no image after the kill')
      assert.deepEqual(storeOf(env).list(), [])
      assert.ok(existsSync(partial) && statSync(partial).size > 0, 'the partial download is kept for the next pull')
      release()
      const again = await podctl(env, ['pull', refs.multilayer])
      assert.equal(again.code, 0, again.stderr)
      assert.equal(ranges.length, 1, 'the second pull asked for the rest only')
      assert.match(ranges[0], /^bytes=[1-9]\d*-$/)
      assert.ok(storeOf(env).rootfs(refs.multilayer).lowerDirs.every((d) => existsSync(d)))
      assert.equal(existsSync(partial), false)
    } finally {
      release()
      await close()
    }
  })

  test('Ctrl-C in the middle of a layer (on the unpack thread): exit 130 and why, no image, no partial snapshot; the next pull resumes the download', async () => {
    const env = newEnv()
    // The big layer (8 MiB: its files are written by the unpack thread).
    const big = refs.fixtures.multilayer.layerDigests[2]
    const {reached, release, ranges, close} = await holdingMirror(env, plain, big)
    try {
      const child = env.spawn(['pull', refs.multilayer])
      let stderr = ''
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
      await reached
      const partial = join(env.root, 'ingest', big.slice(7))
      while (!(existsSync(partial) && statSync(partial).size > 0)) await new Promise((r) => setTimeout(r, 20))
      child.kill('SIGINT')
      assert.equal(await exited, 130, stderr)
      // Named by whichever layer under way stopped first.
      assert.match(stderr, /error: unpacking layer sha256:[0-9a-f]{64} of .*: interrupted by SIGINT\n/)
      assert.equal(storeOf(env).status(refs.multilayer), undefined, 'no image after the interrupt')
      assert.deepEqual(
        readdirSync(join(env.root, 'snapshots')).filter((n) => n.startsWith('.tmp-')),
        [],
        'the partial snapshot is removed (after the unpack thread stopped writing into it)',
      )
      assert.ok(existsSync(partial) && statSync(partial).size > 0, 'the partial download is kept for the next pull')
      release()
      const again = await podctl(env, ['pull', refs.multilayer])
      assert.equal(again.code, 0, again.stderr)
      assert.equal(ranges.length, 1, 'the next pull asked for the rest only')
      assert.match(ranges[0], /^bytes=[1-9]\d*-$/)
      assert.ok(storeOf(env).rootfs(refs.multilayer).lowerDirs.every((d) => existsSync(d)))
      assert.deepEqual(readdirSync(join(env.root, 'ingest')), [])
    } finally {
      release()
      await close()
    }
  })

  test('Ctrl-C during run\'s pull: exit 130, said once (run takes three backends: each armed its own signal handlers), and no pod is made', async () => {
    const env = newEnv()
    const {reached, release, close} = await holdingMirror(env, plain, refs.fixtures.multilayer.layerDigests[2])
    try {
      const ctr = join(env.dir, 'ctr.json')
      writeFileSync(ctr, JSON.stringify({metadata: {name: 'c'}, image: {image: refs.multilayer}}))
      const child = env.spawn(['--debug', 'run', ctr, env.podConfig({metadata: {name: 'p', namespace: 'sigint'}})])
      let stderr = ''
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
      await reached
      child.kill('SIGINT')
      assert.equal(await exited, 130, stderr)
      assert.equal(stderr.match(/^debug: start-up:/gm)?.length, 1, stderr)
      assert.doesNotMatch(stderr, /again/)
      assert.match(stderr, /interrupted by SIGINT/)
      assert.equal(env.ok(['pods', '-q']).trim(), '')
      env.assertNoLeaks()
    } finally {
      release()
      await close()
    }
  })

  test('a connection cut in the middle of a layer is resumed with Range within the same pull, into the same unpack', async () => {
    const env = newEnv()
    const big = refs.fixtures.multilayer.layerDigests[2]
    const ranges: string[] = []
    let cuts = 0
    // The first answer for the big layer stops after 1 MiB: the socket is destroyed.
    const proxy = await proxyTo(plain, async (req, up, res) => {
      if (!req.url?.includes(big)) return false
      if (req.headers.range) {
        ranges.push(req.headers.range)
        return false
      }
      if (cuts > 0) return false
      cuts++
      res.writeHead(up.statusCode ?? 500, up.headers)
      let sent = 0
      for await (const chunk of up) {
        res.write(chunk)
        sent += (chunk as Buffer).length
        if (sent >= 1 << 20) break
      }
      await new Promise((r) => setTimeout(r, 50))
      res.destroy()
      up.destroy()
      return true
    })
    try {
      writeFileSync(env.configFile, `${readFileSync(env.configFile, 'utf8')}registries:\n  ${plain.host}:\n    mirrors: [http://127.0.0.1:${proxy.port}]\n`)
      const r = await podctl(env, ['pull', refs.multilayer])
      assert.equal(r.code, 0, r.stderr)
      assert.equal(cuts, 1)
      assert.equal(ranges.length, 1, 'one Range request for the rest')
      assert.match(ranges[0], /^bytes=[1-9]\d*-$/)
      const store = storeOf(env)
      const image = store.status(refs.multilayer)
      assert.ok(image)
      // The blob is whole and verifies; its snapshot holds the file whole.
      assert.equal(`sha256:${createHash('sha256').update(readFileSync(store.blobPath(big))).digest('hex')}`, big)
      const top = store.rootfs(refs.multilayer).lowerDirs[0]
      assert.equal(statSync(join(top, 'data', 'random')).size, 8 << 20)
      assert.deepEqual(readdirSync(join(env.root, 'ingest')), [])
    } finally {
      await proxy.close()
    }
  })

  test('kill -9 after each layer: never an image that looks complete and is not; the next pull fetches only what is missing', async () => {
    const layers = refs.fixtures.multilayer.layerDigests
    for (let k = 1; k <= layers.length; k++) {
      const env = newEnv()
      const child = env.spawn(['pull', refs.multilayer])
      let lines = 0
      await new Promise<void>((resolve) => {
        let text = ''
        child.stderr.on('data', (d: Buffer) => {
          text += d.toString()
          lines = text.split('\n').filter((l) => /: Pull complete/.test(l)).length
          if (lines >= k) resolve()
        })
        child.once('exit', () => resolve())
      })
      child.kill('SIGKILL')
      await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(undefined) : child.once('exit', r)))
      const store = storeOf(env)
      const image = store.status(refs.multilayer)
      if (image) {
        // Killed after index.json was written: then everything is there.
        for (const d of store.rootfs(refs.multilayer).lowerDirs) assert.ok(existsSync(d), `kill after ${k}: ${d}`)
        for (const d of layers) assert.ok(existsSync(store.blobPath(d)), `kill after ${k}: blob ${d}`)
      } else {
        assert.deepEqual(store.list(), [], `kill after ${k}`)
      }
      // What is complete (the blob in the layout, its snapshot in place) is not fetched again.
      const chains = chainIds(refs.fixtures.multilayer.diffIds)
      const complete = layers.filter((d, i) => existsSync(store.blobPath(d)) && existsSync(store.snapshotPath(chains[i])))
      assert.ok(complete.length >= Math.min(k, layers.length) || image, `kill after ${k} "Pull complete" lines: ${complete.length} layers complete`)
      const before = plain.requests().length
      const again = await podctl(env, ['pull', refs.multilayer])
      assert.equal(again.code, 0, again.stderr)
      const gets = plain.requests().slice(before).filter((l) => l.startsWith('GET ') && l.includes('/blobs/'))
      for (const d of complete) assert.equal(gets.filter((l) => l.includes(d)).length, 0, `kill after ${k}: layer ${d} fetched again`)
      assert.ok(store.rootfs(refs.multilayer).lowerDirs.every((d) => existsSync(d)))
      // Only the killed pull's journal is left (gc removes it: its lock is gone).
      assert.deepEqual(readdirSync(join(env.root, 'ingest')).filter((n) => !n.startsWith(`pull-${child.pid}-`)), [])
      assert.deepEqual(readdirSync(join(env.root, 'snapshots')).filter((n) => n.startsWith('.tmp-')), [])
    }
  })

  test('the states a kill can leave are finished by the next pull: a blob without its snapshot, a snapshot without its blob, a partial snapshot', async () => {
    const env = newEnv()
    const layers = refs.fixtures.multilayer.layerDigests
    const chains = chainIds(refs.fixtures.multilayer.diffIds)
    const pull = async () => {
      const before = plain.requests().length
      const r = await podctl(env, ['pull', refs.multilayer])
      assert.equal(r.code, 0, r.stderr)
      return plain.requests().slice(before).filter((l) => l.startsWith('GET ') && l.includes('/blobs/'))
    }
    await pull()
    const store = storeOf(env)
    const forget = () => {
      // As if killed before index.json was written: the image's entry goes, its content stays.
      const path = join(env.root, 'images', 'index.json')
      const doc = JSON.parse(readFileSync(path, 'utf8')) as {manifests: unknown[]}
      writeFileSync(path, JSON.stringify({...doc, manifests: []}))
      assert.deepEqual(store.list(), [])
    }
    // Everything fetched, nothing indexed: no layer is fetched again.
    forget()
    let gets = await pull()
    for (const d of layers) assert.equal(gets.filter((l) => l.includes(d)).length, 0, `layer ${d} fetched again`)
    // A blob without its snapshot (and a partial snapshot of it): unpacked from the blob, not fetched.
    forget()
    execFileSync('rm', ['-rf', store.snapshotPath(chains[1])])
    mkdirSync(join(env.root, 'snapshots', `.tmp-${chains[1].slice(7)}-abcdef`, 'junk'), {recursive: true})
    gets = await pull()
    assert.equal(gets.filter((l) => l.includes(layers[1])).length, 0)
    assert.ok(existsSync(join(store.snapshotPath(chains[1]), 'etc')) || readdirSync(store.snapshotPath(chains[1])).length > 0)
    assert.deepEqual(readdirSync(join(env.root, 'snapshots')).filter((n) => n.startsWith('.tmp-')), [])
    // A snapshot without its blob: the blob is fetched, the snapshot kept.
    forget()
    const inode = statSync(store.snapshotPath(chains[2])).ino
    execFileSync('rm', ['-f', store.blobPath(layers[2])])
    gets = await pull()
    assert.equal(gets.filter((l) => l.includes(layers[2])).length, 1)
    assert.equal(statSync(store.snapshotPath(chains[2])).ino, inode, 'the snapshot was not made again')
    assert.ok(existsSync(store.blobPath(layers[2])))
    assert.deepEqual(readdirSync(join(env.root, 'ingest')), [])
  })

  test('a tampered blob in the store is detected, and a pull repairs it; gc removes what nothing refers to', async () => {
    const env = newEnv()
    assert.equal((await podctl(env, ['pull', refs.busybox])).code, 0)
    const config = join(env.root, 'images', 'blobs', 'sha256', refs.fixtures.busybox.configDigest.slice(7))
    writeFileSync(config, readFileSync(config, 'utf8').replace('"sh"', '"ls"'))
    assert.throws(() => storeOf(env).list(), /does not match its digest/)
    const r = await podctl(env, ['pull', refs.busybox])
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(storeOf(env).status(refs.busybox)?.config.config?.Cmd, ['sh'])

    // An image removed from the index leaves blobs and a snapshot behind: gc takes them.
    await storeOf(env).remove(refs.busybox)
    const gc = await podctl(env, ['gc'])
    assert.equal(gc.code, 0, gc.stderr)
    assert.match(gc.stdout, new RegExp(`Removed snapshot ${refs.fixtures.busybox.diffIds[0]}`))
    assert.match(gc.stdout, new RegExp(`Removed blob ${refs.fixtures.busybox.layerDigests[0]}`))
    assert.deepEqual(readdirSync(join(env.root, 'snapshots')), [])
  })

  test('a zstd layer is refused from the manifest with one line naming it, before any layer is fetched', async () => {
    const env = newEnv()
    const layout = zstdLayout(refs.fixtures.busybox.layout, join(env.dir, 'zstd-layout'))
    await push(plain, layout.dir, 'latest', 'test/busybox-zstd:latest')
    const r = await podctl(env, ['pull', `${plain.host}/test/busybox-zstd:latest`])
    assert.equal(r.code, 1, r.stderr)
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('error:'))
    assert.equal(lines.length, 1, r.stderr)
    assert.ok(lines[0].includes(layout.layer), lines[0])
    assert.match(lines[0], /is zstd-compressed \(application\/vnd\.oci\.image\.layer\.v1\.tar\+zstd\), which podctl cannot unpack; nothing was fetched/)
    assert.match(r.stderr, /gzip variant/)
    assert.deepEqual(storeOf(env).list(), [])
    assert.equal(existsSync(storeOf(env).blobPath(layout.layer)), false, 'the layer was not fetched')
    assert.deepEqual(readdirSync(join(env.root, 'ingest')), [])
  })

  test('bad input: one clear line, a non-zero exit, nothing stored', async () => {
    const env = newEnv()
    const cases: [string[], RegExp, number?][] = [
      [['pull', 'Busybox'], /invalid image reference "Busybox": repository names must be lowercase/, 2],
      [['pull', `${plain.host}/test/nothing:latest`], /not found in/, 3],
      [['pull', `${plain.host}/test/busybox:nope`], /tag "nope" not found/, 3],
      [['pull', '--platform', 'linux', refs.busybox], /--platform: "linux" is not a platform/, 2],
    ]
    for (const [args, pattern, code] of cases) {
      const r = await podctl(env, args)
      assert.equal(r.code, code ?? 1, `${args.join(' ')}: ${r.stderr}`)
      assert.match(r.stderr, pattern)
      assert.equal(r.stderr.split('\n').filter((l) => l.startsWith('error:')).length, 1)
    }
    // A registry that is down.
    const down = await startRegistry({dir: env.dir})
    const downHost = down.host
    await down.stop()
    const r = await podctl(env, ['pull', `${downHost}/test/busybox`])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /cannot reach registry 127\.0\.0\.1:\d+ at https?:\/\/127\.0\.0\.1:\d+: connection refused/)

    // A registry that answers 500, 403, garbage.
    for (const [status, body, pattern] of [
      [500, '{"errors":[{"code":"UNKNOWN","message":"boom"}]}', /answered 500 for the manifest \(UNKNOWN: boom\)/],
      [403, '{"errors":[{"code":"DENIED","message":"no"}]}', /access denied by registry .*403/],
      [200, 'this is not json', /answered a manifest that is not JSON/],
    ] as const) {
      const srv = await fakeRegistry(status, body)
      const out = await podctl(env, ['pull', `127.0.0.1:${srv.port}/x/y:1`])
      await srv.close()
      assert.notEqual(out.code, 0)
      assert.match(out.stderr, pattern)
    }

    // A blob whose bytes do not match its digest: the registry's storage tampered with.
    const reg = await startRegistry({dir: env.dir})
    try {
      const pushed = await pushFixtures(reg, join(fixturesDir, 'fx'))
      const layerFile = registryBlobPath(reg, pushed.fixtures.busybox.layerDigests[0])
      const data = readFileSync(layerFile)
      data[data.length - 100] ^= 0xff
      writeFileSync(layerFile, data)
      const bad = await podctl(env, ['pull', pushed.busybox])
      assert.equal(bad.code, 1)
      assert.match(bad.stderr, /blob sha256:[0-9a-f]{64} from registry .* does not match its digest; nothing was stored/)
    } finally {
      await reg.stop()
    }
    assert.deepEqual(storeOf(env).list(), [])
    assert.deepEqual(readdirSync(join(env.root, 'snapshots')), [])
    assert.equal(readdirSync(join(env.root, 'ingest')).length, 0)
  })
})

/**
 * A mirror of `reg`, written into env's config, that holds `digest`'s
 * download after its first MiB until released (a request with Range is let
 * through whole); `reached` resolves once it holds.
 */
async function holdingMirror(env: TestEnv, reg: Registry, digest: string): Promise<{reached: Promise<void>; release: () => void; ranges: string[]; close: () => Promise<void>}> {
  let release: () => void = () => undefined
  const held = new Promise<void>((r) => (release = r))
  let reachedHold: () => void = () => undefined
  const reached = new Promise<void>((r) => (reachedHold = r))
  const ranges: string[] = []
  const proxy = await proxyTo(reg, async (req, up, res) => {
    if (!req.url?.includes(digest)) return false
    if (req.headers.range) ranges.push(req.headers.range)
    res.writeHead(up.statusCode ?? 500, up.headers)
    let sent = 0
    for await (const chunk of up) {
      res.write(chunk)
      sent += (chunk as Buffer).length
      if (!req.headers.range && sent >= 1 << 20) {
        reachedHold()
        await held
      }
    }
    res.end()
    return true
  })
  writeFileSync(env.configFile, `${readFileSync(env.configFile, 'utf8')}registries:\n  ${reg.host}:\n    mirrors: [http://127.0.0.1:${proxy.port}]\n`)
  return {reached, release, ranges, close: () => proxy.close()}
}

/** A plain-HTTP proxy to the registry; `intercept` may answer a request itself from the upstream response. */
async function proxyTo(
  reg: Registry,
  intercept: (req: import('node:http').IncomingMessage, up: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => Promise<boolean>,
): Promise<{port: number; close(): Promise<void>}> {
  const server: Server = createServer((req, res) => {
    const up = request(`${reg.url}${req.url}`, {method: req.method, headers: {...req.headers, host: reg.host}}, async (upRes) => {
      try {
        if (await intercept(req, upRes, res)) return
      } catch {
        res.destroy()
        return
      }
      res.writeHead(upRes.statusCode ?? 500, upRes.headers)
      upRes.pipe(res)
    })
    up.on('error', () => res.destroy())
    req.pipe(up)
  })
  return listen(server)
}

/** An HTTP server that answers every /v2/ request with this status and body. */
async function fakeRegistry(status: number, body: string): Promise<{port: number; close(): Promise<void>}> {
  const server = createServer((req, res) => {
    if (req.url === '/v2/') return res.writeHead(200).end('{}')
    res.writeHead(status, {'content-type': 'application/vnd.oci.image.manifest.v1+json'}).end(body)
  })
  return listen(server)
}

function listen(server: Server): Promise<{port: number; close(): Promise<void>}> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: (server.address() as {port: number}).port,
        close: () =>
          new Promise<void>((r) => {
            server.closeAllConnections()
            server.close(() => r())
          }),
      })
    })
  })
}

/** A zstd frame of raw blocks: valid zstd without a zstd library (node has none). */
function zstdFrame(data: Buffer): Buffer {
  const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38])] // magic; no content size; window 128 KiB
  for (let off = 0; off < data.length || off === 0; off += 128 << 10) {
    const block = data.subarray(off, off + (128 << 10))
    const last = off + (128 << 10) >= data.length ? 1 : 0
    const header = (block.length << 3) | last // block type 0: raw
    parts.push(Buffer.from([header & 0xff, (header >> 8) & 0xff, (header >> 16) & 0xff]), block)
    if (last) break
  }
  return Buffer.concat(parts)
}

/** The fixture's single-layer image again, its layer zstd-compressed and typed so. */
function zstdLayout(from: string, dir: string): {dir: string; layer: string} {
  const blobs = join(dir, 'blobs', 'sha256')
  mkdirSync(blobs, {recursive: true})
  const read = (digest: string) => readFileSync(join(from, 'blobs', 'sha256', digest.slice(7)))
  const put = (data: Buffer) => {
    const hex = createHash('sha256').update(data).digest('hex')
    writeFileSync(join(blobs, hex), data)
    return {digest: `sha256:${hex}`, size: data.length}
  }
  const index = JSON.parse(readFileSync(join(from, 'index.json'), 'utf8')) as {manifests: {digest: string}[]}
  const manifest = JSON.parse(read(index.manifests[0].digest).toString()) as {config: {digest: string}; layers: {digest: string}[]}
  const config = put(read(manifest.config.digest))
  const layer = put(zstdFrame(gunzipSync(read(manifest.layers[0].digest))))
  const body = {schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: {mediaType: 'application/vnd.oci.image.config.v1+json', ...config}, layers: [{mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd', ...layer}]}
  const m = put(Buffer.from(JSON.stringify(body)))
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}')
  writeFileSync(join(dir, 'index.json'), JSON.stringify({schemaVersion: 2, manifests: [{mediaType: 'application/vnd.oci.image.manifest.v1+json', ...m, annotations: {'org.opencontainers.image.ref.name': 'latest'}}]}))
  return {dir, layer: layer.digest}
}
