// The OCI distribution protocol, spoken directly with node's http/https:
// the /v2/ ping, Bearer (token realm) and Basic authentication, manifests by
// tag or digest, and blobs by digest following redirects. Mirrors are tried
// before the registry itself; a registry on loopback, or one set insecure,
// may answer plain HTTP.

import {Agent as HttpAgent, request as httpRequest, type IncomingMessage} from 'node:http'
import {Agent as HttpsAgent, request as httpsRequest} from 'node:https'
import {rootCertificates} from 'node:tls'
import {setTimeout as sleep} from 'node:timers/promises'

import {messageOf, PodctlError} from '../runtime/errors.js'
import type {RegistryHost} from '../runtime/settings.js'
import {readUserFile} from '../runtime/user-file.js'
import type {ImageReference} from './reference.js'

export interface Credentials {
  username?: string
  password?: string
  /** a token for the registry itself (Authorization: Bearer) */
  registryToken?: string
  /** an OAuth2 refresh token for the token realm */
  identityToken?: string
}

export interface Endpoint {
  /** https://host:port or http://host:port */
  base: string
  /** a mirror: a 404 there falls through to the next endpoint */
  mirror: boolean
  /** TLS certificates not verified (insecure registries) */
  skipVerify: boolean
  /** plain HTTP may be tried after HTTPS fails (loopback and insecure hosts) */
  httpFallback: boolean
}

const isLoopback = (host: string) => {
  const name = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '')
  return name === 'localhost' || name === '::1' || /^127\.\d+\.\d+\.\d+$/.test(name)
}

/** Where the registry of `registry` is reached: its mirrors, then itself (docker.io at registry-1.docker.io). */
export function endpointsOf(registry: string, settings: Record<string, RegistryHost>): Endpoint[] {
  const host = settings[registry] ?? {}
  const insecure = host.insecure === true
  const out: Endpoint[] = (host.mirrors ?? []).map((m) => {
    const mh = new URL(m).host
    const mirrorInsecure = insecure || settings[mh]?.insecure === true
    return {base: m, mirror: true, skipVerify: mirrorInsecure, httpFallback: false}
  })
  const target = registry === 'docker.io' ? 'registry-1.docker.io' : registry
  const plain = insecure || isLoopback(registry)
  // Loopback and insecure hosts: plain HTTP first (what a local registry speaks), HTTPS after.
  out.push({base: `${plain ? 'http' : 'https'}://${target}`, mirror: false, skipVerify: insecure, httpFallback: plain})
  return out
}

export interface Response {
  status: number
  headers: IncomingMessage['headers']
  body: IncomingMessage
  url: string
}

interface Challenge {
  scheme: string
  params: Record<string, string>
}

/** WWW-Authenticate: Bearer realm="...",service="...",scope="..." (quoted values may hold commas). */
export function parseChallenge(header: string): Challenge | undefined {
  const m = header.match(/^\s*(\w+)\s*(.*)$/s)
  if (!m) return undefined
  const params: Record<string, string> = {}
  for (const p of m[2].matchAll(/([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) params[p[1].toLowerCase()] = (p[2] ?? p[3] ?? '').replace(/\\(.)/g, '$1')
  return {scheme: m[1].toLowerCase(), params}
}

const userAgent = 'podctl/0.1 (OCI distribution)'

export class RegistryClient {
  private authorization: string | undefined
  private readonly agents = new Map<string, HttpAgent>()
  private ca: string[] | undefined
  /** the endpoint that answered last (mirrors are tried in order once) */
  private endpoint: Endpoint | undefined

  constructor(
    readonly ref: ImageReference,
    readonly settings: Record<string, RegistryHost>,
    readonly credentials: Credentials | undefined,
    readonly signal?: AbortSignal,
    readonly log: (m: string) => void = () => undefined,
  ) {
    if (credentials?.registryToken) this.authorization = `Bearer ${credentials.registryToken}`
  }

  close(): void {
    for (const a of this.agents.values()) a.destroy()
  }

  private caFor(url: URL): string[] | undefined {
    const files = this.settings[this.ref.registry]?.caFiles ?? this.settings[url.host]?.caFiles
    if (!files) return undefined
    if (!this.ca) {
      this.ca = [...rootCertificates]
      // Through the guarded reader: a FIFO, a /proc file or a huge file named in the settings is refused, not waited on.
      for (const f of files) this.ca.push(readUserFile(f, {what: `CA file "${f}" of registry ${this.ref.registry} (registries.<host>.ca-files)`, maxBytes: 1 << 20}))
    }
    return this.ca
  }

  private agent(url: URL, skipVerify: boolean): HttpAgent {
    const key = `${url.protocol}//${url.host}/${skipVerify}`
    let a = this.agents.get(key)
    if (!a) {
      a = url.protocol === 'https:' ? new HttpsAgent({keepAlive: true, rejectUnauthorized: !skipVerify, ca: this.caFor(url)}) : new HttpAgent({keepAlive: true})
      this.agents.set(key, a)
    }
    return a
  }

  /** One HTTP request, following redirects (Authorization only to the first host). */
  private send(method: string, url: string, headers: Record<string, string>, skipVerify: boolean, redirects = 0): Promise<Response> {
    const u = new URL(url)
    const req = u.protocol === 'https:' ? httpsRequest : httpRequest
    return new Promise<Response>((resolve, reject) => {
      const r = req(u, {method, headers: {'user-agent': userAgent, ...headers}, agent: this.agent(u, skipVerify), signal: this.signal, timeout: 30_000}, (res) => {
        const status = res.statusCode ?? 0
        if ([301, 302, 303, 307, 308].includes(status) && res.headers.location && redirects < 10) {
          res.resume()
          const next = new URL(res.headers.location, u)
          const h = {...headers}
          if (next.host !== u.host) delete h.authorization
          resolve(this.send(method, next.toString(), h, skipVerify, redirects + 1))
          return
        }
        resolve({status, headers: res.headers, body: res, url})
      })
      r.on('timeout', () => r.destroy(new Error(`no answer from ${u.host} in 30 s`)))
      r.on('error', reject)
      r.end()
    })
  }

  /**
   * A request to the registry's /v2/ API: mirrors first, authenticating on
   * 401 as the challenge asks, retrying connection failures and 5xx.
   */
  async get(path: string, headers: Record<string, string> = {}, options: {method?: string; notFoundFallsThrough?: boolean} = {}): Promise<Response> {
    const endpoints = this.endpoint ? [this.endpoint] : endpointsOf(this.ref.registry, this.settings)
    let lastError: PodctlError | undefined
    for (const ep of endpoints) {
      try {
        const res = await this.getFrom(ep, path, headers, options.method ?? 'GET')
        if (ep.mirror && (res.status === 404 || res.status >= 500) && options.notFoundFallsThrough !== false) {
          res.body.resume()
          this.log(`mirror ${ep.base} answered ${res.status} for ${path}; trying the next endpoint`)
          lastError = new PodctlError(`mirror ${ep.base} answered ${res.status}`)
          continue
        }
        this.endpoint = ep
        return res
      } catch (err) {
        if (this.signal?.aborted) throw this.signal.reason
        lastError = err instanceof PodctlError ? err : new PodctlError(messageOf(err))
        this.log(`${ep.base}: ${lastError.message}`)
        if (!ep.mirror) throw lastError
      }
    }
    throw lastError ?? new PodctlError(`no endpoint for registry ${this.ref.registry}`)
  }

  private async getFrom(ep: Endpoint, path: string, headers: Record<string, string>, method: string): Promise<Response> {
    let base = ep.base
    let authenticated = false
    for (let attempt = 0; ; attempt++) {
      let res: Response
      try {
        res = await this.send(method, `${base}${path}`, {...headers, ...(this.authorization ? {authorization: this.authorization} : {})}, ep.skipVerify)
      } catch (err) {
        if (this.signal?.aborted) throw this.signal.reason
        if (ep.httpFallback && base.startsWith('http:') && attempt === 0) {
          // A loopback or insecure host that does not speak plain HTTP: try TLS.
          base = base.replace(/^http:/, 'https:')
          ep.base = base
          continue
        }
        if (attempt < 2 && retryable(err)) {
          await sleep(200 * (attempt + 1), undefined, {signal: this.signal})
          continue
        }
        throw unreachable(this.ref.registry, base, err)
      }
      if (res.status === 400 && ep.httpFallback && base.startsWith('http:') && attempt === 0) {
        // "Client sent an HTTP request to an HTTPS server"
        res.body.resume()
        base = base.replace(/^http:/, 'https:')
        ep.base = base
        continue
      }
      if (res.status === 401) {
        // One authentication per request: a 401 with fresh credentials is a refusal.
        const header = res.headers['www-authenticate']
        res.body.resume()
        const challenge = parseChallenge(Array.isArray(header) ? header[0] : (header ?? ''))
        const previous = this.authorization
        if (!authenticated) {
          authenticated = true
          await this.authenticate(challenge)
          if (this.authorization !== previous) continue
        }
        throw denied(this.ref, 401, Boolean(this.credentials?.username))
      }
      if (res.status >= 500 && attempt < 2) {
        res.body.resume()
        await sleep(200 * (attempt + 1), undefined, {signal: this.signal})
        continue
      }
      return res
    }
  }

  private async authenticate(challenge: Challenge | undefined): Promise<void> {
    const creds = this.credentials
    if (!challenge) return
    if (challenge.scheme === 'basic') {
      if (creds?.username !== undefined) this.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password ?? ''}`).toString('base64')}`
      return
    }
    if (challenge.scheme !== 'bearer') return
    const realm = challenge.params.realm
    if (!realm) throw new PodctlError(`registry ${this.ref.registry} asked for a token without a realm`)
    const url = new URL(realm)
    if (challenge.params.service) url.searchParams.set('service', challenge.params.service)
    url.searchParams.set('scope', challenge.params.scope ?? `repository:${this.ref.repository}:pull`)
    const headers: Record<string, string> = {accept: 'application/json'}
    if (creds?.username !== undefined) headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password ?? ''}`).toString('base64')}`
    let res: Response
    try {
      res = await this.send('GET', url.toString(), headers, this.settings[url.host]?.insecure === true)
    } catch (err) {
      throw new PodctlError(`cannot get a token for ${this.ref.registry} from ${url.origin}${url.pathname}: ${messageOf(err)}`, {cause: err})
    }
    const body = await readBody(res, 1 << 20)
    if (res.status === 401 || res.status === 403) throw denied(this.ref, res.status, Boolean(creds?.username))
    if (res.status !== 200) throw new PodctlError(`token realm ${url.origin}${url.pathname} of ${this.ref.registry} answered ${res.status}`)
    let token: unknown
    try {
      const doc = JSON.parse(body.toString()) as {token?: unknown; access_token?: unknown}
      token = doc.token ?? doc.access_token
    } catch {
      token = undefined
    }
    if (typeof token !== 'string' || token === '') throw new PodctlError(`token realm ${url.origin}${url.pathname} of ${this.ref.registry} answered no token`)
    this.authorization = `Bearer ${token}`
  }
}

function retryable(err: unknown): boolean {
  const code = (err as {code?: string}).code
  return ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ECONNABORTED'].includes(code ?? '') || /no answer/.test(messageOf(err))
}

function unreachable(registry: string, base: string, err: unknown): PodctlError {
  const code = (err as {code?: string}).code
  const why = code === 'ECONNREFUSED' ? 'connection refused' : messageOf(err)
  return new PodctlError(`cannot reach registry ${registry} at ${base}: ${why}`, {
    hint: 'check that the registry is up; for a plain-HTTP registry set registries.<host>.insecure, or give a mirror under registries.<host>.mirrors',
    cause: err,
  })
}

export function denied(ref: ImageReference, status: number, withCredentials: boolean): PodctlError {
  return new PodctlError(`pulling ${ref.name}: access denied by registry ${ref.registry} (${status}${withCredentials ? ', with the credentials given' : ', anonymously'})`, {
    hint: withCredentials ? 'check the user name and password (--creds, or the auth file)' : 'give credentials with --creds USER:PASS, or log in (auth.json or ~/.docker/config.json)',
  })
}

/** The body of a small response (manifests, tokens, errors), refusing more than `limit` bytes. */
export async function readBody(res: Response, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of res.body) {
    size += (chunk as Buffer).length
    if (size > limit) {
      res.body.destroy()
      throw new PodctlError(`${res.url}: the answer is larger than ${limit} bytes`)
    }
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}

/** The registry's error message from a distribution error body, if it has one. */
export function registryMessage(body: Buffer): string | undefined {
  try {
    const doc = JSON.parse(body.toString()) as {errors?: {code?: string; message?: string}[]}
    const e = doc.errors?.[0]
    if (e) return [e.code, e.message].filter(Boolean).join(': ')
  } catch {
    // not JSON
  }
  return undefined
}
