// runPod's undo stack driven through the context's Exec: every helper process
// (unshare, the CNI plugin, runc) is a fake that answers as the real one does,
// or fails where a test says. Each test asserts which undos ran, in which
// order, which helper processes they ran, and what is left in the state
// directory. The real processes are exercised by the e2e tests.

import assert from 'node:assert/strict'
import {chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync} from 'node:fs'
import {basename, join} from 'node:path'
import {describe, test} from 'node:test'

import type {CallContext} from '../../../src/runtime/context.js'
import type {Exec, RunResult} from '../../../src/runtime/exec.js'
import {builtinDefaults, type Settings} from '../../../src/runtime/settings.js'
import {Store} from '../../../src/runtime/store.js'
import type {PodSandboxConfig} from '../../../src/cri/types.js'
import {tempDir} from '../helpers.js'

const podIp = '10.231.250.2'
const addResult = {cniVersion: '1.0.0', interfaces: [{name: 'eth0', sandbox: '/netns'}], ips: [{address: `${podIp}/24`, interface: 0}]}

/** A helper process as the fake saw it: the binary's name, and the CNI command or the runtime's verb. */
type Call = string

type Failure = (call: Call) => RunResult | undefined

interface World {
  rt: CallContext
  store: Store
  calls: Call[]
  log: string[]
}

/** A state root, a CNI conf dir with a one-plugin network, fake binaries, and a context whose Exec is the fake. */
function world(fail: Failure = () => undefined): World {
  const dir = tempDir('podctl-undo-')
  const bin = join(dir, 'bin')
  mkdirSync(bin)
  for (const name of ['runc', 'fakenet']) {
    writeFileSync(join(bin, name), '#!/bin/sh\nexit 1\n')
    chmodSync(join(bin, name), 0o755)
  }
  const confDir = join(dir, 'net.d')
  mkdirSync(confDir)
  writeFileSync(join(confDir, '10-unit.conflist'), JSON.stringify({cniVersion: '1.0.0', name: 'unit', plugins: [{type: 'fakenet'}]}))
  const settings: Settings = {
    ...builtinDefaults,
    root: join(dir, 'root'),
    runRoot: join(dir, 'run'),
    cniConfDir: confDir,
    cniBinDirs: [bin],
    runtimes: {runc: {path: join(bin, 'runc')}},
    cgroupParent: '/podctl-unit-undo',
    timeoutMs: 10_000,
  }
  const store = new Store(settings.root, settings.runRoot)
  // The pause rootfs counts as built: runPod does not need catatonit here.
  mkdirSync(store.pauseDir(), {recursive: true})
  writeFileSync(join(store.pauseDir(), 'built'), '')
  const calls: Call[] = []
  const log: string[] = []
  const exec: Exec = async (_ctx, file, args, options) => {
    const name = basename(file)
    const call = name === 'runc' ? `runc ${args.find((a) => ['run', 'delete', 'kill', 'state'].includes(a))}` : options.env?.CNI_COMMAND ? `${name} ${options.env.CNI_COMMAND}` : name
    calls.push(call)
    const failed = fail(call)
    // runc run is detached (its stderr is not read): it says what failed in its --log, as JSON lines.
    if (failed && call === 'runc run') writeFileSync(args[args.indexOf('--log') + 1], `${JSON.stringify({level: 'error', msg: failed.stderr})}\n`)
    if (failed) return failed
    if (call === 'runc run') writeFileSync(args[args.indexOf('--pid-file') + 1], `${process.pid}\n`)
    if (call === 'fakenet ADD') return {exitCode: 0, stdout: JSON.stringify(addResult), stderr: ''}
    return {exitCode: 0, stdout: '', stderr: ''}
  }
  const rt: CallContext = {settings, store, ctx: {signal: new AbortController().signal, log: (m) => log.push(m), exec}, warn: () => undefined}
  return {rt, store, calls, log}
}

const config: PodSandboxConfig = {metadata: {name: 'undo', namespace: 'unit', uid: 'u-1', attempt: 0}}

const failWith = (stderr: string): RunResult => ({exitCode: 1, stdout: '', stderr})
const failAt =
  (at: Call, stderr = `${at} failed on purpose`): Failure =>
  (call) =>
    call === at ? failWith(stderr) : undefined

/** Every undo runPod registers, in the order they run: newest first. */
const everyUndo = ['pause container', 'network', 'network namespace', 'name reservation', 'pod directory'].map((u) => `undo ${u}: done`)

const undos = (log: string[]) => log.flatMap((line) => (/^undo (.+): (done|failed)/.exec(line) ? [line] : []))

/**
 * What DEL runs here beyond the plugin: the fake unshare mounts no netns, so
 * DEL runs as for a pod whose netns is gone, and the pod's nat rules are then
 * looked for by its ID (none are found).
 */
const netnsGoneSweep = ['iptables-save', 'ip6tables-save']

/** The helper processes run after the one that failed: the undos' own. */
const after = (calls: Call[], failed: Call) => calls.slice(calls.indexOf(failed) + 1)

const {runPod} = await import('../../../src/runtime/sandbox.js')

function assertNothingLeft(w: World): void {
  assert.deepEqual(readdirSync(join(w.rt.settings.root, 'pods')), [], 'no pod directory is left')
  assert.deepEqual(existsSync(join(w.rt.settings.root, 'names')) ? readdirSync(join(w.rt.settings.root, 'names')) : [], [], 'no name reservation is left')
  const netns = join(w.rt.settings.runRoot, 'netns')
  assert.deepEqual(existsSync(netns) ? readdirSync(netns) : [], [], 'no netns file is left')
}

describe('runPod through a fake Exec', () => {
  test('all steps succeed: one process each, in order, and a ready record', async () => {
    const w = world()
    const id = await runPod(w.rt, config, '')
    assert.equal(w.calls[0], 'unshare')
    assert.deepEqual([...w.calls].sort(), ['fakenet ADD', 'runc run', 'unshare'])
    assert.deepEqual(undos(w.log), [])
    const record = await w.store.readRecord(id)
    assert.equal(record?.phase, 'ready')
    assert.equal(record?.network?.ip, podIp)
    assert.equal(record?.pid, process.pid)
  })

  test('the netns fails: only the steps before it are undone, newest first, and no runc or CNI runs', async () => {
    const w = world(failAt('unshare'))
    await assert.rejects(runPod(w.rt, config, ''), /failed to create network namespace/)
    assert.deepEqual(w.calls, ['unshare'])
    assert.deepEqual(undos(w.log), ['undo network namespace: done', 'undo name reservation: done', 'undo pod directory: done'])
    assertNothingLeft(w)
  })

  test('CNI ADD fails: the pause container is deleted first, then CNI DEL, then the netns, the name and the directory', async () => {
    const w = world(failAt('fakenet ADD'))
    await assert.rejects(runPod(w.rt, config, ''), /failed to set up network for pod .*fakenet ADD failed on purpose/)
    // The pause branch ran beside the network's and is undone with it.
    assert.deepEqual(after(w.calls, 'runc run'), ['runc delete', 'fakenet DEL', ...netnsGoneSweep])
    assert.deepEqual(undos(w.log), everyUndo)
    assertNothingLeft(w)
  })

  test('runc run fails: the container, announced before the run, is deleted anyway, and the network torn down', async () => {
    const w = world(failAt('runc run', 'container_linux.go: starting container process caused: oops'))
    await assert.rejects(runPod(w.rt, config, ''), /oops/)
    assert.deepEqual(after(w.calls, 'runc run').filter((c) => c !== 'fakenet ADD'), ['runc delete', 'fakenet DEL', ...netnsGoneSweep])
    assert.deepEqual(undos(w.log), everyUndo)
    assertNothingLeft(w)
  })

  test('an undo fails: unwinding stops there, and the record is kept as unknown for rmp -f', async () => {
    const w = world((call) => (call === 'runc run' ? failWith('run failed') : call === 'runc delete' ? failWith('delete failed') : undefined))
    await assert.rejects(runPod(w.rt, config, ''), (err: Error & {hint?: string}) => {
      assert.match(err.message, /run failed; cleanup failed too, the pod is kept as NotReady: failed to undo pause container/)
      assert.match(err.hint ?? '', /^remove it with: podctl rmp -f [0-9a-f]{13}$/)
      return true
    })
    const ran = undos(w.log)
    assert.equal(ran.length, 1)
    assert.match(ran[0], /^undo pause container: failed: runc delete of pod "[0-9a-f]{64}" failed: delete failed$/)
    assert.ok(!w.calls.includes('fakenet DEL'), 'no undo runs after the one that failed')
    const [id] = readdirSync(join(w.rt.settings.root, 'pods'))
    const record = await w.store.readRecord(id)
    assert.equal(record?.phase, 'unknown')
    assert.match(record?.cleanupError ?? '', /failed to undo pause container/)
    assert.equal(record?.network?.added, true, 'the network is still recorded as added, for rmp to tear down')
  })
})
