// A container's spec as a real container sees it: its user resolved by name
// in the image's /etc/passwd (through an /etc/group that is an absolute
// symlink inside the image), the image's groups added to its supplementary
// groups, run_as_username, mounts with selinux_relabel (this host has no
// SELinux), a symlinked and a missing host path, and mount propagation
// private, host-to-container and bidirectional on a shared bind mount the
// test makes; masked and read-only paths; a host device node with its
// cgroup rule; with every leak check, the test's own mounts included.

import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'

import {assertClean, conmonMissing} from './container-helpers.js'
import {e2eOptionsWith, TestEnv} from './harness.js'
import {busyboxTree, image, layer, Layout, missingRegistryTools, push, type Registry, startRegistry} from './registry.js'

describe('container security context and mounts', e2eOptionsWith('container tests', missingRegistryTools, conmonMissing), () => {
  let env: TestEnv
  let reg: Registry
  let ref: string
  let podConfig: string
  let podId: string
  /** the test's own mounts, unmounted (deepest first) before the leak checks */
  const ownMounts: string[] = []

  before(async () => {
    env = new TestEnv(170)
    reg = await startRegistry({dir: join(env.dir, 'registry')})
    // busybox with a user "app" (1500) in group "team" (4242), its /etc/group an absolute symlink, USER app.
    const tree = busyboxTree(join(env.dir, 'trees', 'users'))
    writeFileSync(join(tree, 'etc', 'passwd'), `${readFileSync(join(tree, 'etc', 'passwd'), 'utf8')}app:x:1500:1500::/tmp:/bin/sh\n`)
    mkdirSync(join(tree, 'usr', 'lib'), {recursive: true})
    writeFileSync(join(tree, 'usr', 'lib', 'group'), 'root:x:0:\nnogroup:x:65534:\napp:x:1500:\nteam:x:4242:nobody,app\n')
    execFileSync('rm', [join(tree, 'etc', 'group')])
    symlinkSync('/usr/lib/group', join(tree, 'etc', 'group'))
    const layout = new Layout(join(env.dir, 'users-layout'))
    const built = image(layout, [layer(layout, tree)], {architecture: 'amd64', os: 'linux'}, {User: 'app'})
    layout.index([{mediaType: 'application/vnd.oci.image.manifest.v1+json', ...built.manifest, annotations: {'org.opencontainers.image.ref.name': 'v1'}}])
    await push(reg, layout.dir, 'v1', 'test/users:v1')
    ref = `${reg.host}/test/users:v1`
    env.ok(['pull', ref])
    podConfig = env.podConfig({metadata: {name: 'sec', namespace: 'default', uid: 'sec-uid'}, linux: {security_context: {namespace_options: {network: 2}}}})
    podId = env.ok(['runp', podConfig]).trim()
  })

  /** Unmount the test's own mounts that are there, deepest first (a failed test may not have made them all). */
  const unmountOwn = () => {
    const mounted = () => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4])
    for (const m of [...ownMounts].reverse()) while (mounted().includes(m)) execFileSync('umount', [m])
    ownMounts.length = 0
  }

  after(async () => {
    if (env) env.podctl(['rmp', '-af'])
    unmountOwn()
    env?.teardown()
    await reg?.stop()
  })

  let n = 0
  /** create a container of the users image that sleeps, with the config's extra fields, in the pod */
  const run = (extra: Record<string, unknown>) => {
    const c = join(env.dir, `c${++n}.json`)
    writeFileSync(c, JSON.stringify({metadata: {name: `c${n}`}, image: {image: ref}, command: ['sleep', '3600'], ...extra}))
    return env.podctl(['create', podId, c, podConfig])
  }
  /** ... and start it; its ID */
  const started = (extra: Record<string, unknown>) => {
    const r = run(extra)
    assert.equal(r.code, 0, r.stderr)
    const id = r.stdout.trim()
    env.ok(['start', id])
    return id
  }
  const exec = (id: string, ...cmd: string[]) => env.ok(['exec', '-s', id, ...cmd])
  const sc = (security_context: Record<string, unknown>) => ({linux: {security_context}})

  test('the image user by name, with its groups from an /etc/group symlinked inside the image, plus supplemental_groups', () => {
    const id = started(sc({supplemental_groups: [7777]}))
    assert.equal(exec(id, 'id', '-u').trim(), '1500')
    assert.equal(exec(id, 'id', '-g').trim(), '1500')
    assert.equal(exec(id, 'id', '-G').trim(), '1500 4242 7777')
  })

  test('run_as_username and run_as_user take their groups from the image too; an unknown name is refused by name', () => {
    const id = started(sc({run_as_username: 'nobody'}))
    assert.equal(exec(id, 'id').trim(), 'uid=65534(nobody) gid=65534(nogroup) groups=4242(team),65534(nogroup)')
    const byUid = started(sc({run_as_user: {value: 1500}}))
    assert.equal(exec(byUid, 'id', '-G').trim(), '1500 4242')
    const r = run(sc({run_as_username: 'alice'}))
    assert.equal(r.code, 2, r.stderr)
    assert.match(r.stderr, /linux\.security_context\.run_as_username "alice": no user "alice" in the image's \/etc\/passwd/)
    assert.equal(r.stderr.trim().split('\n').filter((l) => !l.startsWith('hint') && l.trim() !== '').length, 1, r.stderr)
  })

  test('mounts: selinux_relabel is taken on a host without SELinux; a symlinked host path is its target; a missing one is made', () => {
    assert.equal(existsSync('/sys/fs/selinux/enforce'), false, 'this test expects a host without SELinux')
    const data = join(env.dir, 'data')
    mkdirSync(data)
    writeFileSync(join(data, 'file'), 'from the host\n')
    symlinkSync(data, join(env.dir, 'data-link'))
    const missing = join(env.dir, 'made', 'by', 'create')
    const id = started({mounts: [
      {container_path: '/data', host_path: join(env.dir, 'data-link'), selinux_relabel: true, readonly: true},
      {container_path: '/made', host_path: missing},
    ]})
    assert.equal(exec(id, 'cat', '/data/file'), 'from the host\n')
    assert.ok(existsSync(missing))
    const mounts = JSON.parse(env.ok(['inspect', id])).info.runtimeSpec.mounts as {destination: string; source: string; options: string[]}[]
    assert.deepEqual(mounts.find((m) => m.destination === '/data'), {destination: '/data', type: 'bind', source: data, options: ['rbind', 'rprivate', 'ro']})
  })

  test('propagation: rslave sees host mounts, rshared both ways, rprivate neither; a private host mount is refused for rslave', () => {
    // A shared bind mount of its own, as critest makes: mount --bind DIR DIR; mount --make-rshared DIR.
    const shared = join(env.dir, 'shared')
    mkdirSync(join(shared, 'from-host'), {recursive: true})
    mkdirSync(join(shared, 'from-container'))
    execFileSync('mount', ['--bind', shared, shared])
    ownMounts.push(shared)
    execFileSync('mount', ['--make-rshared', shared])
    const priv = join(env.dir, 'private')
    mkdirSync(priv)

    const refused = run({mounts: [{container_path: '/p', host_path: priv, propagation: 'PROPAGATION_HOST_TO_CONTAINER'}]})
    assert.equal(refused.code, 2, refused.stderr)
    assert.match(refused.stderr, /mounts\[0\]\.propagation: PROPAGATION_HOST_TO_CONTAINER: path ".*\/private" is mounted on "\/[^"]*" but it is not a shared or slave mount/)

    const slave = started({mounts: [{container_path: '/m', host_path: shared, propagation: 'PROPAGATION_HOST_TO_CONTAINER'}]})
    const bidi = started({...sc({privileged: true, run_as_user: {value: 0}}), mounts: [{container_path: '/m', host_path: shared, propagation: 'PROPAGATION_BIDIRECTIONAL'}]})
    const rprivate = started({mounts: [{container_path: '/m', host_path: shared}]})
    const rootfsPropagation = (id: string) => JSON.parse(env.ok(['inspect', id])).info.runtimeSpec.linux.rootfsPropagation
    assert.deepEqual([slave, bidi, rprivate].map(rootfsPropagation), ['rslave', 'rshared', undefined])

    // host → containers
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'podctl-e2e-host', join(shared, 'from-host')])
    ownMounts.push(join(shared, 'from-host'))
    writeFileSync(join(shared, 'from-host', 'marker'), 'host\n')
    assert.equal(exec(slave, 'cat', '/m/from-host/marker'), 'host\n')
    assert.equal(exec(bidi, 'cat', '/m/from-host/marker'), 'host\n')
    assert.notEqual(env.podctl(['exec', '-s', rprivate, 'cat', '/m/from-host/marker']).code, 0, 'an rprivate mount must not see the host mount')

    // container → host, from the bidirectional one only
    ownMounts.push(join(shared, 'from-container'))
    exec(bidi, 'sh', '-c', 'mount -t tmpfs -o size=1m podctl-e2e-ctr /m/from-container && echo container > /m/from-container/marker')
    assert.equal(readFileSync(join(shared, 'from-container', 'marker'), 'utf8'), 'container\n')
    assert.equal(exec(slave, 'cat', '/m/from-container/marker'), 'container\n')
  })

  test('devices: a host node appears at its container path with its numbers, and the cgroup allows only the access given', () => {
    // /dev/fuse: not among runc's default devices, whose rules allow them whatever the config says.
    const id = started({...sc({run_as_user: {value: 0}}), devices: [{container_path: '/dev/myfuse', host_path: '/dev/fuse', permissions: 'r'}]})
    assert.equal(exec(id, 'stat', '-c', '%F %t:%T %a', '/dev/myfuse').trim(), 'character special file a:e5 600')
    exec(id, 'sh', '-c', ': < /dev/myfuse')
    const write = env.podctl(['exec', '-s', id, 'sh', '-c', ': > /dev/myfuse'])
    assert.notEqual(write.code, 0)
    assert.match(write.stderr, /Operation not permitted/)
    const refused = run({devices: [{container_path: '/dev/x', host_path: join(env.dir, 'podctl.yaml')}]})
    assert.equal(refused.code, 2, refused.stderr)
    assert.match(refused.stderr, /devices\[0\]\.host_path: ".*podctl\.yaml" is not a device node/)
  })

  test('masked and read-only paths: /bin/ls masked cannot be run (critest\'s `sh -c ls` runs busybox\'s applet in-process), /tmp cannot be written', () => {
    const id = started(sc({masked_paths: ['/bin/ls'], readonly_paths: ['/tmp']}))
    const ls = env.podctl(['exec', '-s', id, '/bin/ls'])
    assert.equal(ls.code, 126, ls.stderr)
    assert.equal(exec(id, 'sh', '-c', 'wc -c < /bin/ls').trim(), '0')
    const touch = env.podctl(['exec', '-s', id, 'touch', '/tmp/test'])
    assert.notEqual(touch.code, 0)
    assert.equal(touch.stdout + touch.stderr, 'touch: /tmp/test: Read-only file system\n')
  })

  test('nothing is left: containers, monitors, cgroups, overlay mounts, and the test\'s own mounts', () => {
    env.ok(['rmp', '-af'])
    unmountOwn()
    assertClean(env)
  })
})
