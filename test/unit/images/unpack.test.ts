import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {describe, test} from 'node:test'

import {ByteReader, readTar, type TarEntry} from '../../../src/images/tar.js'
import {unpackLayer} from '../../../src/images/unpack.js'
import {tempDir} from '../helpers.js'

interface Spec {
  name: string
  type?: string
  body?: string
  link?: string
  mode?: number
  uid?: number
  gid?: number
  mtime?: number
  pax?: Record<string, string>
}

/** A ustar header block (and pax header before it when asked), as tar writers make them. */
function entry(s: Spec): Buffer {
  const parts: Buffer[] = []
  if (s.pax) {
    const records = Object.entries(s.pax).map(([k, v]) => {
      const rec = ` ${k}=${v}\n`
      let len = rec.length + 1
      while (`${len}${rec}`.length !== len) len++
      return `${len}${rec}`
    })
    parts.push(entry({name: 'PaxHeader', type: 'x', body: records.join('')}))
  }
  const body = Buffer.from(s.body ?? '')
  const h = Buffer.alloc(512)
  h.write(s.name.slice(0, 100), 0)
  h.write(`${(s.mode ?? 0o644).toString(8).padStart(7, '0')}\0`, 100)
  h.write(`${(s.uid ?? 0).toString(8).padStart(7, '0')}\0`, 108)
  h.write(`${(s.gid ?? 0).toString(8).padStart(7, '0')}\0`, 116)
  h.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124)
  h.write(`${(s.mtime ?? 0).toString(8).padStart(11, '0')}\0`, 136)
  h.write(s.type ?? '0', 156)
  h.write(s.link ?? '', 157)
  h.write('ustar\x0000', 257)
  h.fill(' ', 148, 156)
  let sum = 0
  for (const b of h) sum += b
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148)
  parts.push(h, body, Buffer.alloc((512 - (body.length % 512)) % 512))
  return Buffer.concat(parts)
}

const archive = (...specs: Spec[]) => Buffer.concat([...specs.map(entry), Buffer.alloc(1024)])

async function* chunks(buf: Buffer, size = 100) {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size)
}

async function entries(buf: Buffer): Promise<TarEntry[]> {
  const out: TarEntry[] = []
  await readTar(new ByteReader(chunks(buf, 37)), async (e, data) => {
    const body: Buffer[] = []
    await data((c) => void body.push(Buffer.from(c)))
    out.push({...e, linkname: e.linkname || Buffer.concat(body).toString()})
  })
  return out
}

describe('readTar', () => {
  test('ustar entries in odd-sized chunks, pax path/size/uid overrides and xattrs', async () => {
    const long = `${'d/'.repeat(80)}file`
    const got = await entries(
      archive({name: 'a/', type: '5', mode: 0o755}, {name: 'a/f', body: 'hello', mode: 0o4755, uid: 1000, gid: 2000}, {name: 'x', body: 'long', pax: {path: long, uid: '70000', 'SCHILY.xattr.user.k': 'v'}}),
    )
    assert.deepEqual(
      got.map((e) => [e.path, e.type, e.mode, e.uid, e.gid, e.size]),
      [
        ['a/', 'dir', 0o755, 0, 0, 0],
        ['a/f', 'file', 0o4755, 1000, 2000, 5],
        [long, 'file', 0o644, 70000, 0, 4],
      ],
    )
    assert.equal(got[2].xattrs['user.k'].toString(), 'v')
  })

  test('a truncated archive and a bad checksum are errors', async () => {
    const whole = archive({name: 'f', body: 'x'.repeat(2000)})
    await assert.rejects(entries(whole.subarray(0, 1000)), /truncated/)
    const bad = Buffer.from(whole)
    bad[0] ^= 1
    await assert.rejects(entries(bad), /bad checksum/)
  })

  test('GNU tar archives read the same as tar lists them', async () => {
    const dir = tempDir()
    mkdirSync(join(dir, 'tree', `${'x'.repeat(120)}`), {recursive: true})
    execFileSync('sh', ['-c', `echo hi > ${dir}/tree/${'x'.repeat(120)}/f; ln ${dir}/tree/${'x'.repeat(120)}/f ${dir}/tree/hard; ln -s /etc/passwd ${dir}/tree/sym`])
    for (const format of ['gnu', 'posix']) {
      const tar = execFileSync('tar', [`--format=${format}`, '--sort=name', '-cf', '-', '-C', join(dir, 'tree'), '.'])
      const got = await entries(tar)
      const listed = execFileSync('tar', ['-tf', '-'], {input: tar, encoding: 'utf8'}).trim().split('\n')
      assert.deepEqual(
        got.map((e) => e.path),
        listed,
        format,
      )
      // Sorted by name, ./hard is the file and the long path links to it.
      assert.deepEqual(got.filter((e) => e.type === 'hardlink').map((e) => [e.path, e.linkname]), [[`./${'x'.repeat(120)}/f`, './hard']], format)
      assert.equal(got.find((e) => e.path === './sym')?.linkname, '/etc/passwd')
    }
  })
})

describe('unpackLayer', () => {
  const unpack = async (...specs: Spec[]) => {
    const dir = join(tempDir(), 'layer')
    mkdirSync(dir)
    await unpackLayer(chunks(archive(...specs), 4096), dir)
    return dir
  }

  test('files, dirs, hard links, symlinks kept; owners and modes set; whiteouts become overlayfs whiteouts', async () => {
    const dir = await unpack(
      {name: 'etc/', type: '5', mode: 0o755},
      {name: 'etc/f', body: 'data', mode: 0o640, uid: 1000, gid: 2000},
      {name: 'etc/h', type: '1', link: 'etc/f'},
      {name: 'etc/s', type: '2', link: '/etc/f'},
      {name: 'etc/.wh.gone', body: ''},
      {name: 'opq/.wh..wh..opq', body: ''},
      {name: 'implicit/parent/file', body: 'x'},
      {name: 'ro/', type: '5', mode: 0o555},
      {name: 'ro/inside', body: 'written before ro is made read-only'},
    )
    const f = statSync(join(dir, 'etc', 'f'))
    assert.deepEqual([f.uid, f.gid, f.mode & 0o7777], [1000, 2000, 0o640])
    assert.equal(statSync(join(dir, 'etc', 'h')).ino, f.ino)
    assert.equal(readlinkSync(join(dir, 'etc', 's')), '/etc/f')
    const wh = lstatSync(join(dir, 'etc', 'gone'))
    assert.ok(wh.isCharacterDevice() && wh.rdev === 0)
    assert.equal(existsSync(join(dir, 'opq', '.wh..wh..opq')), false)
    assert.equal(execFileSync('getfattr', ['--absolute-names', '--only-values', '-n', 'trusted.overlay.opaque', join(dir, 'opq')], {encoding: 'utf8'}), 'y')
    assert.equal(readFileSync(join(dir, 'implicit', 'parent', 'file'), 'utf8'), 'x')
    assert.equal(statSync(join(dir, 'ro')).mode & 0o777, 0o555)
  })

  test('modes the umask would take bits from, set-ID bits after a chown or without one, read-only files, and mtimes are kept', async () => {
    const dir = await unpack(
      {name: 'open', body: 'x', mode: 0o666, mtime: 1_000_000},
      {name: 'all', body: 'x', mode: 0o777},
      {name: 'ro', body: 'x', mode: 0o444, mtime: 2_000_000},
      {name: 'suid-root', body: 'x', mode: 0o4755},
      {name: 'sgid-user', body: 'x', mode: 0o2755, uid: 1000, gid: 1000},
      {name: 'sticky/', type: '5', mode: 0o1777, mtime: 3_000_000},
      {name: 'sticky/in', body: 'x', mode: 0o600, uid: 7, gid: 8},
      {name: 'dev', type: '3', mode: 0o620, uid: 0, gid: 5},
    )
    const st = (name: string) => lstatSync(join(dir, name))
    const of = (name: string) => [st(name).mode & 0o7777, st(name).uid, st(name).gid]
    assert.deepEqual(of('open'), [0o666, 0, 0])
    assert.deepEqual(of('all'), [0o777, 0, 0])
    assert.deepEqual(of('ro'), [0o444, 0, 0])
    assert.deepEqual(of('suid-root'), [0o4755, 0, 0])
    assert.deepEqual(of('sgid-user'), [0o2755, 1000, 1000])
    assert.deepEqual(of('sticky'), [0o1777, 0, 0])
    assert.deepEqual(of('sticky/in'), [0o600, 7, 8])
    assert.deepEqual(of('dev'), [0o620, 0, 5])
    assert.equal(st('open').mtimeMs, 1_000_000_000)
    assert.equal(st('ro').mtimeMs, 2_000_000_000)
    assert.equal(st('sticky').mtimeMs, 3_000_000_000)
    assert.equal(readFileSync(join(dir, 'ro'), 'utf8'), 'x')
  })

  test('a later entry replaces an earlier one at the same path', async () => {
    const dir = await unpack({name: 'f', body: 'one'}, {name: 'f', body: 'two'}, {name: 'l', type: '2', link: 'x'}, {name: 'l', body: 'file now'})
    assert.equal(readFileSync(join(dir, 'f'), 'utf8'), 'two')
    assert.equal(readFileSync(join(dir, 'l'), 'utf8'), 'file now')
  })

  const escapes: [string, Spec[], RegExp][] = [
    ['a ../ path', [{name: '../evil', body: 'x'}], /escapes the layer/],
    ['a ../ path inside', [{name: 'a/../../evil', body: 'x'}], /escapes the layer/],
    ['a write through an absolute symlink', [{name: 'etc', type: '2', link: '/etc'}, {name: 'etc/evil', body: 'x'}], /not a directory/],
    ['a write through a relative symlink', [{name: 'up', type: '2', link: '..'}, {name: 'up/evil', body: 'x'}], /not a directory/],
    ['a write under a directory replaced by a symlink', [{name: 'a/b/', type: '5'}, {name: 'a', type: '2', link: '/etc'}, {name: 'a/b/evil', body: 'x'}], /not a directory/],
    ['a write under a directory replaced by a file', [{name: 'd/', type: '5'}, {name: 'd', body: 'file'}, {name: 'd/evil', body: 'x'}], /not a directory/],
    ['a hard link out of the layer', [{name: 'h', type: '1', link: '../../etc/passwd'}], /escapes the layer/],
    ['a hard link to an absolute path', [{name: 'h', type: '1', link: '/etc/passwd'}], /not a file earlier in the layer/],
    ['a pax path with ../', [{name: 'ok', body: 'x', pax: {path: '../../evil'}}], /escapes the layer/],
  ]
  for (const [label, specs, pattern] of escapes) {
    test(`refuses ${label}`, async () => {
      const parent = tempDir()
      const dir = join(parent, 'layer')
      mkdirSync(dir)
      await assert.rejects(unpackLayer(chunks(archive(...specs)), dir), pattern)
      assert.equal(existsSync(join(parent, 'evil')), false)
      assert.equal(existsSync('/evil'), false)
      assert.equal(existsSync('/etc/evil'), false)
    })
  }
})
