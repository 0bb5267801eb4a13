// Hostile input: a name that looks like an ID, a lock another user could take,
// a record that names someone else's process. Each case checks afterwards
// that podctl acted on nothing it should not have, and that nothing is left.

import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {createHash} from 'node:crypto'
import {once} from 'node:events'
import {existsSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'

import {cniLockName, lock, lockName, tryLock} from '../../src/runtime/lock.js'
import {e2eOptions, TestEnv, which} from './harness.js'

/** Run a command as the unprivileged user nobody (uid and gid 65534, no groups). */
const asNobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups']

const hostNet = {linux: {security_context: {namespace_options: {network: 2}}}}

describe('a name never selects another pod', e2eOptions(), () => {
  let env: TestEnv
  before(() => {
    env = new TestEnv(120)
  })
  after(() => env.teardown())

  test('a hex name that is another pod\'s ID prefix is ambiguous for every verb, and removes nothing', () => {
    const victim = env.runPod('victim', hostNet)
    // Names that are prefixes of the victim's ID: one hex digit, and four.
    for (const name of [victim.slice(0, 1), victim.slice(0, 4)]) {
      const named = env.runPod(name, hostNet)
      for (const verb of [['rmp', '-f'], ['stopp'], ['inspectp'], ['statsp']]) {
        const r = env.podctl([...verb, name])
        assert.equal(r.code, 2, `${verb.join(' ')} ${name}: exit ${r.code}\n${r.stderr}`)
        assert.match(r.stderr, new RegExp(`"${name}" is ambiguous: it is the name of pod ${named.slice(0, 13)} and the ID prefix of pod ${victim.slice(0, 13)}`))
      }
      // Both still there and READY.
      const states = JSON.parse(env.ok(['pods', '-o', 'json'])).items.map((p: {id: string; state: string}) => `${p.id}:${p.state}`)
      assert.ok(states.includes(`${victim}:SANDBOX_READY`), `victim kept: ${states}`)
      assert.ok(states.includes(`${named}:SANDBOX_READY`), `named pod kept: ${states}`)
      // The full ID still names each; longer prefixes too.
      assert.equal(JSON.parse(env.ok(['inspectp', victim.slice(0, 13)])).status.id, victim)
      env.ok(['rmp', '-f', named])
    }
    // With no pod of that name left, the prefix selects the victim again.
    assert.equal(JSON.parse(env.ok(['inspectp', victim.slice(0, 4)])).status.id, victim)
    env.ok(['rmp', '-f', victim])
    env.assertNoLeaks()
  })

  test('a name that matches only its own pod, and whose pod\'s ID it prefixes, resolves', () => {
    const id = env.runPod('solo', hostNet)
    assert.equal(JSON.parse(env.ok(['inspectp', 'solo'])).status.id, id)
    env.ok(['rmp', '-f', 'solo'])
    assert.equal(env.ok(['pods', '-q']), '')
    env.assertNoLeaks()
  })
})

describe('an unprivileged user cannot block podctl\'s locks', {...e2eOptions(), skip: e2eOptions().skip ?? (which('setpriv') ? undefined : 'setpriv is not installed')}, () => {
  let env: TestEnv
  before(() => {
    env = new TestEnv(121)
  })
  after(() => env.teardown())

  test('nobody binding every lock name it can see or guess, and probing the lock directory, blocks neither runp, stopp nor rmp', async () => {
    const victim = env.runPod('victim')
    // The names a local user could take: the abstract sockets podctl's locks once were (visible
    // in /proc/net/unix while held), and anything it can make under the lock directory.
    const scope = createHash('sha256').update(env.root).digest('hex').slice(0, 16)
    const names = [`podctl/${scope}/names`, `podctl/${scope}/pod/${victim}`, 'podctl/cni']
    const script = `
      const net = require('node:net'); const fs = require('node:fs')
      const tries = []
      for (const n of JSON.parse(process.argv[1])) tries.push(new Promise((ok) => { const s = net.createServer(); s.once('error', (e) => ok(n + ': ' + e.code)); s.listen({path: '\\0' + n}, () => ok(n + ': bound')) }))
      for (const p of ['/run/podctl-locks/x', '/run/podctl-locks']) { try { fs.mkdirSync(p); tries.push(p + ': made') } catch (e) { tries.push(p + ': ' + e.code) } }
      try { fs.readdirSync('/run/podctl-locks'); tries.push('listed') } catch (e) { tries.push('list: ' + e.code) }
      Promise.all(tries).then((r) => { console.log(JSON.stringify(r)); setInterval(() => {}, 1000) })`
    const attacker = spawn(asNobody[0], [...asNobody.slice(1), process.execPath, '-e', script, JSON.stringify(names)], {stdio: ['ignore', 'pipe', 'inherit']})
    try {
      const [line] = (await once(attacker.stdout, 'data')) as [Buffer]
      const report = JSON.parse(line.toString()) as string[]
      // The abstract names are free for anyone to bind; what matters is that podctl no longer uses them.
      for (const n of names) assert.ok(report.includes(`${n}: bound`), `nobody could bind ${n}: ${report}`)
      assert.ok(report.includes('/run/podctl-locks/x: EACCES'), `${report}`)
      assert.ok(report.includes('list: EACCES'), `${report}`)
      const st = statSync('/run/podctl-locks')
      assert.equal(st.uid, 0)
      assert.equal(st.mode & 0o777, 0o700)
      // Each verb takes the name index, the pod's lock and the CNI lock; each must get them well inside its timeout.
      const second = env.ok(['--timeout', '20s', 'runp', env.podConfig({metadata: {name: 'second', namespace: 'default'}})]).trim()
      env.ok(['--timeout', '20s', 'stopp', victim])
      env.ok(['--timeout', '20s', 'rmp', victim])
      env.ok(['--timeout', '20s', 'rmp', '-f', second])
      assert.equal(env.ok(['pods', '-q']), '')
    } finally {
      attacker.kill('SIGKILL')
      await once(attacker, 'exit').catch(() => undefined)
    }
    env.assertNoLeaks()
  })

  test('a holder killed by SIGKILL frees the pod lock at once: the next rmp does not wait', () => {
    const id = env.runPod('killed-holder')
    // stopp killed right after its kill step: it held the pod's lock, and its socket file stays behind.
    const r = env.podctl(['stopp', id], {env: {PODCTL_FAULT_AT_STEP: 'stop-1'}})
    assert.notEqual(r.code, 0)
    env.ok(['--timeout', '5s', 'rmp', '-f', id])
    assert.equal(env.ok(['pods', '-q']), '')
    env.assertNoLeaks()
  })
})

describe('a record cannot aim a signal at another process', e2eOptions(), () => {
  let env: TestEnv
  before(() => {
    env = new TestEnv(122)
  })
  after(() => env.teardown())

  /** Point the pod's record at `pid`, with that process's real start time, as an edited record would. */
  function forgeRecord(id: string, pid: number): void {
    const path = join(env.root, 'pods', id, 'sandbox.json')
    const record = JSON.parse(readFileSync(path, 'utf8'))
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    record.pid = pid
    record.pidStartTime = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
    writeFileSync(path, JSON.stringify(record))
  }

  for (const verb of [['stopp'], ['rmp', '-f']]) {
    test(`${verb.join(' ')} of a pod whose record names a sleep of ours: the sleep lives, the pod's own pause is stopped`, async () => {
      const sleeper = spawn('sleep', ['1000'], {stdio: 'ignore'})
      try {
        await once(sleeper, 'spawn')
        const id = env.runPod(`forged-${verb[0]}`)
        const pause = env.inspect(id).info.pid as number
        forgeRecord(id, sleeper.pid!)
        const r = env.podctl([...verb, id])
        assert.equal(r.code, 0, r.stderr)
        assert.match(r.stderr, new RegExp(`its record names PID ${sleeper.pid}, which is not in the pod's cgroup; not signalling it`))
        // Alive, not a zombie (it is our child: a killed one would wait for us to reap it).
        assert.match(readFileSync(`/proc/${sleeper.pid}/stat`, 'utf8'), /\) [RS] /, 'the sleep was not signalled')
        // The real pause was stopped through the runtime: it is gone, or a zombie awaiting its reaper.
        const pauseStat = existsSync(`/proc/${pause}/stat`) ? readFileSync(`/proc/${pause}/stat`, 'utf8') : ') Z '
        assert.match(pauseStat, /\) [ZX] /, 'the pause is not running')
        if (verb[0] === 'stopp') env.ok(['rmp', id])
        assert.equal(env.ok(['pods', '-q']), '')
      } finally {
        sleeper.kill('SIGKILL')
        await once(sleeper, 'exit').catch(() => undefined)
      }
      env.assertNoLeaks()
    })
  }
})

describe('a config means what it says, or is refused', e2eOptions(), () => {
  let env: TestEnv
  before(() => {
    env = new TestEnv(123)
  })
  after(() => env.teardown())

  function refused(args: string[], code: number, fragment: RegExp, what: string): void {
    const r = env.podctl(args)
    assert.equal(r.code, code, `${what}: exit ${r.code}\n${r.stderr}`)
    assert.match(r.stderr, fragment, what)
    assert.doesNotMatch(r.stderr, /\n\s+at /, `${what}: no stack trace`)
  }

  test('a JSON key given twice is refused with the key, its object and its place', () => {
    const text = '{"metadata": {"name": "a", "namespace": "n",\n  "name": "b"}}'
    refused(['runp', env.podConfig(text)], 2, /is not valid JSON: duplicate key "name" in metadata \(line 2, column 3\)/, 'duplicate name')
    const labels = '{"metadata": {"name": "a", "namespace": "n"}, "labels": {"x": "1", "y": "2", "x": "3"}}'
    refused(['runp', env.podConfig(labels)], 2, /duplicate key "x" in labels \(line 1, column 78\)/, 'duplicate label')
    refused(['runp', env.podConfig('{"metadata": {"name": "a", "namespace": "n"}, "metadata": {}}')], 2, /duplicate key "metadata" \(line 1/, 'duplicate top-level key')
    assert.equal(env.ok(['pods', '-q']), '')
    env.assertNoLeaks()
  })

  test('bytes that are not UTF-8 are refused with their offset', () => {
    const head = Buffer.from('{"metadata": {"name": "a", "namespace": "n"}, "labels": {"k": "')
    const path = env.podConfig('x', 'latin1.json')
    writeFileSync(path, Buffer.concat([head, Buffer.from([0xe9]), Buffer.from('"}}')]))
    refused(['runp', path], 2, new RegExp(`is not valid UTF-8: byte 0xe9 at offset ${head.length}`), 'latin-1 byte')
    assert.equal(env.ok(['pods', '-q']), '')
    env.assertNoLeaks()
  })

  test('labels and annotations named __proto__, constructor and prototype are kept, in JSON and YAML', () => {
    const json = `{"metadata": {"name": "protos", "namespace": "n"}, "labels": {"__proto__": "p", "constructor": "c", "prototype": "t"}, "annotations": {"__proto__": "ap"}, ${JSON.stringify(hostNet).slice(1, -1)}}`
    const id = env.ok(['runp', env.podConfig(json)]).trim()
    const status = env.inspect(id).status
    // JSON.parse makes "__proto__" an own key, as the output has it.
    assert.deepEqual(Object.entries(status.labels).sort(), Object.entries(JSON.parse('{"__proto__": "p", "constructor": "c", "prototype": "t"}')).sort())
    assert.equal(Object.getOwnPropertyDescriptor(status.annotations, '__proto__')?.value, 'ap')
    // The label selector finds it by that key too.
    assert.equal(env.ok(['pods', '-q', '--label', '__proto__=p']).trim(), id)
    env.ok(['rmp', '-f', id])
    const yaml = 'metadata:\n  name: protos-yaml\n  namespace: n\nlabels:\n  __proto__: "p"\nlinux:\n  security_context:\n    namespace_options:\n      network: 2\n'
    const yid = env.ok(['runp', env.podConfig(yaml, 'protos.yaml')]).trim()
    assert.equal(Object.getOwnPropertyDescriptor(env.inspect(yid).status.labels, '__proto__')?.value, 'p')
    env.ok(['rmp', '-f', yid])
    env.assertNoLeaks()
  })

  test('a cgroup_parent with "..", "." or relative parts, or too long, is refused before anything is made', () => {
    const tag = env.cgroupParent.slice(1)
    const cases: [string, RegExp][] = [
      [`/${tag}-a/../../${tag}-escape`, /has a "\.\." component/],
      [`/${tag}-b/./c`, /has a "\." component/],
      [`${tag}-relative/x`, /is a relative path/],
      [`/${'x'.repeat(6000)}`, /is 6001 characters long; the limit is 2048/],
      [`/${'y'.repeat(300)}`, /has a component of 300 bytes; the limit is 255/],
    ]
    for (const [parent, fragment] of cases) {
      refused(['runp', env.podConfig({metadata: {name: 'cg', namespace: 'n'}, linux: {cgroup_parent: parent}})], 2, new RegExp(`linux\\.cgroup_parent: .*${fragment.source}`), parent.slice(0, 40))
    }
    assert.equal(env.ok(['pods', '-q']), '')
    // No cgroup of any of those names was made, anywhere in the hierarchy.
    const made = readdirSync('/sys/fs/cgroup').filter((d) => d.startsWith(tag))
    assert.deepEqual(made, [])
    env.assertNoLeaks()
  })

  test('a timeout of 2^31 ms or more is refused instead of firing at once', () => {
    for (const t of ['2147483648ms', '600h', '9999999999']) {
      refused(['pods', '--timeout', t], 2, /--timeout: .* is too long: the limit is 2147483647 ms \(24 days\)/, t)
    }
    env.ok(['pods', '--timeout', '596h'])
  })
})

describe('output says what is there, and only podctl speaks', e2eOptions(), () => {
  let env: TestEnv
  before(() => {
    env = new TestEnv(124)
  })
  after(() => env.teardown())

  test('names with bidi overrides, zero-width or C1 characters are refused at runp, the code point named and escaped', () => {
    const cases: [string, string][] = [
      ['evil\u202egnp.exe', 'U+202E'],
      ['a\u200bb', 'U+200B'],
      ['a\u2066b', 'U+2066'],
      ['a\u0085b', 'U+0085'],
      ['\ufeffa', 'U+FEFF'],
      ['a\u00adb', 'U+00AD'],
    ]
    for (const [name, code] of cases) {
      const r = env.podctl(['runp', env.podConfig({metadata: {name, namespace: 'n'}, ...hostNet})])
      assert.equal(r.code, 2, `${code}: ${r.stderr}`)
      assert.match(r.stderr, new RegExp(`metadata\\.name contains "\\\\u${code.slice(2).toLowerCase()}" \\(${code.replace("+", "\\+")}\\), which is not allowed in a name`))
      // The message itself carries nothing a terminal would act on.
      assert.doesNotMatch(r.stderr, /[\u0080-\u009f\u00ad\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/)
    }
    const ns = env.podctl(['runp', env.podConfig({metadata: {name: 'ok', namespace: 'n\u202e'}, ...hostNet})])
    assert.match(ns.stderr, /metadata\.namespace contains "\\u202e" \(U\+202E\)/)
    assert.equal(env.ok(['pods', '-q']), '')
    env.assertNoLeaks()
  })

  test('labels and annotations with newlines and escape sequences print escaped in tables, as they are in JSON and YAML', () => {
    const labels = {'fake\nPOD': 'x', evil: 'a\u001b[2J\u001b[31mred\rb', rtl: 'x\u202ey'}
    const id = env.ok(['runp', env.podConfig({metadata: {name: 'labelled', namespace: 'n'}, labels, annotations: {note: 'line1\nline2\tz'}, ...hostNet})]).trim()
    for (const out of [env.ok(['inspectp', '-o', 'table', id]), env.ok(['pods', '-v'])]) {
      assert.doesNotMatch(out, /[\u001b\r\u202e]/, 'no raw escape, carriage return or bidi override')
      assert.match(out, /\tevil -> a\\e\[2J\\e\[31mred\\rb\n/)
      assert.match(out, /\tfake\\nPOD -> x\n/)
      assert.match(out, /\trtl -> x\\u202ey\n/)
      assert.match(out, /\tnote -> line1\\nline2\\tz\n/)
    }
    assert.deepEqual(env.inspect(id).status.labels, labels, 'JSON keeps the values as given')
    const yaml = env.ok(['inspectp', '-o', 'yaml', id])
    assert.ok(yaml.includes('red'), yaml)
    env.ok(['rmp', '-f', id])
    env.assertNoLeaks()
  })

  test('node\'s own warnings never reach stderr', () => {
    // A warning emitted inside the process while podctl runs (a preload stands for whatever node
    // or a dependency might warn about): stderr stays podctl's.
    const preload = join(env.dir, 'warn.cjs')
    writeFileSync(
      preload,
      "const w = process.stdout.write.bind(process.stdout); process.stdout.write = (...a) => { process.emitWarning('a warning from inside node'); process.stdout.write = w; return w(...a) }\n",
    )
    const r = env.podctl(['pods'], {env: {NODE_OPTIONS: `--require ${preload}`}})
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^POD ID/)
    assert.equal(r.stderr, '')
  })

  test('a path that cannot be used is said in words with exit 2, not as errno text with exit 1', () => {
    const cases: [string[], RegExp][] = [
      [['--root', '/etc/passwd/x', 'pods'], /^error: cannot (list|create) directory "\/etc\/passwd\/x[^"]*": a part of the path is not a directory$/m],
      [['--run-root', '/etc/passwd/x', 'runp', env.podConfig({metadata: {name: 'p', namespace: 'n'}, ...hostNet})], /^error: .*cannot create directory "\/etc\/passwd\/x": a part of the path is not a directory$/m],
      [['runp', env.podConfig({metadata: {name: 'p', namespace: 'n'}, log_directory: '/etc/passwd/logs', ...hostNet})], /cannot create directory "\/etc\/passwd\/logs": a part of the path is not a directory$/m],
      [['--cni-conf-dir', '/etc/passwd', 'runp', env.podConfig({metadata: {name: 'p', namespace: 'n'}})], /cannot list directory "\/etc\/passwd": a part of the path is not a directory$/m],
    ]
    for (const [args, fragment] of cases) {
      const r = env.podctl(args)
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
      assert.match(r.stderr, fragment)
      assert.doesNotMatch(r.stderr, /ENOTDIR|scandir|rerun with --debug/)
    }
    assert.equal(env.ok(['pods', '-q']), '')
    env.assertNoLeaks()
  })

  test('two SIGINTs during runp: the rollback still finishes, and nothing is left', {timeout: 120_000}, async () => {
    // The CNI lock held here stops runp at its network step, with a record, a name and a netns made;
    // the name index held here keeps its rollback waiting, so that the second SIGINT finds it under way.
    // Waited for, not tried: another test file's runp may hold the machine-wide CNI lock for a moment.
    const cni = await lock(cniLockName, {timeoutMs: 60_000, what: 'the CNI lock, for the test'})
    let names: Awaited<ReturnType<typeof tryLock>> = null
    try {
      // --debug: the rollback logs each undo, and the second SIGINT is sent once it is under way.
      const child = env.spawn(['--debug', 'runp', env.podConfig({metadata: {name: 'interrupted', namespace: 'n'}})])
      let stderr = ''
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
      const exited = once(child, 'exit')
      const netnsDir = join(env.runRoot, 'netns')
      while (!(existsSync(netnsDir) && readdirSync(netnsDir).length > 0)) await new Promise((r) => setTimeout(r, 20))
      names = await lock(lockName(env.root, 'names'), {timeoutMs: 30_000, what: 'the test'})
      child.kill('SIGINT')
      while (!stderr.includes('undo network namespace: done') && child.exitCode === null) await new Promise((r) => setTimeout(r, 20))
      // Waiting for the name index now: its reservation is the undo left.
      child.kill('SIGINT')
      while (!stderr.includes('SIGINT again') && child.exitCode === null) await new Promise((r) => setTimeout(r, 20))
      await names.release()
      names = null
      const [code] = await exited
      assert.equal(code, 130, stderr)
      assert.match(stderr, /interrupted by SIGINT/)
      assert.match(stderr, /SIGINT again: finishing or undoing what is under way/)
    } finally {
      await names?.release()
      await cni.release()
    }
    assert.equal(env.ok(['pods', '-q']), '')
    env.assertNoLeaks()
  })
})
