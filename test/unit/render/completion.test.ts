// The completion scripts, made from the built oclif.manifest.json: valid in
// their shell, and (bash, driven as readline would) completing verbs, flags
// and flag values. Pods are completed in test/e2e/scripting.test.ts, where pods exist.
// zsh and fish are installed by scripts/setup-host.sh; where they are absent
// (a developer machine), their checks are skipped with the reason printed.

import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, test} from 'node:test'
import {fileURLToPath} from 'node:url'

import {bashCompletion, completionModel, fishCompletion, type ManifestCommand, zshCompletion} from '../../../src/render/completion.js'
import {tempDir} from '../helpers.js'

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url))
const manifest = JSON.parse(readFileSync(join(repoRoot, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, ManifestCommand>}
const model = completionModel(Object.values(manifest.commands))
const dir = tempDir('podctl-completion-')
const scripts = {bash: bashCompletion('podctl', model), zsh: zshCompletion('podctl', model), fish: fishCompletion('podctl', model)}
for (const [shell, text] of Object.entries(scripts)) writeFileSync(join(dir, `podctl.${shell}`), text)

const has = (shell: string) => spawnSync('sh', ['-c', `command -v ${shell}`]).status === 0

describe('completion scripts are valid in their shell', () => {
  for (const shell of ['bash', 'zsh', 'fish'] as const) {
    test(`${shell} -n`, (t) => {
      if (!has(shell)) {
        if (shell === 'bash' || process.env.CI === 'true') assert.fail(`${shell} is not installed (scripts/setup-host.sh installs it)`)
        // Optional on a developer machine; scripts/setup-host.sh installs them for CI.
        const reason = `${shell} is not installed (apt-get install ${shell}); its script is not checked`
        console.log(`# skipped: ${reason}`)
        return t.skip(reason)
      }
      const r = spawnSync(shell, ['-n', join(dir, `podctl.${shell}`)], {encoding: 'utf8'})
      assert.equal(r.status, 0, `${shell} -n: ${r.stderr}`)
      assert.equal(r.stderr, '')
    })
  }
})

/** What bash's _podctl offers for a command line; the last word is the one being completed. */
function complete(...words: string[]): string[] {
  const r = spawnSync('bash', ['--norc', '--noprofile', '-c', 'source "$0"; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _podctl; printf "%s\\n" "${COMPREPLY[@]}"', join(dir, 'podctl.bash'), ...words], {
    encoding: 'utf8',
    cwd: dir,
    // No podctl on PATH: completing a pod finds nothing, silently.
    env: {PATH: '/usr/bin:/bin'},
  })
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stderr, '', 'completion wrote to stderr')
  return r.stdout.split('\n').filter(Boolean).sort()
}

describe('bash completion completes', () => {
  const verbs = Object.values(manifest.commands)
    .filter((c) => !c.hidden && !c.id.includes(':'))
    .map((c) => c.id)
    .sort()
  const cases: {line: string[]; want: string[] | ((got: string[]) => void)}[] = [
    {line: ['podctl', ''], want: verbs},
    {line: ['podctl', 'st'], want: ['start', 'stats', 'statsp', 'stop', 'stopp']},
    {line: ['podctl', 'pods', '--no'], want: ['--no-trunc']},
    {line: ['podctl', 'pods', '--name'], want: ['--name', '--name-exact', '--namespace', '--namespace-exact']},
    {line: ['podctl', 'rmp', '-'], want: (got) => ['-a', '--all', '-f', '--force', '--root', '--debug'].forEach((f) => assert.ok(got.includes(f), `${f} in ${got}`))},
    {line: ['podctl', 'pods', '-o', ''], want: ['go-template', 'json', 'table', 'yaml']},
    {line: ['podctl', 'pods', '--output', 'y'], want: ['yaml']},
    {line: ['podctl', 'inspectp', '--output', '=', 'go'], want: ['go-template']},
    {line: ['podctl', 'pods', '--state', ''], want: ['notready', 'ready']},
    {line: ['podctl', 'pods', '--name', ''], want: []},
    {line: ['podctl', 'runp', 'jsons'], want: ['jsonschema']},
    {line: ['podctl', 'runp', 'podctl.b'], want: ['podctl.bash']},
    {line: ['podctl', 'gc', '--config', 'podctl.f'], want: ['podctl.fish']},
    {line: ['podctl', 'stopp', ''], want: []},
    {line: ['podctl', 'nosuchverb', ''], want: []},
    {line: ['podctl', 'completion', ''], want: ['bash', 'fish', 'zsh']},
    {line: ['podctl', 'config', '--get', 'default-n'], want: ['default-network', 'default-network.bridge', 'default-network.name', 'default-network.subnet']},
  ]
  for (const c of cases) {
    test(JSON.stringify(c.line.slice(1)), () => {
      const got = complete(...c.line)
      if (typeof c.want === 'function') c.want(got)
      else assert.deepEqual(got, c.want)
    })
  }

  test('every flag of every verb is offered after "-"', () => {
    for (const cmd of Object.values(manifest.commands).filter((c) => !c.hidden && !c.id.includes(':'))) {
      const got = complete('podctl', cmd.id, '-')
      for (const f of Object.values(cmd.flags).filter((x) => !x.hidden)) assert.ok(got.includes(`--${f.name}`), `${cmd.id}: --${f.name} not offered`)
    }
  })
})

describe('fish completion completes', () => {
  /** What fish offers for a command line (`complete -C`), the candidates without their descriptions. */
  function fishComplete(line: string): {words: string[]; stderr: string} {
    const r = spawnSync('fish', ['--no-config', '-c', 'source $argv[1]; complete -C $argv[2]', join(dir, 'podctl.fish'), line], {
      encoding: 'utf8',
      cwd: dir,
      env: {PATH: '/usr/bin:/bin', HOME: dir},
    })
    assert.equal(r.status, 0, r.stderr)
    return {words: r.stdout.split('\n').filter(Boolean).map((l) => l.split('\t')[0]).sort(), stderr: r.stderr}
  }
  const cases: [string, string[]][] = [
    ['podctl ins', ['inspect', 'inspecti', 'inspectp']],
    ['podctl pods --exi', ['--exit-code']],
    ['podctl pods -o ', ['go-template', 'json', 'table', 'yaml']],
    ['podctl pods --state ', ['notready', 'ready']],
    ['podctl runp js', ['jsonschema']],
    ['podctl stopp --ro', ['--root']],
    ['podctl stopp ', []],
    ['podctl completion ', ['bash', 'fish', 'zsh']],
    ['podctl config --get run', ['run-root', 'runtime-endpoint', 'runtimes']],
  ]
  for (const [line, want] of cases) {
    test(JSON.stringify(line), (t) => {
      if (!has('fish')) {
        if (process.env.CI === 'true') assert.fail('fish is not installed (scripts/setup-host.sh installs it)')
        console.log('# skipped: fish is not installed')
        return t.skip('fish is not installed')
      }
      const got = fishComplete(line)
      assert.deepEqual(got.words, want)
      assert.equal(got.stderr, '', 'completion wrote to stderr')
    })
  }
})

describe('zsh completion completes', () => {
  // compsys is not loaded: its functions are stubbed to print what they were given,
  // so the test sees what _podctl offers before zsh filters it by the typed prefix.
  const stubs = [
    'compdef() { : }',
    '_files() { print -- "<files>" }',
    'compadd() { if [[ $1 == -a ]]; then print -l -- "${(@P)2}"; else [[ $1 == -- ]] && shift; print -l -- "$@"; fi }',
    '_describe() { local e; for e in "${(@P)${@[-1]}}"; do print -- "${e%%:*}"; done }',
  ].join('\n')
  function zshComplete(...words: string[]): string[] {
    const r = spawnSync('zsh', ['-f', '-c', `${stubs}\nsource $1; shift; words=("$@"); CURRENT=$#; _podctl`, 'zsh', join(dir, 'podctl.zsh'), ...words], {
      encoding: 'utf8',
      cwd: dir,
      // No podctl on PATH: completing a pod finds nothing, silently.
      env: {PATH: '/usr/bin:/bin', HOME: dir},
    })
    assert.equal(r.status, 0, r.stderr)
    assert.equal(r.stderr, '', 'completion wrote to stderr')
    return r.stdout.split('\n').filter(Boolean).sort()
  }
  const verbs = Object.values(manifest.commands)
    .filter((c) => !c.hidden && !c.id.includes(':'))
    .map((c) => c.id)
    .sort()
  const cases: [string[], (got: string[]) => void][] = [
    [['podctl', 'ins'], (got) => assert.deepEqual(got, verbs)],
    [['podctl', 'pods', '-o', ''], (got) => assert.deepEqual(got, ['go-template', 'json', 'table', 'yaml'])],
    [['podctl', 'pods', '--state', ''], (got) => assert.deepEqual(got, ['notready', 'ready'])],
    [['podctl', 'pods', '--ex'], (got) => assert.ok(got.includes('--exit-code') && got.includes('--root') && !got.includes('--force'), got.join(' '))],
    [['podctl', 'runp', ''], (got) => assert.deepEqual(got, ['<files>', 'jsonschema'])],
    [['podctl', 'stopp', '--root', ''], (got) => assert.deepEqual(got, ['<files>'])],
    [['podctl', 'stopp', ''], (got) => assert.deepEqual(got, [])],
    [['podctl', 'completion', ''], (got) => assert.deepEqual(got, ['bash', 'fish', 'zsh'])],
    [['podctl', 'config', '--get', ''], (got) => assert.ok(got.includes('root') && got.includes('default-network.subnet'), got.join(' '))],
  ]
  for (const [words, check] of cases) {
    test(JSON.stringify(words.join(' ')), (t) => {
      if (!has('zsh')) {
        if (process.env.CI === 'true') assert.fail('zsh is not installed (scripts/setup-host.sh installs it)')
        console.log('# skipped: zsh is not installed')
        return t.skip('zsh is not installed')
      }
      check(zshComplete(...words))
    })
  }
})
