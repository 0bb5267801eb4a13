// The images critest 1.26.1 pulls, built from files on this machine under
// the names critest asks for, and served by a real docker-registry on
// 127.0.0.1 that podctl reaches as the registry mirror of registry.k8s.io
// and gcr.io: how an offline node runs the CRI validation suite.
//
// What each image is upstream comes from cri-tools v1.26.1 (pkg/validate/
// consts.go, images/*/Dockerfile) and the kubernetes e2e test images; each
// one here keeps what the specs use of it (its user, its files, what it
// prints, what it serves), and says what it is built from. An image that
// cannot be rebuilt (a reference pinned to upstream's digest) is not made:
// its specs are skipped, with the reason, by scripts/cri-conformance.js.

import {execFileSync, spawnSync} from 'node:child_process'
import {chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'

import {which} from './harness.js'
import {busyboxTree, image, layer, Layout, push, type Registry, startRegistry} from './registry.js'

/** The mirror's port inside the namespace that serve and critest share (nothing else listens there). */
export const critestMirrorPort = 29500

/** The registries critest pulls from, each mirrored to the local registry. */
const upstreams = ['registry.k8s.io', 'gcr.io']

export interface CritestImage {
  /** the reference critest pulls, e.g. registry.k8s.io/e2e-test-images/busybox:1.29-2 */
  ref: string
  /** what it is made of here */
  about: string
}

export interface CritestSkip {
  /** a regular expression over the spec's full text, as --ginkgo.skip takes it */
  spec: string
  reason: string
}

export interface CritestImages {
  images: CritestImage[]
  skips: CritestSkip[]
}

interface Built {
  /** the OCI layout's tag for it */
  tag: string
  ref: string
  about: string
}

// Upstream busybox's users and groups (the docker library image's /etc/passwd and /etc/group),
// which the user images and the RunAsUserName spec rely on.
const passwd = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
`
const group = `root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
lp:x:7:
mail:x:8:
kmem:x:9:
wheel:x:10:root
cdrom:x:11:
dialout:x:18:
floppy:x:19:
video:x:28:
audio:x:29:
tape:x:32:
www-data:x:33:
operator:x:37:
utmp:x:43:
plugdev:x:46:
staff:x:50:
lock:x:54:
netdev:x:82:
users:x:100:
nogroup:x:65534:
`

/**
 * Copy the shared libraries ldd names for binary into the tree, at the same
 * paths, and the binary too unless it is already there (at inTree).
 */
function copyWithLibraries(tree: string, binary: string, inTree?: string): void {
  const ldd = execFileSync('ldd', [binary], {encoding: 'utf8'})
  if (/not found/.test(ldd)) throw new Error(`${binary} needs libraries this machine lacks:\n${ldd}`)
  const files = inTree ? [] : [binary]
  for (const line of ldd.split('\n')) {
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line)
    if (m) files.push(m[1])
  }
  for (const f of files) {
    mkdirSync(join(tree, dirname(f)), {recursive: true})
    // The file itself, not the symlink: the loader asks for the name ldd printed.
    copyFileSync(f, join(tree, f))
  }
}

/** Where scripts/setup-host.sh downloads the Debian packages the nginx images are unpacked from. */
const debCache = '/var/cache/podctl/debs'

/** The specs that run the nginx images. */
const nginxSpecs = 'runtime should support port mapping with|HostPID|PodPID|ContainerPID|runtime should support portforward'

const readdirOr = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir) : [])

/** Why an image cannot be built on this machine, or undefined. */
function missingTool(tools: [string, string][]): string | undefined {
  for (const [tool, pkg] of tools) if (!which(tool) && !existsSync(tool)) return `${tool} is not installed (apt-get install ${pkg})`
  return undefined
}

/**
 * Build every image critest asks for into one OCI layout under dir (layers
 * they share are stored once), and say which specs cannot run and why.
 */
function buildImages(dir: string): {layout: string; built: Built[]; skips: CritestSkip[]} {
  const trees = join(dir, 'trees')
  rmSync(trees, {recursive: true, force: true})
  const layout = new Layout(join(dir, 'layout'))
  const built: Built[] = []
  const skips: CritestSkip[] = []
  const manifests: unknown[] = []
  const add = (ref: string, about: string, img: ReturnType<typeof image>) => {
    const tag = `t${built.length}`
    built.push({tag, ref, about})
    manifests.push({mediaType: 'application/vnd.oci.image.manifest.v1+json', ...img.manifest, annotations: {'org.opencontainers.image.ref.name': tag}})
  }
  const amd64 = {architecture: 'amd64', os: 'linux'}

  // The default image: Debian's busybox-static, one hard link per applet, upstream's users and
  // groups, and the two applets upstream's busybox 1.29 has and Debian's lacks (pgrep for the
  // execSync spec, ipcs for the HostIpc ones) as Debian's own procps and util-linux binaries.
  const bb = busyboxTree(join(trees, 'busybox'))
  writeFileSync(join(bb, 'etc', 'passwd'), passwd)
  writeFileSync(join(bb, 'etc', 'group'), group)
  for (const d of ['var/www', 'home', 'usr/sbin']) mkdirSync(join(bb, d), {recursive: true})
  const extras = missingTool([
    ['pgrep', 'procps'],
    ['ipcs', 'util-linux'],
    ['ldd', 'libc-bin'],
  ])
  if (extras) throw new Error(`cannot build critest's busybox: ${extras}`)
  for (const tool of ['pgrep', 'ipcs']) {
    const path = which(tool) as string
    rmSync(join(bb, 'bin', tool), {force: true})
    copyWithLibraries(bb, path)
  }
  const base = layer(layout, bb)
  const busybox = (ref: string, about: string, config: Record<string, unknown> = {}, more: ReturnType<typeof layer>[] = []) =>
    add(ref, about, image(layout, [base, ...more], amd64, config))
  busybox('registry.k8s.io/e2e-test-images/busybox:1.29-2', "Debian's busybox-static with upstream busybox's /etc/passwd and /etc/group, plus Debian's pgrep and ipcs (with their libraries)")

  // gcr.io/k8s-staging-cri-tools/test-image-*: images/image-test/Dockerfile, busybox plus one empty file named by TEST.
  const fileLayer = (name: string) => {
    const t = join(trees, `file-${name}`)
    mkdirSync(t, {recursive: true})
    writeFileSync(join(t, name), '')
    return layer(layout, t)
  }
  const cri = 'gcr.io/k8s-staging-cri-tools/'
  for (const name of ['test-image-1', 'test-image-2', 'test-image-3', 'test-image-latest']) {
    busybox(`${cri}${name}:latest`, `the busybox image plus an empty file /${name} (images/image-test)`, {}, [fileLayer(name)])
  }
  const same = image(layout, [base, fileLayer('same-image')], amd64)
  for (const t of ['1', '2', '3']) add(`${cri}test-image-tags:${t}`, 'one image under three tags: busybox plus /same-image', same)
  for (const t of ['test', 'all']) busybox(`${cri}test-image-tag:${t}`, `the busybox image plus an empty file /${t}`, {}, [fileLayer(t)])
  skips.push({
    spec: 'public image with digest should be pulled and removed',
    reason: "pulls test-image-digest by upstream's manifest digest (sha256:9700f9a2…), which no image built here can have",
  })

  // images/image-user/Dockerfile: busybox with USER set.
  for (const [name, user] of [
    ['test-image-user-uid', '1002'],
    ['test-image-user-username', 'www-data'],
    ['test-image-user-uid-group', '1003:1004'],
    ['test-image-user-username-group', 'www-data:1004'],
  ]) {
    busybox(`${cri}${name}:latest`, `the busybox image with USER ${user} (images/image-user)`, {User: user})
  }

  // images/image-predefined-group/Dockerfile: adduser -u 1000 default-user, addgroup -g 50000, USER 1000.
  const pg = join(trees, 'predefined-group')
  mkdirSync(join(pg, 'etc'), {recursive: true})
  mkdirSync(join(pg, 'home', 'default-user'), {recursive: true})
  writeFileSync(join(pg, 'etc', 'passwd'), `${passwd}default-user:x:1000:1000:Linux User,,,:/home/default-user:/bin/sh\n`)
  writeFileSync(join(pg, 'etc', 'group'), `${group}default-user:x:1000:\ngroup-defined-in-image:x:50000:default-user\n`)
  execFileSync('chown', ['1000:1000', join(pg, 'home', 'default-user')])
  busybox(`${cri}test-image-predefined-group:latest`, 'the busybox image with default-user (uid 1000) in group-defined-in-image (gid 50000), USER 1000 (images/image-predefined-group)', {User: '1000'}, [
    layer(layout, pg),
  ])

  // kubernetes' test/images/nonewprivs: a setuid-root program that prints its effective uid, run as 1000.
  const noCompiler = missingTool([
    ['gcc', 'gcc'],
    ['/usr/lib/x86_64-linux-gnu/libc.a', 'libc6-dev'],
  ])
  if (noCompiler) {
    skips.push({spec: 'NoNewPrivs', reason: `registry.k8s.io/e2e-test-images/nonewprivs:1.3 is a setuid C program built here, and ${noCompiler}`})
  } else {
    const nnp = join(trees, 'nonewprivs')
    mkdirSync(join(nnp, 'usr', 'local', 'bin'), {recursive: true})
    const source = join(trees, 'nnp.c')
    writeFileSync(source, '#include <stdio.h>\n#include <unistd.h>\nint main(void) { printf("Effective uid: %d\\n", (int)geteuid()); return 0; }\n')
    const bin = join(nnp, 'usr', 'local', 'bin', 'nnp')
    const cc = spawnSync('gcc', ['-static', '-Os', '-s', '-o', bin, source], {encoding: 'utf8'})
    if (cc.status !== 0) throw new Error(`gcc could not build nonewprivs' nnp: ${cc.stderr}`)
    chmodSync(bin, 0o6755)
    busybox('registry.k8s.io/e2e-test-images/nonewprivs:1.3', 'the busybox image plus /usr/local/bin/nnp, setuid root, printing "Effective uid: N" (a C rewrite of the Go original), USER 1000', {
      User: '1000',
      Cmd: ['/usr/local/bin/nnp'],
    }, [layer(layout, nnp)])
  }

  // registry.k8s.io/e2e-test-images/httpd:2.4.39-4, for the multi-container specs: an HTTP server on
  // port 80 whose log names "httpd -D FOREGROUND". Here busybox's httpd is that server, and says so.
  const htdocs = join(trees, 'httpd')
  mkdirSync(join(htdocs, 'usr', 'local', 'apache2', 'htdocs'), {recursive: true})
  writeFileSync(join(htdocs, 'usr', 'local', 'apache2', 'htdocs', 'index.html'), '<html><body><h1>It works!</h1></body></html>\n')
  busybox('registry.k8s.io/e2e-test-images/httpd:2.4.39-4', "busybox's httpd on port 80 serving /usr/local/apache2/htdocs, in place of Apache; it logs that it stands in for httpd -D FOREGROUND", {
    Cmd: ['sh', '-c', 'echo "busybox httpd in place of: httpd -D FOREGROUND"; exec httpd -f -v -p 80 -h /usr/local/apache2/htdocs'],
    WorkingDir: '/usr/local/apache2',
    ExposedPorts: {'80/tcp': {}},
  }, [layer(layout, htdocs)])

  // registry.k8s.io/e2e-test-images/nginx:1.14-2 and gcr.io/k8s-staging-cri-tools/hostnet-nginx-amd64
  // (the same on port 12003): Debian's nginx, unpacked from its packages (downloaded, never installed,
  // by scripts/setup-host.sh), with the libraries it links. The specs read its pid file and its
  // "master process" title, so no other server could stand in.
  const debs = ['nginx', 'nginx-common'].map((pkg) => readdirOr(debCache).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb')))
  if (debs.includes(undefined) || !which('dpkg-deb')) {
    skips.push({
      spec: nginxSpecs,
      reason: `the nginx images are Debian's nginx and nginx-common packages unpacked, and ${debCache} has none (scripts/setup-host.sh downloads them)`,
    })
  } else {
    const nginx = join(trees, 'nginx')
    for (const deb of debs) execFileSync('dpkg-deb', ['-x', join(debCache, deb as string), nginx])
    copyWithLibraries(nginx, join(nginx, 'usr', 'sbin', 'nginx'), '/usr/sbin/nginx')
    for (const d of ['var/lib/nginx', 'var/log/nginx', 'var/run', 'run']) mkdirSync(join(nginx, d), {recursive: true})
    // Only what nginx itself needs: no init scripts, docs or editor files.
    for (const d of ['etc/init.d', 'etc/default', 'etc/logrotate.d', 'etc/ufw', 'lib/systemd', 'usr/share/doc', 'usr/share/man', 'usr/share/vim', 'usr/share/apport']) {
      rmSync(join(nginx, d), {recursive: true, force: true})
    }
    const conf = (port: number) =>
      `user www-data;\nworker_processes 1;\npid /var/run/nginx.pid;\nerror_log stderr;\nevents {}\nhttp {\n  include /etc/nginx/mime.types;\n  access_log /dev/stdout;\n  server {\n    listen ${port};\n    root /usr/share/nginx/html;\n  }\n}\n`
    writeFileSync(join(nginx, 'etc', 'nginx', 'nginx.conf'), conf(80))
    const nginxLayer = layer(layout, nginx)
    const nginxConfig = {Cmd: ['nginx', '-g', 'daemon off;'], ExposedPorts: {'80/tcp': {}}, StopSignal: 'SIGQUIT'}
    const version = (debs[0] as string).split('_')[1]
    busybox('registry.k8s.io/e2e-test-images/nginx:1.14-2', `the busybox image plus Debian's nginx ${version} on port 80, pid file /var/run/nginx.pid`, nginxConfig, [nginxLayer])
    const hostnet = join(trees, 'hostnet-nginx')
    mkdirSync(join(hostnet, 'etc', 'nginx'), {recursive: true})
    writeFileSync(join(hostnet, 'etc', 'nginx', 'nginx.conf'), conf(12003))
    busybox('gcr.io/k8s-staging-cri-tools/hostnet-nginx-amd64:latest', `the nginx image listening on port 12003 (images/hostnet-nginx)`, nginxConfig, [nginxLayer, layer(layout, hostnet)])
  }

  layout.index(manifests)
  return {layout: layout.dir, built, skips}
}

/**
 * Build the images, start a docker-registry on 127.0.0.1:critestMirrorPort
 * in the network namespace netns (a /proc/PID/ns/net path) and push them
 * there; the caller stops the registry.
 */
export async function serveCritestImages(dir: string, netns: string): Promise<CritestImages & {registry: Registry}> {
  const {layout, built, skips} = buildImages(join(dir, 'critest-images'))
  const registry = await startRegistry({dir, netns: {path: netns, port: critestMirrorPort}})
  try {
    for (const b of built) await push(registry, layout, b.tag, b.ref.slice(b.ref.indexOf('/') + 1))
  } catch (err) {
    await registry.stop()
    throw err
  }
  return {
    registry,
    images: built.map((b) => ({ref: b.ref, about: b.about})),
    skips,
  }
}

/** The mirrors as config file lines (the settings' registries key), for the serve that critest talks to. */
export function registriesYaml(): string {
  return `registries:\n${upstreams.map((u) => `  ${u}: {mirrors: [http://127.0.0.1:${critestMirrorPort}]}\n`).join('')}`
}
