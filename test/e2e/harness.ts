// The e2e harness: every test file gets its own state root, run root, CNI
// conf dir, network name, bridge and subnet, runs the real built binary as
// root the way a shell script would, and checks afterwards that nothing it
// made is left on the machine.

import assert from 'node:assert/strict'
import {execFileSync, spawn, spawnSync} from 'node:child_process'
import {createHash, randomBytes} from 'node:crypto'
import {existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, statfsSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))
/** The command a user runs: node from podctl's start-up snapshot, or bin/run.js when there is none. */
export const podctlBin = join(repoRoot, 'bin', 'podctl')

/**
 * The environment that makes bin/podctl start each of its three ways: from
 * the start-up snapshot, on the lean path (bin/run.js), or through oclif.
 */
export const startPaths = {
  snapshot: {},
  lean: {PODCTL_NO_SNAPSHOT: '1'},
  oclif: {PODCTL_NO_SNAPSHOT: '1', PODCTL_NO_LEAN: '1'},
} as const satisfies Record<string, Record<string, string>>

/** Where a tool is on PATH, or undefined when it is not installed. */
export function which(tool: string): string | undefined {
  const r = spawnSync('sh', ['-c', `command -v ${tool}`], {encoding: 'utf8'})
  return r.status === 0 ? r.stdout.trim() : undefined
}

/** Why the e2e tests cannot run here, or undefined when they can. */
export function missingPrerequisite(): string | undefined {
  if (process.getuid?.() !== 0) return 'e2e tests need root (they create network namespaces and run runc)'
  const tools: [string, string][] = [
    ['runc', 'runc'],
    ['catatonit', 'catatonit'],
    ['unshare', 'util-linux'],
    ['ip', 'iproute2'],
    ['iptables', 'iptables'],
    ['ping', 'iputils-ping'],
    ['nsenter', 'util-linux'],
  ]
  for (const [tool, pkg] of tools) {
    if (!which(tool)) return `${tool} is not installed (apt-get install ${pkg})`
  }
  if (!['/opt/cni/bin/bridge', '/usr/lib/cni/bridge', '/usr/libexec/cni/bridge'].some((p) => existsSync(p))) {
    return 'CNI plugins are not installed (apt-get install containernetworking-plugins)'
  }
  return undefined
}

/**
 * Options for node:test's describe(): skipped with a printed reason when a
 * prerequisite is missing; under CI=true a missing prerequisite fails instead.
 */
export function e2eOptions(): {skip?: string} {
  const missing = missingPrerequisite()
  if (!missing) return {}
  if (process.env.CI === 'true') throw new Error(`e2e prerequisite missing under CI=true: ${missing}`)
  process.stdout.write(`# skipping e2e tests: ${missing}\n`)
  return {skip: missing}
}

/**
 * e2eOptions plus the prerequisites of one group of tests (each check says
 * what is missing, or undefined): skipped with the reason printed, a failure
 * under CI=true.
 */
export function e2eOptionsWith(what: string, ...checks: (() => string | undefined)[]): {skip?: string} {
  const base = e2eOptions()
  if (base.skip) return base
  for (const check of checks) {
    const missing = check()
    if (!missing) continue
    if (process.env.CI === 'true') throw new Error(`e2e prerequisite missing under CI=true: ${missing}`)
    process.stdout.write(`# skipping ${what}: ${missing}\n`)
    return {skip: missing}
  }
  return {}
}

const CGROUP2_SUPER_MAGIC = 0x63677270

export const cgroupV2Host = (): boolean => statfsSync('/sys/fs/cgroup').type === CGROUP2_SUPER_MAGIC

/** Every hierarchy root a pod cgroup can be in: /sys/fs/cgroup itself on v2; each mounted hierarchy on v1. */
function hierarchies(): string[] {
  if (cgroupV2Host()) return ['/sys/fs/cgroup']
  return readdirSync('/sys/fs/cgroup', {withFileTypes: true})
    .filter((e) => e.isDirectory())
    .map((e) => join('/sys/fs/cgroup', e.name))
}

/** The hierarchies in which the cgroup `path` exists. */
export function cgroupDirs(path: string): string[] {
  return hierarchies()
    .map((h) => join(h, path))
    .filter((d) => existsSync(d))
}

export interface Result {
  code: number
  stdout: string
  stderr: string
}

export class TestEnv {
  readonly dir: string
  readonly root: string
  readonly runRoot: string
  readonly confDir: string
  readonly configFile: string
  readonly network: string
  readonly bridge: string
  readonly subnetPrefix: string
  /**
   * The env's cgroup parent (its config file's cgroup-parent): its pods never
   * share podctl's default /podctl with a user's, and teardown removes it.
   */
  readonly cgroupParent: string
  /** every pod ID this env saw, for the leak check */
  readonly seen = new Set<string>()
  /** the CNI networks its pods may be in (a test's own conflists add theirs), for the leak check's chain names */
  readonly networks = new Set<string>()
  /** host-local dataDirs (with the network's name) its pods may take IPs in */
  readonly ipamDirs: string[] = []

  /** `slot` (1-250) gives each test file its own subnet 10.231.<slot>.0/24. */
  constructor(readonly slot: number, extraConfig = '') {
    const tag = randomBytes(3).toString('hex')
    this.dir = `/tmp/podctl-e2e-${slot}-${tag}`
    this.root = join(this.dir, 'root')
    this.runRoot = `/run/podctl-e2e-${slot}-${tag}`
    this.confDir = join(this.dir, 'net.d')
    this.configFile = join(this.dir, 'podctl.yaml')
    this.network = `pe2e-${slot}-${tag}`
    this.bridge = `pe${slot}${tag}`.slice(0, 15)
    this.subnetPrefix = `10.231.${slot}`
    this.cgroupParent = `/podctl-e2e-${slot}-${tag}`
    this.networks.add(this.network)
    this.ipamDirs.push(join(this.root, 'cni', 'networks', this.network))
    mkdirSync(this.dir, {recursive: true})
    writeFileSync(
      this.configFile,
      `default-network:\n  name: ${this.network}\n  bridge: ${this.bridge}\n  subnet: ${this.subnetPrefix}.0/24\ncgroup-parent: ${this.cgroupParent}\n${extraConfig}`,
    )
  }

  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      ...(process.env as Record<string, string>),
      PODCTL_ROOT: this.root,
      PODCTL_RUN_ROOT: this.runRoot,
      PODCTL_CNI_CONF_DIR: this.confDir,
      PODCTL_CONFIG: this.configFile,
      NO_COLOR: '1',
      ...extra,
    }
  }

  /** Run the built binary (or another copy of the launcher); never throws on a non-zero exit. */
  podctl(args: string[], options: {env?: Record<string, string>; input?: string; bin?: string; cwd?: string} = {}): Result {
    const r = spawnSync(options.bin ?? podctlBin, args, {cwd: options.cwd, env: this.env(options.env), input: options.input, encoding: 'utf8', timeout: 120_000})
    const result = {code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? ''}
    for (const m of `${result.stdout}${result.stderr}`.matchAll(/\b[0-9a-f]{64}\b/g)) this.seen.add(m[0])
    return result
  }

  /** Run and assert success; returns stdout. */
  ok(args: string[], options: {env?: Record<string, string>} = {}): string {
    const r = this.podctl(args, options)
    assert.equal(r.code, 0, `podctl ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`)
    return r.stdout
  }

  /** Start podctl without waiting (for signals and races). */
  spawn(args: string[], env: Record<string, string> = {}) {
    return spawn(podctlBin, args, {env: this.env(env), stdio: ['ignore', 'pipe', 'pipe']})
  }

  /** Write a pod config (object → JSON, string as is) and return its path. */
  podConfig(config: object | string, name = `pod-${randomBytes(3).toString('hex')}.json`): string {
    const path = join(this.dir, name)
    writeFileSync(path, typeof config === 'string' ? config : JSON.stringify(config))
    return path
  }

  /** runp a pod with the given metadata name (and extra config), return its ID. */
  runPod(name: string, extra: Record<string, unknown> = {}, namespace = 'default'): string {
    const id = this.ok(['runp', this.podConfig({metadata: {name, namespace}, ...extra})]).trim()
    assert.match(id, /^[0-9a-f]{64}$/)
    return id
  }

  inspect(id: string): {status: Record<string, any>; info: Record<string, any>} {
    return JSON.parse(this.ok(['inspectp', id]))
  }

  /** host-local allocations in this env's IPAM dirs: one file per allocated IP. */
  ipamAllocations(): string[] {
    return this.ipamDirs.flatMap((dir) => (existsSync(dir) ? readdirSync(dir).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f) || f.includes(':')) : []))
  }

  /** Everything a pod of this env may leave, listed; empty means clean. */
  leaks(): string[] {
    const found: string[] = []
    const netnsDir = join(this.runRoot, 'netns')
    if (existsSync(netnsDir) && readdirSync(netnsDir).length > 0) found.push(`netns files: ${readdirSync(netnsDir).join(' ')}`)
    const mounts = readFileSync('/proc/self/mounts', 'utf8').split('\n').filter((l) => l.includes(this.runRoot) || l.includes(this.dir))
    if (mounts.length > 0) found.push(`mounts: ${mounts.join('; ')}`)
    const veths = spawnSync('ip', ['-o', 'link', 'show', 'master', this.bridge], {encoding: 'utf8'}).stdout.trim()
    if (veths) found.push(`veths on ${this.bridge}: ${veths}`)
    const ipam = this.ipamAllocations()
    if (ipam.length > 0) found.push(`IPAM allocations: ${ipam.join(' ')}`)
    const runcRoot = join(this.runRoot, 'runtime', 'runc')
    if (existsSync(runcRoot)) {
      const containers = execFileSync('runc', ['--root', runcRoot, 'list', '-q'], {encoding: 'utf8'}).trim()
      if (containers) found.push(`runc containers: ${containers}`)
    }
    for (const id of this.seen) {
      // A pod of a config without cgroup-parent lands under podctl's default, /podctl.
      for (const dir of [...cgroupDirs(`${this.cgroupParent}/${id}`), ...cgroupDirs(`/podctl/${id}`)]) found.push(`cgroup ${dir}`)
      // Zombies are not the pod's: they hold nothing but a PID until init reaps them
      // (this machine's PID 1 reaps lazily, every few seconds).
      const live = spawnSync('sh', ['-c', `grep -l ${id} /proc/[0-9]*/cgroup 2>/dev/null`], {encoding: 'utf8'})
        .stdout.split('\n')
        .filter(Boolean)
        .filter((path) => {
          let stat: string
          try {
            stat = readFileSync(path.replace(/cgroup$/, 'stat'), 'utf8')
          } catch {
            // It exited, and was reaped, since grep saw it: it holds nothing.
            return false
          }
          return !/\) [ZX] /.test(stat)
        })
      if (live.length > 0) found.push(`processes in pod ${id.slice(0, 13)} cgroups: ${live.join(' ')}`)
    }
    const nat = spawnSync('iptables', ['-t', 'nat', '-S'], {encoding: 'utf8'}).stdout
    const rules = nat.split('\n').filter((l) => l.includes(`${this.subnetPrefix}.`) && !l.startsWith('-N'))
    if (rules.length > 0) found.push(`iptables nat rules: ${rules.join('; ')}`)
    // CNI's own chains, named by a hash of network and pod ID, and rules commented with a pod's ID.
    const natLines = nat.split('\n')
    for (const id of this.seen) {
      const commented = natLines.filter((l) => l.includes(id))
      if (commented.length > 0) found.push(`iptables nat rules of pod ${id.slice(0, 13)}: ${commented.join('; ')}`)
      for (const network of this.networks) {
        for (const prefix of ['CNI-', 'CNI-DN-']) {
          const chain = prefix + createHash('sha512').update(network + id).digest('hex').slice(0, 28 - prefix.length)
          if (natLines.includes(`-N ${chain}`)) found.push(`iptables nat chain ${chain} of pod ${id.slice(0, 13)}`)
        }
      }
    }
    const podsDir = join(this.root, 'pods')
    if (existsSync(podsDir) && readdirSync(podsDir).length > 0) found.push(`pod records: ${readdirSync(podsDir).join(' ')}`)
    const namesDir = join(this.root, 'names')
    if (existsSync(namesDir) && readdirSync(namesDir).length > 0) found.push(`name reservations: ${readdirSync(namesDir).length}`)
    return found
  }

  assertNoLeaks(): void {
    assert.deepEqual(this.leaks(), [], 'resources left behind')
  }

  /** Remove every pod, assert nothing is left, then remove the env's own bridge, cgroup parent and dirs. */
  teardown(): void {
    const r = this.podctl(['rmp', '-af'])
    const leaks = this.leaks()
    // Whatever a failed test left without a record, so the next run of this slot starts clean.
    this.podctl(['gc'])
    // The bridge is the env's own (named after it); podctl keeps bridges, as CNI's bridge plugin does,
    // and parent cgroups, as runc does: both are the env's to remove. A parent that will not go holds a pod.
    spawnSync('ip', ['link', 'del', this.bridge])
    for (const dir of cgroupDirs(this.cgroupParent)) {
      try {
        rmdirSync(dir)
      } catch (err) {
        leaks.push(`cgroup parent ${dir}: ${(err as Error).message}`)
      }
    }
    rmSync(this.dir, {recursive: true, force: true})
    rmSync(this.runRoot, {recursive: true, force: true})
    assert.equal(r.code, 0, `rmp -af failed: ${r.stderr}`)
    assert.deepEqual(leaks, [], 'resources left behind after rmp -af')
  }
}

/** The host's namespace inode of a kind, to compare with a pod's. */
export function nsInode(pid: number | 'self', kind: string): string {
  return execFileSync('readlink', [`/proc/${pid}/ns/${kind}`], {encoding: 'utf8'}).trim()
}

export function ping(ip: string): boolean {
  return spawnSync('ping', ['-c', '1', '-W', '2', ip]).status === 0
}
