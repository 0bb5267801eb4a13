// `podctl serve` as a child process, and a raw @grpc/grpc-js client for it.
// The client loads api.proto itself with snake_case names (keepCase), as a Go
// client such as crictl or the kubelet sees the messages: it shares nothing
// with podctl's own client but the schema file.

import assert from 'node:assert/strict'
import {type ChildProcessWithoutNullStreams, spawn, spawnSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {after, afterEach, before} from 'node:test'

import {type Client, credentials, loadPackageDefinition, Metadata, type ServiceClientConstructor, type ServiceError} from '@grpc/grpc-js'
import {loadSync} from '@grpc/proto-loader'

import {e2eOptionsWith, podctlBin, repoRoot, TestEnv} from './harness.js'

/** crictl and critest 1.26.1, unmodified, beside the project (see ../shared/bin/README.md). */
export const sharedBin = (tool: 'crictl' | 'critest'): string => join(repoRoot, '..', 'shared', 'bin', tool)

/**
 * e2eOptions, and the real CRI tool too: outside the project's layout (a
 * user's clone) it is skipped with the reason printed; under CI=true a
 * missing tool fails.
 */
export function criToolOptions(tool: 'crictl' | 'critest'): {skip?: string} {
  return e2eOptionsWith(`${tool} tests`, criToolMissing(tool))
}

/** A check for e2eOptionsWith: the cri-tools binary, when it is not at ../shared/bin/. */
export const criToolMissing = (tool: 'crictl' | 'critest') => () =>
  existsSync(sharedBin(tool)) ? undefined : `${sharedBin(tool)} is missing (cri-tools 1.26.1; see ../shared/bin/README.md)`

export interface ToolResult {
  code: number
  stdout: string
  stderr: string
}

/** Run crictl (or critest) as an operator would, on serve's socket for both services. */
export function runCriTool(tool: 'crictl' | 'critest', served: Served, args: string[], options: {cwd?: string} = {}): ToolResult {
  const r = spawnSync(sharedBin(tool), ['--runtime-endpoint', served.endpoint, '--image-endpoint', served.endpoint, ...args], {
    cwd: options.cwd,
    encoding: 'utf8',
    timeout: 300_000,
    maxBuffer: 64 * 1024 * 1024,
  })
  return {code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? ''}
}

export interface Served {
  child: ChildProcessWithoutNullStreams
  socket: string
  endpoint: string
  /** everything serve wrote to stderr so far */
  log(): string
  /** resolves with serve's exit code (null when killed) and signal */
  exited: Promise<{code: number | null; signal: NodeJS.Signals | null}>
}

/** Start `podctl serve` on a socket under the env's run root (through `launcher` when given); resolves once it listens. */
export async function startServe(env: TestEnv, extraArgs: string[] = [], extraEnv: Record<string, string> = {}, socketName = 'cri.sock', launcher: string[] = []): Promise<Served> {
  const socket = join(env.runRoot, socketName)
  const endpoint = `unix://${socket}`
  const args = ['serve', '--listen', endpoint, ...extraArgs]
  // A launcher (unshare ...) runs podctl as its last argument.
  const child = (
    launcher.length > 0 ? spawn(launcher[0], [...launcher.slice(1), podctlBin, ...args], {env: env.env(extraEnv), stdio: ['ignore', 'pipe', 'pipe']}) : env.spawn(args, extraEnv)
  ) as unknown as ChildProcessWithoutNullStreams
  let stderr = ''
  child.stderr.on('data', (d) => {
    stderr += d
    for (const m of String(d).matchAll(/\b[0-9a-f]{64}\b/g)) env.seen.add(m[0])
  })
  const exited = new Promise<{code: number | null; signal: NodeJS.Signals | null}>((resolve) => child.on('exit', (code, signal) => resolve({code, signal})))
  await new Promise<void>((resolve, reject) => {
    const onData = () => {
      if (stderr.includes('listening on')) {
        child.stderr.off('data', onData)
        resolve()
      }
    }
    child.stderr.on('data', onData)
    exited.then(({code, signal}) => reject(new Error(`podctl serve exited (${code ?? signal}) before listening:\n${stderr}`)))
  })
  return {child, socket, endpoint, log: () => stderr, exited}
}

/** Resolves once serve's log matches (serve logs each call as it ends; with --debug, each step). */
export function waitForLog(served: Served, pattern: RegExp): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (pattern.test(served.log())) {
        served.child.stderr.off('data', check)
        resolve()
      }
    }
    served.child.stderr.on('data', check)
    check()
  })
}

/** SIGTERM, and wait for the exit. */
export async function stopServe(served: Served): Promise<{code: number | null; signal: NodeJS.Signals | null}> {
  if (served.child.exitCode !== null || served.child.signalCode !== null) return served.exited
  served.child.kill('SIGTERM')
  return served.exited
}

const definition = loadSync(join(repoRoot, 'src', 'cri', 'api.proto'), {keepCase: true, longs: String, enums: String, defaults: true, oneofs: true})
const runtimeV1 = (loadPackageDefinition(definition).runtime as Record<string, Record<string, ServiceClientConstructor>>).v1

export interface CallResult<T = any> {
  err: ServiceError | null
  res: T
}

/** A raw CRI client: call(rpc, request) resolves with the error or the response, never rejects. */
export class RawCri {
  readonly runtime: Client & Record<string, Function>
  readonly image: Client & Record<string, Function>

  /** `authority`: the :authority the client sends (grpc-js sends localhost unless told); `channel`: more channel options. */
  constructor(socket: string, authority?: string, channel: Record<string, number | string> = {}) {
    const options = {...channel, ...(authority === undefined ? {} : {'grpc.default_authority': authority})}
    this.runtime = new runtimeV1.RuntimeService(`unix://${socket}`, credentials.createInsecure(), options) as Client & Record<string, Function>
    this.image = new runtimeV1.ImageService(`unix://${socket}`, credentials.createInsecure(), options) as Client & Record<string, Function>
  }

  call<T = any>(rpc: string, request: object = {}, options: {service?: 'runtime' | 'image'; deadlineMs?: number} = {}): Promise<CallResult<T>> {
    const client = options.service === 'image' ? this.image : this.runtime
    const deadline = new Date(Date.now() + (options.deadlineMs ?? 60_000))
    return new Promise((resolve) => {
      client[rpc].call(client, request, new Metadata(), {deadline}, (err: ServiceError | null, res: T) => resolve({err, res}))
    })
  }

  /** Succeeds, or fails the test with the gRPC error. */
  async ok<T = any>(rpc: string, request: object = {}, options: {service?: 'runtime' | 'image'} = {}): Promise<T> {
    const {err, res} = await this.call<T>(rpc, request, options)
    assert.equal(err, null, `${rpc}: ${err?.code} ${err?.details}`)
    return res
  }

  close(): void {
    this.runtime.close()
    this.image.close()
  }
}

/** One describe's podctl serve: its own TestEnv and a raw client, made before its tests and stopped after them. */
export interface ServeSuite {
  env: TestEnv
  served: Served
  cri: RawCri
}

/**
 * Register the hooks of a describe that drives podctl serve: serve on a
 * TestEnv of the given slot (and config file text), a raw client, and after
 * each test every pod removed and nothing left behind.
 */
export function serveSuite(slot: number, configText?: string): ServeSuite {
  const s = {} as ServeSuite
  before(async () => {
    s.env = new TestEnv(slot, configText)
    s.served = await startServe(s.env)
    s.cri = new RawCri(s.served.socket)
  })
  after(async () => {
    s.cri?.close()
    if (s.served) await stopServe(s.served)
    s.env?.teardown()
  })
  afterEach(() => {
    s.env.ok(['rmp', '-af'])
    s.env.assertNoLeaks()
  })
  return s
}
