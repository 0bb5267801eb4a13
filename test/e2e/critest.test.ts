// The CRI validation suite (critest 1.26.1, ../shared/bin/critest) against
// `podctl serve`: the specs that need no container, and the image specs
// (through the registry mirror of locally built images), must all pass.
// The full list, with what passes today, is docs/cri-conformance.md: this
// test writes it, running scripts/cri-conformance.js over all 85 specs.

import assert from 'node:assert/strict'
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {spawnSync} from 'node:child_process'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'

import {repoRoot, TestEnv} from './harness.js'
import {criToolOptions, sharedBin, type Served, startServe, stopServe, waitForLog} from './serve-helpers.js'

/** The specs podctl passes today: the pod sandbox lifecycle and the runtime's info. */
const focus = 'PodSandbox runtime should support basic operations|Runtime info'
/** And with critest's images served by the script's mirror: the Image Manager's, but the one pinned to upstream's digest. */
const imageSpecs = /^\[k8s\.io\] Image Manager (?!public image with digest)/

interface SpecReport {
  ContainerHierarchyTexts: string[]
  LeafNodeText: string
  LeafNodeType: string
  State: string
  Failure?: {Message: string}
}

/** PIDs of live processes whose command line mentions s. */
function processesMentioning(s: string): string[] {
  return readdirSync('/proc').filter((p) => {
    if (!/^\d+$/.test(p)) return false
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(s)
    } catch {
      return false
    }
  })
}

describe('critest against podctl serve', criToolOptions('critest'), () => {
  let env: TestEnv
  let served: Served
  before(async () => {
    env = new TestEnv(91)
    served = await startServe(env)
  })
  after(async () => {
    await stopServe(served)
    env.teardown()
  })

  test('scripts/cri-conformance.js runs all 85 specs and writes docs/cri-conformance.md: the focused ones pass', () => {
    const json = join(env.dir, 'conformance.json')
    const r = spawnSync('node', [join(repoRoot, 'scripts', 'cri-conformance.js'), '--json', json], {cwd: repoRoot, encoding: 'utf8', timeout: 30 * 60_000})
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stderr, /^cri-conformance: \d+ pass, \d+ fail, \d+ not run; wrote docs\/cri-conformance\.md$/m)
    const specs = (JSON.parse(readFileSync(json, 'utf8'))[0].SpecReports as SpecReport[]).filter((s) => s.LeafNodeType === 'It')
    assert.equal(specs.length, 85)
    const text = (s: SpecReport) => [...s.ContainerHierarchyTexts, s.LeafNodeText].join(' ')
    const focused = specs.filter((s) => new RegExp(focus).test(text(s)) || imageSpecs.test(text(s)))
    assert.equal(focused.length, 11)
    assert.deepEqual(focused.filter((s) => s.State !== 'passed').map((s) => `${s.LeafNodeText}: ${s.Failure?.Message}`), [])
    // What could not be built is skipped, and the doc says why.
    const digest = specs.find((s) => s.LeafNodeText.startsWith('public image with digest'))
    assert.equal(digest?.State, 'skipped')
    const doc = readFileSync(join(repoRoot, 'docs', 'cri-conformance.md'), 'utf8')
    const passing = specs.filter((s) => s.State === 'passed').length
    assert.match(doc, new RegExp(`^85 specs: \\*\\*${passing} pass\\*\\*, `, 'm'))
    assert.match(doc, /^\| \[k8s\.io\] Image Manager › public image with digest should be pulled and removed \[Conformance\] \| not run \| skipped: .*upstream's manifest digest/m)
    assert.match(doc, /^\| `registry\.k8s\.io\/e2e-test-images\/busybox:1\.29-2` \| /m)
    // The mirror's registry ran in that namespace, and is gone with it.
    assert.deepEqual(processesMentioning('podctl-conformance-'), [])
    // Its own serve ran in a namespace of its own: its directories and cgroups are gone with it.
    assert.deepEqual(readdirSync('/run').filter((n) => n.startsWith('podctl-conformance-')), [])
    assert.deepEqual(readdirSync('/tmp').filter((n) => n.startsWith('podctl-conformance-')), [])
    for (const root of ['/sys/fs/cgroup', ...readdirSync('/sys/fs/cgroup').map((c) => join('/sys/fs/cgroup', c))]) {
      assert.ok(!existsSync(join(root, 'podctl-conformance')), `${root}/podctl-conformance is left`)
    }
  })

  test('the pod sandbox and runtime info specs pass against a TestEnv serve, and leave nothing behind', async () => {
    const report = join(env.dir, 'critest.json')
    // In a network namespace with no device up: critest reaches serve through the socket file and nothing else.
    const run = spawnSync(
      'unshare',
      ['--net', '--', sharedBin('critest'), '--runtime-endpoint', served.endpoint, '--image-endpoint', served.endpoint, '--ginkgo.no-color', `--ginkgo.focus=${focus}`, `--ginkgo.json-report=${report}`],
      {cwd: env.dir, encoding: 'utf8', timeout: 300_000, maxBuffer: 64 * 1024 * 1024},
    )
    const r = {code: run.status ?? -1, stdout: run.stdout ?? '', stderr: run.stderr ?? ''}
    const specs = (JSON.parse(readFileSync(report, 'utf8'))[0].SpecReports as SpecReport[]).filter((s) => s.LeafNodeType === 'It')
    const ran = specs.filter((s) => s.State !== 'skipped')
    const failed = ran.filter((s) => s.State !== 'passed').map((s) => `${s.LeafNodeText}: ${s.Failure?.Message}`)
    assert.deepEqual(failed, [], r.stdout)
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`)
    assert.deepEqual(ran.map((s) => s.LeafNodeText).sort(), [
      'runtime should return runtime conditions [Conformance]',
      'runtime should return version info [Conformance]',
      'runtime should support removing PodSandbox [Conformance]',
      'runtime should support running PodSandbox [Conformance]',
      'runtime should support stopping PodSandbox [Conformance]',
    ])
    assert.equal(specs.length, 85, 'critest 1.26.1 has 85 specs')

    // critest made its pods through serve (the log names them), and none is left: the teardown
    // also fails if a pod cgroup is left under the env's parent.
    await waitForLog(served, /RunPodSandbox cri-test-namespace/)
    assert.deepEqual(JSON.parse(env.ok(['pods', '-o', 'json'])).items, [], 'critest removed every pod it made')
    env.assertNoLeaks()

    // docs/cri-conformance.md says the same of these specs.
    const doc = readFileSync(join(repoRoot, 'docs', 'cri-conformance.md'), 'utf8')
    for (const s of ran) assert.ok(doc.includes(`${s.LeafNodeText.replace(/\|/g, '\\|')} | pass |`), `docs/cri-conformance.md lists "${s.LeafNodeText}" as passing`)
  })
})
