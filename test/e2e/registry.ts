// A real registry for the image tests: Debian's docker-registry (the CNCF
// distribution registry) on 127.0.0.1, storage in the test's own dir, with
// no auth, htpasswd Basic auth, or a token realm served by a small issuer in
// this process; and test images built from files on this machine, pushed to
// it with skopeo.

import assert from 'node:assert/strict'
import {execFileSync, spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {createHash, createPrivateKey, createSign, X509Certificate} from 'node:crypto'
import {chmodSync, chownSync, existsSync, linkSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {createServer, request, type Server} from 'node:http'
import {createServer as netServer} from 'node:net'
import {join} from 'node:path'
import {gzipSync} from 'node:zlib'

import {which} from './harness.js'

export const registryBin = '/usr/bin/docker-registry'

/** Why the registry tests cannot run here, or undefined when they can. */
export function missingRegistryTools(): string | undefined {
  if (!existsSync(registryBin)) return 'docker-registry is not installed (apt-get install docker-registry)'
  for (const [tool, pkg] of [
    ['skopeo', 'skopeo'],
    ['umoci', 'umoci'],
    ['htpasswd', 'apache2-utils'],
    ['openssl', 'openssl'],
    ['tar', 'tar'],
  ]) {
    if (!which(tool)) return `${tool} is not installed (apt-get install ${pkg})`
  }
  if (!existsSync('/bin/busybox')) return 'busybox is not installed (apt-get install busybox-static)'
  return undefined
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = netServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as {port: number}).port
      s.close(() => resolve(port))
    })
  })
}

export interface Credentials {
  username: string
  password: string
}

export interface RegistryOptions {
  /** a directory of the test's own; the registry's storage and config go under it */
  dir: string
  auth?: 'basic' | 'token'
  /** for basic and token: the one user (default podctl/secret) */
  user?: Credentials
  /** for token: repositories under this prefix may be pulled anonymously */
  publicPrefix?: string
  /**
   * a network namespace (a /proc/PID/ns/net path) to run the registry in, on
   * 127.0.0.1:port there; push() then runs skopeo in it too
   */
  netns?: {path: string; port: number}
}

export interface Registry {
  /** 127.0.0.1:PORT, as in image references */
  host: string
  url: string
  pid: number
  storage: string
  user?: Credentials
  /** the token issuer's URL, for token auth */
  realm?: string
  /** tokens the issuer handed out, with the scope asked and whether credentials came with it */
  tokenRequests: {scope: string; authenticated: boolean}[]
  /** the network namespace it runs in, when not this process's */
  netns?: string
  /** the requests the registry logged so far, as "METHOD PATH STATUS" */
  requests(): string[]
  stop(): Promise<void>
}

/** Start docker-registry on a free port and wait until it answers /v2/. */
export async function startRegistry(options: RegistryOptions): Promise<Registry> {
  const dir = join(options.dir, `registry-${Math.random().toString(16).slice(2, 8)}`)
  const storage = join(dir, 'storage')
  mkdirSync(storage, {recursive: true})
  const port = options.netns?.port ?? (await freePort())
  const user = options.auth ? (options.user ?? {username: 'podctl', password: 'secret'}) : undefined
  let authYaml = ''
  let issuer: Server | undefined
  let realm: string | undefined
  const tokenRequests: Registry['tokenRequests'] = []
  if (options.auth === 'basic' && user) {
    const htpasswd = execFileSync('htpasswd', ['-Bbn', user.username, user.password], {encoding: 'utf8'})
    writeFileSync(join(dir, 'htpasswd'), htpasswd)
    authYaml = `auth:\n  htpasswd:\n    realm: podctl-test\n    path: ${join(dir, 'htpasswd')}\n`
  } else if (options.auth === 'token' && user) {
    const key = join(dir, 'issuer.key')
    const cert = join(dir, 'issuer.crt')
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=podctl-test-issuer'], {stdio: 'ignore'})
    const started = await startTokenIssuer({key, cert, user, publicPrefix: options.publicPrefix ?? 'public/', service: 'podctl-test-registry', log: tokenRequests})
    issuer = started.server
    realm = started.realm
    authYaml = `auth:\n  token:\n    realm: ${realm}\n    service: podctl-test-registry\n    issuer: podctl-test-issuer\n    rootcertbundle: ${cert}\n`
  }
  const config = join(dir, 'config.yml')
  writeFileSync(
    config,
    `version: 0.1\nlog:\n  level: ${options.netns ? 'info' : 'error'}\nstorage:\n  filesystem:\n    rootdirectory: ${storage}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n${authYaml}`,
  )
  // nsenter enters the namespace and execs the registry: the PID is the registry's.
  const child: ChildProcess = options.netns
    ? spawn('nsenter', [`--net=${options.netns.path}`, '--', registryBin, 'serve', config], {stdio: ['ignore', 'pipe', 'pipe']})
    : spawn(registryBin, ['serve', config], {stdio: ['ignore', 'pipe', 'pipe'], detached: false})
  let stderr = ''
  // The access log (one line per request) comes on stdout.
  child.stdout?.on('data', (d: Buffer) => (stderr += d.toString()))
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; ; i++) {
    // In another namespace this process cannot connect: the registry's own log line says it listens.
    if (options.netns ? stderr.includes(`listening on 127.0.0.1:${port}`) : [200, 401].includes(await httpStatus(`${url}/v2/`))) break
    if (child.exitCode !== null || i > 200) {
      child.kill('SIGKILL')
      issuer?.close()
      throw new Error(`docker-registry did not start on ${url}: ${stderr}`)
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  const pid = child.pid as number
  return {
    host: `127.0.0.1:${port}`,
    url,
    pid,
    storage,
    user,
    realm,
    netns: options.netns?.path,
    tokenRequests,
    requests: () => [...stderr.matchAll(/"(GET|HEAD|PUT|POST|PATCH|DELETE) (\S+) HTTP\/[\d.]+" (\d+)/g)].map((m) => `${m[1]} ${m[2]} ${m[3]}`),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        process.kill(pid, 'SIGTERM')
        await exited
      }
      await new Promise<void>((r) => (issuer ? issuer.close(() => r()) : r()))
      rmSync(dir, {recursive: true, force: true})
    },
  }
}

/** Whether a registry process of ours is still alive (for the leak checks). */
export function registryAlive(reg: Registry): boolean {
  try {
    const cmd = readFileSync(`/proc/${reg.pid}/cmdline`, 'utf8')
    const stat = readFileSync(`/proc/${reg.pid}/stat`, 'utf8')
    return cmd.includes('docker-registry') && !/\) [ZX] /.test(stat)
  } catch {
    return false
  }
}

function httpStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, {method: 'GET', timeout: 2000}, (res) => {
      res.resume()
      resolve(res.statusCode ?? 0)
    })
    req.on('error', () => resolve(0))
    req.on('timeout', () => req.destroy())
    req.end()
  })
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url')

/**
 * The token realm: GET ?service=&scope=repository:NAME:ACTIONS answers a JWT
 * the registry verifies against the issuer's certificate (x5c). Anonymous
 * requests get pull on the public prefix only; the user gets everything.
 */
async function startTokenIssuer(o: {
  key: string
  cert: string
  user: Credentials
  publicPrefix: string
  service: string
  log: Registry['tokenRequests']
}): Promise<{server: Server; realm: string}> {
  const key = createPrivateKey(readFileSync(o.key))
  const certDer = new X509Certificate(readFileSync(o.cert)).raw
  const server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x')
    const header = req.headers.authorization ?? ''
    let authenticated = false
    if (header.startsWith('Basic ')) {
      const [name, ...pass] = Buffer.from(header.slice(6), 'base64').toString().split(':')
      if (name !== o.user.username || pass.join(':') !== o.user.password) {
        res.writeHead(401, {'content-type': 'application/json'}).end('{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}')
        return
      }
      authenticated = true
    }
    const scopes = u.searchParams.getAll('scope')
    o.log.push({scope: scopes.join(' '), authenticated})
    const access = scopes.flatMap((scope) => {
      const [type, name, actions] = scope.split(':')
      if (type !== 'repository' || !name) return []
      const granted = authenticated ? actions.split(',') : name.startsWith(o.publicPrefix) ? actions.split(',').filter((a) => a === 'pull') : []
      return [{type, name, actions: granted}]
    })
    const now = Math.floor(Date.now() / 1000)
    const head = b64url(JSON.stringify({alg: 'RS256', typ: 'JWT', x5c: [certDer.toString('base64')]}))
    const body = b64url(JSON.stringify({iss: 'podctl-test-issuer', sub: authenticated ? o.user.username : '', aud: o.service, exp: now + 600, nbf: now - 10, iat: now, jti: Math.random().toString(16), access}))
    const sig = createSign('RSA-SHA256').update(`${head}.${body}`).sign(key)
    const token = `${head}.${body}.${b64url(sig)}`
    res.writeHead(200, {'content-type': 'application/json'}).end(JSON.stringify({token, access_token: token, expires_in: 600}))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  return {server, realm: `http://127.0.0.1:${(server.address() as {port: number}).port}/token`}
}

// ---- test images -----------------------------------------------------------

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`

interface Blob {
  digest: string
  size: number
}

export class Layout {
  constructor(readonly dir: string) {
    mkdirSync(join(dir, 'blobs', 'sha256'), {recursive: true})
    writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}')
  }

  blob(data: Buffer): Blob {
    const digest = sha256(data)
    writeFileSync(join(this.dir, 'blobs', 'sha256', digest.slice(7)), data)
    return {digest, size: data.length}
  }

  json(value: unknown): Blob {
    return this.blob(Buffer.from(JSON.stringify(value)))
  }

  index(manifests: unknown[]): void {
    writeFileSync(join(this.dir, 'index.json'), JSON.stringify({schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests}))
  }
}

/** A gzipped layer of a directory tree, as tar writes it (hard links, owners, modes, whiteout files as they are). */
export function layer(layout: Layout, tree: string): {blob: Blob; diffId: string} {
  const tar = execFileSync('tar', ['--sort=name', '--mtime=@0', '--numeric-owner', '--xattrs', '--xattrs-include=*', '-cf', '-', '-C', tree, '.'], {maxBuffer: 512 << 20})
  return {blob: layout.blob(gzipSync(tar, {level: 1})), diffId: sha256(tar)}
}

export function image(layout: Layout, layers: {blob: Blob; diffId: string}[], platform: {architecture: string; os: string; variant?: string}, config: Record<string, unknown> = {}) {
  const cfg = layout.json({
    created: '2026-01-01T00:00:00Z',
    ...platform,
    config: {Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'], ...config},
    rootfs: {type: 'layers', diff_ids: layers.map((l) => l.diffId)},
    history: layers.map(() => ({created: '2026-01-01T00:00:00Z', created_by: 'podctl test'})),
  })
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: {mediaType: 'application/vnd.oci.image.config.v1+json', ...cfg},
    layers: layers.map((l) => ({mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...l.blob})),
  }
  return {manifest: layout.json(manifest), config: cfg, layers}
}

export interface Fixture {
  /** the OCI layout dir and its tag, as skopeo's oci:DIR:TAG */
  layout: string
  tag: string
  /** what the pulled snapshot must hold, checked by the tests */
  layerDigests: string[]
  diffIds: string[]
  configDigest: string
  manifestDigest: string
}

export interface Fixtures {
  busybox: Fixture
  multilayer: Fixture
  /** an index of linux/amd64 (busybox) and linux/arm64/v8 (one file) */
  multiarch: Fixture & {amd64: string; arm64: string}
}

/** busybox-static with one hard link per applet, as the busybox image is, in dir (made). */
export function busyboxTree(bb: string): string {
  for (const d of ['bin', 'etc', 'tmp', 'root']) mkdirSync(join(bb, d), {recursive: true})
  chmodSync(join(bb, 'tmp'), 0o1777)
  chmodSync(join(bb, 'root'), 0o700)
  writeFileSync(join(bb, 'bin', 'busybox'), readFileSync('/bin/busybox'))
  chmodSync(join(bb, 'bin', 'busybox'), 0o755)
  const applets = execFileSync('/bin/busybox', ['--list'], {encoding: 'utf8'}).split('\n').filter((a) => a && a !== 'busybox')
  for (const a of applets) linkSync(join(bb, 'bin', 'busybox'), join(bb, 'bin', a))
  writeFileSync(join(bb, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n')
  writeFileSync(join(bb, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n')
  return bb
}

/** Build the test images under dir as OCI layouts (deterministic: same files, same digests). */
export function buildFixtures(dir: string): Fixtures {
  mkdirSync(dir, {recursive: true})
  const trees = join(dir, 'trees')
  rmSync(trees, {recursive: true, force: true})

  const bb = busyboxTree(join(trees, 'busybox'))

  const busyboxLayout = new Layout(join(dir, 'busybox'))
  const bbLayer = layer(busyboxLayout, bb)
  const busybox = image(busyboxLayout, [bbLayer], {architecture: 'amd64', os: 'linux'})
  busyboxLayout.index([{mediaType: 'application/vnd.oci.image.manifest.v1+json', ...busybox.manifest, annotations: {'org.opencontainers.image.ref.name': 'latest'}}])

  // Three layers: a base; a layer that deletes a file (whiteout), replaces a dir (opaque) and adds a hard link.
  const base = join(trees, 'base')
  mkdirSync(join(base, 'etc', 'app', 'conf.d'), {recursive: true})
  mkdirSync(join(base, 'opt', 'data'), {recursive: true})
  mkdirSync(join(base, 'dev'), {recursive: true})
  writeFileSync(join(base, 'etc', 'app', 'remove-me'), 'deleted in layer 2\n')
  writeFileSync(join(base, 'etc', 'app', 'keep'), 'kept\n')
  writeFileSync(join(base, 'etc', 'app', 'conf.d', 'old.conf'), 'replaced by an opaque dir\n')
  writeFileSync(join(base, 'opt', 'data', 'owned'), 'owned by 1000:2000, mode 640\n')
  chownSync(join(base, 'opt', 'data', 'owned'), 1000, 2000)
  chmodSync(join(base, 'opt', 'data', 'owned'), 0o640)
  writeFileSync(join(base, 'opt', 'data', 'setuid'), '#!/bin/sh\n')
  chmodSync(join(base, 'opt', 'data', 'setuid'), 0o4755)
  symlinkSync('../etc/app/keep', join(base, 'opt', 'link-to-keep'))
  execFileSync('mknod', ['-m', '666', join(base, 'dev', 'null'), 'c', '1', '3'])
  spawnSync('setfattr', ['-n', 'user.podctl', '-v', 'xattr-kept', join(base, 'etc', 'app', 'keep')])
  const upper = join(trees, 'upper')
  mkdirSync(join(upper, 'etc', 'app', 'conf.d'), {recursive: true})
  writeFileSync(join(upper, 'etc', 'app', '.wh.remove-me'), '')
  writeFileSync(join(upper, 'etc', 'app', 'conf.d', '.wh..wh..opq'), '')
  writeFileSync(join(upper, 'etc', 'app', 'conf.d', 'new.conf'), 'the only file left in conf.d\n')
  mkdirSync(join(upper, 'srv'), {recursive: true})
  writeFileSync(join(upper, 'srv', 'a'), 'hard-linked\n')
  linkSync(join(upper, 'srv', 'a'), join(upper, 'srv', 'b'))
  const big = join(trees, 'big')
  mkdirSync(join(big, 'data'), {recursive: true})
  // Incompressible, so that a download is long enough to interrupt.
  writeFileSync(join(big, 'data', 'random'), pseudoRandom(8 << 20))
  const multiLayout = new Layout(join(dir, 'multilayer'))
  const multi = image(multiLayout, [layer(multiLayout, base), layer(multiLayout, upper), layer(multiLayout, big)], {architecture: 'amd64', os: 'linux'}, {
    User: '1000:2000',
    WorkingDir: '/srv',
    Entrypoint: ['/bin/sh', '-c'],
    Cmd: ['echo hi'],
    Labels: {'org.example': 'multi'},
    StopSignal: 'SIGINT',
    ExposedPorts: {'8080/tcp': {}},
  })
  multiLayout.index([{mediaType: 'application/vnd.oci.image.manifest.v1+json', ...multi.manifest, annotations: {'org.opencontainers.image.ref.name': 'v1'}}])

  // An index with two platforms.
  const armTree = join(trees, 'arm64')
  mkdirSync(armTree, {recursive: true})
  writeFileSync(join(armTree, 'arch'), 'arm64\n')
  const archLayout = new Layout(join(dir, 'multiarch'))
  const amd = image(archLayout, [layer(archLayout, bb)], {architecture: 'amd64', os: 'linux'})
  const arm = image(archLayout, [layer(archLayout, armTree)], {architecture: 'arm64', os: 'linux', variant: 'v8'})
  const index = archLayout.json({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [
      {mediaType: 'application/vnd.oci.image.manifest.v1+json', ...amd.manifest, platform: {architecture: 'amd64', os: 'linux'}},
      {mediaType: 'application/vnd.oci.image.manifest.v1+json', ...arm.manifest, platform: {architecture: 'arm64', os: 'linux', variant: 'v8'}},
    ],
  })
  archLayout.index([{mediaType: 'application/vnd.oci.image.index.v1+json', ...index, annotations: {'org.opencontainers.image.ref.name': 'multi'}}])

  const fixture = (layoutDir: string, tag: string, img: ReturnType<typeof image>): Fixture => ({
    layout: layoutDir,
    tag,
    layerDigests: img.layers.map((l) => l.blob.digest),
    diffIds: img.layers.map((l) => l.diffId),
    configDigest: img.config.digest,
    manifestDigest: img.manifest.digest,
  })
  return {
    busybox: fixture(busyboxLayout.dir, 'latest', busybox),
    multilayer: fixture(multiLayout.dir, 'v1', multi),
    multiarch: {...fixture(archLayout.dir, 'multi', amd), manifestDigest: index.digest, amd64: amd.manifest.digest, arm64: arm.manifest.digest},
  }
}

/** Deterministic incompressible bytes. */
function pseudoRandom(size: number): Buffer {
  const out = Buffer.alloc(size)
  let block = createHash('sha512').update('podctl').digest()
  for (let off = 0; off < size; off += block.length) {
    block.copy(out, off)
    block = createHash('sha512').update(block).digest()
  }
  return out
}

/**
 * Copy an OCI layout's tag to the registry as REPO:TAG with skopeo (as the
 * format it is: OCI). Asynchronous: the token issuer answers skopeo from
 * this very process.
 */
export async function push(reg: Registry, layout: string, tag: string, dest: string, options: {all?: boolean; format?: 'oci' | 'v2s2'} = {}): Promise<void> {
  const args = ['copy', '--quiet', '--dest-tls-verify=false', ...(options.all ? ['--all'] : []), ...(options.format ? ['--format', options.format] : [])]
  if (reg.user) args.push('--dest-creds', `${reg.user.username}:${reg.user.password}`)
  const copy = [...args, `oci:${layout}:${tag}`, `docker://${reg.host}/${dest}`]
  const r = reg.netns ? await run('nsenter', [`--net=${reg.netns}`, '--', 'skopeo', ...copy]) : await run('skopeo', copy)
  assert.equal(r.code, 0, `skopeo copy to ${reg.host}/${dest} failed: ${r.stderr}`)
}

/** A command run without blocking the event loop (the token issuer lives in it). */
export function run(cmd: string, args: string[], env?: Record<string, string>): Promise<{code: number; stdout: string; stderr: string}> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.once('error', reject)
    child.once('close', (code) => resolve({code: code ?? -1, stdout, stderr}))
  })
}

export interface PushedRefs {
  /** HOST/test/busybox:latest */
  busybox: string
  /** HOST/test/busybox-docker:latest, the same image as a Docker schema 2 manifest (digests of its own) */
  busyboxDocker: string
  /** HOST/test/multilayer:v1 */
  multilayer: string
  /** HOST/test/multiarch:multi */
  multiarch: string
  fixtures: Fixtures
}

/** A registry in the test's directory serving the busybox fixture as test/busybox:latest: what the container tests run. */
export async function registryWithBusybox(dir: string): Promise<{reg: Registry; image: string}> {
  const reg = await startRegistry({dir})
  const fixtures = buildFixtures(join(dir, 'fixtures'))
  await push(reg, fixtures.busybox.layout, 'latest', 'test/busybox:latest')
  return {reg, image: `${reg.host}/test/busybox:latest`}
}

/** Build the fixtures (once per dir) and push them to the registry under the prefix (default "test/"). */
export async function pushFixtures(reg: Registry, dir: string, prefix = 'test/'): Promise<PushedRefs> {
  const fixtures = existsSync(join(dir, 'fixtures.json')) ? (JSON.parse(readFileSync(join(dir, 'fixtures.json'), 'utf8')) as Fixtures) : buildFixtures(dir)
  writeFileSync(join(dir, 'fixtures.json'), JSON.stringify(fixtures))
  await push(reg, fixtures.busybox.layout, 'latest', `${prefix}busybox:latest`)
  await push(reg, fixtures.busybox.layout, 'latest', `${prefix}busybox-docker:latest`, {format: 'v2s2'})
  await push(reg, fixtures.multilayer.layout, 'v1', `${prefix}multilayer:v1`)
  await push(reg, fixtures.multiarch.layout, 'multi', `${prefix}multiarch:multi`, {all: true})
  return {
    busybox: `${reg.host}/${prefix}busybox:latest`,
    busyboxDocker: `${reg.host}/${prefix}busybox-docker:latest`,
    multilayer: `${reg.host}/${prefix}multilayer:v1`,
    multiarch: `${reg.host}/${prefix}multiarch:multi`,
    fixtures,
  }
}

/** Where the registry keeps a blob (to tamper with it). */
export function registryBlobPath(reg: Registry, digest: string): string {
  const hex = digest.slice(7)
  return join(reg.storage, 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data')
}
