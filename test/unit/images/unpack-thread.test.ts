import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {existsSync, mkdirSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, test} from 'node:test'
import {setTimeout as sleep} from 'node:timers/promises'

import {unpackCompressed} from '../../../src/images/unpack.js'
import {unpackOffThread} from '../../../src/images/unpack-thread.js'
import {PodctlError} from '../../../src/runtime/errors.js'
import {tempDir} from '../helpers.js'

/** A gzipped layer made by GNU tar and gzip from a tree: files larger than a message (1 MiB), small ones, a hard link, a symlink, a read-only dir. */
function layer(extra = ''): Buffer {
  const tree = join(tempDir(), 'tree')
  mkdirSync(join(tree, 'big'), {recursive: true})
  writeFileSync(join(tree, 'big', 'random'), randomBytes(3 << 20))
  writeFileSync(join(tree, 'big', 'zeros'), Buffer.alloc(5 << 20))
  for (let i = 0; i < 200; i++) writeFileSync(join(tree, `small-${i}`), `file ${i}\n`)
  execFileSync('sh', ['-c', `cd ${tree} && ln small-1 hard && ln -s big/random sym && mkdir ro && echo x > ro/f && chmod 555 ro ${extra}`])
  return execFileSync('sh', ['-c', `tar --sort=name --numeric-owner -C ${tree} -cf - . | gzip -1`], {maxBuffer: 64 << 20})
}

async function* chunks(buf: Buffer, size = 65536, read?: {bytes: number}): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += size) {
    const c = buf.subarray(i, i + size)
    if (read) read.bytes += c.length
    yield c
  }
}

/** What GNU tar lists of a directory: names, types, modes, owners, sizes, link targets and hard link counts. */
const listing = (dir: string) => execFileSync('sh', ['-c', `cd ${dir} && find . -printf '%p %y %m %U %G %s %l %n\\n' | sort`], {encoding: 'utf8'})

const fresh = () => {
  const dir = join(tempDir(), 'layer')
  mkdirSync(dir)
  return dir
}

describe('unpackOffThread', () => {
  test('unpacks as unpackCompressed does on the main thread: the same tree, contents and diff ID', async () => {
    const gz = layer()
    const here = fresh()
    const there = fresh()
    const [a, b] = [await unpackCompressed(chunks(gz), true, here), await unpackOffThread(chunks(gz), true, there)]
    assert.equal(b, a)
    assert.match(b, /^sha256:[0-9a-f]{64}$/)
    assert.equal(listing(there), listing(here))
    execFileSync('diff', ['-r', '--no-dereference', here, there])
  })

  test('whiteouts, opaque dirs, device nodes and xattrs (made by helper processes from the thread) as on the main thread', async () => {
    const tree = join(tempDir(), 'tree')
    mkdirSync(join(tree, 'opq'), {recursive: true})
    writeFileSync(join(tree, 'big'), randomBytes(2 << 20))
    execFileSync('sh', ['-c', `cd ${tree} && : > .wh.gone && : > opq/.wh..wh..opq && mknod null c 1 3 && mkfifo pipe && echo v > x && setfattr -n user.k -v val x`])
    const gz = execFileSync('sh', ['-c', `tar --xattrs --xattrs-include='user.*' --sort=name --numeric-owner -C ${tree} -cf - . | gzip -1`], {maxBuffer: 64 << 20})
    const here = fresh()
    const there = fresh()
    assert.equal(await unpackOffThread(chunks(gz), true, there), await unpackCompressed(chunks(gz), true, here))
    assert.equal(listing(there), listing(here))
    assert.match(listing(there), /\.\/gone c /)
    const attrs = (dir: string) => execFileSync('sh', ['-c', `cd ${dir} && getfattr --absolute-names -d -m '^(user|trusted)\\.' -R . 2>/dev/null | sort`], {encoding: 'utf8'})
    assert.equal(attrs(there), attrs(here))
    assert.match(attrs(there), /user\.k="val"/)
    assert.match(attrs(there), /trusted\.overlay\.opaque="y"/)
  })

  test('several layers at once share the thread, each its own result', async () => {
    const layers = [layer(), layer('&& echo two > two'), layer('&& echo three > three')]
    const expected = await Promise.all(layers.map((gz) => unpackCompressed(chunks(gz), true, fresh())))
    const dirs = layers.map(() => fresh())
    const got = await Promise.all(layers.map((gz, i) => unpackOffThread(chunks(gz, 10_000), true, dirs[i])))
    assert.deepEqual(got, expected)
    assert.equal(existsSync(join(dirs[1], 'two')), true)
    assert.equal(existsSync(join(dirs[2], 'three')), true)
    assert.equal(existsSync(join(dirs[0], 'two')), false)
  })

  test('an uncompressed layer too', async () => {
    const tar = execFileSync('gzip', ['-dc'], {input: layer(), maxBuffer: 64 << 20})
    const here = fresh()
    const there = fresh()
    assert.equal(await unpackOffThread(chunks(tar), false, there), await unpackCompressed(chunks(tar), false, here))
    assert.equal(listing(there), listing(here))
  })

  test('a refused entry is the same PodctlError as on the main thread, and the source is still read to its end', async () => {
    // A layer with a symlink that a later entry would be written through: appended by hand, as tar would not write it.
    const tree = join(tempDir(), 'bad')
    mkdirSync(tree)
    execFileSync('sh', ['-c', `cd ${tree} && ln -s /etc etc && tar -cf ../bad.tar etc && rm etc && mkdir etc && echo x > etc/evil && tar -rf ../bad.tar etc/evil && gzip -1 ../bad.tar`])
    const bad = execFileSync('cat', [join(tree, '..', 'bad.tar.gz')])
    const read = {bytes: 0}
    const err = await unpackOffThread(chunks(bad, 16, read), true, fresh()).then(
      () => assert.fail('it unpacked'),
      (e: unknown) => e,
    )
    assert.ok(err instanceof PodctlError)
    assert.match(err.message, /under "etc", which is not a directory/)
    assert.equal(read.bytes, bad.length)
    assert.equal(existsSync('/etc/evil'), false)
  })

  test('a source that fails: its error, and nothing is written into the directory after', async () => {
    const gz = layer()
    const dir = fresh()
    async function* cut(): AsyncGenerator<Buffer> {
      yield* chunks(gz.subarray(0, gz.length >> 1))
      throw new Error('connection reset')
    }
    await assert.rejects(unpackOffThread(cut(), true, dir), /connection reset/)
    rmSync(dir, {recursive: true, force: true})
    await sleep(200)
    assert.equal(existsSync(dir), false)
    assert.deepEqual(readdirSync(join(dir, '..')), [])
  })
})
