// What scripts and people at a terminal get, on real pods: Go templates,
// pods --exit-code and --name-exact, missing arguments, shell completion of
// live pods, colours and rmp's progress only on a terminal (driven through a
// pseudo-terminal with script(1) from util-linux), and "… ago" times.

import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdirSync, readFileSync, symlinkSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {after, before, describe, test} from 'node:test'

import {e2eOptions, podctlBin, repoRoot, type Result, startPaths, TestEnv, which} from './harness.js'

const hostNet = {linux: {security_context: {namespace_options: {network: 'NODE'}}}}

describe('scripting and terminals', e2eOptions(), () => {
  let env: TestEnv
  const ids: Record<string, string> = {}
  before(() => {
    if (!which('script')) throw new Error('script is not installed (apt-get install util-linux)')
    env = new TestEnv(85)
    // One pod on the network, for its IP; the others on the host's, to be quick.
    ids.web = env.runPod('sc-web', {labels: {app: 'web', tier: 'front'}})
    ids.web2 = env.runPod('sc-web-2', {...hostNet, labels: {app: 'web'}})
    ids.db = env.runPod('sc-db', hostNet, 'other')
    env.ok(['stopp', ids.db])
  })
  after(() => env.teardown())

  /** The environment of env without NO_COLOR, for the terminal cases. */
  const colourEnv = (extra: Record<string, string> = {}) => {
    const {NO_COLOR: _drop, ...rest} = env.env()
    return {...rest, TERM: 'xterm', ...extra}
  }

  /** podctl run in a pseudo-terminal (stdout and stderr both on it); the text it showed. */
  function onTerminal(args: string[], extraEnv: Record<string, string> = {}): Result {
    const line = [podctlBin, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')
    const r = spawnSync('script', ['-qec', line, '/dev/null'], {env: colourEnv(extraEnv), encoding: 'utf8', timeout: 120_000})
    return {code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? ''}
  }

  test('inspectp -o go-template: the example of crictl, one result per pod', () => {
    const ip = env.inspect(ids.web).status.network.ip
    assert.match(ip, new RegExp(`^${env.subnetPrefix.replace(/\./g, '\\.')}\\.\\d+$`))
    assert.equal(env.ok(['inspectp', '-o', 'go-template', '--template', '{{.status.network.ip}}', ids.web]), `${ip}\n`)
    const two = env.ok(['inspectp', '-o', 'go-template', '--template', '{{.status.metadata.name}} {{.info.pid}}', ids.web, ids.web2.slice(0, 8)])
    const lines = two.trim().split('\n')
    assert.equal(lines.length, 2)
    assert.match(lines[0], /^sc-web \d+$/)
    assert.match(lines[1], /^sc-web-2 \d+$/)
    // A map as Go prints it, ranges with variables, functions.
    assert.equal(env.ok(['inspectp', '-o', 'go-template', '--template', '{{.status.labels}}', ids.web]), 'map[app:web tier:front]\n')
    const t = '{{range $k, $v := .status.labels}}{{upper $k}}={{$v}};{{end}} {{json .status.metadata.namespace}} {{if eq .status.state "SANDBOX_READY"}}up{{else}}down{{end}}'
    assert.equal(env.ok(['inspectp', '-o', 'go-template', '--template', t, 'sc-web']), 'APP=web;TIER=front; "default" up\n')
    // With no IDs, the filters select the pods: each gets the template.
    assert.equal(env.ok(['inspectp', '--namespace-exact', 'other', '-o', 'go-template', '--template', '{{lower .status.state}}']), 'sandbox_notready\n')
  })

  test('pods -o go-template runs on the {"items": [...]} object', () => {
    const t = '{{range .items}}{{.metadata.name}} {{.id}}\n{{end}}'
    assert.equal(env.ok(['pods', '-o', 'go-template', '--template', t]), `sc-db ${ids.db}\nsc-web-2 ${ids.web2}\nsc-web ${ids.web}\n`)
    assert.equal(env.ok(['pods', '--state', 'ready', '-o', 'go-template', '--template', '{{len .items}}']), '2\n')
    // Nothing printed for an empty result, not even a newline.
    assert.equal(env.ok(['pods', '--name', 'nothing-like-it', '-o', 'go-template', '--template', '{{range .items}}{{.id}}{{end}}']), '')
  })

  test('a bad template is a usage error: exit 2, one line naming the position, no stack', () => {
    for (const [args, pos] of [
      [['pods', '-o', 'go-template', '--template', '{{range .items}}'], '1:3'],
      [['inspectp', '-o', 'go-template', '--template', 'ip: {{.status.nosuch}}', ids.web], '1:7'],
      [['inspectp', '-o', 'go-template', '--template', '{{.status.id | nofunc}}', ids.web], '1:16'],
    ] as const) {
      const r = env.podctl([...args])
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
      assert.equal(r.stdout, '')
      const [first, ...rest] = r.stderr.trim().split('\n')
      assert.match(first, new RegExp(`^error: template: ${pos}: `))
      assert.ok(rest.every((l) => l.startsWith('hint:')), r.stderr)
    }
    const without = env.podctl(['pods', '-o', 'go-template'])
    assert.equal(without.code, 2)
    assert.match(without.stderr, /^error: -o go-template needs --template\n/)
    const alone = env.podctl(['inspectp', '--template', '{{.}}', ids.web])
    assert.equal(alone.code, 2)
    assert.match(alone.stderr, /^error: --template is only used with -o go-template\n/)
  })

  test('pods --exit-code: 6 when nothing matches, 0 otherwise; without it an empty list is 0', () => {
    assert.equal(env.podctl(['pods', '-q', '--name-exact', 'nope', '--exit-code']).code, 6)
    assert.equal(env.podctl(['pods', '--state', 'notready', '--namespace-exact', 'default', '--exit-code']).code, 6)
    const none = env.podctl(['pods', '-q', '--name-exact', 'nope'])
    assert.deepEqual([none.code, none.stdout, none.stderr], [0, '', ''])
    const some = env.podctl(['pods', '-q', '--name-exact', 'sc-web', '--exit-code'])
    assert.deepEqual([some.code, some.stdout], [0, `${ids.web}\n`])
    // The output does not change with --exit-code: the table still has its header.
    const table = env.podctl(['pods', '--label', 'app=none', '--exit-code'])
    assert.equal(table.code, 6)
    assert.match(table.stdout, /^POD ID\s+CREATED/)
    assert.match(env.ok(['pods', '--help']), /EXIT STATUS[\s\S]*\n\s*6\s+pods --exit-code/)
  })

  test('--name-exact matches the whole name; --name stays an unanchored regex', () => {
    const q = (...args: string[]) => env.ok(['pods', '-q', ...args]).split('\n').filter(Boolean)
    assert.deepEqual(q('--name', 'sc-web'), [ids.web2, ids.web])
    assert.deepEqual(q('--name-exact', 'sc-web'), [ids.web])
    assert.deepEqual(q('--name-exact', 'sc-web.'), [])
    assert.deepEqual(q('--namespace-exact', 'other'), [ids.db])
    assert.deepEqual(env.ok(['inspectp', '-q', '--name-exact', 'sc-web-2', '-o', 'go-template', '--template', '{{.status.id}}']), `${ids.web2}\n`)
    const both = env.podctl(['pods', '--name', 'a', '--name-exact', 'a'])
    assert.equal(both.code, 2)
    assert.match(both.stderr, /^error: --name and --name-exact cannot be used together\n/)
  })

  test('missing required arguments exit 2 with one error line, on every verb that needs one', () => {
    const manifest = JSON.parse(readFileSync(join(repoRoot, 'oclif.manifest.json'), 'utf8')) as {
      commands: Record<string, {id: string; args: Record<string, {required?: boolean}>}>
    }
    const needy = Object.values(manifest.commands)
      .filter((c) => Object.values(c.args ?? {}).some((a) => a.required))
      .map((c) => c.id.split(':'))
    // Verbs whose argument is required in their own terms: rmp (IDs or -a), completion (the shell),
    // config (one of --get, --set, --list), inspectp when the filters find nothing.
    const own = [['rmp'], ['completion'], ['config'], ['inspectp', '--name-exact', 'nope']]
    assert.ok(needy.some((c) => c[0] === 'stopp') && needy.some((c) => c[0] === 'runp'), `verbs with required args: ${needy.join(' ')}`)
    for (const args of [...needy, ...own]) {
      for (const lean of [true, false]) {
        const r = env.podctl(args, {env: lean ? {} : startPaths.oclif})
        assert.equal(r.code, 2, `podctl ${args.join(' ')} exited ${r.code}: ${r.stderr}`)
        assert.equal(r.stdout, '', `podctl ${args.join(' ')} wrote to stdout`)
        assert.match(r.stderr, /^error: [^\n]+\n(hint: [^\n]+\n)?$/, `podctl ${args.join(' ')}: ${r.stderr}`)
      }
    }
  })

  test('every verb documents its exit codes in --help', () => {
    const manifest = JSON.parse(readFileSync(join(repoRoot, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, {id: string; hidden?: boolean}>}
    for (const cmd of Object.values(manifest.commands).filter((c) => !c.hidden)) {
      const help = env.ok([...cmd.id.split(':'), '--help'])
      assert.match(help, /EXIT STATUS\n\s*0\s+success\n\s*1\s+[^\n]+\n\s*2\s+bad input/, `${cmd.id} --help has no EXIT STATUS`)
    }
  })

  test('the new flags and verbs give the same output on the lean path and through oclif', () => {
    for (const args of [
      ['pods', '-o', 'go-template', '--template', '{{range .items}}{{.metadata.name}},{{end}}'],
      ['pods', '-q', '--name-exact', 'nope', '--exit-code'],
      ['pods', '--template', '{{.}}'],
      ['inspectp', '-q', '-o', 'go-template', '--template', '{{.status.metadata.name}}', ids.web],
      ['inspectp', '-o', 'go-template', '--template', '{{if}}', ids.web],
      ['completion', 'bash'],
      ['completion', 'fish'],
      ['completion', 'tcsh'],
      ['completion', '--list-pods'],
    ]) {
      assert.deepEqual(env.podctl(args), env.podctl(args, {env: startPaths.oclif}), `podctl ${args.join(' ')}`)
    }
  })

  describe('shell completion', () => {
    let pathDir: string
    let script: string
    before(() => {
      // `podctl` on PATH, as an installed one would be: the script runs it to list pods.
      pathDir = join(env.dir, 'bin')
      mkdirSync(pathDir, {recursive: true})
      symlinkSync(podctlBin, join(pathDir, 'podctl'))
      script = join(env.dir, 'podctl.bash')
      writeFileSync(script, env.ok(['completion', 'bash']))
    })

    /** What bash's _podctl offers for a command line (the last word is being completed), and what it wrote to stderr. */
    function complete(words: string[], extraEnv: Record<string, string> = {}): {words: string[]; stderr: string} {
      const r = spawnSync('bash', ['--norc', '--noprofile', '-c', 'source "$0"; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _podctl; printf "%s\\n" "${COMPREPLY[@]}"', script, ...words], {
        encoding: 'utf8',
        env: {...env.env(extraEnv), PATH: `${pathDir}:${dirname(process.execPath)}:/usr/sbin:/usr/bin:/sbin:/bin`},
      })
      assert.equal(r.status, 0, r.stderr)
      return {words: r.stdout.split('\n').filter(Boolean).sort(), stderr: r.stderr}
    }

    test('bash completes verbs and flags', () => {
      assert.deepEqual(complete(['podctl', 'ins']).words, ['inspect', 'inspecti', 'inspectp'])
      assert.deepEqual(complete(['podctl', 'pods', '--exit']).words, ['--exit-code'])
      assert.deepEqual(complete(['podctl', 'inspectp', '-o', 'go']).words, ['go-template'])
    })

    test('bash completes a live pod ID and name where a pod is expected, silently', () => {
      const byId = complete(['podctl', 'stopp', ids.web.slice(0, 6)])
      assert.deepEqual(byId.words, [ids.web])
      assert.equal(byId.stderr, '')
      assert.deepEqual(complete(['podctl', 'inspectp', 'sc-web']).words, ['sc-web', 'sc-web-2'])
      assert.deepEqual(complete(['podctl', 'rmp', '-f', 'sc-d']).words, ['sc-db'])
      assert.deepEqual(complete(['podctl', 'pods', '--id', ids.db.slice(0, 5)]).words, [ids.db])
    })

    test('a broken environment completes nothing and prints nothing', () => {
      const broken = complete(['podctl', 'stopp', ''], {PODCTL_CONFIG: join(env.dir, 'no-such-config.yaml')})
      assert.deepEqual(broken, {words: [], stderr: ''})
    })

    test('zsh and fish accept their scripts (skipped with a reason where absent, outside CI)', (t) => {
      for (const shell of ['zsh', 'fish']) {
        if (!which(shell)) {
          // scripts/setup-host.sh installs both: missing under CI is a failure.
          if (process.env.CI === 'true') assert.fail(`${shell} is not installed (scripts/setup-host.sh installs it)`)
          console.log(`# skipped: ${shell} is not installed`)
          t.diagnostic(`${shell} is not installed: skipped`)
          continue
        }
        const file = join(env.dir, `podctl.${shell}`)
        writeFileSync(file, env.ok(['completion', shell]))
        const r = spawnSync(shell, ['-n', file], {encoding: 'utf8'})
        assert.equal(r.status, 0, `${shell} -n: ${r.stderr}`)
      }
    })
  })

  test('pods: CREATED as "… ago"; state colours only on a terminal without NO_COLOR', () => {
    const piped = env.ok(['pods'])
    assert.doesNotMatch(piped, /\u001b\[/)
    const row = piped.split('\n').find((l) => l.startsWith(ids.web.slice(0, 13)))
    assert.match(row ?? '', /^\w{13}\s+(Less than a second|\d+ seconds|About a minute|\d+ minutes) ago\s+Ready\s+sc-web\s/)
    const tty = onTerminal(['pods'])
    assert.equal(tty.code, 0, tty.stdout)
    assert.match(tty.stdout, /\u001b\[32mReady\u001b\[39m/)
    assert.match(tty.stdout, /\u001b\[33mNotReady\u001b\[39m/)
    const noColor = onTerminal(['pods'], {NO_COLOR: '1'})
    assert.equal(noColor.code, 0)
    assert.doesNotMatch(noColor.stdout, /\u001b\[/)
    assert.match(noColor.stdout, /NotReady/)
    // Piped, even without NO_COLOR.
    const r = spawnSync(podctlBin, ['pods'], {env: colourEnv(), encoding: 'utf8'})
    assert.doesNotMatch(r.stdout, /\u001b\[/)
  })

  test('rmp -a: no progress when piped; a progress line on a terminal', () => {
    const extra = () => ['p1', 'p2', 'p3'].map((n) => env.runPod(`sc-rm-${n}`, hostNet))
    // Removes this file's other pods too: this test runs last.
    extra()
    const piped = spawnSync(podctlBin, ['rmp', '-af'], {env: colourEnv(), encoding: 'utf8'})
    assert.equal(piped.status, 0, piped.stderr)
    assert.equal(piped.stderr, '')
    assert.equal(piped.stdout.split('\n').filter((l) => l.startsWith('Removed sandbox')).length, 6)
    assert.doesNotMatch(piped.stdout, /removing pod|\u001b/)

    const made = extra()
    const tty = onTerminal(['rmp', '-af'])
    assert.equal(tty.code, 0, tty.stdout)
    for (let i = 1; i <= 3; i++) assert.ok(tty.stdout.includes(`removing pod ${i} of 3: `), JSON.stringify(tty.stdout))
    // Each progress line is erased before the data lines that follow it (-f: "Stopped", then "Removed").
    for (const id of made) assert.ok(tty.stdout.includes(`\r\u001b[KStopped sandbox ${id}\r\nRemoved sandbox ${id}`), JSON.stringify(tty.stdout))
    assert.deepEqual(env.ok(['pods', '-q']), '')
    env.assertNoLeaks()
  })

  test('a reader that is gone before the output (| true, as | head -1 after its line) is no error, and rmp -af still removes every pod', () => {
    const made = ['h1', 'h2', 'h3'].map((n) => env.runPod(`sc-head-${n}`, hostNet))
    const pipe = (args: string) => spawnSync('bash', ['-c', `"${podctlBin}" ${args} | true; exit \${PIPESTATUS[0]}`], {env: env.env(), encoding: 'utf8'})
    for (const args of ['pods', 'pods -o json', 'inspectp -q sc-head-h1 sc-head-h2 sc-head-h3']) {
      const r = pipe(args)
      assert.equal(r.status, 0, `${args}: ${r.stderr}`)
      assert.equal(r.stderr, '', `${args}: nothing on stderr (no EPIPE stack)`)
    }
    const rm = pipe('rmp -af')
    assert.equal(rm.status, 0, rm.stderr)
    assert.deepEqual(env.ok(['pods', '-q']), '')
    for (const id of made) assert.equal(env.podctl(['inspectp', id]).code, 3)
    env.assertNoLeaks()
  })
})
