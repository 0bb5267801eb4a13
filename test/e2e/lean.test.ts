// The three ways podctl starts must agree: same stdout, stderr and exit code
// for the same command line — node from the start-up snapshot (bin/podctl),
// the lean path (bin/run.js without oclif) and oclif's own.

import assert from 'node:assert/strict'
import {copyFileSync, mkdirSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'

import {e2eOptions, podctlBin, repoRoot, startPaths, TestEnv} from './harness.js'

describe('lean path parity', e2eOptions(), () => {
  let env: TestEnv
  let ids: string[]
  before(() => {
    env = new TestEnv(71)
    const hostNet = {linux: {security_context: {namespace_options: {network: 'NODE'}}}}
    ids = [env.runPod('lean-a', {...hostNet, labels: {app: 'x'}}), env.runPod('lean-b', hostNet)]
  })
  after(() => env.teardown())

  test('every verb gives the same output either way', () => {
    const lines: string[][] = [
      ['pods', '-q'],
      ['pods', '-o', 'json'],
      ['pods', '-o=yaml', '--label', 'app=x'],
      ['pods', '-v', '--no-trunc'],
      ['pods', '-qs', 'ready', '-n', '1'],
      ['pods', '--name', '^lean-b$', '-q'],
      ['pods', '-n', 'x'],
      ['pods', '--state', 'up'],
      ['inspectp', '-q', ids[0]],
      ['inspectp', '-o', 'table', '-q', ids[1].slice(0, 6)],
      ['inspectp', 'no-such-pod'],
      ['inspectp', '-q', '--namespace', 'default'],
      ['stopp', 'ffffffffffff'],
      ['rmp', 'ffffffffffff'],
      ['runp', env.podConfig('{"metadata": {}}', 'bad.json')],
      ['runp'],
      ['gc', '--dry-run'],
      ['config', '--list'],
      ['config', '--list', '-o', 'yaml', '--root', '/srv/podctl'],
      ['config', '--get', 'default-network.subnet'],
      ['config', '--get', 'default-network.subnt'],
      ['config'],
      ['config', '--set', 'bogus=1'],
      ['info'],
      ['info', '-o', 'yaml', '--cni-bin-dir', '/nonexistent'],
      ['version'],
      ['version', '-o', 'json'],
      ['runp', 'jsonschema'],
      ['runp', 'js'],
      // bin/podctl answers these from the snapshot's stamp, without node
      ['--version'],
      ['-v'],
    ]
    for (const args of lines) {
      const snapshot = env.podctl(args)
      const lean = env.podctl(args, {env: startPaths.lean})
      const oclif = env.podctl(args, {env: startPaths.oclif})
      assert.deepEqual(lean, oclif, `podctl ${args.join(' ')}: lean path and oclif`)
      assert.deepEqual(snapshot, lean, `podctl ${args.join(' ')}: snapshot and lean path`)
    }
  })

  test('config --set writes the same file either way', () => {
    const files = ['lean', 'oclif'].map((how) => env.podConfig('# kept\nroot: /srv/podctl\n', `settings-${how}.yaml`))
    const set = ['--set', 'timeout=2m,runtimes.dbg.path=runc', '--set', 'runtimes.dbg.args=[--debug]']
    env.ok(['config', '-c', files[0], ...set])
    env.ok(['config', '-c', files[1], ...set], {env: startPaths.oclif})
    assert.equal(readFileSync(files[0], 'utf8'), readFileSync(files[1], 'utf8'))
  })

  test('global flags before the verb, as crictl takes them, work on both paths', () => {
    const first = ['--root', env.root, '-D', 'pods', '-q']
    const after = ['pods', '-q', '--root', env.root, '-D']
    const want = env.podctl(after, {env: {PODCTL_ROOT: '/nonexistent'}})
    assert.equal(want.code, 0, want.stderr)
    assert.deepEqual(want.stdout.trim().split('\n').sort(), [...ids].sort())
    for (const extra of Object.values(startPaths)) {
      const got = env.podctl(first, {env: {PODCTL_ROOT: '/nonexistent', ...extra}})
      assert.equal(got.code, 0, got.stderr)
      assert.equal(got.stdout, want.stdout)
    }
  })

  test('help and unknown flags go to oclif', () => {
    const help = env.podctl(['pods', '--help'])
    assert.equal(help.code, 0)
    assert.match(help.stdout, /^List pods\n\nUSAGE\n/)
    const bogus = env.podctl(['pods', '--bogus'])
    assert.equal(bogus.code, 2)
    assert.match(bogus.stderr, /Nonexistent flag: --bogus/)
  })

  test('bin/podctl starts from the snapshot built by this node, and from bin/run.js otherwise', () => {
    const startedBy = (r: {code: number; stderr: string}) => {
      assert.equal(r.code, 0, r.stderr)
      return /debug: start-up: [\d.]+ ms \(([^)]+)\)/.exec(r.stderr)?.[1]
    }
    assert.equal(startedBy(env.podctl(['pods', '-q', '-D'])), 'snapshot', 'npm run build makes the snapshot for this node')
    assert.equal(startedBy(env.podctl(['pods', '-q', '-D'], {env: startPaths.lean})), 'lean path')
    // node refuses a snapshot under V8 flags it was not built with.
    assert.equal(startedBy(env.podctl(['pods', '-q', '-D'], {env: {NODE_OPTIONS: '--max-old-space-size=512'}})), 'lean path')

    // A copy of the package whose blob's stamp does not have the node binary's mtime, as after an upgrade of node.
    const copy = join(env.dir, 'package')
    mkdirSync(join(copy, 'bin'), {recursive: true})
    mkdirSync(join(copy, 'dist', 'snapshot'), {recursive: true})
    copyFileSync(podctlBin, join(copy, 'bin', 'podctl'))
    mkdirSync(join(copy, 'dist', 'src', 'cli'), {recursive: true})
    for (const file of ['bin/run.js', 'node_modules', 'package.json', 'oclif.manifest.json', 'dist/snapshot/podctl.blob']) {
      symlinkSync(join(repoRoot, file), join(copy, file))
    }
    // The compiled entry, older than the blob as npm run build leaves it.
    const blobTime = statSync(join(repoRoot, 'dist', 'snapshot', 'podctl.blob')).mtime
    const compiled = join(copy, 'dist', 'src', 'cli', 'snapshot.js')
    copyFileSync(join(repoRoot, 'dist', 'src', 'cli', 'snapshot.js'), compiled)
    utimesSync(compiled, blobTime, new Date(blobTime.getTime() - 10_000))
    const stamp = join(copy, 'dist', 'snapshot', 'podctl.blob.node')
    const runCopy = () => env.podctl(['pods', '-q', '-D'], {bin: join(copy, 'bin', 'podctl')})
    const built = statSync(join(repoRoot, 'dist', 'snapshot', 'podctl.blob.node'))
    copyFileSync(join(repoRoot, 'dist', 'snapshot', 'podctl.blob.node'), stamp)
    utimesSync(stamp, built.atime, built.mtime)
    assert.equal(startedBy(runCopy()), 'snapshot', 'the copy with the right stamp')
    writeFileSync(stamp, 'v20.0.0 /usr/bin/node\n')
    assert.equal(startedBy(runCopy()), 'lean path', 'a blob of another node binary is not used')
    utimesSync(stamp, built.atime, new Date(built.mtime.getTime() - 1000))
    assert.equal(startedBy(runCopy()), 'lean path', 'a node binary newer than the stamp')
    copyFileSync(join(repoRoot, 'dist', 'snapshot', 'podctl.blob.node'), stamp)
    utimesSync(stamp, built.atime, built.mtime)
    assert.equal(startedBy(runCopy()), 'snapshot', 'the right stamp again')
    // A stamp of a build that did not write the blob's V8 flags (node would refuse the blob under others).
    const [nodeLine, versionLine, flagsLine] = readFileSync(stamp, 'utf8').split('\n')
    assert.match(flagsLine, /^--max-semi-space-size=\d+ --no-rehash-snapshot$/)
    writeFileSync(stamp, `${nodeLine}\n${versionLine}\n`)
    utimesSync(stamp, built.atime, built.mtime)
    assert.equal(startedBy(runCopy()), 'lean path', 'a stamp without the flags line')
    copyFileSync(join(repoRoot, 'dist', 'snapshot', 'podctl.blob.node'), stamp)
    utimesSync(stamp, built.atime, built.mtime)
    // tsc run after the build: the blob holds older code than dist/.
    utimesSync(compiled, blobTime, new Date(blobTime.getTime() + 10_000))
    assert.equal(startedBy(runCopy()), 'lean path', 'code compiled after the blob was built')
  })
})
