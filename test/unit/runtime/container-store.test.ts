import assert from 'node:assert/strict'
import {existsSync, mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, test} from 'node:test'

import type {ContainerConfig} from '../../../src/cri/container-types.js'
import {
  type ContainerRecord,
  containerName,
  containerRecordPath,
  containerRecordVersion,
  createContainerDir,
  listContainerIds,
  readContainerRecord,
  releaseContainerName,
  removeContainerDir,
  reserveContainerName,
  writeContainerRecord,
} from '../../../src/runtime/container-store.js'
import {Store} from '../../../src/runtime/store.js'
import {podctlError, tempDir} from '../helpers.js'

const wait = {timeoutMs: 2000, what: 'test'}
const id = (prefix: string) => prefix + '0'.repeat(64 - prefix.length)
const pod = id('aa')

function tempStore(): Store {
  const dir = tempDir('podctl-cstore-')
  mkdirSync(join(dir, 'root', 'pods', pod), {recursive: true})
  mkdirSync(join(dir, 'root', 'names'))
  return new Store(join(dir, 'root'), join(dir, 'run'))
}

const config: ContainerConfig = {metadata: {name: 'web', attempt: 0}, image: {image: 'busybox'}}

function record(cid: string): ContainerRecord {
  return {version: containerRecordVersion, id: cid, podSandboxId: pod, name: containerName(pod, config), createdAt: '1', phase: 'creating', config}
}

describe('container store: records', () => {
  test('a record is written beside the pod and read back', () => {
    const store = tempStore()
    const cid = id('c1')
    createContainerDir(store, pod, cid)
    writeContainerRecord(store, record(cid))
    assert.equal(containerRecordPath(store, pod, cid), join(store.root, 'pods', pod, 'containers', cid, 'record.json'))
    assert.deepEqual(readContainerRecord(store, pod, cid), record(cid))
    assert.deepEqual(listContainerIds(store, pod), [cid])
    removeContainerDir(store, pod, cid)
    assert.equal(readContainerRecord(store, pod, cid), null)
    assert.deepEqual(listContainerIds(store, pod), [])
  })

  test('a corrupt record, or one of another container, is an error naming the file', () => {
    const store = tempStore()
    const cid = id('c2')
    createContainerDir(store, pod, cid)
    writeFileSync(containerRecordPath(store, pod, cid), '{not json')
    assert.throws(() => readContainerRecord(store, pod, cid), podctlError(1, 'container record', 'is corrupt'))
    writeFileSync(containerRecordPath(store, pod, cid), JSON.stringify(record(id('c3'))))
    assert.throws(() => readContainerRecord(store, pod, cid), podctlError(1, `does not describe container "${cid}"`))
  })

  test('only 64-hex directories are listed; a non-ID never becomes a path', () => {
    const store = tempStore()
    mkdirSync(join(store.root, 'pods', pod, 'containers', 'junk'), {recursive: true})
    assert.deepEqual(listContainerIds(store, pod), [])
    assert.throws(() => containerRecordPath(store, pod, '../x'), /not a container ID/)
  })
})

describe('container store: names', () => {
  test('the name is per pod: name and attempt under the pod ID', () => {
    assert.equal(containerName(pod, config), `${pod}/web_0`)
    assert.notEqual(containerName(id('bb'), config), containerName(pod, config))
  })

  test('of many concurrent reservations of one name, exactly one wins', async () => {
    const store = tempStore()
    const ids = ['c1', 'c2', 'c3', 'c4', 'c5'].map(id)
    // A winner's directory exists, as after create's first step.
    const results = await Promise.allSettled(
      ids.map(async (cid) => {
        await reserveContainerName(store, pod, 'n', cid, wait)
        createContainerDir(store, pod, cid)
      }),
    )
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1)
    for (const r of results) if (r.status === 'rejected') podctlError(2, 'failed to reserve container name "n"')(r.reason)
  })

  test('a reservation whose container left no directory is taken over; release frees only its own', async () => {
    const store = tempStore()
    await reserveContainerName(store, pod, 'n', id('c1'), wait)
    await reserveContainerName(store, pod, 'n', id('c2'), wait)
    createContainerDir(store, pod, id('c2'))
    await assert.rejects(reserveContainerName(store, pod, 'n', id('c3'), wait), podctlError(2, `reserved by container "${id('c2')}"`))
    await releaseContainerName(store, 'n', id('c1'), wait)
    assert.ok(existsSync(store.namePath('n')))
    await releaseContainerName(store, 'n', id('c2'), wait)
    assert.ok(!existsSync(store.namePath('n')))
  })
})
