#!/usr/bin/env node
// Runs the CRI validation suite (critest 1.26.1, ../shared/bin/critest) against
// a `podctl serve` of its own and writes docs/cri-conformance.md: every spec
// critest has, with passed / failed / not run and why, so that later work
// shows its progress against it.
//
//   node scripts/cri-conformance.js                 run all specs, write docs/cri-conformance.md
//   node scripts/cri-conformance.js --focus REGEX   run only matching specs (the rest are "not run")
//   node scripts/cri-conformance.js --out FILE      write FILE instead
//   node scripts/cri-conformance.js --json FILE     also keep critest's JSON report
//
// Needs root, a built bin/podctl, and the host tools the e2e tests need.
// Nothing here may reach the network: serve and critest run in a network
// namespace of their own that has only loopback. The images critest pulls
// from registry.k8s.io and gcr.io are built from this machine's files
// (test/e2e/critest-images.ts) and served by a docker-registry on 127.0.0.1
// in that namespace, which serve's config names as those registries'
// mirror; specs whose image cannot be built are skipped, with the reason.
// The pods' bridge lives in that namespace too, and goes with it; serve and
// critest share an IPC namespace of their own as well, so the shared memory
// segments the HostIpc specs make on "the host" go with it.
//
// Plain Node, no dependencies.

import {spawn, spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync} from 'node:fs'
import {dirname, join, relative} from 'node:path'
import {fileURLToPath} from 'node:url'

import {registriesYaml, serveCritestImages} from '../dist/test/e2e/critest-images.js'

const repo = join(dirname(fileURLToPath(import.meta.url)), '..')
const critest = join(repo, '..', 'shared', 'bin', 'critest')
const podctl = join(repo, 'bin', 'podctl')

const args = process.argv.slice(2)
const option = (name) => {
  const i = args.indexOf(name)
  return i >= 0 ? args[i + 1] : undefined
}
const out = option('--out') ?? join(repo, 'docs', 'cri-conformance.md')
const focus = option('--focus')
const keepJson = option('--json')

function fail(message) {
  process.stderr.write(`cri-conformance: ${message}\n`)
  process.exit(1)
}

if (process.getuid?.() !== 0) fail('must run as root: podctl serve makes network namespaces and runs runc')
if (!existsSync(critest)) fail(`${critest} not found (critest 1.26.1 from cri-tools; see ../shared/bin/README.md)`)
if (!existsSync(join(repo, 'dist', 'src'))) fail('run `npm run build` first')

const dir = mkdtempSync('/tmp/podctl-conformance-')
const runRoot = `/run/${dir.slice('/tmp/'.length)}`
const socket = join(runRoot, 'cri.sock')
const configFile = join(dir, 'podctl.yaml')
// critest writes its Localhost seccomp profiles to /tmp/seccomp-tests*/: that is their root here.
writeFileSync(
  configFile,
  `default-network:\n  name: podctl-conformance\n  bridge: pconform0\n  subnet: 10.231.98.0/24\ncgroup-parent: /podctl-conformance\nseccomp-profile-root: /tmp\n${registriesYaml()}`,
)
const env = {
  ...process.env,
  PODCTL_ROOT: join(dir, 'root'),
  PODCTL_RUN_ROOT: runRoot,
  PODCTL_CNI_CONF_DIR: join(dir, 'net.d'),
  PODCTL_CONFIG: configFile,
  NO_COLOR: '1',
}

// `unshare --net` gives serve a namespace with only a (down) loopback; critest joins it.
const serve = spawn('unshare', ['--net', '--ipc', '--', 'sh', '-c', `ip link set lo up && exec "$0" serve --listen unix://${socket}`, podctl], {
  env,
  stdio: ['ignore', 'ignore', 'pipe'],
})
let serveLog = ''
serve.stderr.on('data', (d) => (serveLog += d))
await new Promise((resolve, reject) => {
  const check = () => (serveLog.includes('listening on') ? resolve() : undefined)
  serve.stderr.on('data', check)
  serve.on('exit', (code) => reject(new Error(`podctl serve exited (${code}) before listening:\n${serveLog}`)))
}).catch((err) => fail(err.message))
const netns = `/proc/${serve.pid}/ns/net`
const mirror = await serveCritestImages(dir, netns).catch(async (err) => {
  serve.kill('SIGTERM')
  await new Promise((resolve) => (serve.exitCode !== null ? resolve() : serve.on('exit', resolve)))
  rmSync(dir, {recursive: true, force: true})
  rmSync(runRoot, {recursive: true, force: true})
  fail(`building or serving critest's images: ${err.message}`)
})

const report = join(dir, 'critest.json')
const critestArgs = [
  `--net=${netns}`,
  `--ipc=/proc/${serve.pid}/ns/ipc`,
  '--',
  critest,
  '--runtime-endpoint',
  `unix://${socket}`,
  '--image-endpoint',
  `unix://${socket}`,
  '--ginkgo.no-color',
  `--ginkgo.json-report=${report}`,
  ...(focus ? [`--ginkgo.focus=${focus}`] : []),
  ...mirror.skips.map((s) => `--ginkgo.skip=${s.spec}`),
]
const version = spawnSync(critest, ['--version'], {encoding: 'utf8'}).stdout.split('\n')[0].trim()
process.stderr.write(`cri-conformance: ${version} against podctl serve (${socket}) in an isolated network namespace\n`)
const run = spawnSync('nsenter', critestArgs, {env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 30 * 60_000})

// What a failed spec left is removed inside the namespace, where its network is, while serve keeps it alive.
const inNetns = (verb) => spawnSync('nsenter', [`--net=${netns}`, '--', podctl, ...verb], {env, encoding: 'utf8'})
const leftover = JSON.parse(inNetns(['pods', '-o', 'json']).stdout || '{"items":[]}').items.length
const rmp = inNetns(['rmp', '-af'])
inNetns(['gc'])
await mirror.registry.stop()
serve.kill('SIGTERM')
await new Promise((resolve) => (serve.exitCode !== null ? resolve() : serve.on('exit', resolve)))
for (const root of new Set(['/sys/fs/cgroup', ...listCgroupRoots()])) {
  try {
    rmdirSync(join(root, 'podctl-conformance'))
  } catch {
    // absent, or not empty: a pod still holds it, and rmp said so above
  }
}

if (!existsSync(report)) fail(`critest wrote no report (exit ${run.status}):\n${run.stdout}\n${run.stderr}`)
const specs = JSON.parse(readFileSync(report, 'utf8'))[0].SpecReports.filter((s) => s.LeafNodeType === 'It')
if (keepJson) writeFileSync(keepJson, readFileSync(report))
rmSync(dir, {recursive: true, force: true})
rmSync(runRoot, {recursive: true, force: true})
if (leftover > 0) process.stderr.write(`cri-conformance: critest left ${leftover} pods; removed them\n`)
if (rmp.status !== 0) fail(`rmp -af after the run failed: ${rmp.stderr}`)

/**
 * Failures whose cause lies outside podctl, found by hand: said beside critest's own line.
 * Each names how to see it for yourself.
 */
const explained = [
  {
    spec: /runtime should support MaskedPaths$/,
    why: "Debian's busybox sh runs applets in-process (FEATURE_SH_STANDALONE: `env -i PATH=/nonexistent busybox sh -c ls` lists), so `sh -c ls` never executes the masked /bin/ls; exec of /bin/ls itself is refused (test/e2e/container-security.test.ts)",
  },
]

/** One line a reader can act on: the first line of the failure that names the RPC's answer. */
function reason(spec) {
  const known = spec.State === 'passed' ? undefined : explained.find((e) => e.spec.test(spec.LeafNodeText))
  if (known) return `${critestReason(spec)} — ${known.why}`
  return critestReason(spec)
}

function critestReason(spec) {
  if (spec.State === 'passed') return ''
  if (spec.State === 'skipped' || spec.State === 'pending') {
    if (/benchmark/i.test(spec.LeafNodeText) || spec.ContainerHierarchyTexts.some((t) => /benchmark/i.test(t))) return 'a benchmark: critest runs those only with -benchmark'
    const skip = mirror.skips.find((s) => new RegExp(s.spec).test([...spec.ContainerHierarchyTexts, spec.LeafNodeText].join(' ')))
    if (skip) return `skipped: ${skip.reason}`
    return focus ? 'not in this run’s focus' : (spec.Failure?.Message ?? 'skipped by critest').split('\n')[0]
  }
  const message = spec.Failure?.Message ?? spec.State
  const rpc = /rpc error: code = (\w+) desc = ([^\n]*)/.exec(message)
  const text = rpc ? `${rpc[1]}: ${rpc[2]}` : message.split('\n').find((l) => l.trim()) ?? spec.State
  // critest's temporary dirs end in random digits, and the log entries it quotes carry Go's time.Time
  // ({wall:N ext:N loc:0x...}): written as <N>, so that a rerun writes the same file.
  return text
    .replace(/\s+/g, ' ')
    .replace(/(\/tmp\/[A-Za-z-]+?)\d{6,}/g, '$1<N>')
    .replace(/\{wall:[0-9a-fx]+ ext:-?\d+ loc:0x[0-9a-f]+\}/g, '{wall:<N> ext:<N> loc:<N>}')
    .replace(/\|/g, '\\|')
    .slice(0, 200)
}

const result = (s) => (s.State === 'passed' ? 'pass' : s.State === 'skipped' || s.State === 'pending' ? 'not run' : 'fail')
const name = (s) => [...s.ContainerHierarchyTexts, s.LeafNodeText].join(' › ')
const counts = {pass: 0, fail: 0, 'not run': 0}
for (const s of specs) counts[result(s)]++

const order = {pass: 0, fail: 1, 'not run': 2}
const rows = [...specs].sort((a, b) => order[result(a)] - order[result(b)] || name(a).localeCompare(name(b)))
const md = `# CRI conformance: critest against podctl serve

Generated by \`node ${relative(repo, fileURLToPath(import.meta.url))}${focus ? ` --focus '${focus}'` : ''}\` (as root, after \`npm run build\`);
do not edit by hand. ${version}, the CRI validation suite of cri-tools,
run against \`podctl serve\` in a network namespace with only loopback and
an IPC namespace of its own. Nothing is pulled from registry.k8s.io or
gcr.io: the images critest asks for are built from this machine's files
(test/e2e/critest-images.ts) and served under those names by a
docker-registry on 127.0.0.1 in that namespace, which serve's config names
as the two registries' mirror.

| Image | Built from |
| --- | --- |
${mirror.images.map((i) => `| \`${i.ref}\` | ${i.about} |`).join('\n')}

Specs skipped (\`--ginkgo.skip\`), because their image cannot be built here:

${mirror.skips.map((s) => `- \`${s.spec}\`: ${s.reason}`).join('\n')}

${specs.length} specs: **${counts.pass} pass**, ${counts.fail} fail, ${counts['not run']} not run.

test/e2e/critest.test.ts runs this script, so the test run writes this file,
and fails unless the specs that need no container or image
(\`PodSandbox runtime should support basic operations\` and \`Runtime info\`)
all pass.

| Spec | Result | Why |
| --- | --- | --- |
${rows.map((s) => `| ${name(s).replace(/\|/g, '\\|')} | ${result(s)} | ${reason(s)} |`).join('\n')}
`
mkdirSync(dirname(out), {recursive: true})
writeFileSync(out, md)
process.stderr.write(`cri-conformance: ${counts.pass} pass, ${counts.fail} fail, ${counts['not run']} not run; wrote ${relative(process.cwd(), out)}\n`)

function listCgroupRoots() {
  return readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' '))
    // cgroup v1 hierarchies, and on hybrid hosts the v2 one at /sys/fs/cgroup/unified as well.
    .filter((f) => f[2] === 'cgroup' || f[2] === 'cgroup2')
    .map((f) => f[1])
}
