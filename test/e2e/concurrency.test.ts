// Scripts run podctl in parallel and there is no daemon to serialise them:
// the state directory's locks and atomic writes must.

import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {join} from 'node:path'
import {after, afterEach, before, describe, test} from 'node:test'

import {lock, lockName, tryLock} from '../../src/runtime/lock.js'
import {e2eOptions, repoRoot, type Result, TestEnv} from './harness.js'

describe('concurrency', e2eOptions(), () => {
  let env: TestEnv
  before(() => {
    env = new TestEnv(51)
  })
  after(() => env.teardown())
  afterEach(() => env.podctl(['rmp', '-af']))

  /** Run podctl commands at the same time; resolves with every result. */
  function all(commands: string[][], extraEnv: Record<string, string> = {}): Promise<Result[]> {
    return Promise.all(
      commands.map(
        (args) =>
          new Promise<Result>((resolve) => {
            const child = env.spawn(args, extraEnv)
            let stdout = ''
            let stderr = ''
            child.stdout.on('data', (d) => (stdout += d))
            child.stderr.on('data', (d) => (stderr += d))
            child.on('close', (code) => {
              for (const m of `${stdout}${stderr}`.matchAll(/\b[0-9a-f]{64}\b/g)) env.seen.add(m[0])
              resolve({code: code ?? -1, stdout, stderr})
            })
          }),
      ),
    )
  }

  const noStack = (r: Result) => assert.doesNotMatch(r.stderr, /\n\s+at .+:\d+:\d+/, `no stack trace: ${r.stderr}`)

  test('16 runp of distinct pods at once: all succeed, unique IPs, no lost records', async () => {
    const files = Array.from({length: 16}, (_v, i) => env.podConfig({metadata: {name: `par-${i}`, namespace: 'conc'}}))
    const results = await all(files.map((f) => ['runp', f]))
    for (const r of results) assert.equal(r.code, 0, r.stderr)
    const ids = results.map((r) => r.stdout.trim())
    assert.equal(new Set(ids).size, 16)
    const listed = JSON.parse(env.ok(['pods', '-o', 'json'])).items
    assert.equal(listed.length, 16, 'no lost records')
    assert.ok(listed.every((p: {state: string}) => p.state === 'SANDBOX_READY'))
    const ips = (JSON.parse(env.ok(['inspectp', '-q', ...ids])) as {status: {network: {ip: string}}}[]).map((s) => s.status.network.ip)
    assert.equal(new Set(ips).size, 16, `unique IPs: ${ips.join(' ')}`)
    assert.equal(env.ipamAllocations().length, 16)
  })

  test('10 runp of the same metadata at once: exactly one wins, the rest leave nothing', async () => {
    const file = env.podConfig({metadata: {name: 'contended', namespace: 'conc', uid: 'same-uid'}})
    const results = await all(Array.from({length: 10}, () => ['runp', file]))
    const winners = results.filter((r) => r.code === 0)
    assert.equal(winners.length, 1, results.map((r) => `${r.code}: ${r.stderr}`).join('\n'))
    const winner = winners[0].stdout.trim()
    for (const r of results.filter((x) => x.code !== 0)) {
      assert.equal(r.code, 2)
      assert.match(r.stderr, new RegExp(`^error: failed to reserve pod name "contended_conc_same-uid_0": name is reserved by pod "${winner}"$`, 'm'))
      noStack(r)
    }
    assert.deepEqual(env.ok(['pods', '-q']).split('\n').filter(Boolean), [winner])
    assert.equal(env.ipamAllocations().length, 1, 'the losers hold no IP')
  })

  test('stopp, rmp, pods and inspectp racing on the same pods never crash or tear a record', async () => {
    const ids = await all(Array.from({length: 6}, (_v, i) => ['runp', env.podConfig({metadata: {name: `race-${i}`, namespace: 'conc'}})]))
    const podIds = ids.map((r) => r.stdout.trim())
    const commands: string[][] = []
    for (const id of podIds) commands.push(['stopp', id], ['rmp', '-f', id], ['inspectp', '-q', id], ['pods', '-o', 'json'])
    commands.push(['rmp', '-af'], ['pods', '-o', 'json'], ['inspectp', '-q'])
    const results = await all(commands)
    results.forEach((r, i) => {
      const verb = commands[i][0]
      noStack(r)
      if (verb === 'pods') {
        assert.equal(r.code, 0, r.stderr)
        assert.ok(Array.isArray(JSON.parse(r.stdout).items), 'pods JSON parses: no torn record')
      } else if (verb === 'inspectp') {
        // The pod may be removed under it: found (0), gone (3), or nothing matched (2).
        assert.ok([0, 2, 3].includes(r.code), `inspectp: ${r.code} ${r.stderr}`)
        if (r.code === 0) JSON.parse(r.stdout)
      } else if (verb === 'rmp') {
        // rmp -f of a pod that rmp -a removed first reports "not found" (3); nothing else may fail.
        assert.ok([0, 3].includes(r.code), `rmp: ${r.code} ${r.stderr}`)
      } else {
        assert.equal(r.code, 0, `${commands[i].join(' ')}: ${r.stderr}`)
      }
    })
    env.ok(['rmp', '-af'])
    assert.equal(env.ok(['pods', '-q']), '')
    env.assertNoLeaks()
  })

  test('a lock held by a killed process is free at once; a held one times out and rolls back', async () => {
    // Hold the machine-wide CNI lock from another process, as a podctl in the middle of CNI ADD would.
    const holder = spawn(process.execPath, [
      '--input-type=module',
      '-e',
      `const {lock} = await import(${JSON.stringify(join(repoRoot, 'dist/src/runtime/lock.js'))});
       await lock('podctl/cni', {timeoutMs: 10000, what: 'test'}); console.log('locked'); setInterval(() => {}, 1000)`,
    ])
    await new Promise<void>((resolve) => holder.stdout.on('data', (d: Buffer) => d.toString().includes('locked') && resolve()))
    try {
      const blocked = env.podctl(['runp', '--timeout', '1s', env.podConfig({metadata: {name: 'blocked', namespace: 'conc'}})])
      assert.equal(blocked.code, 5, blocked.stderr)
      assert.match(blocked.stderr, /waiting for the lock on CNI: timed out after 1000 ms/)
      assert.equal(env.ok(['pods', '-q']), '', 'the timed-out runp rolled back')
      env.assertNoLeaks()
    } finally {
      holder.kill('SIGKILL')
      await new Promise((r) => holder.once('exit', r))
    }
    // The kernel freed the address with its holder: no staleness timeout. The CNI lock is
    // machine-wide, and other tests' podctl processes (run concurrently) take it for a moment
    // for their own CNI calls, so this waits for it a little, as podctl does, rather than once.
    const free = await lock('podctl/cni', {timeoutMs: 5000, what: 'CNI'})
    await free.release()
    env.runPod('after-kill', {}, 'conc')
  })

  test('runp given up while waiting for the name index leaves nothing, at once', async () => {
    // Another runp holding the name index; this one's reservation never happens, so it has nothing to release.
    const names = await tryLock(lockName(env.root, 'names'))
    assert.ok(names)
    try {
      const blocked = env.podctl(['runp', '--timeout', '1s', env.podConfig({metadata: {name: 'no-name', namespace: 'conc'}})])
      assert.equal(blocked.code, 5, blocked.stderr)
      assert.match(blocked.stderr, /waiting for the lock on the name index: timed out after 1000 ms/)
      // A rollback that waited for the lock it gave up on would time out too, and keep the pod as NotReady.
      assert.doesNotMatch(blocked.stderr, /cleanup failed/)
    } finally {
      await names.release()
    }
    assert.equal(env.ok(['pods', '-q']), '', 'the timed-out runp rolled back')
    env.assertNoLeaks()
  })
})
