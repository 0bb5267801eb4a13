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
