// Containers and their pod, and containers under stress, on the real parts:
// stopp stops a pod's three containers (each with the grace period) before
// the pause and rmp removes them; an OOM kill is seen as OOMKilled; of two
// creates of one name in a pod exactly one wins; kill -9 of create, start,
// stop and rm at each of their points leaves nothing that rm -f or gc cannot
// clean, and the name can be taken again.

import assert from 'node:assert/strict'
import {existsSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'

import {assertClean, conmonMissing, conmonsOf, containerCgroupsOf} from './container-helpers.js'
import {e2eOptionsWith, TestEnv} from './harness.js'
import {missingRegistryTools, type Registry, registryWithBusybox} from './registry.js'

describe('containers and their pods', e2eOptionsWith('container tests', missingRegistryTools, conmonMissing), () => {
  let env: TestEnv
  let reg: Registry
  let image: string

  before(async () => {
    env = new TestEnv(141)
    ;({reg, image} = await registryWithBusybox(env.dir))
    env.ok(['pull', '-q', image])
  })

  after(async () => {
    env?.teardown()
    await reg?.stop()
  })

  const containerFile = (name: string, extra: object) => {
    const path = join(env.dir, `${name}-${Math.random().toString(16).slice(2, 8)}.json`)
    writeFileSync(path, JSON.stringify({metadata: {name}, image: {image}, ...extra}))
    return path
  }
  const status = (id: string) => JSON.parse(env.ok(['inspect', '-q', id])).status as Record<string, any>
  const containerDirs = (pod: string) => {
    const dir = join(env.root, 'pods', pod, 'containers')
    return existsSync(dir) ? readdirSync(dir) : []
  }
  const overlayMounts = () => readFileSync('/proc/self/mounts', 'utf8').split('\n').filter((l) => l.startsWith('overlay ') && l.includes(env.root))

  test('stopp stops the pod\'s three containers first (SIGTERM, then SIGKILL for one that ignores it), rmp removes them', () => {
    const pod = env.runPod('three')
    const ids = [
      env.ok(['create', pod, containerFile('sleeper', {command: ['/bin/sleep', '1000']})]).trim(),
      env.ok(['create', pod, containerFile('stubborn', {command: ['/bin/sh', '-c', 'trap "" TERM; while true; do sleep 1; done']})]).trim(),
      env.ok(['create', pod, containerFile('idle', {command: ['/bin/sh', '-c', 'exec sleep 1000']})]).trim(),
    ]
    env.ok(['start', ...ids])
    assert.deepEqual(env.ok(['ps', '-q', '--pod', pod]).trim().split('\n').sort(), [...ids].sort())
    assert.equal(conmonsOf(env).length, 3)
    env.ok(['stopp', pod])
    const codes = ids.map((id) => [status(id).state, status(id).exitCode])
    assert.deepEqual(codes, [
      ['CONTAINER_EXITED', 143],
      ['CONTAINER_EXITED', 137],
      ['CONTAINER_EXITED', 143],
    ])
    assert.equal(env.inspect(pod).status.state, 'SANDBOX_NOTREADY')
    assert.equal(conmonsOf(env).length, 0, 'the monitors end with their containers')
    // The containers stay, exited, until rmp.
    assert.equal(env.ok(['ps', '-aq', '--pod', pod]).trim().split('\n').length, 3)
    env.ok(['rmp', pod])
    assert.equal(env.ok(['ps', '-aq']), '')
    assertClean(env)
  })

  test('rmp -f of a ready pod with running containers kills and removes them', () => {
    const pod = env.runPod('busy')
    for (const n of ['a', 'b', 'c']) env.ok(['start', env.ok(['create', pod, containerFile(n, {command: ['/bin/sleep', '1000']})]).trim()])
    assert.equal(overlayMounts().length, 3)
    env.ok(['rmp', '-f', pod])
    assert.equal(env.ok(['ps', '-aq']), '')
    assertClean(env)
  })

  test('an OOM kill is seen as OOMKilled (16 MiB limit, a process that allocates 64 MiB)', () => {
    const pod = env.runPod('oom')
    const id = env.ok(['create', pod, containerFile('hog', {command: ['/bin/dd', 'if=/dev/zero', 'of=/dev/null', 'bs=64M', 'count=1'], linux: {resources: {memory_limit_in_bytes: 16 * 1024 * 1024}}})]).trim()
    env.ok(['start', id])
    let st = status(id)
    for (let i = 0; i < 200 && st.state !== 'CONTAINER_EXITED'; i++) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50)
      st = status(id)
    }
    assert.equal(st.state, 'CONTAINER_EXITED')
    assert.equal(st.reason, 'OOMKilled')
    assert.equal(st.exitCode, 137)
    env.ok(['rmp', '-f', pod])
    assertClean(env)
  })

  test('two creates of one name in one pod at once: exactly one wins, and the name is free again after rm', async () => {
    const pod = env.runPod('race')
    const file = containerFile('same', {command: ['/bin/sleep', '1000']})
    const start = (): Promise<{code: number; stdout: string; stderr: string}> =>
      new Promise((resolve) => {
        const child = env.spawn(['create', pod, file])
        let stdout = ''
        let stderr = ''
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
        child.on('close', (code) => resolve({code: code ?? -1, stdout, stderr}))
      })
    const results = await Promise.all([start(), start(), start()])
    const won = results.filter((r) => r.code === 0)
    assert.equal(won.length, 1, results.map((r) => r.stderr).join('\n'))
    for (const r of results.filter((x) => x.code !== 0)) assert.match(r.stderr, /name is reserved by container/)
    const id = won[0].stdout.trim()
    for (const m of id.matchAll(/[0-9a-f]{64}/g)) env.seen.add(m[0])
    assert.deepEqual(env.ok(['ps', '-aq']).trim().split('\n'), [id])
    env.ok(['rm', id])
    const again = env.ok(['create', pod, file]).trim()
    env.ok(['rm', again])
    env.ok(['rmp', '-f', pod])
    assertClean(env)
  })

  // Each point: the verb killed there by SIGKILL; then what is left is cleaned as a user would
  // (rm -f of what ps lists, then gc), and the name is taken again.
  const createPoints = ['create-1', 'create-2', 'create-3', 'create-4', 'create-5', 'create-6']
  test(`kill -9 of create at each point (${createPoints.join(', ')}): rm -f and gc leave nothing, the name is free again`, () => {
    const pod = env.runPod('crash-create')
    const file = containerFile('victim', {command: ['/bin/sleep', '1000']})
    for (const point of createPoints) {
      const r = env.podctl(['create', pod, file], {env: {PODCTL_FAULT_AT_STEP: point}})
      assert.equal(r.code, -1, `${point}: create was to be killed: ${r.stderr}`)
      const left = env.ok(['ps', '-aq']).trim()
      for (const id of left.split('\n').filter(Boolean)) {
        env.seen.add(id)
        env.ok(['rm', '-f', id])
      }
      const gc = env.podctl(['gc'])
      assert.equal(gc.code, 0, `${point}: gc: ${gc.stderr}`)
      assert.deepEqual(containerDirs(pod), [], `${point}: container directories left`)
      assert.deepEqual(overlayMounts(), [], `${point}: overlay mounts left`)
      assert.deepEqual(conmonsOf(env), [], `${point}: monitors left`)
      assert.deepEqual(containerCgroupsOf(env), [], `${point}: container cgroups left`)
      const again = env.ok(['create', pod, file]).trim()
      env.ok(['rm', '-f', again])
    }
    env.ok(['rmp', '-f', pod])
    assertClean(env)
  })

  test('kill -9 of start, stop and rm at their points: rm -f cleans up', () => {
    const pod = env.runPod('crash-verbs')
    const file = containerFile('victim2', {command: ['/bin/sh', '-c', 'trap "" TERM; while true; do sleep 1; done']})
    for (const [verb, point] of [
      ['start', 'start-1'],
      ['stop', 'stop-1'],
      ['rm', 'rm-1'],
      ['rm', 'rm-2'],
    ] as const) {
      const id = env.ok(['create', pod, file]).trim()
      if (verb !== 'start') env.ok(['start', id])
      const args = verb === 'stop' ? ['stop', '-t', '30', id] : verb === 'rm' ? ['rm', '-f', id] : ['start', id]
      const r = env.podctl(args, {env: {PODCTL_FAULT_AT_STEP: point}})
      assert.equal(r.code, -1, `${point}: ${verb} was to be killed: ${r.stderr}`)
      // After a killed start the process runs; the record may not say so yet: rm -f kills it anyway.
      env.ok(['rm', '-f', id])
      assert.deepEqual(containerDirs(pod), [], `${point}: container directories left`)
      assert.deepEqual(overlayMounts(), [], `${point}: overlay mounts left`)
      assert.deepEqual(conmonsOf(env), [], `${point}: monitors left`)
      assert.deepEqual(containerCgroupsOf(env), [], `${point}: container cgroups left`)
    }
    env.ok(['rmp', '-f', pod])
    assertClean(env)
  })

  test('a container whose record is corrupt: ps warns and skips it, rm -f removes it; rmp -f of its pod too', () => {
    const pod = env.runPod('corrupt')
    const id = env.ok(['create', pod, containerFile('broken', {command: ['/bin/sleep', '1000']})]).trim()
    env.ok(['start', id])
    writeFileSync(join(env.root, 'pods', pod, 'containers', id, 'record.json'), '{not json')
    const ps = env.podctl(['ps', '-a'])
    assert.equal(ps.code, 0)
    assert.match(ps.stderr, /container record .* is corrupt/)
    const rm = env.podctl(['rm', '-f', id])
    assert.equal(rm.code, 0, rm.stderr)
    assert.deepEqual(conmonsOf(env), [])
    const id2 = env.ok(['create', pod, containerFile('broken2', {command: ['/bin/sleep', '1000']})]).trim()
    env.ok(['start', id2])
    writeFileSync(join(env.root, 'pods', pod, 'containers', id2, 'record.json'), '[]')
    env.ok(['rmp', '-f', pod])
    assertClean(env)
  })
})
