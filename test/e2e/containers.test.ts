// Containers in pods end to end, on the real parts: busybox pulled from a
// real docker-registry on loopback, runc, conmon as each container's
// monitor, CNI's bridge and portmap. run → ps → inspect → stop → rm, an
// httpd answering on the pod IP and a host port, exit codes and reasons,
// stop's grace period, ps's filters, and every leak check of the pods' tests
// plus overlay mounts, conmon processes and container cgroups.

import assert from 'node:assert/strict'
import {readFileSync, writeFileSync} from 'node:fs'
import {request} from 'node:http'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {after, before, describe, test} from 'node:test'

import {assertClean, conmonMissing, conmonsOf} from './container-helpers.js'
import {e2eOptionsWith, TestEnv} from './harness.js'
import {missingRegistryTools, type Registry, registryWithBusybox} from './registry.js'

/** GET http://host:port/path, or the error's message. */
function httpGet(host: string, port: number, path = '/'): Promise<string> {
  return new Promise((resolve) => {
    const req = request({host, port, path, timeout: 2000}, (res) => {
      let body = ''
      res.on('data', (d: Buffer) => (body += d.toString()))
      res.on('end', () => resolve(body))
    })
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', (err) => resolve(`error: ${err.message}`))
    req.end()
  })
}

/** Until the server answers (it starts with the container), at most ~10 s. */
async function waitForHttp(host: string, port: number): Promise<string> {
  let last = ''
  for (let i = 0; i < 100; i++) {
    last = await httpGet(host, port)
    if (!last.startsWith('error: ')) return last
    await sleep(100)
  }
  return last
}

describe('containers', e2eOptionsWith('container tests', missingRegistryTools, conmonMissing), () => {
  let env: TestEnv
  let reg: Registry
  let image: string
  const hostPort = 24000

  before(async () => {
    env = new TestEnv(140)
    ;({reg, image} = await registryWithBusybox(env.dir))
  })

  after(async () => {
    env?.teardown()
    assert.deepEqual(env ? conmonsOf(env) : [], [], 'conmon processes left behind')
    await reg?.stop()
  })

  const files = (name: string, container: object, pod: object = {}) => {
    const c = join(env.dir, `${name}-container.json`)
    const p = join(env.dir, `${name}-pod.json`)
    writeFileSync(c, JSON.stringify({metadata: {name}, image: {image}, ...container}))
    writeFileSync(p, JSON.stringify({metadata: {name: `${name}-pod`, namespace: 'default', uid: `${name}-uid`}, log_directory: join(env.dir, 'logs', name), ...pod}))
    return {c, p}
  }
  const inspect = (id: string) => JSON.parse(env.ok(['inspect', id])) as {status: Record<string, any>; info: Record<string, any>}

  test('run: busybox httpd in a CNI pod answers on the pod IP and on a host port; ps, inspect, logs file; rmp removes it all', async () => {
    const {c, p} = files('web', {command: ['/bin/sh', '-c', 'mkdir -p /www && echo hello from $(hostname) > /www/index.html && echo serving && exec httpd -f -p 80 -h /www'], log_path: 'web.log', labels: {app: 'web', 'io.kubernetes.pod.name': 'web-pod'}}, {
      port_mappings: [{container_port: 80, host_port: hostPort}],
    })
    const id = env.ok(['run', c, p]).trim()
    assert.match(id, /^[0-9a-f]{64}$/)
    const st = inspect(id)
    assert.equal(st.status.state, 'CONTAINER_RUNNING')
    assert.equal(st.status.image.image, image)
    assert.match(st.status.imageRef, /^sha256:[0-9a-f]{64}$/)
    assert.equal(st.status.finishedAt, '0001-01-01T00:00:00Z')
    assert.ok(st.info.pid > 0, 'info.pid of the running process')
    const podId = st.info.sandboxID as string
    const podIp = env.inspect(podId).status.network.ip as string
    assert.equal(await waitForHttp(podIp, 80), 'hello from web-pod\n')
    assert.equal(await waitForHttp('127.0.0.1', hostPort), 'hello from web-pod\n')
    // ps: the running container, crictl's columns.
    const table = env.ok(['ps']).split('\n')
    assert.match(table[0], /^CONTAINER\s+IMAGE\s+CREATED\s+STATE\s+NAME\s+ATTEMPT\s+POD ID\s+POD$/)
    assert.match(table[1], new RegExp(`^${id.slice(0, 13)}\\s+\\S+\\s+.+\\s+Running\\s+web\\s+0\\s+${podId.slice(0, 13)}\\s+web-pod$`))
    // The CRI log, under the pod's log_directory.
    const log = readFileSync(join(env.dir, 'logs', 'web', 'web.log'), 'utf8')
    assert.match(log, /^\S+ stdout F serving$/m)
    assert.equal(st.status.logPath, join(env.dir, 'logs', 'web', 'web.log'))
    // An overlay is mounted for it; rmp -f takes the container, the overlay and the pod.
    assert.ok(readFileSync('/proc/self/mounts', 'utf8').includes(`${id}/rootfs overlay`), 'the overlay rootfs is mounted')
    assert.equal(conmonsOf(env).length, 1, 'one monitor for the container')
    env.ok(['rmp', '-f', podId])
    assert.equal(env.ok(['ps', '-a', '-q']), '')
    assertClean(env)
  })

  test('create, start, exit at once: EXITED with its code and reason; ps filters; rm', () => {
    const pod = env.runPod('exits')
    const {c: ok} = files('done', {command: ['/bin/true'], labels: {kind: 'quick'}})
    const {c: bad} = files('fails', {command: ['/bin/sh', '-c', 'echo oops >&2; exit 3'], labels: {kind: 'quick'}})
    const {c: long} = files('long', {command: ['/bin/sleep', '1000'], labels: {kind: 'slow'}})
    const okId = env.ok(['create', pod, ok]).trim()
    const badId = env.ok(['create', pod, bad]).trim()
    const longId = env.ok(['create', pod, long]).trim()
    assert.equal(inspect(okId).status.state, 'CONTAINER_CREATED')
    assert.equal(inspect(okId).status.startedAt, '0001-01-01T00:00:00Z')
    assert.deepEqual(env.ok(['ps', '-q', '-s', 'created']).trim().split('\n').sort(), [okId, badId, longId].sort())
    env.ok(['start', okId, badId, longId])
    const exited = (id: string) => {
      for (let i = 0; i < 200; i++) {
        const s = inspect(id).status
        if (s.state === 'CONTAINER_EXITED') return s
        spawnSleep(50)
      }
      return inspect(id).status
    }
    const okSt = exited(okId)
    assert.equal(okSt.exitCode, 0)
    assert.equal(okSt.reason, 'Completed')
    assert.notEqual(okSt.finishedAt, '0001-01-01T00:00:00Z')
    const badSt = exited(badId)
    assert.equal(badSt.exitCode, 3)
    assert.equal(badSt.reason, 'Error')
    // Filters: default running only; -a all; -s; --label; --name (a regex); --pod; --latest; --last; --image; -o json.
    assert.equal(env.ok(['ps', '-q']).trim(), longId)
    assert.deepEqual(env.ok(['ps', '-aq']).trim().split('\n').sort(), [okId, badId, longId].sort())
    assert.deepEqual(env.ok(['ps', '-q', '-s', 'exited']).trim().split('\n').sort(), [okId, badId].sort())
    assert.deepEqual(env.ok(['ps', '-aq', '--label', 'kind=quick']).trim().split('\n').sort(), [okId, badId].sort())
    assert.equal(env.ok(['ps', '-aq', '--name', '^fa']).trim(), badId)
    assert.equal(env.ok(['ps', '-aq', '--pod', pod]).trim().split('\n').length, 3)
    assert.equal(env.ok(['ps', '-q', '--latest']).trim(), longId)
    assert.deepEqual(env.ok(['ps', '-q', '--last', '2']).trim().split('\n'), [longId, badId])
    assert.equal(env.ok(['ps', '-aq', '--image', image]).trim().split('\n').length, 3)
    assert.equal(env.ok(['ps', '-aq', '--image', 'sha256:' + '0'.repeat(64)]).trim(), '')
    const json = JSON.parse(env.ok(['ps', '-a', '-o', 'json'])) as {containers: {id: string; state: string; podSandboxId: string; createdAt: string}[]}
    assert.equal(json.containers.length, 3)
    assert.ok(json.containers.every((x) => x.podSandboxId === pod && /^\d{4}-\d\d-\d\dT/.test(x.createdAt)))
    const badState = env.podctl(['ps', '-s', 'sleeping'])
    assert.notEqual(badState.code, 0)
    assert.match(badState.stderr, /--state should be one of created, running, exited or unknown/)
    // The image is in use: rmi refuses it, rmi --prune keeps it, gc keeps its layers.
    const rmi = env.podctl(['rmi', image])
    assert.equal(rmi.code, 2, rmi.stderr)
    assert.match(rmi.stderr, /is in use by container/)
    env.ok(['rmi', '--prune'])
    env.ok(['gc'])
    assert.ok(env.ok(['images', '-q']).trim().length > 0, 'the image is kept')
    // rm: a running one is refused without -f; exited ones go; names can be taken again.
    const refused = env.podctl(['rm', longId])
    assert.notEqual(refused.code, 0)
    assert.match(refused.stderr, /is running: stop it first, or use rm -f/)
    env.ok(['rm', okId, badId])
    env.ok(['rm', '-f', longId])
    assert.equal(env.ok(['ps', '-aq']), '')
    const again = env.ok(['create', pod, ok]).trim()
    env.ok(['rm', again])
    // rm and stop of a container that is gone: rm of an ID typed is "not found" (3), as rmp's.
    const gone = env.podctl(['rm', okId])
    assert.equal(gone.code, 3)
    env.ok(['rmp', '-f', pod])
    assertClean(env)
  })

  test('stop -t 2 of a process that ignores SIGTERM: SIGKILL after the grace period (137); stop is idempotent', () => {
    const pod = env.runPod('stubborn')
    const {c} = files('stubborn', {command: ['/bin/sh', '-c', 'trap "" TERM; echo ready; while true; do sleep 1; done']})
    const id = env.ok(['create', pod, c]).trim()
    env.ok(['start', id])
    assert.equal(inspect(id).status.state, 'CONTAINER_RUNNING')
    assert.equal(env.ok(['stop', '-t', '2', id]).trim(), id)
    const st = inspect(id).status
    assert.equal(st.state, 'CONTAINER_EXITED')
    assert.equal(st.exitCode, 137, 'killed by SIGKILL: SIGTERM was ignored')
    assert.equal(env.ok(['stop', id]).trim(), id, 'stopping a stopped container succeeds')
    // A process that takes SIGTERM exits with it, before any SIGKILL.
    const {c: polite} = files('polite', {command: ['/bin/sleep', '1000']})
    const pid = env.ok(['create', pod, polite]).trim()
    env.ok(['start', pid])
    env.ok(['stop', '-t', '30', pid])
    assert.equal(inspect(pid).status.exitCode, 143)
    env.ok(['rmp', '-f', pod])
    assertClean(env)
  })

  test('create: an image not in the store names podctl pull; a pod that is not ready is refused; bad configs fail with one line', () => {
    const pod = env.runPod('refusals')
    const missing = join(env.dir, 'missing.json')
    writeFileSync(missing, JSON.stringify({metadata: {name: 'x'}, image: {image: `${reg.host}/test/nothere:v1`}, command: ['/bin/true']}))
    const r = env.podctl(['create', pod, missing])
    assert.equal(r.code, 3)
    assert.match(r.stderr, /image ".*nothere:v1" not found: create does not pull/)
    assert.match(r.stderr, /podctl pull/)
    const typo = join(env.dir, 'typo.json')
    writeFileSync(typo, JSON.stringify({metadata: {name: 'typo'}, image: {image}, comand: ['/bin/true'], command: ['/bin/true']}))
    const w = env.podctl(['create', pod, typo])
    assert.equal(w.code, 0, w.stderr)
    assert.match(w.stderr, /comand.*did you mean "command"/)
    env.ok(['rm', w.stdout.trim()])
    const refusedField = join(env.dir, 'refused.json')
    writeFileSync(refusedField, JSON.stringify({metadata: {name: 'label'}, image: {image}, linux: {security_context: {selinux_options: {type: 'spc_t'}}}}))
    const d = env.podctl(['create', pod, refusedField])
    assert.equal(d.code, 2)
    assert.match(d.stderr, /linux\.security_context\.selinux_options: SELinux labels are not supported/)
    assert.equal(d.stderr.trim().split('\n').filter((l) => l.startsWith('error:')).length, 1)
    env.ok(['stopp', pod])
    const {c} = files('late', {command: ['/bin/true']})
    const notReady = env.podctl(['create', pod, c])
    assert.notEqual(notReady.code, 0)
    assert.match(notReady.stderr, /is not ready/)
    env.ok(['rmp', pod])
    assertClean(env)
  })
})

/** A synchronous pause between polls (the tests above are synchronous spawns). */
function spawnSleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}
