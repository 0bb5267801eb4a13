// Exec and Attach through `podctl serve`'s streaming server, driven by the
// real crictl 1.26.1, on real containers (busybox from a docker-registry on
// loopback, runc, conmon). The tty cases run crictl on a real terminal: a
// tmux server of the test's own (its own socket, killed by the test), whose
// pane size is the terminal size crictl sends on the resize stream.

import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {existsSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'

import {e2eOptionsWith, TestEnv, which} from './harness.js'
import {missingRegistryTools, type Registry, registryWithBusybox} from './registry.js'
import {criToolMissing, RawCri, runCriTool, type Served, sharedBin, startServe, stopServe} from './serve-helpers.js'

const missing = (tool: string, pkg: string) => () => (which(tool) ? undefined : `${tool} is not installed (apt-get install ${pkg})`)

/** Resolves once check() is true; the test's own timeout bounds the wait (no timed assertion). */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 50))
}

/** Live processes whose command line names the env's directories: monitors, relays, runtimes left behind. */
function processesOf(env: TestEnv): string[] {
  const found: string[] = []
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
      if (/\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))) continue
      if (argv.some((a) => a.includes(env.root) || a.includes(env.runRoot))) found.push(`${pid} ${argv.join(' ').slice(0, 200)}`)
    } catch {
      // gone meanwhile
    }
  }
  return found
}

/** A tmux server of this test's own: one session running one command on a terminal of a given size. */
class Terminal {
  readonly socket = `podctl-e2e-191-${randomBytes(3).toString('hex')}`
  constructor(
    command: string,
    readonly statusFile: string,
    columns = 100,
    rows = 30,
  ) {
    // The command's exit status lands in a file: the pane closes with the command.
    const r = this.tmux('new-session', '-d', '-x', String(columns), '-y', String(rows), `${command}; echo $? > ${statusFile}`)
    assert.equal(r.status, 0, r.stderr)
  }

  tmux(...args: string[]) {
    return spawnSync('tmux', ['-L', this.socket, '-f', '/dev/null', ...args], {encoding: 'utf8'})
  }

  screen(): string {
    return this.tmux('capture-pane', '-p', '-J', '-S', '-200').stdout
  }

  type(text: string): void {
    this.tmux('send-keys', '-l', text)
    this.tmux('send-keys', 'Enter')
  }

  resize(columns: number, rows: number): void {
    this.tmux('resize-window', '-x', String(columns), '-y', String(rows))
  }

  async exitStatus(): Promise<number> {
    await until(() => existsSync(this.statusFile) && readFileSync(this.statusFile, 'utf8').endsWith('\n'))
    return Number(readFileSync(this.statusFile, 'utf8').trim())
  }

  kill(): void {
    this.tmux('kill-server')
  }
}

describe('exec and attach through podctl serve, under the real crictl', e2eOptionsWith('streaming exec tests', missingRegistryTools, missing('conmon', 'conmon'), missing('tmux', 'tmux'), missing('python3', 'python3'), criToolMissing('crictl')), () => {
  let env: TestEnv
  let reg: Registry
  let image: string
  let served: Served
  const terminals: Terminal[] = []

  before(async () => {
    env = new TestEnv(191)
    ;({reg, image} = await registryWithBusybox(env.dir))
    served = await startServe(env)
  })
  after(async () => {
    for (const t of terminals) t.kill()
    await stopServe(served)
    const left = env ? processesOf(env) : []
    env?.teardown()
    await reg?.stop()
    assert.deepEqual(left, [], 'processes left behind')
  })

  /** `podctl run` of a busybox container in a new pod: its ID. */
  const runContainer = (name: string, container: object): string => {
    const c = join(env.dir, `${name}-container.json`)
    const p = join(env.dir, `${name}-pod.json`)
    writeFileSync(c, JSON.stringify({metadata: {name}, image: {image}, log_path: `${name}.log`, ...container}))
    writeFileSync(p, JSON.stringify({metadata: {name: `${name}-pod`, namespace: 'default', uid: `${name}-uid`}, log_directory: join(env.dir, 'logs', name)}))
    const id = env.ok(['run', c, p]).trim()
    assert.match(id, /^[0-9a-f]{64}$/)
    return id
  }
  const crictl = (args: string[], input?: string) => {
    if (input === undefined) return runCriTool('crictl', served, args)
    const r = spawnSync(sharedBin('crictl'), ['--runtime-endpoint', served.endpoint, ...args], {input, encoding: 'utf8', timeout: 120_000})
    return {code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr}
  }
  const terminal = (args: string[], name: string) => {
    const t = new Terminal(`${sharedBin('crictl')} --runtime-endpoint ${served.endpoint} ${args.join(' ')}`, join(env.dir, `${name}.status`))
    terminals.push(t)
    return t
  }

  test('crictl exec: stdout and stderr apart, stdin with -i, and a non-zero exit as crictl 1.26 reports it', () => {
    const id = runContainer('execs', {command: ['/bin/sleep', '1000']})
    const ok = crictl(['exec', id, 'sh', '-c', 'echo out; echo err >&2'])
    assert.equal(ok.code, 0, ok.stderr)
    assert.equal(ok.stdout, 'out\n')
    assert.equal(ok.stderr, 'err\n')
    const piped = crictl(['exec', '-i', id, 'sh', '-c', 'tr a-z A-Z; echo done'], 'hello\nworld\n')
    assert.equal(piped.code, 0, piped.stderr)
    assert.equal(piped.stdout, 'HELLO\nWORLD\ndone\n')
    const failed = crictl(['exec', id, 'sh', '-c', 'echo partial; exit 3'])
    assert.equal(failed.code, 1)
    assert.equal(failed.stdout, 'partial\n')
    assert.match(failed.stderr, /execing command in container: command terminated with exit code 3/)
    const absent = crictl(['exec', id, '/no/such/binary'])
    assert.equal(absent.code, 1)
    assert.match(absent.stderr, /execing command in container: /)
    env.ok(['rmp', '-af'])
  })

  test('crictl exec -it on a real terminal: the size and its changes, keystrokes, the exit code', async () => {
    const id = runContainer('shell', {command: ['/bin/sleep', '1000']})
    const t = terminal(['exec', '-it', id, 'sh'], 'exec-it')
    await until(() => /# $/m.test(t.screen()))
    t.type('stty size; tty')
    await until(() => /^30 100$/m.test(t.screen()))
    assert.match(t.screen(), /^\/dev\/pts\/\d+$/m)
    t.resize(120, 40)
    t.type('stty size')
    await until(() => /^40 120$/m.test(t.screen()))
    t.type('exit 7')
    assert.equal(await t.exitStatus(), 1, 'crictl 1.26 exits 1 for any non-zero status')
    env.ok(['rmp', '-af'])
  })

  test('crictl attach: a tty container on a real terminal, and a non-tty one fed through stdin', async () => {
    const tty = runContainer('tty', {command: ['/bin/sh'], tty: true, stdin: true})
    const t = terminal(['attach', '-it', tty], 'attach-it')
    // Output before the attach is not replayed: ask the shell for a prompt.
    await until(() => {
      t.type('echo ready-$((6*7))')
      return /^ready-42$/m.test(t.screen())
    })
    t.type('exit')
    assert.equal(await t.exitStatus(), 0)

    const fed = runContainer('fed', {command: ['/bin/sh', '-c', 'while read l; do echo got:$l; done; echo bye'], stdin: true, stdin_once: true})
    const r = crictl(['attach', '-i', fed], 'one\ntwo\n')
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'got:one\ngot:two\nbye\n')
    env.ok(['rmp', '-af'])
  })

  test('Exec and Attach refuse what cannot stream: no such container, a stopped one, tty with stderr', async () => {
    const plain = runContainer('plain', {command: ['/bin/sleep', '1000']})
    const cri = new RawCri(served.socket)
    try {
      const both = await cri.call('Exec', {container_id: plain, cmd: ['true'], tty: true, stdout: true, stderr: true})
      assert.deepEqual([both.err?.code, both.err?.details], [3, 'tty and stderr cannot both be true'])
      const none = await cri.call('Exec', {container_id: plain, cmd: ['true']})
      assert.deepEqual([none.err?.code, none.err?.details], [3, 'one of stdin, stdout, or stderr must be set'])
      const noTty = await cri.call('Attach', {container_id: plain, tty: true, stdout: true})
      assert.equal(noTty.err?.code, 3)
      assert.match(noTty.err!.details, /has no terminal: attach without -t/)
      const {url} = await cri.ok('Exec', {container_id: plain.slice(0, 12), cmd: ['true'], stdout: true})
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/exec\/[A-Za-z0-9_-]{8}$/)
    } finally {
      cri.close()
    }
    const id = runContainer('stopped', {command: ['/bin/sleep', '1000']})
    env.ok(['stop', '-t', '0', id])
    const stopped = crictl(['exec', id, 'true'])
    assert.equal(stopped.code, 1)
    // crictl quotes the gRPC message in its log line: the quotes come escaped.
    assert.match(stopped.stderr, new RegExp(`execing command in container: rpc error: code = Unknown desc = container \\\\"${id}\\\\" is not running \\(CONTAINER_EXITED\\)`))
    const unknown = crictl(['exec', 'f'.repeat(64), 'true'])
    assert.equal(unknown.code, 1)
    assert.match(unknown.stderr, /code = NotFound desc = container \\"f{64}\\" not found/)
    env.ok(['rmp', '-af'])
  })
})
