// The CRI validation suite (critest 1.26.1, ../shared/bin/critest) against
// `podctl serve`: the specs that need no container or image must all pass.
// The full list, with what passes today, is docs/cri-conformance.md, written
// by scripts/cri-conformance.js.

import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'

import {repoRoot, TestEnv} from './harness.js'
import {criToolOptions, runCriTool, type Served, startServe, stopServe, waitForLog} from './serve-helpers.js'

/** The specs podctl passes today: the pod sandbox lifecycle and the runtime's info. */
const focus = 'PodSandbox runtime should support basic operations|Runtime info'

interface SpecReport {
  ContainerHierarchyTexts: string[]
  LeafNodeText: string
  LeafNodeType: string
  State: string
  Failure?: {Message: string}
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

  test('the pod sandbox and runtime info specs pass, and leave nothing behind', async () => {
    const report = join(env.dir, 'critest.json')
    const r = runCriTool('critest', served, ['--ginkgo.no-color', `--ginkgo.focus=${focus}`, `--ginkgo.json-report=${report}`], {cwd: env.dir})
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
