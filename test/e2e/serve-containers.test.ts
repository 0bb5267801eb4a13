// Containers through `podctl serve`: the container RPCs over a raw gRPC
// client and through the real crictl 1.26.1 (the kubelet's own CRI client
// code), on real runc, conmon, CNI and a busybox image pulled from a real
// docker-registry on loopback; the log reopened as a kubelet's rotation asks;
// and serve SIGKILLed and started again, finding every pod, container and
// image as it was, the running container still running.

import assert from 'node:assert/strict'
import {existsSync, readFileSync, renameSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {after, afterEach, before, describe, test} from 'node:test'

import * as grpc from '@grpc/grpc-js'

import {conmonMissing, conmonsOf} from './container-helpers.js'
import {e2eOptionsWith, TestEnv} from './harness.js'
import {missingRegistryTools, type Registry, registryWithBusybox} from './registry.js'
import {criToolMissing, RawCri, runCriTool, type Served, startServe, stopServe} from './serve-helpers.js'

/** Until check() is true, polled; the test's own timeout bounds it. */
async function until(what: string, check: () => boolean | Promise<boolean>, tries = 200): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return
    await sleep(50)
  }
  assert.fail(`${what}: not after ${tries} tries`)
}

describe('podctl serve runs containers', e2eOptionsWith('serve container tests', missingRegistryTools, conmonMissing, criToolMissing('crictl')), () => {
  let env: TestEnv
  let reg: Registry
  let image: string
  let served: Served
  let cri: RawCri

  before(async () => {
    env = new TestEnv(180)
    ;({reg, image} = await registryWithBusybox(env.dir))
    served = await startServe(env)
    cri = new RawCri(served.socket)
  })

  after(async () => {
    cri?.close()
    if (served) await stopServe(served)
    await reg?.stop()
    env?.teardown()
  })

  afterEach(() => {
    env.ok(['rmp', '-af'])
    assert.deepEqual([...env.leaks(), ...conmonsOf(env)], [], 'resources left behind')
  })

  const podConfig = (name: string, extra: object = {}) => ({metadata: {name, namespace: 'serve-ctr', uid: `uid-${name}`, attempt: 0}, log_directory: join(env.dir, 'logs', name), ...extra})
  const containerConfig = (name: string, command: string[], extra: object = {}) => ({metadata: {name, attempt: 0}, image: {image}, command, log_path: `${name}.log`, ...extra})

  async function runPod(name: string): Promise<{id: string; config: object}> {
    const config = podConfig(name)
    const {pod_sandbox_id: id} = await cri.ok('RunPodSandbox', {config})
    env.seen.add(id)
    return {id, config}
  }

  async function create(pod: {id: string; config: object}, name: string, command: string[], extra: object = {}): Promise<string> {
    const {container_id: id} = await cri.ok('CreateContainer', {pod_sandbox_id: pod.id, config: containerConfig(name, command, extra), sandbox_config: pod.config})
    env.seen.add(id)
    return id
  }

  const status = async (id: string, verbose = false) => cri.ok('ContainerStatus', {container_id: id, verbose})

  test('CreateContainer → StartContainer → ListContainers → ContainerStatus → StopContainer → RemoveContainer', async () => {
    await cri.ok('PullImage', {image: {image}}, {service: 'image'})
    const pod = await runPod('life')
    const id = await create(pod, 'sleeper', ['sleep', '3600'], {labels: {app: 'sleep'}, annotations: {note: 'kept'}})
    const created = (await status(id)).status
    assert.equal(created.state, 'CONTAINER_CREATED')
    assert.deepEqual(created.metadata, {name: 'sleeper', attempt: 0})
    assert.match(created.created_at, /^\d{19}$/)
    assert.equal(created.started_at, '0')
    assert.equal(created.log_path, join(env.dir, 'logs', 'life', 'sleeper.log'))

    await cri.ok('StartContainer', {container_id: id})
    const {status: running, info} = await status(id, true)
    assert.equal(running.state, 'CONTAINER_RUNNING')
    assert.match(running.started_at, /^\d{19}$/)
    // containerd's shape of verbose info, as crictl inspect reads it: one key, a JSON document with the pid.
    assert.deepEqual(Object.keys(info), ['info'])
    const parsed = JSON.parse(info.info)
    assert.ok(parsed.pid > 0)
    assert.equal(readFileSync(`/proc/${parsed.pid}/cmdline`, 'utf8'), 'sleep\u00003600\u0000')
    assert.equal(parsed.sandboxID, pod.id)

    const other = await create(pod, 'idle', ['sleep', '3600'], {labels: {app: 'idle'}})
    const list = async (filter: object | null) => ((await cri.ok('ListContainers', filter ? {filter} : {})).containers as {id: string}[]).map((c) => c.id).sort()
    assert.deepEqual(await list(null), [id, other].sort())
    assert.deepEqual(await list({id: id.slice(0, 12)}), [id])
    assert.deepEqual(await list({pod_sandbox_id: pod.id}), [id, other].sort())
    assert.deepEqual(await list({pod_sandbox_id: 'ffffffffffff'}), [])
    assert.deepEqual(await list({state: {state: 'CONTAINER_RUNNING'}}), [id])
    assert.deepEqual(await list({state: {state: 'CONTAINER_CREATED'}}), [other])
    assert.deepEqual(await list({label_selector: {app: 'idle'}}), [other])
    const [listed] = (await cri.ok('ListContainers', {filter: {id}})).containers
    assert.deepEqual({...listed, created_at: 'x'}, {
      id,
      pod_sandbox_id: pod.id,
      metadata: {name: 'sleeper', attempt: 0},
      image: listed.image,
      image_ref: listed.image_ref,
      state: 'CONTAINER_RUNNING',
      created_at: 'x',
      labels: {app: 'sleep'},
      annotations: {note: 'kept'},
    })
    assert.match(listed.image_ref, /^sha256:[0-9a-f]{64}$/)

    await cri.ok('StopContainer', {container_id: id, timeout: 0})
    const stopped = (await status(id)).status
    assert.equal(stopped.state, 'CONTAINER_EXITED')
    assert.equal(stopped.exit_code, 137)
    assert.match(stopped.finished_at, /^\d{19}$/)
    // Stopping twice is fine, and so is removing twice (CRI: idempotent).
    await cri.ok('StopContainer', {container_id: id, timeout: 0})
    await cri.ok('RemoveContainer', {container_id: id})
    await cri.ok('RemoveContainer', {container_id: id})
    // A created one is removed too; the pod's removal would take any left.
    await cri.ok('RemoveContainer', {container_id: other})
    assert.deepEqual(await list(null), [])
    await cri.ok('RemovePodSandbox', {pod_sandbox_id: pod.id})
  })

  test('status codes as containerd returns them', async () => {
    const unknown = 'f'.repeat(64)
    assert.equal((await cri.call('StartContainer', {container_id: unknown})).err?.code, grpc.status.NOT_FOUND)
    assert.equal((await cri.call('ContainerStatus', {container_id: unknown})).err?.code, grpc.status.NOT_FOUND)
    assert.equal((await cri.call('ReopenContainerLog', {container_id: unknown})).err?.code, grpc.status.NOT_FOUND)
    assert.equal((await cri.call('CreateContainer', {pod_sandbox_id: unknown, config: containerConfig('x', ['true'])})).err?.code, grpc.status.NOT_FOUND)
    const pod = await runPod('codes')
    const bad = await cri.call('CreateContainer', {pod_sandbox_id: pod.id, config: {metadata: {name: 'x'}, image: {image}, linux: {security_context: {run_as_group: {value: 5}}}}})
    assert.equal(bad.err?.code, grpc.status.INVALID_ARGUMENT, bad.err?.details)
    // Not running: no log to reopen.
    const id = await create(pod, 'created', ['true'])
    const reopen = await cri.call('ReopenContainerLog', {container_id: id})
    assert.equal(reopen.err?.code, grpc.status.FAILED_PRECONDITION, reopen.err?.details)
    // A second start of an exited container is refused.
    await cri.ok('StartContainer', {container_id: id})
    await until('the container exits', async () => (await status(id)).status.state === 'CONTAINER_EXITED')
    assert.equal((await status(id)).status.exit_code, 0)
    assert.equal((await cri.call('StartContainer', {container_id: id})).err?.code, grpc.status.INVALID_ARGUMENT)
    // RemovePodSandbox removes the pod's containers.
    await cri.ok('RemovePodSandbox', {pod_sandbox_id: pod.id})
    assert.deepEqual((await cri.ok('ListContainers')).containers, [])
  })

  test('ReopenContainerLog: after the kubelet renames the log, the monitor writes a new one', async () => {
    const pod = await runPod('logs')
    const id = await create(pod, 'talker', ['sh', '-c', 'i=0; while true; do echo line $i; i=$((i+1)); sleep 0.1; done'])
    await cri.ok('StartContainer', {container_id: id})
    const logPath = (await status(id)).status.log_path
    await until('the first line', () => existsSync(logPath) && readFileSync(logPath, 'utf8').includes(' stdout F line 0'))
    renameSync(logPath, `${logPath}.1`)
    await cri.ok('ReopenContainerLog', {container_id: id})
    assert.ok(existsSync(logPath), 'the new log file is there when ReopenContainerLog answers')
    await until('a line in the new log', () => existsSync(logPath) && / stdout F line \d+\n/.test(readFileSync(logPath, 'utf8')))
    const rotated = readFileSync(`${logPath}.1`, 'utf8')
    const fresh = readFileSync(logPath, 'utf8')
    const last = Number(/line (\d+)\n$/.exec(rotated)?.[1])
    const first = Number(/ line (\d+)\n/.exec(fresh)?.[1])
    assert.ok(first > last, `the new log starts after the rotated one ends (${first} > ${last})`)
    await cri.ok('RemovePodSandbox', {pod_sandbox_id: pod.id})
  })

  test('crictl 1.26.1 runs a container: pull, runp, create, start, ps, inspect, stop, rm, rmp', async () => {
    const crictl = (...args: string[]) => {
      const r = runCriTool('crictl', served, args, {cwd: env.dir})
      assert.equal(r.code, 0, `crictl ${args.join(' ')}: ${r.stderr}`)
      return r.stdout.trim()
    }
    crictl('pull', image)
    const podFile = join(env.dir, 'crictl-pod.json')
    const ctrFile = join(env.dir, 'crictl-ctr.json')
    writeFileSync(podFile, JSON.stringify(podConfig('crictl')))
    writeFileSync(ctrFile, JSON.stringify(containerConfig('web', ['httpd', '-f', '-p', '8080'])))
    const podId = crictl('runp', podFile)
    env.seen.add(podId)
    const id = crictl('create', podId, ctrFile, podFile)
    env.seen.add(id)
    crictl('start', id)
    const ps = JSON.parse(crictl('ps', '-o', 'json')).containers as {id: string; state: string; podSandboxId: string}[]
    assert.deepEqual(
      ps.map((c) => [c.id, c.state, c.podSandboxId]),
      [[id, 'CONTAINER_RUNNING', podId]],
    )
    assert.equal(crictl('ps', '-q', '--name', 'web'), id)
    const inspect = JSON.parse(crictl('inspect', id))
    assert.equal(inspect.status.state, 'CONTAINER_RUNNING')
    assert.ok(inspect.info.pid > 0, 'crictl inspect shows the pid from the verbose info')
    crictl('stop', id)
    assert.equal(JSON.parse(crictl('inspect', id)).status.state, 'CONTAINER_EXITED')
    crictl('rm', id)
    assert.equal(crictl('ps', '-a', '-q'), '')
    crictl('stopp', podId)
    crictl('rmp', podId)
  })

  test('podctl as a CRI client (--runtime-endpoint): run, create, start, ps, inspect, stop, rm act through serve', async () => {
    const remote = (...args: string[]) => env.podctl(['--runtime-endpoint', served.endpoint, ...args])
    const ok = (...args: string[]) => {
      const r = remote(...args)
      assert.equal(r.code, 0, `podctl --runtime-endpoint ${args.join(' ')}: ${r.stderr}`)
      return r.stdout.trim()
    }
    const podFile = join(env.dir, 'client-pod.json')
    const ctrFile = join(env.dir, 'client-ctr.json')
    const secondFile = join(env.dir, 'client-second.json')
    writeFileSync(podFile, JSON.stringify(podConfig('client')))
    writeFileSync(ctrFile, JSON.stringify(containerConfig('first', ['sleep', '3600'])))
    writeFileSync(secondFile, JSON.stringify(containerConfig('second', ['sleep', '3600'])))
    // run pulls through the runtime's image service, then runp + create + start.
    const first = ok('run', ctrFile, podFile)
    env.seen.add(first)
    const podId = (await cri.ok('ListContainers', {filter: {id: first}})).containers[0].pod_sandbox_id as string
    env.seen.add(podId)
    const second = ok('create', podId.slice(0, 12), secondFile, podFile)
    env.seen.add(second)
    assert.equal((await status(second)).status.state, 'CONTAINER_CREATED', 'made by serve')
    assert.equal(ok('start', second), second)
    assert.deepEqual(ok('ps', '-q').split('\n').sort(), [first, second].sort())
    assert.equal(ok('ps', '-q', '--name', '^sec'), second)
    const inspected = JSON.parse(ok('inspect', second))
    assert.equal(inspected.status.state, 'CONTAINER_RUNNING')
    assert.ok(inspected.info.pid > 0)
    // The same refusal as in-process: a running container is not removed without -f.
    const refused = remote('rm', second)
    assert.equal(refused.code, 2, refused.stderr)
    assert.match(refused.stderr, /is running: stop it first, or use rm -f/)
    assert.equal(ok('stop', '-t', '0', second), second)
    assert.equal(JSON.parse(ok('inspect', second)).status.state, 'CONTAINER_EXITED')
    ok('rm', second)
    ok('rm', '-f', first)
    assert.equal(ok('ps', '-a', '-q'), '')
    const missing = remote('inspect', 'no-such-container')
    assert.equal(missing.code, 3, missing.stderr)
    await cri.ok('RemovePodSandbox', {pod_sandbox_id: podId})
  })

  test('serve SIGKILLed and started again finds the pod, its containers and the image as they were, the running one still running', async () => {
    await cri.ok('PullImage', {image: {image}}, {service: 'image'})
    const pod = await runPod('restart')
    const running = await create(pod, 'running', ['sleep', '3600'])
    await cri.ok('StartContainer', {container_id: running})
    const exited = await create(pod, 'exited', ['sh', '-c', 'exit 3'])
    await cri.ok('StartContainer', {container_id: exited})
    await until('the second container exits', async () => (await status(exited)).status.state === 'CONTAINER_EXITED')
    const created = await create(pod, 'created', ['true'])
    const pid = JSON.parse((await status(running, true)).info.info).pid
    const before = {
      pods: (await cri.ok('ListPodSandbox')).items,
      containers: (await cri.ok('ListContainers')).containers,
      images: (await cri.ok('ListImages', {}, {service: 'image'})).images,
    }

    cri.close()
    served.child.kill('SIGKILL')
    await served.exited
    served = await startServe(env)
    cri = new RawCri(served.socket)

    assert.deepEqual((await cri.ok('ListPodSandbox')).items, before.pods)
    assert.deepEqual((await cri.ok('ListContainers')).containers, before.containers)
    assert.deepEqual((await cri.ok('ListImages', {}, {service: 'image'})).images, before.images)
    const states = Object.fromEntries(before.containers.map((c: {id: string; state: string}) => [c.id, c.state]))
    assert.deepEqual(states, {[running]: 'CONTAINER_RUNNING', [exited]: 'CONTAINER_EXITED', [created]: 'CONTAINER_CREATED'})
    assert.equal(JSON.parse((await status(running, true)).info.info).pid, pid, 'the same process')
    assert.equal((await status(exited)).status.exit_code, 3)
    // The CLI sees the same.
    const cli = JSON.parse(env.ok(['ps', '-a', '-o', 'json'])).containers as {id: string; state: string}[]
    assert.deepEqual(Object.fromEntries(cli.map((c) => [c.id, c.state])), states)
    // And the new serve goes on: the created one starts, the pod goes.
    await cri.ok('StartContainer', {container_id: created})
    await cri.ok('RemovePodSandbox', {pod_sandbox_id: pod.id})
  })
})
