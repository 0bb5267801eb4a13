import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {once} from 'node:events'
import {existsSync, readdirSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, test} from 'node:test'

import {ExitCode, PodctlError} from '../../../src/runtime/errors.js'
import {lock, lockName, lockRoot, tryLock, withLock} from '../../../src/runtime/lock.js'

/** A lock name no other test (or test run) uses. */
const fresh = () => lockName(`/unit-test/${process.pid}`, randomBytes(8).toString('hex'))

describe('lock', () => {
  test('tryLock twice in one process: the second is null', async () => {
    const name = fresh()
    const first = await tryLock(name)
    assert.ok(first)
    assert.equal(await tryLock(name), null)
    await first.release()
  })

  test('released, the lock can be taken again', async () => {
    const name = fresh()
    const first = await tryLock(name)
    await first?.release()
    const again = await tryLock(name)
    assert.ok(again)
    assert.equal(again.name, name)
    await again.release()
  })

  test('different names do not contend', async () => {
    const [a, b] = await Promise.all([tryLock(fresh()), tryLock(fresh())])
    assert.ok(a && b)
    await Promise.all([a.release(), b.release()])
  })

  test('lock waits for a release', async () => {
    const name = fresh()
    const held = await tryLock(name)
    setTimeout(() => void held?.release(), 50)
    const started = Date.now()
    const got = await lock(name, {timeoutMs: 5000, what: 'the test'})
    assert.ok(Date.now() - started >= 40)
    await got.release()
  })

  test('lock gives up after the timeout with a clear error', async () => {
    const name = fresh()
    const held = await tryLock(name)
    const started = Date.now()
    await assert.rejects(lock(name, {timeoutMs: 150, what: 'the test'}), (err: unknown) => {
      assert.ok(err instanceof PodctlError)
      assert.equal(err.message, 'timed out after 150 ms waiting for the lock on the test')
      assert.ok(err.hint?.includes('--timeout'))
      return true
    })
    const elapsed = Date.now() - started
    assert.ok(elapsed >= 150 && elapsed < 2000, `gave up after ${elapsed} ms`)
    await held?.release()
  })

  test('a lock timeout exits with the --timeout exit code', async () => {
    const name = fresh()
    const held = await tryLock(name)
    await assert.rejects(lock(name, {timeoutMs: 20, what: 'x'}), (err: unknown) => err instanceof PodctlError && err.exitCode === ExitCode.timeout)
    await held?.release()
  })

  test('an aborted signal ends the wait with its reason', async () => {
    const name = fresh()
    const held = await tryLock(name)
    const controller = new AbortController()
    setTimeout(() => controller.abort(new Error('interrupted')), 30)
    await assert.rejects(lock(name, {timeoutMs: 10_000, signal: controller.signal, what: 'x'}), /interrupted/)
    await held?.release()
  })

  test('withLock releases after the function, even when it throws', async () => {
    const name = fresh()
    await assert.rejects(withLock(name, {timeoutMs: 100, what: 'x'}, async () => { throw new Error('boom') }), /boom/)
    assert.equal(await withLock(name, {timeoutMs: 100, what: 'x'}, async () => 42), 42)
    const free = await tryLock(name)
    assert.ok(free)
    await free.release()
  })

  test('lockName is scoped by root', () => {
    assert.notEqual(lockName('/a', 'pod', 'x'), lockName('/b', 'pod', 'x'))
    assert.equal(lockName('/a', 'pod', 'x'), lockName('/a', 'pod', 'x'))
  })

  test('a long name works (its directory is a hash of it)', async () => {
    const name = lockName('/'.repeat(4096), 'pod', 'f'.repeat(64), randomBytes(8).toString('hex'))
    const held = await tryLock(name)
    assert.ok(held)
    assert.equal(await tryLock(name), null)
    await held.discard()
  })

  test('the lock directory is a root-owned 0700 directory', async () => {
    const held = await tryLock(fresh())
    const st = statSync(lockRoot)
    assert.equal(st.uid, 0)
    assert.equal(st.mode & 0o777, 0o700)
    await held?.discard()
  })

  test('discard removes the lock\'s directory; the name can be locked again', async () => {
    const name = fresh()
    const before = new Set(readdirSync(lockRoot))
    const held = await tryLock(name)
    const made = readdirSync(lockRoot).filter((d) => !before.has(d))
    assert.equal(made.length, 1)
    await held?.discard()
    assert.ok(!existsSync(join(lockRoot, made[0])))
    const again = await tryLock(name)
    assert.ok(again)
    await again.discard()
  })

  test('many processes contending, some killed while holding: never two holders at once', {timeout: 120_000}, async () => {
    const name = fresh()
    const marker = join(tmpdir(), `lock-race-${process.pid}-${randomBytes(4).toString('hex')}`)
    const module = new URL('../../../src/runtime/lock.js', import.meta.url).href
    // A holder makes the marker with O_EXCL (a second holder's would fail), keeps it a moment, removes it.
    // A "killer" takes the lock and dies by SIGKILL holding it: its stale socket is what the others recover from.
    const script = `
      import {openSync, closeSync, unlinkSync, constants} from 'node:fs'
      const m = await import(process.argv[1]); const [, , name, marker, mode, rounds] = process.argv
      let overlaps = 0, held = 0
      for (let i = 0; i < Number(rounds); i++) {
        const l = await m.lock(name, {timeoutMs: 60000, what: 'race'})
        if (mode === 'killer') process.kill(process.pid, 'SIGKILL')
        try { closeSync(openSync(marker, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY)) } catch { overlaps++ }
        held++
        // A moment in the critical section (not a timing assertion: it widens the window a second holder would need).
        await new Promise((r) => setTimeout(r, 2))
        try { unlinkSync(marker) } catch {}
        await l.release()
      }
      console.log(JSON.stringify({overlaps, held}))`
    const workers = 10
    const rounds = 40
    const run = (mode: string) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script, module, name, marker, mode, String(rounds)], {stdio: ['ignore', 'pipe', 'inherit']})
      let out = ''
      child.stdout.on('data', (d: Buffer) => (out += d.toString()))
      return once(child, 'exit').then(([code, signal]) => ({code, signal, out}))
    }
    const results = await Promise.all([...Array.from({length: workers}, () => run('holder')), ...Array.from({length: 6}, () => run('killer'))])
    let overlaps = 0
    let held = 0
    for (const r of results.slice(0, workers)) {
      assert.equal(r.code, 0, `a holder failed: ${r.signal} ${r.out}`)
      const counts = JSON.parse(r.out) as {overlaps: number; held: number}
      overlaps += counts.overlaps
      held += counts.held
    }
    for (const r of results.slice(workers)) assert.equal(r.signal, 'SIGKILL', 'each killer died holding the lock')
    assert.equal(held, workers * rounds)
    assert.equal(overlaps, 0, 'two processes held the lock at once')
    const last = await tryLock(name)
    assert.ok(last, 'free at the end')
    await last.discard()
  })

  test('a lock held by a SIGKILLed process is free immediately', {timeout: 15_000}, async () => {
    const name = fresh()
    const module = new URL('../../../src/runtime/lock.js', import.meta.url).href
    const script = `const m = await import(process.argv[1]); const l = await m.tryLock(process.argv[2]); console.log(l ? 'locked' : 'busy'); setInterval(() => {}, 1000)`
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, module, name], {stdio: ['ignore', 'pipe', 'inherit']})
    try {
      const [line] = (await once(child.stdout, 'data')) as [Buffer]
      assert.equal(line.toString().trim(), 'locked')
      assert.equal(await tryLock(name), null, 'held by the child')
      const exited = once(child, 'exit')
      child.kill('SIGKILL')
      const [, signal] = await exited
      assert.equal(signal, 'SIGKILL')
      const mine = await tryLock(name)
      assert.ok(mine, 'free right after the holder died')
      await mine.release()
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    }
  })
})
