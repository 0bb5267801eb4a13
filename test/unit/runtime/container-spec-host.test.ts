// The container spec's facts from the image (users and groups in its
// /etc/passwd and /etc/group, read inside the rootfs only) and from the host
// (the mount a host path lies on, its propagation, SELinux).

import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, test} from 'node:test'

import type {ContainerConfig, LinuxContainerSecurityContext, Mount} from '../../../src/cri/container-types.js'
import {buildContainerSpec, type ContainerSpecInput, processUser} from '../../../src/runtime/container-spec.js'
import {allowInPodCgroup, devMajor, devMinor, hostDevicesOf} from '../../../src/runtime/host-devices.js'
import {type HostMount, mountOf, parseMountInfo} from '../../../src/runtime/host-mounts.js'
import {memberGroups, parseGroup, parsePasswd, resolveUserString} from '../../../src/runtime/image-users.js'
import {readRootfsFile, resolveInRoot} from '../../../src/runtime/rootfs-files.js'
import {podctlError, tempDir} from '../helpers.js'
import {specInput} from './spec-input.js'

// The critest images' files: upstream busybox's, with image-predefined-group's default-user.
const etc = {
  passwd: 'root:x:0:0:root:/root:/bin/sh\n# a comment\nwww-data:x:33:33:www-data:/var/www:/bin/false\nnobody:x:65534:65534:nobody:/home:/bin/false\ndefault-user:x:1000:1000:Linux User,,,:/home/default-user:/bin/sh\nbroken line\n',
  group: 'root:x:0:\nwheel:x:10:root\nwww-data:x:33:\nnogroup:x:65534:\ndefault-user:x:1000:default-user\ngroup-defined-in-image:x:50000:default-user\nstaff:x:50:root, default-user\n',
}
const cfg = (sc: LinuxContainerSecurityContext = {}, extra: Partial<ContainerConfig> = {}): ContainerConfig => ({metadata: {name: 'app', attempt: 0}, image: {image: 'busybox'}, linux: {security_context: sc}, ...extra})

describe('container spec: users and groups from the image', () => {
  test('passwd and group are parsed as getpwent does: comments and malformed lines skipped', () => {
    assert.deepEqual(parsePasswd(etc.passwd).map((u) => u.name), ['root', 'www-data', 'nobody', 'default-user'])
    assert.deepEqual(parseGroup(etc.group).find((g) => g.name === 'staff')?.members, ['root', 'default-user'])
  })
  const cases: [string, string, {uid: number; gid: number; name?: string}][] = [
    ['a name: its uid and primary gid', 'www-data', {uid: 33, gid: 33, name: 'www-data'}],
    ['a uid in passwd: its primary gid', '1000', {uid: 1000, gid: 1000, name: 'default-user'}],
    ['a uid not in passwd: gid 0', '1002', {uid: 1002, gid: 0}],
    ['uid:gid as given', '1003:1004', {uid: 1003, gid: 1004}],
    ['name:gid', 'www-data:1004', {uid: 33, gid: 1004, name: 'www-data'}],
    ['name:group name', 'nobody:wheel', {uid: 65534, gid: 10, name: 'nobody'}],
  ]
  for (const [name, user, want] of cases) test(`user string: ${name}`, () => assert.deepEqual(resolveUserString(user, etc, 'user'), want))
  test('an unknown user or group is an error by name', () => {
    assert.throws(() => resolveUserString('alice', etc, 'image user "alice"'), podctlError(2, 'image user "alice"', 'no user "alice" in the image\'s /etc/passwd'))
    assert.throws(() => resolveUserString('www-data:nogang', etc, 'u'), podctlError(2, 'no group "nogang"'))
    assert.throws(() => resolveUserString('a:b:c', etc, 'u'), podctlError(2, 'not a valid user'))
  })
  test('member groups: where the user is listed, not its own-named group', () => {
    assert.deepEqual(memberGroups('default-user', etc), [50000, 50])
    assert.deepEqual(memberGroups(undefined, etc), [])
  })
  test('critest: uid 1000 of image-predefined-group with supplemental group 1234 is in 1000 1234 50000 (and staff)', () => {
    assert.deepEqual(processUser(cfg({run_as_user: {value: 1000}, supplemental_groups: [1234]}), {User: '1000'}, etc), {uid: 1000, gid: 1000, additionalGids: [50, 1000, 1234, 50000]})
  })
  test('supplemental_groups_policy Strict: no groups from the image', () => {
    assert.deepEqual(processUser(cfg({run_as_user: {value: 1000}, supplemental_groups: [1234], supplemental_groups_policy: 1}), {}, etc).additionalGids, [1000, 1234])
  })
  test('run_as_username resolves; run_as_group overrides its gid', () => {
    assert.deepEqual(processUser(cfg({run_as_username: 'nobody'}), {User: '1000'}, etc), {uid: 65534, gid: 65534, additionalGids: [65534]})
    assert.deepEqual(processUser(cfg({run_as_username: 'www-data', run_as_group: {value: 7}}), {}, etc), {uid: 33, gid: 7, additionalGids: [7]})
    assert.throws(() => processUser(cfg({run_as_username: 'alice'}), {}, etc), podctlError(2, 'linux.security_context.run_as_username "alice"', 'no user "alice"'))
  })
  test('the image user by name; root gets its groups too (wheel), as containerd does', () => {
    assert.deepEqual(processUser(cfg(), {User: 'www-data'}, etc), {uid: 33, gid: 33, additionalGids: [33]})
    assert.deepEqual(processUser(cfg(), {}, etc), {uid: 0, gid: 0, additionalGids: [0, 10, 50]})
  })
})

describe('container spec: reading the image\'s files inside its rootfs', () => {
  const root = () => {
    const dir = tempDir()
    const rootfs = join(dir, 'rootfs')
    mkdirSync(join(rootfs, 'etc'), {recursive: true})
    mkdirSync(join(rootfs, 'usr', 'share'), {recursive: true})
    writeFileSync(join(dir, 'secret'), 'host:x:0:0::/:/bin/sh\n')
    return {dir, rootfs}
  }
  test('a plain file; an absent one is undefined', () => {
    const {rootfs} = root()
    writeFileSync(join(rootfs, 'etc', 'passwd'), 'root:x:0:0::/:/bin/sh\n')
    assert.equal(readRootfsFile(rootfs, '/etc/passwd', 1024), 'root:x:0:0::/:/bin/sh\n')
    assert.equal(readRootfsFile(rootfs, '/etc/group', 1024), undefined)
  })
  test('an absolute symlink is resolved in the rootfs, not on the host', () => {
    const {dir, rootfs} = root()
    writeFileSync(join(rootfs, 'usr', 'share', 'passwd'), 'image:x:1:1::/:/bin/sh\n')
    symlinkSync('/usr/share/passwd', join(rootfs, 'etc', 'passwd'))
    assert.equal(readRootfsFile(rootfs, '/etc/passwd', 1024), 'image:x:1:1::/:/bin/sh\n')
    symlinkSync(join(dir, 'secret'), join(rootfs, 'etc', 'group'))
    assert.equal(resolveInRoot(rootfs, '/etc/group'), `${rootfs}${dir}/secret`)
    assert.equal(readRootfsFile(rootfs, '/etc/group', 1024), undefined)
  })
  test('".." stops at the rootfs top, through a symlinked directory too', () => {
    const {rootfs} = root()
    symlinkSync('../../../../secret', join(rootfs, 'etc', 'passwd'))
    assert.equal(resolveInRoot(rootfs, '/etc/passwd'), `${rootfs}/secret`)
    assert.equal(readRootfsFile(rootfs, '/etc/passwd', 1024), undefined)
    const other = root()
    symlinkSync('../..', join(other.rootfs, 'usr', 'up'))
    assert.equal(resolveInRoot(other.rootfs, '/usr/up/../etc'), `${other.rootfs}/etc`)
  })
  test('a symlink loop, a FIFO and a file over the limit are errors, not hangs', () => {
    const {rootfs} = root()
    symlinkSync('/etc/group', join(rootfs, 'etc', 'passwd'))
    symlinkSync('/etc/passwd', join(rootfs, 'etc', 'group'))
    assert.throws(() => readRootfsFile(rootfs, '/etc/passwd', 1024), podctlError(2, 'symbolic links'))
    const other = root()
    execFileSync('mkfifo', [join(other.rootfs, 'etc', 'passwd')])
    assert.throws(() => readRootfsFile(other.rootfs, '/etc/passwd', 1024), podctlError(2, 'not a regular file'))
    writeFileSync(join(other.rootfs, 'etc', 'group'), 'x'.repeat(2000))
    assert.throws(() => readRootfsFile(other.rootfs, '/etc/group', 1024), podctlError(2, '2000 bytes'))
  })
})

describe('container spec: mounts against the host', () => {
  const info = [
    '22 1 0:21 / / rw,relatime - ext4 /dev/sda1 rw',
    '30 22 0:30 / /mnt/shared rw,relatime shared:7 - tmpfs tmpfs rw',
    '31 22 0:31 / /mnt/slave rw,relatime master:7 - tmpfs tmpfs rw',
    '32 22 0:32 / /mnt/with\\040space rw,relatime shared:9 master:3 - tmpfs tmpfs rw',
    '33 30 0:33 / /mnt/shared/private rw - tmpfs tmpfs rw',
  ].join('\n')
  test('mountinfo: mount points unescaped, optional fields kept; a path lies on its deepest mount', () => {
    const entries = parseMountInfo(info)
    assert.deepEqual(entries[3], {mountPoint: '/mnt/with space', optional: ['shared:9', 'master:3']})
    assert.equal(mountOf('/mnt/shared/a/b', entries)?.mountPoint, '/mnt/shared')
    assert.equal(mountOf('/mnt/shared/private/x', entries)?.mountPoint, '/mnt/shared/private')
    assert.equal(mountOf('/mnt/sharedx', entries)?.mountPoint, '/')
  })
  const host = (source: string, mountPoint: string, optional: string[]): HostMount => ({source, mountPoint, optional})
  const hostMounts: Record<string, HostMount> = {
    '/mnt/shared/a': host('/mnt/shared/a', '/mnt/shared', ['shared:7']),
    '/mnt/slave/a': host('/mnt/slave/a', '/mnt/slave', ['master:7']),
    '/srv': host('/srv', '/', []),
    '/link': host('/real/target', '/', []),
  }
  const spec = (mounts: Mount[], extra: Partial<ContainerSpecInput> = {}) => buildContainerSpec(specInput(cfg({}, {mounts}), {hostMounts, selinux: 'disabled', ...extra}))
  const own = (s: ReturnType<typeof spec>, d: string) => s.mounts.find((m) => m.destination === d)
  test('PRIVATE: rprivate, the rootfs propagation left to runc; a symlinked host path is mounted as its target', () => {
    const s = spec([{container_path: '/a', host_path: '/link'}])
    assert.deepEqual(own(s, '/a'), {destination: '/a', type: 'bind', source: '/real/target', options: ['rbind', 'rprivate', 'rw']})
    assert.equal(s.linux.rootfsPropagation, undefined)
  })
  test('HOST_TO_CONTAINER: rslave on a shared or slave host mount, rootfs rslave', () => {
    for (const path of ['/mnt/shared/a', '/mnt/slave/a']) {
      const s = spec([{container_path: '/a', host_path: path, propagation: 1}])
      assert.deepEqual(own(s, '/a')?.options, ['rbind', 'rslave', 'rw'])
      assert.equal(s.linux.rootfsPropagation, 'rslave')
    }
  })
  test('BIDIRECTIONAL: rshared on a shared host mount, rootfs rshared (over a rslave one)', () => {
    const s = spec([{container_path: '/b', host_path: '/mnt/slave/a', propagation: 1}, {container_path: '/a', host_path: '/mnt/shared/a', propagation: 2, readonly: true}])
    assert.deepEqual(own(s, '/a')?.options, ['rbind', 'rshared', 'ro'])
    assert.equal(s.linux.rootfsPropagation, 'rshared')
  })
  test('a host mount without the propagation asked is refused as containerd does, with what to do', () => {
    assert.throws(() => spec([{container_path: '/a', host_path: '/mnt/slave/a', propagation: 2}]), podctlError(2, 'mounts[0].propagation', 'path "/mnt/slave/a" is mounted on "/mnt/slave" but it is not a shared mount'))
    assert.throws(() => spec([{container_path: '/x', host_path: '/srv'}, {container_path: '/a', host_path: '/srv', propagation: 1}]), podctlError(2, 'mounts[1].propagation', 'is mounted on "/" but it is not a shared or slave mount'))
  })
  test('mounts in order of depth: a parent is never mounted over its child', () => {
    const s = spec([{container_path: '/data/logs', host_path: '/srv'}, {container_path: '/data', host_path: '/link'}])
    assert.deepEqual(s.mounts.slice(-2).map((m) => m.destination), ['/data', '/data/logs'])
  })
  test('selinux_relabel: nothing to do without SELinux or when permissive; refused when enforcing', () => {
    const m: Mount[] = [{container_path: '/a', host_path: '/srv', selinux_relabel: true}]
    assert.deepEqual(own(spec(m), '/a')?.options, ['rbind', 'rprivate', 'rw'])
    assert.ok(own(spec(m, {selinux: 'permissive'}), '/a'))
    assert.throws(() => spec(m, {selinux: 'enforcing'}), podctlError(2, 'mounts[0].selinux_relabel', 'SELinux is enforcing', 'cannot relabel "/srv"'))
  })
})

describe('container spec: devices', () => {
  test('dev_t as glibc splits it, small and large numbers', () => {
    assert.deepEqual([devMajor(0x0103n), devMinor(0x0103n)], [1, 3])
    // major 259, minor 300000: makedev puts the high bits of each above bit 32 and bit 20.
    const rdev = (259n & 0xfffn) << 8n | (259n & ~0xfffn) << 32n | (300000n & 0xffn) | (300000n & ~0xffn) << 12n
    assert.deepEqual([devMajor(rdev), devMinor(rdev)], [259, 300000])
  })
  test('a host node by path or symlink: type, numbers, mode, owner; permissions default to rwm', () => {
    const dir = tempDir()
    symlinkSync('/dev/null', join(dir, 'null-link'))
    const st = statSync('/dev/null')
    const [dev] = hostDevicesOf([{container_path: '/dev/mynull', host_path: join(dir, 'null-link')}], 'c')
    assert.deepEqual(dev, {containerPath: '/dev/mynull', type: 'c', major: 1, minor: 3, fileMode: st.mode & 0o777, uid: st.uid, gid: st.gid, access: 'rwm'})
    assert.equal(hostDevicesOf([{container_path: '/dev/z', host_path: '/dev/zero', permissions: 'r'}], 'c')[0].access, 'r')
  })
  test('a directory gives the devices under it; a file or a missing path is an error by name', () => {
    const dir = tempDir()
    mkdirSync(join(dir, 'snd'))
    symlinkSync('/dev/null', join(dir, 'snd', 'not-followed'))
    writeFileSync(join(dir, 'snd', 'plain'), '')
    assert.deepEqual(hostDevicesOf([{container_path: '/dev/snd', host_path: join(dir, 'snd')}], 'c'), [])
    assert.throws(() => hostDevicesOf([{container_path: '/dev/x', host_path: join(dir, 'snd', 'plain')}], 'container config'), podctlError(2, 'container config: devices[0].host_path', 'is not a device node'))
    assert.throws(() => hostDevicesOf([{container_path: '/dev/x', host_path: join(dir, 'none')}], 'container config'), podctlError(2, 'devices[0].host_path', 'does not exist'))
  })
  test('each device is a node in the spec and an allow rule after the default deny', () => {
    const s = buildContainerSpec(specInput(cfg(), {hostDevices: [{containerPath: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0, access: 'rw'}]}))
    assert.deepEqual(s.linux.devices, [{path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0}])
    assert.deepEqual((s.linux.resources as {devices: unknown[]}).devices, [{allow: false, access: 'rwm'}, {allow: true, type: 'c', major: 10, minor: 229, access: 'rw'}])
  })
  test('on cgroup v1 the rules go into the pod\'s devices cgroup first; on v2 nothing is written', () => {
    const mnt = tempDir()
    mkdirSync(join(mnt, 'devices', 'podctl', 'p1'), {recursive: true})
    const fuse = {containerPath: '/dev/fuse', type: 'c' as const, major: 10, minor: 229, fileMode: 0o600, uid: 0, gid: 0, access: 'rw'}
    allowInPodCgroup([fuse], '/podctl/p1', false, mnt)
    assert.equal(readFileSync(join(mnt, 'devices', 'podctl', 'p1', 'devices.allow'), 'utf8'), 'c 10:229 rw')
    allowInPodCgroup([fuse], '/podctl/none', true, mnt)
    assert.throws(() => allowInPodCgroup([fuse], '/podctl/none', false, mnt), podctlError(1, 'cannot allow device "/dev/fuse" (c 10:229 rw)'))
  })
})
