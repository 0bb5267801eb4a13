// `podctl serve` driven by a raw gRPC client, as a kubelet or crictl drives a
// CRI runtime: the pod RPCs, containerd's status codes and idempotence
// rules, the image service, the socket, and sharing the state with the CLI.

import assert from 'node:assert/strict'
import {existsSync, readFileSync, statSync} from 'node:fs'
import {describe, test} from 'node:test'

import {e2eOptions, ping} from './harness.js'
import {RawCri, serveSuite, startServe, stopServe} from './serve-helpers.js'

const grpc = {OK: 0, CANCELLED: 1, UNKNOWN: 2, INVALID_ARGUMENT: 3, NOT_FOUND: 5, ALREADY_EXISTS: 6, UNIMPLEMENTED: 12}

describe('podctl serve over a raw gRPC client', e2eOptions(), () => {
  const s = serveSuite(61)

  const config = (name: string, extra: object = {}) => ({metadata: {name, namespace: 'serve', uid: `uid-${name}`, attempt: 0}, ...extra})

  async function runPod(name: string, extra: object = {}): Promise<string> {
    const {pod_sandbox_id: id} = await s.cri.ok<{pod_sandbox_id: string}>('RunPodSandbox', {config: config(name, extra)})
    assert.match(id, /^[0-9a-f]{64}$/)
    s.env.seen.add(id)
    return id
  }

  test('Version names podctl and CRI v1', async () => {
    const v = await s.cri.ok('Version', {version: '0.1.0'})
    assert.equal(v.version, '0.1.0')
    assert.equal(v.runtime_name, 'podctl')
    assert.equal(v.runtime_api_version, 'v1')
    assert.match(v.runtime_version, /^\d+\.\d+\.\d+/)
  })

  test('serve runs from bin/run.js, not the start-up snapshot, so its node draws its own hash seed', () => {
    // The launcher execs node in its own process: the child's PID is node's.
    const argv = readFileSync(`/proc/${s.served.child.pid}/cmdline`, 'utf8').split('\0')
    assert.ok(argv.some((a) => a.endsWith('bin/run.js')), argv.join(' '))
    assert.ok(!argv.includes('--snapshot-blob') && !argv.includes('--no-rehash-snapshot'), argv.join(' '))
  })

  test('RunPodSandbox → PodSandboxStatus → ListPodSandbox → StopPodSandbox → RemovePodSandbox', async () => {
    const id = await runPod('life', {labels: {app: 'web', tier: 'front'}, annotations: {note: 'kept verbatim'}})
    const other = await runPod('other', {labels: {app: 'db'}})

    const {status, info} = await s.cri.ok('PodSandboxStatus', {pod_sandbox_id: id, verbose: true})
    assert.equal(status.id, id)
    assert.equal(status.state, 'SANDBOX_READY')
    assert.deepEqual(status.metadata, {name: 'life', uid: 'uid-life', namespace: 'serve', attempt: 0})
    assert.deepEqual(status.labels, {app: 'web', tier: 'front'})
    assert.deepEqual(status.annotations, {note: 'kept verbatim'})
    assert.match(status.created_at, /^\d{19}$/)
    assert.ok(status.network.ip.startsWith(`${s.env.subnetPrefix}.`), status.network.ip)
    assert.equal(status.linux.namespaces.options.network, 'POD')
    assert.ok(ping(status.network.ip), 'the pod answers on its IP')
    // containerd's shape of verbose info: one key, a JSON document.
    assert.deepEqual(Object.keys(info), ['info'])
    const parsed = JSON.parse(info.info)
    assert.ok(parsed.pid > 0)
    assert.equal(parsed.config.metadata.name, 'life')
    // Not verbose: no info.
    assert.deepEqual((await s.cri.ok('PodSandboxStatus', {pod_sandbox_id: id})).info, {})

    const list = async (filter: object | null) => ((await s.cri.ok('ListPodSandbox', filter ? {filter} : {})).items as {id: string}[]).map((p) => p.id).sort()
    assert.deepEqual(await list(null), [id, other].sort())
    // The ID filter resolves a unique prefix, as containerd's truncindex.
    assert.deepEqual(await list({id: id.slice(0, 12)}), [id])
    assert.deepEqual(await list({id: 'ffffffffffffff'}), [])
    assert.deepEqual(await list({label_selector: {app: 'web'}}), [id])
    assert.deepEqual(await list({label_selector: {app: 'web', tier: 'back'}}), [])
    assert.deepEqual(await list({state: {state: 'SANDBOX_READY'}}), [id, other].sort())
    assert.deepEqual(await list({state: {state: 'SANDBOX_NOTREADY'}}), [])

    await s.cri.ok('StopPodSandbox', {pod_sandbox_id: id})
    assert.equal((await s.cri.ok('PodSandboxStatus', {pod_sandbox_id: id})).status.state, 'SANDBOX_NOTREADY')
    assert.deepEqual(await list({state: {state: 'SANDBOX_NOTREADY'}}), [id])
    assert.deepEqual(await list({state: {state: 'SANDBOX_READY'}, label_selector: {app: 'db'}}), [other])
    // Stopping twice is fine (CRI: idempotent).
    await s.cri.ok('StopPodSandbox', {pod_sandbox_id: id})

    await s.cri.ok('RemovePodSandbox', {pod_sandbox_id: id})
    // RemovePodSandbox stops a ready pod first.
    await s.cri.ok('RemovePodSandbox', {pod_sandbox_id: other})
    assert.deepEqual(await list(null), [])
    s.env.assertNoLeaks()
  })

  test('status codes as containerd returns them', async () => {
    const unknown = 'f'.repeat(64)
    const status = await s.cri.call('PodSandboxStatus', {pod_sandbox_id: unknown})
    assert.equal(status.err?.code, grpc.NOT_FOUND, status.err?.details)
    assert.match(status.err!.details, /not found/)
    // CRI: stop and remove of an unknown pod succeed.
    assert.equal((await s.cri.call('StopPodSandbox', {pod_sandbox_id: unknown})).err, null)
    assert.equal((await s.cri.call('RemovePodSandbox', {pod_sandbox_id: unknown})).err, null)
    assert.equal((await s.cri.call('PodSandboxStats', {pod_sandbox_id: unknown})).err?.code, grpc.NOT_FOUND)

    // A bad config: InvalidArgument naming the field.
    const noName = await s.cri.call('RunPodSandbox', {config: {metadata: {namespace: 'serve'}}})
    assert.equal(noName.err?.code, grpc.INVALID_ARGUMENT, noName.err?.details)
    assert.match(noName.err!.details, /name/)
    const noConfig = await s.cri.call('RunPodSandbox', {})
    assert.equal(noConfig.err?.code, grpc.INVALID_ARGUMENT, noConfig.err?.details)
    const badHandler = await s.cri.call('RunPodSandbox', {config: config('handler'), runtime_handler: 'no-such-handler'})
    assert.notEqual(badHandler.err, null)
    assert.match(badHandler.err!.details, /no-such-handler/)

    // A reserved name: AlreadyExists (containerd says Unknown; the CRI allows either).
    const first = await runPod('taken')
    const second = await s.cri.call('RunPodSandbox', {config: config('taken')})
    assert.ok([grpc.ALREADY_EXISTS, grpc.UNKNOWN].includes(second.err?.code ?? -1), `${second.err?.code} ${second.err?.details}`)
    assert.match(second.err!.details, new RegExp(`reserved by pod "${first}"`))
    // The loser left nothing: one pod, one IP.
    assert.equal(s.env.ipamAllocations().length, 1)
  })

  test('every RPC not s.served answers UNIMPLEMENTED with the reason', async () => {
    for (const rpc of ['CheckpointContainer', 'UpdatePodSandboxResources', 'ListPodSandboxMetrics']) {
      const {err} = await s.cri.call(rpc)
      assert.equal(err?.code, grpc.UNIMPLEMENTED, `${rpc}: ${err?.code} ${err?.details}`)
      assert.match(err!.details, new RegExp(`^${rpc} is not implemented by podctl: .+`))
    }
    const streamImages = s.cri.image.StreamImages({}) as NodeJS.EventEmitter
    const streamImagesErr = await new Promise<{code: number; details: string}>((resolve) => streamImages.on('error', resolve))
    assert.equal(streamImagesErr.code, grpc.UNIMPLEMENTED)
    // The image RPCs are served: an unknown image is an empty status (CRI), its removal a no-op, a pull of nothing bad input.
    assert.deepEqual(await s.cri.ok('ImageStatus', {image: {image: 'example.invalid/none:1'}}, {service: 'image'}), {image: null, info: {}})
    assert.deepEqual(await s.cri.ok('RemoveImage', {image: {image: 'example.invalid/none:1'}}, {service: 'image'}), {})
    assert.equal((await s.cri.call('PullImage', {image: {image: ''}}, {service: 'image'})).err?.code, grpc.INVALID_ARGUMENT)
    // A streaming RPC: the status arrives on the stream.
    const stream = s.cri.runtime.GetContainerEvents({}) as NodeJS.EventEmitter
    const streamErr = await new Promise<{code: number; details: string}>((resolve) => stream.on('error', resolve))
    assert.equal(streamErr.code, grpc.UNIMPLEMENTED)
    assert.match(streamErr.details, /GetContainerEvents is not implemented by podctl: .+poll ListPodSandbox/)
    // What a kubelet polls answers truthfully: no containers yet.
    assert.deepEqual(await s.cri.ok('ListContainers'), {containers: []})
    assert.deepEqual(await s.cri.ok('ListContainerStats'), {stats: []})
  })

  test('Status, RuntimeConfig and the image service', async () => {
    const st = await s.cri.ok('Status', {verbose: true})
    const conditions = Object.fromEntries((st.status.conditions as {type: string; status: boolean; message: string}[]).map((c) => [c.type, c]))
    assert.equal(conditions.RuntimeReady?.status, true, conditions.RuntimeReady?.message)
    assert.equal(conditions.NetworkReady?.status, true, conditions.NetworkReady?.message)
    assert.equal(JSON.parse(st.info.config).root, s.env.root)
    assert.ok((st.runtime_handlers as {name: string}[]).some((h) => h.name === ''), 'the default handler')
    assert.equal((await s.cri.ok('RuntimeConfig')).linux.cgroup_driver, 'CGROUPFS')
    await s.cri.ok('UpdateRuntimeConfig', {runtime_config: {network_config: {pod_cidr: '10.244.0.0/24'}}})
    assert.equal(JSON.parse((await s.cri.ok('Status', {verbose: true})).info.config).podCidr, '10.244.0.0/24')

    assert.deepEqual((await s.cri.ok('ListImages', {}, {service: 'image'})).images, [])
    const fs = await s.cri.ok('ImageFsInfo', {}, {service: 'image'})
    assert.equal(fs.image_filesystems.length, 1)
    assert.equal(fs.image_filesystems[0].fs_id.mountpoint, s.env.root)
    assert.match(fs.image_filesystems[0].used_bytes.value, /^\d+$/)
  })

  test('PodSandboxStats and ListPodSandboxStats of ready pods', async () => {
    const id = await runPod('stats', {labels: {app: 'stats'}})
    const stopped = await runPod('stopped')
    await s.cri.ok('StopPodSandbox', {pod_sandbox_id: stopped})
    const {stats} = await s.cri.ok('PodSandboxStats', {pod_sandbox_id: id})
    assert.equal(stats.attributes.id, id)
    assert.match(stats.linux.cpu.usage_core_nano_seconds.value, /^\d+$/)
    assert.ok(Number(stats.linux.memory.working_set_bytes.value) > 0)
    assert.ok(Number(stats.linux.process.process_count.value) >= 1)
    assert.equal(stats.linux.network.default_interface.name, 'eth0')
    // Only ready pods have stats, as containerd.
    const all = (await s.cri.ok('ListPodSandboxStats', {})).stats as {attributes: {id: string}}[]
    assert.deepEqual(all.map((s) => s.attributes.id), [id])
    assert.deepEqual(((await s.cri.ok('ListPodSandboxStats', {filter: {label_selector: {app: 'none'}}})).stats as unknown[]).length, 0)
    assert.notEqual((await s.cri.call('PodSandboxStats', {pod_sandbox_id: stopped})).err, null)
  })

  test('pods made by the CLI are seen by serve, and the other way round', async () => {
    const fromCli = s.env.runPod('by-cli', {}, 'serve')
    const fromServe = await runPod('by-serve')
    const ids = ((await s.cri.ok('ListPodSandbox')).items as {id: string}[]).map((p) => p.id).sort()
    assert.deepEqual(ids, [fromCli, fromServe].sort())
    assert.deepEqual(s.env.ok(['pods', '-q']).split('\n').filter(Boolean).sort(), [fromCli, fromServe].sort())
    assert.equal(s.env.inspect(fromServe).status.metadata.name, 'by-serve')
    // Each side stops and removes the other's pod.
    s.env.ok(['rmp', '-f', fromServe])
    await s.cri.ok('RemovePodSandbox', {pod_sandbox_id: fromCli})
    assert.deepEqual((await s.cri.ok('ListPodSandbox')).items, [])
    s.env.assertNoLeaks()
  })

  test('the socket is root-owned, mode 0660', () => {
    const st = statSync(s.served.socket)
    assert.ok(st.isSocket())
    assert.equal(st.mode & 0o777, 0o660)
    assert.equal(st.uid, 0)
    assert.equal(st.gid, 0)
  })

  test('a second serve on the same socket is refused, and the first keeps serving', () => {
    const r = s.env.podctl(['serve', '--listen', s.served.endpoint])
    assert.equal(r.code, 1, r.stderr)
    assert.match(r.stderr, /^error: another podctl serve is listening on ".*cri\.sock"$/m)
    assert.doesNotMatch(r.stderr, /\n\s+at .+:\d+:\d+/)
    assert.ok(existsSync(s.served.socket))
  })

  test('SIGTERM closes the socket and leaves the pods running', async () => {
    const own = await startServe(s.env, [], {}, 'term.sock')
    const client = new RawCri(own.socket)
    try {
      const {pod_sandbox_id: id} = await client.ok('RunPodSandbox', {config: config('survivor')})
      s.env.seen.add(id)
      const {code, signal} = await stopServe(own)
      assert.equal(code, 0, own.log())
      assert.equal(signal, null)
      assert.ok(!existsSync(own.socket), 'the socket is removed')
      assert.match(own.log(), /SIGTERM: closing the socket; pods keep running/)
      const status = s.env.inspect(id).status
      assert.equal(status.state, 'SANDBOX_READY', 'the pod outlives the server')
      assert.ok(ping(status.network.ip))
    } finally {
      client.close()
    }
  })
})
