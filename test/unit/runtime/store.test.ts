import assert from 'node:assert/strict'
import {existsSync, mkdirSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, test} from 'node:test'

import type {PodSandboxConfig} from '../../../src/cri/types.js'
import {newPodSandboxId, type PodRecord, podSandboxName, recordVersion, Store} from '../../../src/runtime/store.js'
import {podctlError, tempDir} from '../helpers.js'

const wait = {timeoutMs: 2000, what: 'test'}

/** A store in a temp dir. Store.init() insists on root ownership, so lay out its two dirs here. */
function tempStore(): Store {
  const dir = tempDir('podctl-store-')
  mkdirSync(join(dir, 'root', 'pods'), {recursive: true})
  mkdirSync(join(dir, 'root', 'names'))
  return new Store(join(dir, 'root'), join(dir, 'run'))
}

const id = (prefix: string) => prefix + '0'.repeat(64 - prefix.length)

function record(podId: string, name = 'web'): PodRecord {
  const config: PodSandboxConfig = {metadata: {name, namespace: 'default', uid: `uid-${podId.slice(0, 4)}`, attempt: 0}, labels: {app: name}}
  return {
    version: recordVersion,
    id: podId,
    name: podSandboxName(config),
    createdAt: '1700000000123456789',
    phase: 'ready',
    config,
    runtimeHandler: 'runc',
    runtimePath: '/usr/bin/runc',
    pid: 4242,
    pidStartTime: '98765',
  }
}

async function addPod(store: Store, podId: string, name?: string): Promise<PodRecord> {
  const r = record(podId, name)
  await store.createPodDir(podId)
  await store.writeRecord(r)
  return r
}

describe('store: names', () => {
  test('podSandboxName is name_namespace_uid_attempt', () => {
    assert.equal(podSandboxName({metadata: {name: 'web', namespace: 'ns', uid: 'u', attempt: 2}}), 'web_ns_u_2')
  })

  test('newPodSandboxId is 64 random hex', () => {
    const a = newPodSandboxId()
    assert.match(a, /^[0-9a-f]{64}$/)
    assert.notEqual(a, newPodSandboxId())
  })

  test('a second pod cannot reserve a name held by a pod that exists', async () => {
    const store = tempStore()
    const [a, b] = [id('aa'), id('bb')]
    await store.createPodDir(a)
    await store.reserveName('web_default_u_0', a, wait)
    await assert.rejects(store.reserveName('web_default_u_0', b, wait), podctlError(2, 'failed to reserve pod name "web_default_u_0"', `reserved by pod "${a}"`))
    assert.equal(await store.nameHolder('web_default_u_0'), a)
  })

  test('a holder that is mid-runp (lock held, no dir yet) keeps its name', async () => {
    const store = tempStore()
    const [a, b] = [id('aa'), id('bb')]
    await store.reserveName('n', a, wait)
    const held = await store.lockPod(a, wait)
    try {
      await assert.rejects(store.reserveName('n', b, wait), podctlError(2, `reserved by pod "${a}"`))
    } finally {
      await held.release()
    }
  })

  test('a stale reservation (no pod dir, no lock) is taken over', async () => {
    const store = tempStore()
    const [a, b] = [id('aa'), id('bb')]
    await store.reserveName('n', a, wait)
    await store.reserveName('n', b, wait)
    assert.equal(await store.nameHolder('n'), b)
  })

  test('reserving again for the same pod is a no-op', async () => {
    const store = tempStore()
    await store.reserveName('n', id('aa'), wait)
    await store.reserveName('n', id('aa'), wait)
    assert.equal(await store.nameHolder('n'), id('aa'))
  })

  test('of many concurrent reservations of one name, exactly one wins', async () => {
    const store = tempStore()
    const ids = ['a1', 'b2', 'c3', 'd4', 'e5', 'f6'].map(id)
    await Promise.all(ids.map((i) => store.createPodDir(i)))
    const results = await Promise.allSettled(ids.map((i) => store.reserveName('contended', i, wait)))
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1)
    const winner = ids[results.findIndex((r) => r.status === 'fulfilled')]
    assert.equal(await store.nameHolder('contended'), winner)
  })

  test('releaseName only by the holder', async () => {
    const store = tempStore()
    const [a, b] = [id('aa'), id('bb')]
    await store.createPodDir(a)
    await store.reserveName('n', a, wait)
    await store.releaseName('n', b, wait)
    assert.equal(await store.nameHolder('n'), a, 'not released by another pod')
    await store.releaseName('n', a, wait)
    assert.equal(await store.nameHolder('n'), undefined)
    await store.releaseName('n', a, wait)
    await store.reserveName('n', b, wait)
    assert.equal(await store.nameHolder('n'), b)
  })
})

describe('store: records', () => {
  test('writeRecord then readRecord round-trips', async () => {
    const store = tempStore()
    const r = await addPod(store, id('ab'))
    r.network = {conflist: {name: 'n'}, confFile: '/c', added: true, ip: '10.0.0.2', additionalIps: ['fd00::2']}
    await store.writeRecord(r)
    assert.deepEqual(await store.readRecord(r.id), r)
  })

  test('removePodDir removes the pod\'s files, a directory someone added among them, and nothing when it is gone', async () => {
    const store = tempStore()
    const flat = await addPod(store, id('c1'))
    writeFileSync(store.sandboxFile(flat.id, 'hosts'), '')
    store.removePodDir(flat.id)
    assert.equal(existsSync(store.podDir(flat.id)), false)
    const nested = await addPod(store, id('c2'))
    mkdirSync(join(store.podDir(nested.id), 'extra', 'deeper'), {recursive: true})
    writeFileSync(join(store.podDir(nested.id), 'extra', 'deeper', 'file'), 'x')
    store.removePodDir(nested.id)
    assert.equal(existsSync(store.podDir(nested.id)), false)
    store.removePodDir(nested.id)
  })

  test('a missing record is null', async () => {
    const store = tempStore()
    assert.equal(await store.readRecord(id('ab')), null)
    await store.createPodDir(id('ab'))
    assert.equal(await store.readRecord(id('ab')), null)
  })

  const corrupt: [string, string, string][] = [
    ['invalid JSON', '{"id": ', 'is corrupt'],
    ['another pod\'s record', JSON.stringify(record(id('ff'))), `does not describe pod "${id('ab')}"`],
    ['a record without config', JSON.stringify({id: id('ab')}), 'does not describe pod'],
    ['JSON null', 'null', 'is corrupt'],
  ]
  for (const [label, text, needle] of corrupt) {
    test(`a corrupt record (${label}) is an error naming the file`, async () => {
      const store = tempStore()
      await store.createPodDir(id('ab'))
      writeFileSync(store.recordPath(id('ab')), text)
      await assert.rejects(store.readRecord(id('ab')), podctlError(1, `pod record "${store.recordPath(id('ab'))}"`, needle))
    })
  }

  test('listRecords returns broken records beside the good ones', async () => {
    const store = tempStore()
    const good = await addPod(store, id('a1'))
    await store.createPodDir(id('b2'))
    writeFileSync(store.recordPath(id('b2')), '{torn')
    const {records, broken} = await store.listRecords()
    assert.deepEqual(records, [good])
    assert.equal(broken.length, 1)
    assert.equal(broken[0].id, id('b2'))
    assert.match(broken[0].createdAt, /^\d{19}$/)
    assert.ok(broken[0].error.message.includes(store.recordPath(id('b2'))))
  })

  test('listIds counts only pod-ID directories, never symlinks or other names', async () => {
    const store = tempStore()
    await store.createPodDir(id('a1'))
    mkdirSync(join(store.root, 'pods', 'not-a-pod'))
    mkdirSync(join(store.root, 'pods', id('a1').toUpperCase()))
    writeFileSync(join(store.root, 'pods', id('b2')), 'a file')
    symlinkSync(store.podDir(id('a1')), join(store.root, 'pods', id('c3')))
    assert.deepEqual(await store.listIds(), [id('a1')])
  })

  test('paths refuse anything but a pod ID', () => {
    const store = tempStore()
    for (const bad of ['../../etc', id('a1').toUpperCase(), id('a1').slice(1), '']) {
      assert.throws(() => store.podDir(bad), /is not a pod sandbox ID/)
    }
  })

  test('pod paths are the ones join() gives, whatever shape the root has', () => {
    for (const root of ['/var/lib/podctl', '/var/lib/podctl/', '/var//lib/./podctl', 'relative/../state', '.', '/']) {
      const store = new Store(root, '/run/podctl')
      assert.equal(store.podDir(id('a1')), join(root, 'pods', id('a1')), root)
      assert.equal(store.recordPath(id('a1')), join(root, 'pods', id('a1'), 'sandbox.json'), root)
    }
  })
})

describe('store: resolve', () => {
  const [web, db1, db2] = [id('abc1'), id('abc2'), id('def0')]
  const named = id('cafe')
  async function populated(): Promise<Store> {
    const store = tempStore()
    await addPod(store, web, 'web')
    await addPod(store, db1, 'db')
    await addPod(store, db2, 'db')
    await addPod(store, named, 'beef')
    return store
  }

  const hits: [string, string, string][] = [
    ['a full ID', web, web],
    ['a unique prefix', 'def', db2],
    ['a one-character unique prefix', 'd', db2],
    ['a unique name', 'web', web],
    ['a hex-looking name that is no ID prefix', 'beef', named],
  ]
  for (const [label, ref, want] of hits) {
    test(`${label}: ${ref.length > 13 ? ref.slice(0, 13) + '…' : ref}`, async () => assert.equal(await (await populated()).resolve(ref), want))
  }

  for (const ref of ['nope', '999', id('9')]) {
    test(`unknown ${ref.slice(0, 13)} -> null`, async () => assert.equal(await (await populated()).resolve(ref), null))
  }

  test('a full ID that is a planted symlink, not a pod directory, resolves to nothing', async () => {
    const store = await populated()
    symlinkSync(store.podDir(web), join(store.root, 'pods', id('c3')))
    assert.equal(await store.resolve(id('c3')), null)
  })

  test('an ambiguous prefix lists the matches', async () => {
    await assert.rejects((await populated()).resolve('abc'), podctlError(2, 'pod ID prefix "abc" is ambiguous: it matches 2 pods', web.slice(0, 13), db1.slice(0, 13)))
  })

  test('an ambiguous name lists the pods', async () => {
    await assert.rejects((await populated()).resolve('db'), podctlError(2, 'pod name "db" is ambiguous', db1.slice(0, 13), db2.slice(0, 13)))
  })

  test('an empty reference is a usage error', async () => {
    await assert.rejects((await populated()).resolve(''), podctlError(2, 'pod ID cannot be empty'))
  })

  test('resolve in an empty store', async () => {
    assert.equal(await tempStore().resolve('abc'), null)
  })
})
