// `podctl serve` driven by the real crictl 1.26.1 (../shared/bin/crictl), the
// way an operator drives a CRI runtime: its CRI client is kubelet 1.26's, and
// sends the socket path as :authority. Output is parsed as a script would;
// pods made through crictl are the CLI's, and the other way round. Then every
// kind of :authority a client may send reaches the same server.

import assert from 'node:assert/strict'
import {connect} from 'node:net'
import {after, afterEach, before, describe, test} from 'node:test'

import {encodeLiterals, frame, HpackDecoder} from '../../src/server/authority.js'
import {TestEnv} from './harness.js'
import {criToolOptions, RawCri, runCriTool, type Served, startServe, stopServe} from './serve-helpers.js'

describe('podctl serve under the real crictl', criToolOptions('crictl'), () => {
  let env: TestEnv
  let served: Served
  before(async () => {
    env = new TestEnv(90)
    served = await startServe(env)
  })
  after(async () => {
    await stopServe(served)
    env.teardown()
  })
  afterEach(() => {
    env.ok(['rmp', '-af'])
    env.assertNoLeaks()
  })

  function crictl(...args: string[]): string {
    const r = runCriTool('crictl', served, args)
    assert.equal(r.code, 0, `crictl ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`)
    for (const m of r.stdout.matchAll(/\b[0-9a-f]{64}\b/g)) env.seen.add(m[0])
    return r.stdout
  }
  const json = (...args: string[]) => JSON.parse(crictl(...args))
  const podFile = (name: string, namespace = 'ops', labels: Record<string, string> = {}) =>
    env.podConfig({metadata: {name, namespace, uid: `uid-${name}`, attempt: 0}, labels, log_directory: `${env.dir}/logs/${name}`, linux: {}})
  const crictlRunp = (name: string, namespace = 'ops', labels: Record<string, string> = {}) => {
    const id = crictl('runp', podFile(name, namespace, labels)).trim()
    assert.match(id, /^[0-9a-f]{64}$/)
    return id
  }

  test('version and info answer what the runtime is', () => {
    const version = Object.fromEntries(
      crictl('version')
        .trim()
        .split('\n')
        .map((l) => l.split(/:\s+/)),
    )
    assert.equal(version.Version, '0.1.0')
    assert.equal(version.RuntimeName, 'podctl')
    assert.match(version.RuntimeVersion, /^\d+\.\d+\.\d+/)
    assert.equal(version.RuntimeApiVersion, 'v1')
    const info = json('info')
    const conditions = Object.fromEntries(info.status.conditions.map((c: {type: string; status: boolean}) => [c.type, c.status]))
    assert.deepEqual(conditions, {RuntimeReady: true, NetworkReady: true})
  })

  test('runp, pods with filters, inspectp, statsp, stopp and rmp', () => {
    const web = crictlRunp('web', 'ops', {app: 'web', tier: 'front'})
    const db = crictlRunp('db', 'data', {app: 'db'})

    const all = json('pods', '-o', 'json').items as {id: string; metadata: {name: string; namespace: string}; state: string; labels: Record<string, string>}[]
    assert.deepEqual(all.map((p) => p.id).sort(), [web, db].sort())
    const byId = new Map(all.map((p) => [p.id, p]))
    assert.deepEqual(byId.get(web)?.metadata, {name: 'web', uid: 'uid-web', namespace: 'ops', attempt: 0})
    assert.deepEqual(byId.get(web)?.labels, {app: 'web', tier: 'front'})
    assert.equal(byId.get(db)?.state, 'SANDBOX_READY')

    const ids = (...filter: string[]) => crictl('pods', '-q', ...filter).trim().split('\n').filter(Boolean).sort()
    assert.deepEqual(ids('--name', 'web'), [web])
    assert.deepEqual(ids('--namespace', 'data'), [db])
    assert.deepEqual(ids('--label', 'app=web'), [web])
    assert.deepEqual(ids('--label', 'app=web', '--label', 'tier=back'), [])
    assert.deepEqual(ids('--id', web.slice(0, 13)), [web])
    assert.deepEqual(ids('--state', 'ready'), [web, db].sort())
    assert.deepEqual(ids('--latest'), [db])

    const table = crictl('pods').trim().split('\n')
    assert.match(table[0], /^POD ID\s+CREATED\s+STATE\s+NAME\s+NAMESPACE\s+ATTEMPT\s+RUNTIME$/)
    assert.ok(table.some((l) => l.startsWith(web.slice(0, 13)) && /\bReady\s+web\s+ops\s+0\s+\(default\)$/.test(l)), table.join('\n'))

    const inspected = json('inspectp', '-o', 'json', web)
    assert.equal(inspected.status.id, web)
    assert.equal(inspected.status.state, 'SANDBOX_READY')
    assert.match(inspected.status.network.ip, new RegExp(`^${env.subnetPrefix.replace(/\./g, '\\.')}\\.\\d+$`))
    assert.equal(typeof inspected.info, 'object', 'verbose info, as containerd gives it')

    const stats = json('statsp', '-o', 'json').stats as {attributes: {id: string}; linux: {cpu: {usageCoreNanoSeconds: {value: string}}; memory: {workingSetBytes: {value: string}}}}[]
    assert.deepEqual(stats.map((s) => s.attributes.id).sort(), [web, db].sort())
    for (const s of stats) {
      assert.ok(Number(s.linux.cpu.usageCoreNanoSeconds.value) >= 0)
      assert.ok(Number(s.linux.memory.workingSetBytes.value) > 0, 'the pause process uses some memory')
    }
    assert.deepEqual(
      (json('statsp', '-o', 'json', '--id', db).stats as {attributes: {id: string}}[]).map((s) => s.attributes.id),
      [db],
    )

    assert.equal(crictl('stopp', web).trim(), `Stopped sandbox ${web}`)
    assert.deepEqual(ids('--state', 'notready'), [web])
    assert.equal(json('inspectp', '-o', 'json', web).status.state, 'SANDBOX_NOTREADY')
    assert.equal(crictl('rmp', web).trim(), `Removed sandbox ${web}`)
    assert.equal(crictl('rmp', '--force', db).trim(), `Stopped sandbox ${db}\nRemoved sandbox ${db}`, 'crictl stops a ready pod first')
    assert.deepEqual(json('pods', '-o', 'json').items, [])

    const missing = runCriTool('crictl', served, ['inspectp', web])
    assert.notEqual(missing.code, 0)
    assert.match(missing.stderr, /NotFound/)
  })

  test('pods made by crictl are the CLI’s, and the other way round', () => {
    const viaCrictl = crictlRunp('from-crictl')
    const viaCli = env.runPod('from-cli', {labels: {made: 'cli'}}, 'ops')

    const cliPods = JSON.parse(env.ok(['pods', '-o', 'json'])).items as {id: string; metadata: {name: string}}[]
    assert.deepEqual(cliPods.map((p) => p.id).sort(), [viaCrictl, viaCli].sort())
    assert.equal(env.inspect(viaCrictl).status.metadata.name, 'from-crictl')

    const crictlPods = json('pods', '-o', 'json', '--label', 'made=cli').items as {id: string}[]
    assert.deepEqual(crictlPods.map((p) => p.id), [viaCli])
    assert.equal(json('inspectp', '-o', 'json', viaCli).status.metadata.name, 'from-cli')

    // Each removes the other's pod.
    assert.equal(crictl('stopp', viaCli).trim(), `Stopped sandbox ${viaCli}`)
    assert.equal(crictl('rmp', viaCli).trim(), `Removed sandbox ${viaCli}`)
    env.ok(['rmp', '-f', viaCrictl])
    assert.deepEqual(json('pods', '-o', 'json').items, [])
    assert.deepEqual(JSON.parse(env.ok(['pods', '-o', 'json'])).items, [])
  })

  test('imagefsinfo and images of a store with no image', () => {
    const fs = json('imagefsinfo').status
    assert.equal(fs.fsId.mountpoint, env.root)
    assert.match(fs.usedBytes.value, /^\d+$/)
    assert.match(fs.inodesUsed.value, /^\d+$/)
    // Nothing pulled: the list is empty, printed as crictl prints one (images-crictl.test.ts pulls).
    assert.deepEqual(json('images', '-o', 'json'), {images: []})
    assert.match(crictl('images').trim(), /^IMAGE\s+TAG\s+IMAGE ID\s+SIZE$/)
  })

  test('every :authority a client may send is served: a path, %-encoded, empty, localhost, none', async () => {
    for (const authority of [served.socket, encodeURIComponent(served.socket), '', 'localhost']) {
      const cri = new RawCri(served.socket, authority)
      try {
        const res = await cri.ok<{runtime_name: string}>('Version', {version: 'v1'})
        assert.equal(res.runtime_name, 'podctl', `:authority "${authority}"`)
        // A second call on the same connection: the client's HPACK table now holds the authority.
        assert.equal((await cri.ok<{runtime_name: string}>('Version', {version: 'v1'})).runtime_name, 'podctl')
      } finally {
        cri.close()
      }
    }
    const answer = await versionWithoutAuthority(served.socket)
    assert.equal(answer.status, '200')
    assert.equal(answer.grpcStatus, '0')
    assert.match(answer.body, /podctl/)
  })
})

/**
 * A request with no :authority at all, which no gRPC library sends but HTTP/2
 * allows: the connection preface, SETTINGS, one HEADERS and one DATA frame
 * written by hand, and the answer's frames read back.
 */
async function versionWithoutAuthority(socket: string): Promise<{status?: string; grpcStatus?: string; body: string}> {
  const f = (name: string, value: string) => ({name, value, neverIndexed: false})
  const headers = encodeLiterals([
    f(':method', 'POST'),
    f(':scheme', 'http'),
    f(':path', '/runtime.v1.RuntimeService/Version'),
    f('content-type', 'application/grpc'),
    f('te', 'trailers'),
  ])
  // VersionRequest{version: "v1"}: field 1, length 2; after gRPC's 5-byte prefix (uncompressed, length 4).
  const message = Buffer.from([0, 0, 0, 0, 4, 0x0a, 2, 0x76, 0x31])
  const conn = connect(socket)
  conn.write(
    Buffer.concat([
      Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'),
      frame(4, 0, 0, Buffer.alloc(0)),
      frame(1, 0x4, 1, headers),
      frame(0, 0x1, 1, message),
    ]),
  )
  const hpack = new HpackDecoder()
  const answer: {status?: string; grpcStatus?: string; body: string} = {body: ''}
  let buffered = Buffer.alloc(0)
  await new Promise<void>((resolve, reject) => {
    conn.on('error', reject)
    conn.on('close', () => resolve())
    conn.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk])
      while (buffered.length >= 9 && buffered.length >= 9 + buffered.readUIntBE(0, 3)) {
        const length = buffered.readUIntBE(0, 3)
        const [type, flags] = [buffered[3], buffered[4]]
        const payload = buffered.subarray(9, 9 + length)
        buffered = buffered.subarray(9 + length)
        if (type === 4 && (flags & 0x1) === 0) conn.write(frame(4, 0x1, 0, Buffer.alloc(0)))
        if (type === 0) answer.body += payload.toString('latin1')
        if (type === 3) reject(new Error(`RST_STREAM ${payload.readUInt32BE(0)}`))
        if (type === 1) {
          for (const {name, value} of hpack.decode(payload)) {
            if (name === ':status') answer.status = value
            if (name === 'grpc-status') answer.grpcStatus = value
          }
          if (flags & 0x1) conn.end()
        }
      }
    })
  })
  return answer
}
