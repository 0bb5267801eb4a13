#!/usr/bin/env node
// podctl's benchmark: every verb timed as a user runs it
// (`bin/podctl ...`, the installed command: node from the start-up snapshot;
// wall time and peak RSS), next to the floors measured in the
// same run: a bare `node -e 0`, and the work podctl cannot avoid — a network
// namespace, the CNI plugin chain of the same conflist, and runc on a pause
// bundle made from the same rootfs. Each podctl figure is printed as a ratio
// to its floor and checked against its target; the results are written to
// bench/results/latest.json (the one result kept in git).
//
//   node scripts/bench.js [--runs N] [--quick] [--max-pods N]
//   node scripts/bench.js --markdown [results.json]    docs/performance.md from a past run, running nothing
//
// It runs as root against its own state root, run root, CNI conf dir and
// network (pbench, bridge pbench0, 10.232.0.0/16), never the user's, and
// removes everything it made at the end, also on failure or Ctrl-C.
// Node built-ins only.

import {execFileSync, spawn, spawnSync} from 'node:child_process'
import {randomBytes, randomUUID} from 'node:crypto'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'

const repo = fileURLToPath(new URL('..', import.meta.url))
const bin = path.join(repo, 'bin', 'podctl')
const resultsDir = path.join(repo, 'bench', 'results')

const NETWORK = {name: 'pbench', bridge: 'pbench0', subnet: '10.232.0.0/16'}
const CGROUP_PARENT = '/pbench'
const NAMESPACE = 'pbench'
const BURST = {pods: 50, parallel: 8}
const SETUP_PARALLEL = 4
/** pods 1..10 of the listing ladder get pod networking; the rest host network */
const NETWORKED_LADDER_PODS = 10
const RSS_LIMIT_MIB = 100
/** The limit for a pull of the ~100 MB image: it streams, it does not buffer. */
const PULL_RSS_LIMIT_MIB = 150
const DEBUG_RUNS = 3

const {values: opts, positionals} = parseArgs({
  options: {
    runs: {type: 'string'},
    quick: {type: 'boolean', default: false},
    'max-pods': {type: 'string'},
    markdown: {type: 'boolean', default: false},
    'images-only': {type: 'boolean', default: false},
    'containers-only': {type: 'boolean', default: false},
    help: {type: 'boolean', short: 'h', default: false},
  },
  allowPositionals: true,
})

const log = (m) => process.stderr.write(`[bench] ${m}\n`)

// ---------------------------------------------------------------------------
// Statistics and rendering
// ---------------------------------------------------------------------------

const round = (x, d = 1) => (x === null || x === undefined || Number.isNaN(x) ? null : Math.round(x * 10 ** d) / 10 ** d)

function median(xs) {
  const s = xs.filter((x) => x !== null && x !== undefined).sort((a, b) => a - b)
  if (s.length === 0) return null
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

function summary(xs) {
  return {median: round(median(xs)), min: round(Math.min(...xs)), max: round(Math.max(...xs))}
}

const maxOf = (xs) => (xs.some((x) => x === null || x === undefined) || xs.length === 0 ? null : round(Math.max(...xs)))
const sumAt = (arrays, i) => arrays.reduce((acc, a) => acc + a[i], 0)
const fmt = (x, d = 1) => (x === null || x === undefined ? '—' : x.toFixed(d))

/** A markdown table with padded columns: reads well in a terminal and in README.md. */
function table(headers, rows, right = []) {
  const cells = [headers, ...rows].map((r) => r.map(String))
  const width = headers.map((_, c) => Math.max(3, ...cells.map((r) => r[c].length)))
  const line = (r) => `| ${r.map((v, c) => (right.includes(c) ? v.padStart(width[c]) : v.padEnd(width[c]))).join(' | ')} |`
  const rule = `|${width.map((w, c) => (right.includes(c) ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`
  return [line(cells[0]), rule, ...cells.slice(1).map(line)].join('\n')
}

function render(res) {
  const m = res.machine
  const strictShown = res.rows.some((r) => r.strict)
  const out = []
  out.push(
    `Run ${res.date} on ${m.cpuModel} (${m.cpus} cores), ${m.memGiB} GiB, ${m.os}, kernel ${m.kernel}, ` +
      `node ${m.node}, ${m.runc}, cgroup ${m.cgroup}; podctl ${res.podctl.version} at ${res.podctl.commit}${res.podctl.dirty ? ' (uncommitted changes)' : ''}; ` +
      `${res.options.runs} runs per row${res.options.quick ? ', --quick' : ''}; load average ${m.loadavg.start.join(' ')} at start, ${m.loadavg.end.join(' ')} at end.`,
  )
  out.push('')
  out.push(
    table(
      ['scenario', 'median ms', 'min', 'max', 'peak RSS MiB', 'floor', 'floor ms', 'ratio', 'target', 'result', ...(strictShown ? ['strict floor ms', 'strict ratio', 'strict result'] : [])],
      res.rows.map((r) => [
        r.scenario,
        fmt(r.median),
        fmt(r.min),
        fmt(r.max),
        fmt(r.rssMiB),
        r.floor?.name ?? '—',
        fmt(r.floor?.median),
        r.ratio === null ? '—' : `${r.ratio.toFixed(2)}×`,
        r.target === null ? '—' : `≤ ${r.target}×`,
        r.pass === null ? '—' : r.pass ? 'pass' : 'FAIL',
        ...(strictShown ? [fmt(r.strict?.floorMedian), r.strict ? `${r.strict.ratio.toFixed(2)}×` : '—', r.strict?.pass == null ? '—' : r.strict.pass ? 'pass' : 'FAIL'] : []),
      ]),
      [1, 2, 3, 4, 6, 7, 10, 11],
    ),
  )
  out.push('')
  out.push(`- result: the row's ratio target, if it has one, and peak RSS ≤ ${RSS_LIMIT_MIB} MiB (${PULL_RSS_LIMIT_MIB} MiB for a pull); each row's node floor is sampled right before each of its runs.`)
  for (const r of res.rows.filter((r) => r.note)) out.push(`- ${r.scenario}: ${r.note}.`)
  out.push('')
  out.push('Floors (same run):')
  out.push('')
  out.push(
    table(
      ['floor', 'median ms', 'min', 'max', 'peak RSS MiB'],
      Object.entries(res.floors).map(([name, f]) => [name, fmt(f.median), fmt(f.min), fmt(f.max), fmt(f.rssMiB ?? null)]),
      [1, 2, 3, 4],
    ),
  )
  out.push('')
  const b = res.burst
  if (b) {
    out.push(
      `Burst: ${b.pods} pods started ${b.parallel} at a time in ${fmt(b.totalMs / 1000, 2)} s: ` +
        `${fmt(b.podsPerSecond, 2)} pods/s, ${b.errors.length} errors; each runp median ${fmt(b.median)} ms, max ${fmt(b.max)} ms.`,
    )
    out.push('')
  }
  out.push('Targets:')
  out.push('')
  for (const t of res.targets) out.push(`- ${t.pass === null ? 'not measured' : t.pass ? 'pass' : 'FAIL'}: ${t.target} — ${t.value}`)
  out.push('')
  if (res.steps) {
    out.push(`Where the time goes (--debug, median of ${res.steps.runs} runs; exec lines are the helper processes, inside the steps):`)
    out.push('')
    const rows = []
    for (const [verb, s] of Object.entries(res.steps.verbs)) {
      rows.push([verb, 'wall (whole command)', fmt(s.wall)])
      for (const [part, ms] of s.parts) rows.push(['', part, fmt(ms)])
    }
    out.push(table(['verb', 'part', 'ms'], rows, [2]))
    out.push('')
  }
  for (const n of res.notes) out.push(`- ${n}`)
  return out.join('\n')
}

/** docs/performance.md: what is measured and how, then the run's tables. */
function document(res) {
  return `<!-- Generated by \`npm run bench -- --markdown\` from bench/results/latest.json; do not edit. -->

# Performance

podctl has no daemon, so every verb pays node's start-up and then does its
work itself. \`npm run bench\` measures what that costs.

## Method

- Each verb is run as a user runs it, \`bin/podctl ...\` (node from the
  start-up snapshot), as root, against the bench's own state root, run root,
  CNI conf dir and network (\`pbench\`, bridge \`pbench0\`, 10.232.0.0/16),
  all removed at the end, also on failure or Ctrl-C. Wall time and peak RSS
  (the process and its children) are taken per run; the tables give the
  median, min and max over the runs of a row.
- Each figure is set against a **floor** measured in the same run, right
  before each of its runs: a bare \`node -e 0\`, plus the work podctl cannot
  avoid, done directly with the same inputs: \`unshare --net\` for the
  netns, the same conflist's plugins for CNI ADD and DEL, \`runc run -d\`,
  \`kill\` and \`delete\` of a pause bundle made from the same rootfs. The
  ratio is podctl's median over the floor's; a target is a ratio to reach.
- When the environment sets \`NODE_EXTRA_CA_CERTS\`, bare node parses every
  root certificate before it runs a line, and bin/podctl starts node without
  it; each row is then also set against bare node without the variable, the
  **strict** floor, which is podctl's own cost over node's start-up.
- The listing rows run over a ladder of pods (0, 1, 10, 100, 1000; pods 1-10
  with pod networking, the rest host network, each with a real pause
  process). The burst starts ${BURST.pods} pods ${BURST.parallel} at a time.
- "Where the time goes" is each step's time as \`--debug\` prints it
  (src/runtime/steps.ts: stepTimer), and each helper process's.
- \`npm run bench -- --quick\` is a short run (3 runs, up to 100 pods);
  \`--runs N\` sets the runs per row. Two versions are compared by running
  the bench on each, one after the other, on the same machine.

## Latest run

${render(res)}`
}

if (opts.help) {
  process.stdout.write(`usage: node scripts/bench.js [--runs N] [--quick] [--max-pods N]
       node scripts/bench.js --markdown [results.json]

  --runs N       runs per measured row (default 7; 3 with --quick)
  --quick        fewer pods (0/10/100) and 3 runs, to try it out
  --max-pods N   cap the listing ladder (default 1000)
  --markdown     print docs/performance.md from a results file (default
                 bench/results/latest.json); runs nothing
  --images-only  only the image rows: pull + unpack from a local registry
  --containers-only  only the container rows: create, start, stop -t 0, rm, exec -s of a busybox container in a CNI pod

Needs root, runc, catatonit, the CNI plugins, util-linux and iproute2, and a
built tree (npm run build). Uses its own network pbench (bridge pbench0,
10.232.0.0/16) and temp dirs; removes all of it at the end. Exit status: 0
when the bench ran (a missed target is a result, shown as FAIL), 2 on an
error, 130 when interrupted.
`)
  process.exit(0)
}

if (opts.markdown) {
  const file = positionals[0] ?? path.join(resultsDir, 'latest.json')
  const res = JSON.parse(fs.readFileSync(file, 'utf8'))
  // Image rows from a later --images-only run, where the full run has none.
  const images = path.join(resultsDir, 'images.json')
  const extra = !positionals[0] && fs.existsSync(images) && !res.rows.some((r) => r.id?.startsWith?.('pull')) ? JSON.parse(fs.readFileSync(images, 'utf8')) : undefined
  // Container rows likewise from a later --containers-only run.
  const ctrs = path.join(resultsDir, 'containers.json')
  const ctrExtra = !positionals[0] && fs.existsSync(ctrs) && !res.rows.some((r) => r.id?.startsWith?.('ctr-')) ? JSON.parse(fs.readFileSync(ctrs, 'utf8')) : undefined
  process.stdout.write(
    `${document(res)}\n${extra ? `\n## Image pulls (an --images-only run of ${extra.date})\n\n${render(extra)}\n` : ''}` +
      `${ctrExtra ? `\n## Containers (a --containers-only run of ${ctrExtra.date})\n\n${render(ctrExtra)}\n` : ''}`,
  )
  process.exit(0)
}

// ---------------------------------------------------------------------------
// Settings of this run
// ---------------------------------------------------------------------------

const quick = opts.quick
const RUNS = Number(opts.runs ?? (quick ? 3 : 7))
const MAX_PODS = Number(opts['max-pods'] ?? 1000)
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error('--runs must be a positive integer')
if (!Number.isInteger(MAX_PODS) || MAX_PODS < 0) throw new Error('--max-pods must be a non-negative integer')
const LADDER = [...new Set([0, 1, ...(quick ? [10, 100] : [10, 100, 1000])])].filter((n) => n <= MAX_PODS)

const tag = randomBytes(3).toString('hex')
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podctl-bench-'))
const root = path.join(dir, 'root')
const runRoot = `/run/podctl-bench-${tag}`
const confDir = path.join(dir, 'net.d')
const configFile = path.join(dir, 'podctl.yaml')
const floorRuncRoot = path.join(runRoot, 'floor-runc')
const floorNetns = path.join(runRoot, 'floor-netns')
const floorBundle = path.join(dir, 'floor-bundle')
const cniBinDirs = (process.env.PODCTL_CNI_BIN_DIR ?? '/opt/cni/bin:/usr/lib/cni:/usr/libexec/cni').split(':').filter(Boolean)
const timeBin = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : null

// podctl sees only the bench's settings (a user's PODCTL_* would change what is measured).
const env = {
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PODCTL_') || k === 'PODCTL_CNI_BIN_DIR')),
  PODCTL_ROOT: root,
  PODCTL_RUN_ROOT: runRoot,
  PODCTL_CNI_CONF_DIR: confDir,
  PODCTL_CONFIG: configFile,
  NO_COLOR: '1',
}

const notes = []

// ---------------------------------------------------------------------------
// Running things
// ---------------------------------------------------------------------------

/** The first signal stops the bench after the command in flight; cleanup always runs. */
let stopping = null
let cleaningUp = false
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    if (stopping) return log('still cleaning up, please wait')
    stopping = sig
    log(`${sig}: stopping after the command in flight, then cleaning up`)
  })
}

class Interrupted extends Error {}
function checkStop() {
  if (stopping && !cleaningUp) throw new Interrupted(`interrupted by ${stopping}`)
}

/**
 * Spawn and wait; wall time from spawn to exit. Children get their own
 * process group (detached), so a Ctrl-C reaches only the bench, which lets
 * the command in flight finish and then cleans up.
 */
function exec(file, args, {input, quiet = false, extraEnv} = {}) {
  return new Promise((resolve, reject) => {
    const stdio = quiet ? 'ignore' : [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe']
    const start = process.hrtime.bigint()
    const child = spawn(file, args, {env: extraEnv ? {...env, ...extraEnv} : env, stdio, detached: true})
    let stdout = ''
    let stderr = ''
    child.stdout?.setEncoding('utf8').on('data', (d) => (stdout += d))
    child.stderr?.setEncoding('utf8').on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({ms: Number(process.hrtime.bigint() - start) / 1e6, code: code ?? 128, signal, stdout, stderr}))
    if (input !== undefined) child.stdin.end(input)
  })
}

let rssSeq = 0
/** A process (podctl, or node for a floor) under GNU time for its peak RSS. */
async function timed(args, options = {}, command = process.execPath) {
  checkStop()
  if (!timeBin) return {...(await exec(command, args, options)), rssMiB: null}
  const rssFile = path.join(dir, `rss.${++rssSeq}`)
  const r = await exec(timeBin, ['-f', '%M', '-o', rssFile, command, ...args], options)
  const lines = fs.readFileSync(rssFile, 'utf8').trim().split('\n')
  fs.rmSync(rssFile, {force: true})
  return {...r, rssMiB: Number(lines[lines.length - 1]) / 1024}
}

const podctl = (args) => timed(args, {}, bin)

/** Every bare-node sample of the run, for the floors table. */
const nodeSamples = []
async function bareNode() {
  const r = await timed(['-e', '0'])
  nodeSamples.push(r)
  return r
}

// With NODE_EXTRA_CA_CERTS set, as on the machines this was written on, bare
// node parses every root certificate before it runs a line (60-70 ms), and
// bin/podctl starts node without it (podctl makes no TLS connection). So every
// row is also set against bare node without the variable: the strict floor,
// which shows podctl's own cost over node's start-up.
const caCerts = process.env.NODE_EXTRA_CA_CERTS
const strictNodeName = 'node -e 0 without NODE_EXTRA_CA_CERTS'
const strictNodeSamples = []
async function strictNode() {
  const r = await timed(['-e', '0'], {extraEnv: {NODE_EXTRA_CA_CERTS: undefined}})
  strictNodeSamples.push(r)
  return r
}

async function podctlOk(args) {
  const r = await podctl(args)
  if (r.code !== 0) throw new Error(`podctl ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`)
  return r
}

async function mustRun(file, args, options) {
  checkStop()
  const r = await exec(file, args, options)
  if (r.code !== 0) throw new Error(`${file} ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`)
  return r
}

/** Run fn over items, `parallel` at a time; waits for every one in flight even after a failure. */
async function pool(items, parallel, fn) {
  let next = 0
  let failed = false
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++
      try {
        await fn(items[i], i)
      } catch (err) {
        failed = true
        throw err
      }
    }
  }
  const settled = await Promise.allSettled(Array.from({length: Math.min(parallel, items.length)}, worker))
  const rejected = settled.find((s) => s.status === 'rejected')
  if (rejected) throw rejected.reason
}

function podConfigFile(name, {hostNetwork = false} = {}) {
  const config = {
    metadata: {name, namespace: NAMESPACE, uid: randomUUID(), attempt: 0},
    linux: {cgroup_parent: CGROUP_PARENT, ...(hostNetwork ? {security_context: {namespace_options: {network: 2}}} : {})},
  }
  const file = path.join(dir, 'pods', `${name}.json`)
  fs.writeFileSync(file, JSON.stringify(config))
  return file
}

async function runPod(name, options) {
  const r = await podctlOk(['runp', podConfigFile(name, options)])
  return r.stdout.trim()
}

// ---------------------------------------------------------------------------
// The floors: what podctl cannot avoid, done directly
// ---------------------------------------------------------------------------

/** The pause bundle of the runc floor: podctl's pause rootfs and a `runc spec` config in the floor netns. */
function makeFloorBundle() {
  fs.cpSync(path.join(root, 'pause', 'rootfs'), path.join(floorBundle, 'rootfs'), {recursive: true})
  execFileSync('runc', ['spec', '--bundle', floorBundle])
  const file = path.join(floorBundle, 'config.json')
  const spec = JSON.parse(fs.readFileSync(file, 'utf8'))
  spec.process.terminal = false
  spec.process.args = ['/catatonit', '-P']
  spec.root = {path: path.join(floorBundle, 'rootfs'), readonly: true}
  spec.hostname = 'pbench-floor'
  spec.linux.namespaces = spec.linux.namespaces.map((ns) => (ns.type === 'network' ? {type: 'network', path: floorNetns} : ns))
  fs.writeFileSync(file, JSON.stringify(spec, null, 1))
}

function readConflist() {
  const files = fs.readdirSync(confDir).filter((n) => /\.(conflist|conf|json)$/.test(n)).sort()
  return JSON.parse(fs.readFileSync(path.join(confDir, files[0]), 'utf8'))
}

function pluginPath(type) {
  const found = cniBinDirs.map((d) => path.join(d, type)).find((p) => fs.existsSync(p))
  if (!found) throw new Error(`CNI plugin ${type} not found in ${cniBinDirs.join(':')}`)
  return found
}

/** The plugin chain as podctl runs it: ADD in order fed the previous result, DEL in reverse fed the cached one. */
async function cniChain(command, conflist, containerId, prevResult) {
  const plugins = command === 'ADD' ? conflist.plugins : [...conflist.plugins].reverse()
  let result = prevResult
  let ms = 0
  for (const plugin of plugins) {
    const conf = {...plugin, cniVersion: conflist.cniVersion, name: conflist.name}
    delete conf.capabilities
    if (result) conf.prevResult = result
    const cniEnv = {
      CNI_COMMAND: command,
      CNI_CONTAINERID: containerId,
      CNI_NETNS: floorNetns,
      CNI_IFNAME: 'eth0',
      CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${NAMESPACE};K8S_POD_NAME=floor;K8S_POD_INFRA_CONTAINER_ID=${containerId};K8S_POD_UID=floor`,
      CNI_PATH: cniBinDirs.join(':'),
    }
    checkStop()
    // The plugin is looked up before exec's clock starts: the floor is the plugin's own time.
    const r = await exec(pluginPath(plugin.type), [], {input: JSON.stringify(conf), extraEnv: cniEnv})
    ms += r.ms
    if (r.code !== 0) throw new Error(`CNI ${command} of ${plugin.type} failed: ${r.stdout.trim()}`)
    if (command === 'ADD') result = JSON.parse(r.stdout)
  }
  return {ms, result}
}

/** What the cleanup must undo if a floor iteration is cut short. */
const floorState = {netns: false, cni: null, container: null}

const floorParts = ['netns add', 'CNI ADD', 'runc run -d', 'runc kill', 'runc delete -f', 'CNI DEL', 'netns del']

/** One floor iteration, in podctl's order: netns, CNI ADD, runc, then the stop and remove path. */
async function floorIteration(conflist, i) {
  const t = {}
  const id = `pbench-floor-${i}`
  const cniId = randomBytes(32).toString('hex')
  let start = process.hrtime.bigint()
  fs.writeFileSync(floorNetns, '', {flag: 'wx', mode: 0o444})
  floorState.netns = true
  await mustRun('unshare', [`--net=${floorNetns}`, 'true'])
  t['netns add'] = Number(process.hrtime.bigint() - start) / 1e6

  floorState.cni = {id: cniId, result: undefined}
  const add = await cniChain('ADD', conflist, cniId)
  floorState.cni.result = add.result
  t['CNI ADD'] = add.ms

  floorState.container = id
  t['runc run -d'] = (await mustRun('runc', ['--root', floorRuncRoot, 'run', '-d', '--bundle', floorBundle, id], {quiet: true})).ms
  t['runc kill'] = (await mustRun('runc', ['--root', floorRuncRoot, 'kill', id, 'KILL'])).ms
  t['runc delete -f'] = (await mustRun('runc', ['--root', floorRuncRoot, 'delete', '-f', id])).ms
  floorState.container = null

  t['CNI DEL'] = (await cniChain('DEL', conflist, cniId, add.result)).ms
  floorState.cni = null

  start = process.hrtime.bigint()
  await mustRun('umount', ['--lazy', floorNetns])
  fs.unlinkSync(floorNetns)
  floorState.netns = false
  t['netns del'] = Number(process.hrtime.bigint() - start) / 1e6
  return t
}

// ---------------------------------------------------------------------------
// Rows
// ---------------------------------------------------------------------------

/** A measured podctl row; each run is preceded by a bare-node sample, so its floor is interleaved with it. */
function newRow(id, scenario, pods) {
  return {id, scenario, pods, ms: [], rss: [], node: [], strictNode: []}
}

async function sample(row, args) {
  const n = await bareNode()
  row.node.push(n.ms)
  if (caCerts !== undefined) row.strictNode.push((await strictNode()).ms)
  const r = await podctlOk(args)
  row.ms.push(r.ms)
  row.rss.push(r.rssMiB)
  return r
}

/**
 * Finish a row: its figures, its floor (node median + the median of per-run
 * extra floor parts; none when floorName is null), ratio, verdict.
 */
function finish(row, {floorName = 'node', extra = null, target = null, note, rssLimit = RSS_LIMIT_MIB} = {}) {
  const floorMs = floorName === null ? null : median(row.node) + (extra ? median(extra) : 0)
  const s = summary(row.ms)
  const rssMiB = maxOf(row.rss)
  const ratio = floorMs === null ? null : round(s.median / floorMs, 2)
  // Run by run: each run against the node sample (and floor parts) taken right
  // before it, so that the VM's drift between samples cancels; shown beside
  // the ratio of medians, which alone decides the verdict.
  const paired =
    floorMs !== null && row.node.length === row.ms.length && (!extra || extra.length === row.ms.length)
      ? round(median(row.ms.map((ms, i) => ms / (row.node[i] + (extra ? extra[i] : 0)))), 2)
      : null
  const ratioOk = target === null ? null : ratio <= target
  const strictMs = floorName === null || row.strictNode.length === 0 ? null : median(row.strictNode) + (extra ? median(extra) : 0)
  const strictRatio = strictMs === null ? null : round(s.median / strictMs, 2)
  const rssOk = rssMiB === null ? null : rssMiB <= rssLimit
  const pass = ratioOk === null && rssOk === null ? null : ratioOk !== false && rssOk !== false
  return {
    id: row.id,
    scenario: row.scenario,
    pods: row.pods,
    runs: row.ms.map((x) => round(x)),
    ...s,
    rssMiB: round(rssMiB),
    floor: floorName === null ? null : {name: floorName, median: round(floorMs), nodeRuns: row.node.map((x) => round(x))},
    ratio,
    pairedRatio: paired,
    ...(strictRatio === null ? {} : {strict: {floorMedian: round(strictMs), ratio: strictRatio, pass: target === null ? null : strictRatio <= target}}),
    target,
    pass,
    ...(note ? {note} : {}),
  }
}

/**
 * One `rmp -af`, timed as a row. A failure is a result, not the end of the
 * bench: the row fails with podctl's last error line, and the cleanup
 * removes what is left.
 */
async function removeAll(id, scenario, pods) {
  const r = await podctl(['rmp', '-af'])
  const row = finish({...newRow(id, scenario, pods), ms: [r.ms], rss: [r.rssMiB]}, {floorName: null, note: 'one run'})
  if (r.code === 0) return row
  const last = r.stderr.trim().split('\n').filter((l) => l.startsWith('error:')).slice(-2).join(' / ')
  return {...row, pass: false, note: `one run; exited ${r.code}: ${last}`}
}

// ---------------------------------------------------------------------------
// --debug step timings
// ---------------------------------------------------------------------------

function execLabel(file, args) {
  const base = path.basename(file)
  const sub = args.trim().split(/\s+/).find((a) => ['create', 'start', 'kill', 'delete', 'state', 'run'].includes(a))
  return `exec ${sub ? `${base} ${sub}` : base}`
}

/** Step and exec lines of one --debug run, summed per label, in order of appearance. */
function parseDebug(stderr) {
  const parts = new Map()
  let steps = 0
  let execs = 0
  for (const line of stderr.replace(/\x1b\[[0-9;]*m/g, '').split('\n')) {
    let m = /^debug: step (.+): ([\d.]+) ms$/.exec(line)
    if (m) {
      parts.set(`step ${m[1]}`, (parts.get(`step ${m[1]}`) ?? 0) + Number(m[2]))
      steps += Number(m[2])
      continue
    }
    m = /^debug: exec (\S+)(.*) -> \S+ \(([\d.]+) ms\)$/.exec(line)
    if (m) {
      const label = execLabel(m[1], m[2])
      parts.set(label, (parts.get(label) ?? 0) + Number(m[3]))
      execs += Number(m[3])
    }
  }
  return {parts, steps, execs}
}

function aggregateDebug(runs) {
  const labels = []
  for (const r of runs) for (const k of r.parts.keys()) if (!labels.includes(k)) labels.push(k)
  const parts = labels.map((k) => [k, round(median(runs.map((r) => r.parts.get(k) ?? 0)))])
  const outside = runs.map((r) => r.wall - (r.steps > 0 ? r.steps : r.execs))
  const what = runs[0].steps > 0 ? 'outside the steps: node, module loading, oclif, config, exit' : 'outside the execs: node, module loading, oclif, podctl JS, exit'
  parts.push([what, round(median(outside))])
  return {wall: round(median(runs.map((r) => r.wall))), parts}
}

// ---------------------------------------------------------------------------
// Machine
// ---------------------------------------------------------------------------

function machine() {
  const cpus = os.cpus()
  const osRelease = fs.existsSync('/etc/os-release') ? fs.readFileSync('/etc/os-release', 'utf8') : ''
  const runc = spawnSync('runc', ['--version'], {encoding: 'utf8'}).stdout.split('\n')[0] || 'runc: unknown'
  let cgroup = 'v1'
  if (fs.statfsSync('/sys/fs/cgroup').type === 0x63677270) cgroup = 'v2'
  else if (fs.existsSync('/sys/fs/cgroup/unified') && fs.statfsSync('/sys/fs/cgroup/unified').type === 0x63677270) cgroup = 'v1 (hybrid)'
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpus: cpus.length,
    memGiB: round(os.totalmem() / 2 ** 30),
    os: /^PRETTY_NAME="?([^"\n]*)"?/m.exec(osRelease)?.[1] ?? os.type(),
    kernel: os.release(),
    node: process.version,
    runc,
    cgroup,
    loadavg: {start: os.loadavg().map((x) => round(x, 2))},
  }
}

function podctlVersion() {
  const pkg = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8'))
  const git = (args) => spawnSync('git', ['-C', repo, ...args], {encoding: 'utf8'}).stdout.trim()
  return {version: pkg.version, commit: git(['rev-parse', '--short', 'HEAD']) || 'unknown', dirty: git(['status', '--porcelain', '--untracked-files=no']) !== ''}
}

// ---------------------------------------------------------------------------
// The bench
// ---------------------------------------------------------------------------

function prerequisites() {
  if (process.getuid?.() !== 0) throw new Error('the bench needs root: podctl creates network namespaces and runs runc')
  for (const [tool, pkg] of [['runc', 'runc'], ['unshare', 'util-linux'], ['umount', 'mount'], ['ip', 'iproute2'], ['catatonit', 'catatonit']]) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) throw new Error(`${tool} is not installed (apt-get install ${pkg})`)
  }
  pluginPath('bridge')
  if (!fs.existsSync(path.join(repo, 'dist', 'src', 'commands', 'runp.js'))) throw new Error('podctl is not built: run npm run build (or npm run bench)')
  if (!timeBin) notes.push('GNU time is missing (/usr/bin/time; apt-get install time): peak RSS is reported as null.')
}

/** One bench per machine at a time: they would share the bridge pbench0. */
function benchLock() {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', (err) => reject(err.code === 'EADDRINUSE' ? new Error('another podctl bench is running on this machine') : err))
    server.listen({path: '\0podctl-bench'}, () => {
      server.unref()
      resolve(server)
    })
  })
}

async function bench() {
  const m = machine()
  const rows = []
  const floors = {'node -e 0': null} // filled in at the end from every bare-node sample; first in the table
  fs.mkdirSync(path.join(dir, 'pods'), {recursive: true})
  fs.mkdirSync(runRoot, {recursive: true, mode: 0o711})
  // max-pods: the listing ladder's pods and the few others of the run must fit (the default is the kubelet's 110).
  fs.writeFileSync(configFile, `default-network:\n  name: ${NETWORK.name}\n  bridge: ${NETWORK.bridge}\n  subnet: ${NETWORK.subnet}\nmax-pods: ${Math.max(110, MAX_PODS + 20)}\n`)

  // Warm-up, not measured: the page cache, the pause rootfs, the conflist, the bridge, iptables chains.
  log('warm-up')
  await bareNode()
  await podctlOk(['--version'])
  const warm = await runPod('warmup')
  await podctlOk(['stopp', warm])
  await podctlOk(['rmp', warm])
  const conflist = readConflist()
  makeFloorBundle()
  await floorIteration(conflist, 0)

  // --version
  log(`--version ×${RUNS}`)
  const version = newRow('version', '--version', null)
  for (let i = 0; i < RUNS; i++) await sample(version, ['--version'])
  rows.push(finish(version, {target: 1.3}))

  const registryHost = await imageBench(rows, {measure: !opts['containers-only']})
  if (registryHost) await containerBench(rows, registryHost, floors)
  if (opts['images-only'] || opts['containers-only']) {
    floors['node -e 0'] = {...summary(nodeSamples.map((n) => n.ms)), rssMiB: maxOf(nodeSamples.map((n) => n.rssMiB))}
    m.loadavg.end = os.loadavg().map((x) => round(x, 2))
    const only = opts['images-only'] ? {imagesOnly: true} : {containersOnly: true}
    const res = {version: 1, date: new Date().toISOString(), machine: m, podctl: podctlVersion(), options: {runs: RUNS, quick, ...only}, rows, floors, burst: null, steps: null, notes}
    res.targets = [...imageTargets(res), ...containerTargets(res)]
    return res
  }

  // Lifecycle: each iteration is a floor iteration, then runp, stopp, rmp of one pod.
  const runp = newRow('runp', 'runp (pod network)', 0)
  const stopp = newRow('stopp', 'stopp', 1)
  const rmp = newRow('rmp', 'rmp (after stopp)', 1)
  // What a script that tears a pod down in one command runs: one node start, where stopp + rmp pay two.
  const rmpForce = newRow('rmp-f', 'rmp -f (a Ready pod)', 1)
  const parts = Object.fromEntries(floorParts.map((p) => [p, []]))
  for (let i = 0; i < RUNS; i++) {
    log(`lifecycle ${i + 1}/${RUNS}`)
    const t = await floorIteration(conflist, i + 1)
    for (const p of floorParts) parts[p].push(t[p])
    const id = (await sample(runp, ['runp', podConfigFile(`life-${i}`)])).stdout.trim()
    await sample(stopp, ['stopp', id])
    await sample(rmp, ['rmp', id])
    await sample(rmpForce, ['rmp', '-f', await runPod(`life-f-${i}`)])
  }
  const per = (names) => parts[names[0]].map((_, i) => sumAt(names.map((p) => parts[p]), i))
  rows.push(finish(runp, {floorName: 'node + runc run -d + netns add + CNI ADD', extra: per(['runc run -d', 'netns add', 'CNI ADD']), target: 1.2}))
  rows.push(finish(stopp, {floorName: 'node + runc kill + CNI DEL + netns del', extra: per(['runc kill', 'CNI DEL', 'netns del'])}))
  rows.push(finish(rmp, {floorName: 'node + runc delete -f', extra: per(['runc delete -f'])}))
  const both = {...newRow('stopp+rmp', 'stopp + rmp', 1), ms: stopp.ms.map((x, i) => x + rmp.ms[i]), rss: [...stopp.rss, ...rmp.rss], node: stopp.node, strictNode: stopp.strictNode}
  const stopRmParts = per(['runc kill', 'runc delete -f', 'CNI DEL', 'netns del'])
  const twoNodes = 2 * median(stopp.node) + median(stopRmParts)
  const twoStrictNodes = 2 * median(stopp.strictNode) + median(stopRmParts)
  rows.push(
    finish(both, {
      floorName: 'node + runc kill/delete + CNI DEL + netns del',
      extra: stopRmParts,
      target: 1.2,
      note:
        `the floor counts one node start for two processes, as the target states; with two it is ${fmt(twoNodes)} ms (ratio ${(median(both.ms) / twoNodes).toFixed(2)}×)` +
        (both.strictNode.length > 0 ? `, with two strict ones ${fmt(twoStrictNodes)} ms (${(median(both.ms) / twoStrictNodes).toFixed(2)}×)` : ''),
    }),
  )
  rows.push(finish(rmpForce, {floorName: 'node + runc kill/delete + CNI DEL + netns del', extra: stopRmParts}))
  for (const p of floorParts) floors[p] = summary(parts[p])
  const imp = []
  for (let i = 0; i < RUNS; i++) imp.push(await timed(['--input-type=module', '-e', `await import(${JSON.stringify(path.join(repo, 'node_modules', '@oclif', 'core', 'lib', 'index.js'))})`]))
  floors["node + import('@oclif/core') (info)"] = {...summary(imp.map((r) => r.ms)), rssMiB: maxOf(imp.map((r) => r.rssMiB))}

  // --debug step timings of runp, stopp, rmp (not part of the rows: debug output costs a little).
  log('--debug step timings')
  const debugRuns = {runp: [], stopp: [], rmp: []}
  for (let i = 0; i < Math.min(RUNS, DEBUG_RUNS); i++) {
    const r = await podctlOk(['runp', '--debug', podConfigFile(`debug-${i}`)])
    const id = r.stdout.trim()
    debugRuns.runp.push({wall: r.ms, ...parseDebug(r.stderr)})
    for (const verb of ['stopp', 'rmp']) {
      const v = await podctlOk([verb, '--debug', id])
      debugRuns[verb].push({wall: v.ms, ...parseDebug(v.stderr)})
    }
  }
  const steps = {runs: debugRuns.runp.length, verbs: Object.fromEntries(Object.entries(debugRuns).map(([k, v]) => [k, aggregateDebug(v)]))}

  // Burst: 50 pods, 8 at a time.
  log(`burst: ${BURST.pods} pods, ${BURST.parallel} at a time`)
  const burstRuns = []
  const errors = []
  const burstStart = process.hrtime.bigint()
  await pool([...Array(BURST.pods).keys()], BURST.parallel, async (i) => {
    const r = await podctl(['runp', podConfigFile(`burst-${i}`)])
    burstRuns.push(r)
    if (r.code !== 0) errors.push(`runp burst-${i} exited ${r.code}: ${r.stderr.trim().split('\n')[0]}`)
  })
  const totalMs = Number(process.hrtime.bigint() - burstStart) / 1e6
  const burst = {
    pods: BURST.pods,
    parallel: BURST.parallel,
    totalMs: round(totalMs),
    podsPerSecond: round((BURST.pods - errors.length) / (totalMs / 1000), 2),
    errors,
    ...summary(burstRuns.map((r) => r.ms)),
    rssMiB: maxOf(burstRuns.map((r) => r.rssMiB)),
  }
  rows.push(await removeAll('rmp-all-burst', `rmp -af (${BURST.pods} pods, pod network)`, BURST.pods))

  // The listing ladder: pods 1..10 with pod networking, the rest host network.
  const statsp = (await exec(bin, ['statsp', '--help'])).code === 0
  // How bin/podctl started node: from the start-up snapshot, or bin/run.js (no blob for this node).
  const startedBy = /debug: start-up: [\d.]+ ms \(([^)]+)\)/.exec((await exec(bin, ['pods', '-q', '--debug'])).stderr)?.[1] ?? 'unknown'
  notes.push(`podctl started ${startedBy === 'snapshot' ? 'from its start-up snapshot (bin/podctl)' : `without its start-up snapshot (${startedBy})`}.`)
  if (!statsp) notes.push('statsp is not available in this build (podctl statsp --help failed): its rows are skipped.')
  notes.push(`listing ladder: pods 1-${NETWORKED_LADDER_PODS} use pod networking (netns + CNI), pods ${NETWORKED_LADDER_PODS + 1}+ host network (namespace_options.network: 2), to keep the setup fast; every pod runs a real pause process.`)
  const ids = []
  for (const count of LADDER) {
    if (ids.length < count) {
      log(`setup: ${ids.length} → ${count} pods`)
      const setupStart = process.hrtime.bigint()
      const have = ids.length
      await pool([...Array(count - have).keys()].map((k) => have + k), SETUP_PARALLEL, async (n) => {
        ids[n] = await runPod(`pod-${n}`, {hostNetwork: n >= NETWORKED_LADDER_PODS})
      })
      log(`setup: ${count - have} pods in ${(Number(process.hrtime.bigint() - setupStart) / 1e9).toFixed(1)} s`)
    }
    const measure = async (id, scenario, args, options) => {
      log(`${scenario} ×${RUNS}`)
      const row = newRow(id, scenario, count)
      for (let i = 0; i < RUNS; i++) await sample(row, args)
      rows.push(finish(row, options))
    }
    const podsWord = count === 1 ? 'pod' : 'pods'
    if (count !== 1) await measure(`pods-${count}`, `pods, ${count} ${podsWord}`, ['pods'], {target: count === 0 ? 1.3 : count === 1000 ? 2 : null})
    if (count === 1 || (count === LADDER[LADDER.length - 1] && count > 1)) {
      await measure(`inspectp-${count}`, `inspectp, ${count} ${podsWord}`, ['inspectp', ids[0]], {target: count === 1000 ? 2 : null})
    }
    if (statsp && (count === 1 || count === 100)) {
      await measure(`statsp-${count}`, `statsp -o json, ${count} ${podsWord}`, ['statsp', '-o', 'json'], {target: count === 100 ? 1.5 : null})
    }
  }
  if (ids.length > 0) {
    log(`rmp -af of ${ids.length} pods`)
    rows.push(await removeAll(`rmp-all-${ids.length}`, `rmp -af (${ids.length} pods)`, ids.length))
  }

  m.loadavg.end = os.loadavg().map((x) => round(x, 2))
  floors['node -e 0'] = {...summary(nodeSamples.map((n) => n.ms)), rssMiB: maxOf(nodeSamples.map((n) => n.rssMiB))}
  if (strictNodeSamples.length > 0) {
    floors[strictNodeName] = {...summary(strictNodeSamples.map((n) => n.ms)), rssMiB: maxOf(strictNodeSamples.map((n) => n.rssMiB))}
    notes.push(
      `NODE_EXTRA_CA_CERTS is set here: bare node parses every root certificate at start-up, and bin/podctl starts node without it. The verdicts keep the targets' floor (bare node as this environment runs it); "strict" sets each row against ${strictNodeName} instead.`,
    )
  }
  const res = {
    version: 1,
    date: new Date().toISOString(),
    machine: m,
    podctl: podctlVersion(),
    options: {runs: RUNS, quick, maxPods: MAX_PODS, ladder: LADDER, network: NETWORK},
    rows,
    floors,
    burst,
    steps,
    notes,
  }
  res.targets = [...targets(res, statsp), ...imageTargets(res), ...containerTargets(res)]
  return res
}

// ---------------------------------------------------------------------------
// Images: pull + unpack from a registry on loopback
// ---------------------------------------------------------------------------

const registryBin = '/usr/bin/docker-registry'
const registryState = {child: null}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const {port} = s.address()
      s.close(() => resolve(port))
    })
  })
}

/** docker-registry on a free loopback port, its storage in the bench's dir. */
async function startRegistry() {
  const port = await freePort()
  const storage = path.join(dir, 'registry')
  fs.mkdirSync(storage, {recursive: true})
  const config = path.join(dir, 'registry.yml')
  fs.writeFileSync(config, `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${storage}\nhttp:\n  addr: 127.0.0.1:${port}\n`)
  registryState.child = spawn(registryBin, ['serve', config], {stdio: 'ignore', detached: true})
  for (let i = 0; i < 400; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}/v2/`).then((r) => r.ok, () => false)
    if (ok) return `127.0.0.1:${port}`
    if (registryState.child.exitCode !== null) break
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error('docker-registry did not start')
}

/**
 * An OCI layout of one image, a gzipped layer per tree (tar of a parent dir's
 * entries, deterministic), and its blob digests.
 */
function imageLayout(name, layers, config) {
  const layout = path.join(dir, 'layouts', name)
  const blobs = path.join(layout, 'blobs', 'sha256')
  fs.mkdirSync(blobs, {recursive: true})
  fs.writeFileSync(path.join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}')
  const sha = (file) => execFileSync('sha256sum', [file], {encoding: 'utf8'}).split(' ')[0]
  const put = (file) => {
    const hex = sha(file)
    fs.renameSync(file, path.join(blobs, hex))
    return {digest: `sha256:${hex}`, size: fs.statSync(path.join(blobs, hex)).size}
  }
  const descs = []
  const diffIds = []
  for (const [i, {cwd, entries}] of layers.entries()) {
    const gz = path.join(layout, `layer-${i}.tar.gz`)
    const tarCmd = `tar --sort=name --mtime=@0 --numeric-owner -C ${JSON.stringify(cwd)} -cf - ${entries.map((e) => JSON.stringify(e)).join(' ')}`
    const diff = execFileSync('bash', ['-o', 'pipefail', '-c', `${tarCmd} | tee >(gzip -6 > ${JSON.stringify(gz)}) | sha256sum`], {encoding: 'utf8'}).split(' ')[0]
    diffIds.push(`sha256:${diff}`)
    descs.push({mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...put(gz)})
  }
  const json = (value) => {
    const file = path.join(layout, 'tmp.json')
    fs.writeFileSync(file, JSON.stringify(value))
    return put(file)
  }
  const cfg = json({architecture: 'amd64', os: 'linux', config, rootfs: {type: 'layers', diff_ids: diffIds}})
  const manifest = json({schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: {mediaType: 'application/vnd.oci.image.config.v1+json', ...cfg}, layers: descs})
  fs.writeFileSync(
    path.join(layout, 'index.json'),
    JSON.stringify({schemaVersion: 2, manifests: [{mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: {'org.opencontainers.image.ref.name': 'bench'}}]}),
  )
  return {layout, layers: descs, config: cfg, bytes: descs.reduce((a, d) => a + d.size, cfg.size)}
}

/** The test images: busybox-static with a hard link per applet; ~100 MB (gzipped) in four layers of this machine's files (python, locales, node modules, some large libraries). */
function benchImages() {
  const bb = path.join(dir, 'trees', 'busybox')
  fs.mkdirSync(path.join(bb, 'bin'), {recursive: true})
  fs.copyFileSync('/bin/busybox', path.join(bb, 'bin', 'busybox'))
  fs.chmodSync(path.join(bb, 'bin', 'busybox'), 0o755)
  for (const applet of execFileSync('/bin/busybox', ['--list'], {encoding: 'utf8'}).split('\n').filter((a) => a && a !== 'busybox')) {
    fs.linkSync(path.join(bb, 'bin', 'busybox'), path.join(bb, 'bin', applet))
  }
  const busybox = imageLayout('busybox', [{cwd: bb, entries: ['bin']}], {Cmd: ['sh']})
  const big = [
    ['/usr/lib', ['python3.11']],
    ['/usr/share', ['locale']],
    ['/usr/lib', ['node_modules', 'python3']],
    ['/usr/lib/x86_64-linux-gnu', ['libicudata.so.72.1', 'dri', 'libz3.so.4', 'perl']],
  ]
    .map(([cwd, entries]) => [cwd, entries.filter((e) => fs.existsSync(path.join(cwd, e)))])
    .filter(([, entries]) => entries.length > 0)
  const multilayer = imageLayout('multilayer', big.map(([cwd, entries]) => ({cwd, entries})), {Cmd: ['sh']})
  return {busybox, multilayer}
}

/** The floor of a pull: the same blobs read off loopback and gunzipped, in one node process, layers at once. */
const floorScript = `
import http from 'node:http'
import {createGunzip} from 'node:zlib'
const [base, ...digests] = process.argv.slice(1)
const get = (digest, gunzip) => new Promise((resolve, reject) => {
  http.get(base + digest, (res) => {
    const s = gunzip ? res.pipe(createGunzip()) : res
    s.on('data', () => undefined).on('end', resolve).on('error', reject)
  }).on('error', reject)
})
await Promise.all(digests.map((d, i) => get(d, i > 0)))
`

async function imageBench(rows, {measure = true} = {}) {
  if (!fs.existsSync(registryBin)) {
    notes.push('docker-registry is not installed: the image and container rows are skipped.')
    return
  }
  for (const tool of ['skopeo', 'umoci']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
      notes.push(`${tool} is not installed: the image rows are skipped.`)
      return
    }
  }
  log('images: building the test images')
  const host = await startRegistry()
  const images = benchImages()
  for (const [name, img] of Object.entries(images)) {
    await mustRun('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `oci:${img.layout}:bench`, `docker://${host}/bench/${name}:v1`])
  }
  for (const [name, img] of Object.entries(images)) {
    if (!measure) break
    const ref = `${host}/bench/${name}:v1`
    const runs = name === 'busybox' ? RUNS : Math.min(RUNS, 5)
    const mib = (img.bytes / 2 ** 20).toFixed(1)
    const floorName = 'node: blobs off loopback + gunzip'
    const ours = newRow(`pull-${name}`, `pull + unpack, ${name} (${mib} MiB, ${img.layers.length} layer${img.layers.length > 1 ? 's' : ''})`, null)
    const theirs = newRow(`skopeo-umoci-${name}`, `skopeo copy + umoci unpack, ${name}`, null)
    // What writing the files costs on this filesystem, which the floor does not pay: GNU tar unpacking the same blobs from local files.
    const tar = newRow(`tar-${name}`, `tar -xzf of the same layers from files, ${name}`, null)
    const layerFiles = img.layers.map((l) => path.join(img.layout, 'blobs', 'sha256', l.digest.slice(7)))
    for (let i = 0; i < runs; i++) {
      log(`images: ${name} ${i + 1}/${runs}`)
      const floor = await timed(['--input-type=module', '-e', floorScript, `http://${host}/v2/bench/${name}/blobs/`, img.config.digest, ...img.layers.map((l) => l.digest)])
      if (floor.code !== 0) throw new Error(`the pull floor failed: ${floor.stderr.trim()}`)
      const pullRoot = path.join(dir, `pull-${name}-${i}`)
      const r = await podctl(['pull', '-q', '--root', pullRoot, ref])
      if (r.code !== 0) throw new Error(`podctl pull ${ref} exited ${r.code}: ${r.stderr.trim()}`)
      fs.rmSync(pullRoot, {recursive: true, force: true})
      const oci = path.join(dir, `skopeo-${name}-${i}`)
      const bundle = path.join(dir, `umoci-${name}-${i}`)
      const s = await timed(['-c', `skopeo copy --quiet --src-tls-verify=false docker://${ref} oci:${oci}:v1 && umoci unpack --image ${oci}:v1 ${bundle} >/dev/null`], {}, '/bin/sh')
      if (s.code !== 0) throw new Error(`skopeo + umoci of ${ref} exited ${s.code}: ${s.stderr.trim()}`)
      fs.rmSync(oci, {recursive: true, force: true})
      fs.rmSync(bundle, {recursive: true, force: true})
      // Into a directory marked as podctl marks its snapshots/ (chattr +T, where the filesystem has it), each layer's under a
      // name with a random part as podctl's .tmp-<hex>-<random>: ext4 starts its search for the new directory's block group
      // at the name's hash, so a fixed name would land each run in the group the previous run's rm -rf just freed.
      const tarDir = path.join(dir, `tar-${name}-${i}`)
      fs.mkdirSync(tarDir)
      spawnSync('chattr', ['+T', tarDir])
      const t = await timed(['-c', layerFiles.map((f, j) => `d=${tarDir}/${j}-${randomBytes(3).toString('hex')} && mkdir $d && tar -xzf ${f} -C $d &`).join(' ') + ' wait'], {}, '/bin/sh')
      if (t.code !== 0) throw new Error(`tar -xzf of ${name} exited ${t.code}: ${t.stderr.trim()}`)
      fs.rmSync(tarDir, {recursive: true, force: true})
      for (const [row, x] of [[ours, r], [theirs, s], [tar, t]]) {
        row.ms.push(x.ms)
        row.rss.push(x.rssMiB)
        row.node.push(floor.ms)
      }
    }
    const mine = finish(ours, {floorName, target: 1.2, rssLimit: PULL_RSS_LIMIT_MIB})
    const other = finish(theirs, {floorName, rssLimit: Infinity, note: 'peak RSS is the larger of skopeo and umoci'})
    const tarRow = finish(tar, {floorName, rssLimit: Infinity, note: 'the layers in parallel, as podctl unpacks them, each into a directory of a chattr +T one as podctl\'s snapshots; no download, no digests'})
    mine.vsSkopeoUmoci = round(mine.median / other.median, 2)
    mine.vsTar = round(mine.median / tarRow.median, 2)
    if (!mine.note) mine.note = `${mine.vsSkopeoUmoci}× the time of skopeo copy + umoci unpack, ${mine.vsTar}× that of tar -xzf of the same layers`
    rows.push(mine, other, tarRow)
  }
  return host
}

// ---------------------------------------------------------------------------
// Containers: create, start, stop -t 0, rm of a busybox container in a CNI pod
// ---------------------------------------------------------------------------

/** What the cleanup must undo if a container floor iteration is cut short. */
const ctrFloorState = {id: null, rootfs: null, dir: null}

/**
 * conmon as podctl starts it (the same flags, the sync pipe): resolves once
 * conmon has reported the container's PID, i.e. `runc create` is done.
 */
function conmonCreate(id, bundle, logPath) {
  return new Promise((resolve, reject) => {
    const args = ['-b', bundle, '-c', id, '-u', id, '-n', id, '-r', execFileSync('sh', ['-c', 'command -v runc'], {encoding: 'utf8'}).trim(), '--runtime-arg', `--root=${floorCtrRuncRoot}`,
      '-p', path.join(bundle, 'pidfile'), '-P', path.join(bundle, 'conmon.pid'), '--persist-dir', bundle, '-l', `k8s-file:${logPath}`, '--socket-dir-path', path.join(runRoot, 'floor-ctr'), '--log-level', 'error']
    const start = process.hrtime.bigint()
    const child = spawn('conmon', args, {cwd: bundle, detached: true, stdio: ['ignore', 'ignore', 'ignore', 'pipe'], env: {...env, _OCI_SYNCPIPE: '3'}})
    let text = ''
    const sync = child.stdio[3]
    sync.on('data', (d) => {
      text += d.toString()
      if (!text.includes('\n')) return
      const ms = Number(process.hrtime.bigint() - start) / 1e6
      sync.destroy()
      child.unref()
      const msg = JSON.parse(text.slice(0, text.indexOf('\n')))
      if (!(msg.pid > 0)) reject(new Error(`floor conmon: ${msg.message}`))
      else resolve({ms, pid: msg.pid})
    })
    sync.on('close', () => text.includes('\n') || reject(new Error(`floor conmon exited: ${text}`)))
    child.on('error', reject)
  })
}

const floorCtrRuncRoot = path.join(runRoot, 'floor-ctr-runc')
const ctrFloorParts = ['overlay mount', 'conmon + runc create', 'runc start', 'kill + exit file', 'runc delete -f', 'umount']

/** Poll (as podctl does: 1 ms, doubling to 50) until the file exists. */
async function waitFor(file, timeoutMs = 10_000) {
  const deadline = performance.now() + timeoutMs
  for (let delay = 1; !fs.existsSync(file); delay = Math.min(delay * 2, 50)) {
    if (performance.now() > deadline) throw new Error(`${file} did not appear`)
    await new Promise((r) => setTimeout(r, delay))
  }
}

/** One container floor iteration: by hand what podctl create, start, stop -t 0 and rm run, in podctl's order. */
async function ctrFloorIteration(specTemplate, lowerDirs, i) {
  const t = {}
  const id = `pbench-ctr-floor-${i}`
  const cdir = path.join(dir, 'floor-ctr', String(i))
  const rootfs = path.join(cdir, 'rootfs')
  for (const d of ['rootfs', 'upper', 'work']) fs.mkdirSync(path.join(cdir, d), {recursive: true})
  fs.mkdirSync(path.join(runRoot, 'floor-ctr'), {recursive: true, mode: 0o700})
  ctrFloorState.dir = cdir
  ctrFloorState.rootfs = rootfs
  t['overlay mount'] = (await mustRun('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lowerDirs},upperdir=${path.join(cdir, 'upper')},workdir=${path.join(cdir, 'work')}`, rootfs])).ms
  const spec = {...specTemplate, root: {...specTemplate.root, path: rootfs}, linux: {...specTemplate.linux, cgroupsPath: `${specTemplate.linux.cgroupsPath.replace(/\/[^/]+$/, '')}/${id}`}}
  fs.writeFileSync(path.join(cdir, 'config.json'), JSON.stringify(spec))
  ctrFloorState.id = id
  const created = await conmonCreate(id, cdir, path.join(cdir, 'ctr.log'))
  t['conmon + runc create'] = created.ms
  t['runc start'] = (await mustRun('runc', ['--root', floorCtrRuncRoot, 'start', id])).ms
  let start = process.hrtime.bigint()
  process.kill(created.pid, 'SIGKILL')
  await waitFor(path.join(cdir, 'exit'))
  t['kill + exit file'] = Number(process.hrtime.bigint() - start) / 1e6
  t['runc delete -f'] = (await mustRun('runc', ['--root', floorCtrRuncRoot, 'delete', '-f', id])).ms
  ctrFloorState.id = null
  t['umount'] = (await mustRun('umount', [rootfs])).ms
  ctrFloorState.rootfs = null
  fs.rmSync(cdir, {recursive: true, force: true})
  ctrFloorState.dir = null
  return t
}

async function containerBench(rows, host, floors) {
  if (spawnSync('sh', ['-c', 'command -v conmon']).status !== 0) {
    notes.push('conmon is not installed (apt-get install conmon): the container rows are skipped.')
    return
  }
  const ref = `${host}/bench/busybox:v1`
  log('containers: pull, a pod, a warm-up container')
  await podctlOk(['pull', '-q', ref])
  const pod = await runPod('ctr-bench')
  const cfg = (name) => {
    const file = path.join(dir, 'pods', `ctr-${name}.json`)
    fs.writeFileSync(file, JSON.stringify({metadata: {name}, image: {image: ref}, command: ['/bin/sleep', '1000']}))
    return file
  }
  // The floor's spec is podctl's own for this pod (its namespaces, files, cgroup parent), with another rootfs and cgroup.
  const warm = (await podctlOk(['create', pod, cfg('warm')])).stdout.trim()
  const warmDir = path.join(root, 'pods', pod, 'containers', warm)
  const specTemplate = JSON.parse(fs.readFileSync(path.join(warmDir, 'config.json'), 'utf8'))
  const lowerDirs = /lowerdir=([^,]+)/.exec(fs.readFileSync('/proc/self/mounts', 'utf8').split('\n').find((l) => l.includes(`${warm}/rootfs`)) ?? '')?.[1]
  if (!lowerDirs) throw new Error('the warm-up container has no overlay mount')
  await podctlOk(['start', warm])
  await podctlOk(['rm', '-f', warm])
  await ctrFloorIteration(specTemplate, lowerDirs, 0)

  const create = newRow('ctr-create', 'create (busybox, CNI pod)', 1)
  const start = newRow('ctr-start', 'start', 1)
  const stop = newRow('ctr-stop', 'stop -t 0', 1)
  const rm = newRow('ctr-rm', 'rm (after stop)', 1)
  const parts = Object.fromEntries(ctrFloorParts.map((p) => [p, []]))
  for (let i = 0; i < RUNS; i++) {
    log(`containers ${i + 1}/${RUNS}`)
    const t = await ctrFloorIteration(specTemplate, lowerDirs, i + 1)
    for (const p of ctrFloorParts) parts[p].push(t[p])
    const id = (await sample(create, ['create', pod, cfg(`c-${i}`)])).stdout.trim()
    await sample(start, ['start', id])
    await sample(stop, ['stop', '-t', '0', id])
    await sample(rm, ['rm', id])
  }
  const per = (names) => parts[names[0]].map((_, i) => names.reduce((a, p) => a + parts[p][i], 0))
  rows.push(finish(create, {floorName: 'node + overlay mount + conmon (runc create)', extra: per(['overlay mount', 'conmon + runc create']), target: 1.3}))
  rows.push(finish(start, {floorName: 'node + runc start', extra: per(['runc start']), target: 1.3}))
  rows.push(finish(stop, {floorName: 'node + SIGKILL + conmon\'s exit file', extra: per(['kill + exit file']), target: 1.3}))
  rows.push(finish(rm, {floorName: 'node + runc delete -f + umount', extra: per(['runc delete -f', 'umount']), target: 1.3}))
  for (const p of ctrFloorParts) floors[`container: ${p}`] = summary(parts[p])
  await execBench(rows, pod, cfg('exec'))
  await podctlOk(['rmp', '-f', pod])
}

/**
 * exec -s /bin/true in a running busybox container of the pod, against its
 * floor: node's start plus `runc exec` of the same command by hand, run by
 * run in the same loop.
 */
async function execBench(rows, pod, config) {
  log('exec: a running busybox container')
  const id = (await podctlOk(['create', pod, config])).stdout.trim()
  await podctlOk(['start', id])
  const runcRoot = path.join(runRoot, 'runtime', 'runc')
  await podctlOk(['exec', '-s', id, '/bin/true'])
  await mustRun('runc', ['--root', runcRoot, 'exec', id, '/bin/true'])
  const row = newRow('ctr-exec', 'exec -s /bin/true', 1)
  const floor = []
  for (let i = 0; i < RUNS; i++) {
    log(`exec ${i + 1}/${RUNS}`)
    floor.push((await mustRun('runc', ['--root', runcRoot, 'exec', id, '/bin/true'])).ms)
    await sample(row, ['exec', '-s', id, '/bin/true'])
  }
  rows.push(finish(row, {floorName: 'node + runc exec', extra: floor, target: 1.3}))
}

function containerTargets(res) {
  const out = []
  for (const [id, text] of [
    ['ctr-create', 'create ≤ 1.3× (node + overlay mount + conmon running runc create)'],
    ['ctr-start', 'start ≤ 1.3× (node + runc start)'],
    ['ctr-stop', 'stop -t 0 ≤ 1.3× (node + SIGKILL + the exit file)'],
    ['ctr-rm', 'rm ≤ 1.3× (node + runc delete -f + umount)'],
    ['ctr-exec', 'exec -s ≤ 1.3× (node + runc exec)'],
  ]) {
    const r = res.rows.find((x) => x.id === id)
    if (!r) continue
    out.push({target: text, value: `${r.ratio.toFixed(2)}× (${fmt(r.median)} ms vs ${fmt(r.floor.median)} ms)`, pass: r.ratio <= 1.3})
  }
  return out
}

function imageTargets(res) {
  const out = []
  for (const name of ['busybox', 'multilayer']) {
    const r = res.rows.find((x) => x.id === `pull-${name}`)
    const o = res.rows.find((x) => x.id === `skopeo-umoci-${name}`)
    if (!r || !o) continue
    out.push({target: `pull + unpack of ${name} ≤ 1.2× reading and gunzipping its blobs`, value: `${r.ratio.toFixed(2)}× (${fmt(r.median)} ms vs ${fmt(r.floor.median)} ms)`, pass: r.ratio <= 1.2})
    out.push({target: `pull + unpack of ${name} faster than skopeo copy + umoci unpack`, value: `${fmt(r.median)} ms vs ${fmt(o.median)} ms (${r.vsSkopeoUmoci}×)`, pass: r.median < o.median})
    if (name === 'multilayer') out.push({target: `peak RSS of the ~100 MB pull ≤ ${PULL_RSS_LIMIT_MIB} MiB`, value: r.rssMiB === null ? 'no GNU time' : `${fmt(r.rssMiB)} MiB`, pass: r.rssMiB === null ? null : r.rssMiB <= PULL_RSS_LIMIT_MIB})
  }
  return out
}

function targets(res, statsp) {
  const row = (id) => res.rows.find((r) => r.id === id)
  const ratioTarget = (id, text) => {
    const r = row(id)
    if (!r) return {target: text, value: 'not measured in this run', pass: null}
    const paired = r.pairedRatio == null ? '' : `; run by run ${r.pairedRatio.toFixed(2)}×`
    const strict = r.strict ? `; strict: ${r.strict.ratio.toFixed(2)}× (vs ${fmt(r.strict.floorMedian)} ms), ${r.strict.pass ? 'pass' : 'FAIL'}` : ''
    return {target: text, value: `${r.ratio.toFixed(2)}× (${fmt(r.median)} ms vs ${fmt(r.floor.median)} ms${paired})${strict}`, pass: r.ratio <= r.target, ...(r.strict ? {strictPass: r.strict.pass} : {})}
  }
  const rss = [...res.rows.map((r) => r.rssMiB), res.burst.rssMiB]
  const worst = res.rows.reduce((a, r) => (r.rssMiB !== null && (a === null || r.rssMiB > a.rssMiB) ? r : a), null)
  return [
    ratioTarget('version', '--version ≤ 1.3× bare node'),
    ratioTarget('pods-0', 'pods with 0 pods ≤ 1.3× bare node'),
    ratioTarget('pods-1000', 'pods with 1,000 pods ≤ 2× bare node'),
    ratioTarget('inspectp-1000', 'inspectp with 1,000 pods ≤ 2× bare node'),
    ratioTarget('runp', 'runp ≤ 1.2× (node + runc run -d + netns add + CNI ADD)'),
    ratioTarget('stopp+rmp', 'stopp + rmp ≤ 1.2× (node + runc kill/delete + CNI DEL + netns del)'),
    statsp ? ratioTarget('statsp-100', 'statsp -o json over 100 pods ≤ 1.5× bare node') : {target: 'statsp -o json over 100 pods ≤ 1.5× bare node', value: 'statsp not available', pass: null},
    rss.includes(null)
      ? {target: `peak RSS of any verb ≤ ${RSS_LIMIT_MIB} MiB`, value: 'no GNU time', pass: null}
      : {target: `peak RSS of any verb ≤ ${RSS_LIMIT_MIB} MiB`, value: `max ${fmt(Math.max(...rss))} MiB (${worst?.scenario})`, pass: Math.max(...rss) <= RSS_LIMIT_MIB},
    {
      target: `${BURST.pods} pods started ${BURST.parallel} at a time, no error`,
      value: `${res.burst.errors.length} errors, ${fmt(res.burst.podsPerSecond, 2)} pods/s`,
      pass: res.burst.errors.length === 0,
    },
  ]
}

// ---------------------------------------------------------------------------
// Cleanup: everything this run made, and nothing else
// ---------------------------------------------------------------------------

async function quiet(file, args) {
  return exec(file, args).catch((err) => ({code: -1, stdout: '', stderr: err.message}))
}

function ownMounts() {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p) => p && (p.startsWith(`${runRoot}/`) || p.startsWith(`${dir}/`)))
}

/** catatonit processes in the bench's cgroups: its pods' parent, or a floor container's own cgroup. */
function ownPauses() {
  const pids = []
  for (const pid of fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
      // A zombie is dead already: reaping it is its parent's business.
      if (!stat.includes('(catatonit) ') || stat.includes('(catatonit) Z')) continue
      const cgroup = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8')
      if (/^[^:]*:[^:]*:(\/pbench\/|\/pbench-floor-)/m.test(cgroup)) pids.push(Number(pid))
    } catch {
      // exited meanwhile
    }
  }
  return pids
}

/** The bench's cgroup parent in each hierarchy; one found at the start is not this run's to report. */
const ownCgroups = () => (fs.existsSync('/sys/fs/cgroup') ? fs.readdirSync('/sys/fs/cgroup') : []).map((c) => path.join('/sys/fs/cgroup', c, CGROUP_PARENT)).filter((p) => fs.existsSync(p))
const cgroupsAtStart = new Set(ownCgroups())

async function cleanup() {
  cleaningUp = true
  const left = []
  if (registryState.child && registryState.child.exitCode === null) {
    const exited = new Promise((resolve) => registryState.child.once('exit', resolve))
    registryState.child.kill('SIGKILL')
    await exited
  }
  if (floorState.container) await quiet('runc', ['--root', floorRuncRoot, 'delete', '-f', floorState.container])
  if (ctrFloorState.id) await quiet('runc', ['--root', floorCtrRuncRoot, 'delete', '-f', ctrFloorState.id])
  if (ctrFloorState.rootfs) await quiet('umount', ['--lazy', ctrFloorState.rootfs])
  if (floorState.cni) {
    const r = await cniChain('DEL', readConflist(), floorState.cni.id, floorState.cni.result).catch((e) => ({error: e}))
    if (r.error) left.push(`floor CNI DEL: ${r.error.message}`)
  }
  if (floorState.netns) {
    await quiet('umount', ['--lazy', floorNetns])
    fs.rmSync(floorNetns, {force: true})
  }
  if (fs.existsSync(path.join(root, 'pods'))) {
    for (let attempt = 0; attempt < 2; attempt++) {
      const r = await quiet(bin, ['rmp', '-af', '--timeout', '30m'])
      if (r.code !== 0) left.push(`podctl rmp -af exited ${r.code}: ${r.stderr.trim().split('\n').slice(-2).join(' ')}`)
      const rest = (await quiet(bin, ['pods', '-q'])).stdout.trim()
      if (!rest) break
    }
  }
  // What podctl could not remove is still the bench's own (its run root, its runc root): remove it.
  for (const runcRoot of [path.join(runRoot, 'runtime', 'runc'), floorRuncRoot]) {
    if (!fs.existsSync(runcRoot)) continue
    const ids = (await quiet('runc', ['--root', runcRoot, 'list', '-q'])).stdout.split('\n').filter(Boolean)
    for (const id of ids) {
      left.push(`runc container ${id}`)
      await quiet('runc', ['--root', runcRoot, 'delete', '-f', id])
    }
  }
  // Pause processes of the bench's cgroups (its pods' parent /pbench, the floor's /pbench-floor-N) that survived all that.
  for (const pid of ownPauses()) {
    left.push(`pause process ${pid}`)
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // gone meanwhile
    }
  }
  for (const mount of ownMounts().reverse()) {
    left.push(`mount ${mount}`)
    await quiet('umount', ['--lazy', mount])
  }
  if (spawnSync('ip', ['link', 'show', NETWORK.bridge], {stdio: 'ignore'}).status === 0) {
    // CNI DEL removes each pod's veth; one still on the bridge was missed.
    const veths = (spawnSync('ip', ['-o', 'link', 'show', 'master', NETWORK.bridge], {encoding: 'utf8'}).stdout ?? '').split('\n').map((l) => /^\d+: ([^@:]+)/.exec(l)?.[1]).filter(Boolean)
    for (const veth of veths) {
      left.push(`veth ${veth} on ${NETWORK.bridge}`)
      await quiet('ip', ['link', 'del', veth])
    }
    await quiet('ip', ['link', 'del', NETWORK.bridge])
  }
  for (const cg of ownCgroups()) {
    try {
      fs.rmdirSync(cg)
    } catch (err) {
      if (err.code !== 'ENOENT' && !cgroupsAtStart.has(cg)) left.push(`cgroup ${cg}: ${err.code}`)
    }
  }
  const nat = spawnSync('iptables', ['-t', 'nat', '-S'], {encoding: 'utf8'}).stdout ?? ''
  const rules = nat.split('\n').filter((l) => l.includes('10.232.') && !l.startsWith('-N'))
  if (rules.length > 0) left.push(`iptables nat rules: ${rules.join('; ')}`)
  fs.rmSync(dir, {recursive: true, force: true})
  fs.rmSync(runRoot, {recursive: true, force: true})
  // Checked afterwards rather than assumed: what is still there is reported, and the exit status says so.
  if (spawnSync('ip', ['link', 'show', NETWORK.bridge], {stdio: 'ignore'}).status === 0) left.push(`bridge ${NETWORK.bridge} is still there`)
  for (const pid of ownPauses()) left.push(`pause process ${pid} is still running`)
  for (const mount of ownMounts()) left.push(`mount ${mount} is still there`)
  for (const d of [dir, runRoot]) if (fs.existsSync(d)) left.push(`${d} is still there`)
  return left
}

// ---------------------------------------------------------------------------

function writeResults(res) {
  fs.mkdirSync(resultsDir, {recursive: true})
  // One file per kind of run: git keeps the series; docs/performance.md is rendered from them (--markdown).
  const file = path.join(resultsDir, res.options?.imagesOnly ? 'images.json' : res.options?.containersOnly ? 'containers.json' : 'latest.json')
  fs.writeFileSync(`${file}.tmp`, `${JSON.stringify(res, null, 2)}\n`)
  fs.renameSync(`${file}.tmp`, file)
  return [file]
}

let exitCode = 0
let lock
try {
  prerequisites()
  lock = await benchLock()
  log(`state in ${dir} and ${runRoot}; network ${NETWORK.name} (${NETWORK.bridge}, ${NETWORK.subnet}); ${RUNS} runs per row; ladder ${LADDER.join('/')}`)
  const res = await bench()
  const files = writeResults(res)
  process.stdout.write(`${render(res)}\n\nResults: ${files.map((f) => path.relative(repo, f)).join(', ')}\n`)
} catch (err) {
  log(`error: ${err instanceof Interrupted ? err.message : (err.stack ?? err)}`)
  exitCode = err instanceof Interrupted ? 130 : 2
} finally {
  // Without the lock, the bridge and cgroup names belong to the bench that holds it: remove only our dirs.
  log('cleanup')
  const left = lock ? await cleanup().catch((err) => [`cleanup failed: ${err.message}`]) : (fs.rmSync(dir, {recursive: true, force: true}), [])
  for (const l of left) log(`cleanup: had to remove or could not remove: ${l}`)
  if (left.length > 0 && exitCode === 0) exitCode = 2
  lock?.close()
}
process.exit(exitCode)
