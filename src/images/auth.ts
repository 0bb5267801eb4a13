// Registry credentials from the files the ecosystem already writes:
// containers' auth.json ($REGISTRY_AUTH_FILE, /run/containers/<uid>/auth.json,
// $XDG_RUNTIME_DIR/containers/auth.json), then docker's ~/.docker/config.json
// ($DOCKER_CONFIG). Entries are {"auth": base64("user:pass")} or
// {"identitytoken": ...}, keyed by host, host/repository or a URL.

import {readFileSync} from 'node:fs'
import {homedir} from 'node:os'
import {join} from 'node:path'

import {messageOf, usageError} from '../runtime/errors.js'
import type {Credentials} from './distribution.js'
import type {ImageReference} from './reference.js'

export interface AuthOptions {
  username?: string
  password?: string
  /** base64 of user:pass, as in auth.json */
  auth?: string
  identityToken?: string
  registryToken?: string
}

/** --creds USER[:PASS] as crictl takes it. */
export function parseCreds(text: string): {username: string; password: string} {
  const i = text.indexOf(':')
  const username = i < 0 ? text : text.slice(0, i)
  if (username === '') throw usageError('--creds: the user name is empty', 'give --creds USER[:PASSWORD]')
  return {username, password: i < 0 ? '' : text.slice(i + 1)}
}

function decodeAuth(auth: string, where: string): {username: string; password: string} {
  const text = Buffer.from(auth, 'base64').toString('utf8')
  const i = text.indexOf(':')
  if (i <= 0) throw usageError(`${where}: "auth" is not base64 of user:password`)
  return {username: text.slice(0, i), password: text.slice(i + 1)}
}

export function authFiles(env: NodeJS.ProcessEnv = process.env): string[] {
  const uid = process.getuid?.() ?? 0
  const files: string[] = []
  if (env.REGISTRY_AUTH_FILE) files.push(env.REGISTRY_AUTH_FILE)
  files.push(`/run/containers/${uid}/auth.json`)
  if (env.XDG_RUNTIME_DIR) files.push(join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json'))
  files.push(join(env.DOCKER_CONFIG ?? join(env.HOME ?? homedir(), '.docker'), 'config.json'))
  return files
}

/** The keys an auth file may file a registry under, most specific first. */
function keysFor(ref: ImageReference): string[] {
  const parts = ref.repository.split('/')
  const keys: string[] = []
  for (let n = parts.length; n > 0; n--) keys.push(`${ref.registry}/${parts.slice(0, n).join('/')}`)
  keys.push(ref.registry)
  if (ref.registry === 'docker.io') keys.push('https://index.docker.io/v1/', 'index.docker.io', 'registry-1.docker.io')
  return keys
}

/** Credentials for the reference: those given, else the first auth file that has the host. */
export function resolveCredentials(ref: ImageReference, given?: AuthOptions, env: NodeJS.ProcessEnv = process.env): Credentials | undefined {
  if (given) {
    if (given.auth) return decodeAuth(given.auth, '--auth')
    if (given.username !== undefined || given.identityToken || given.registryToken) return {...given}
  }
  for (const file of authFiles(env)) {
    let doc: {auths?: Record<string, {auth?: string; identitytoken?: string; registrytoken?: string}>}
    try {
      doc = JSON.parse(readFileSync(file, 'utf8'))
    } catch (err) {
      if ((err as {code?: string}).code === 'ENOENT' || (err as {code?: string}).code === 'EACCES') continue
      throw usageError(`cannot read registry auth file "${file}": ${messageOf(err)}`, 'fix or remove the file')
    }
    const auths = doc?.auths ?? {}
    // Keys may be written as URLs: https://host/v1/, http://host.
    const byKey = new Map(Object.entries(auths).map(([k, v]) => [k.replace(/^https?:\/\//, '').replace(/\/v[12]\/?$/, '').replace(/\/$/, ''), v]))
    for (const key of keysFor(ref)) {
      const entry = auths[key] ?? byKey.get(key.replace(/^https?:\/\//, '').replace(/\/v[12]\/?$/, '').replace(/\/$/, ''))
      if (!entry) continue
      if (entry.identitytoken) return {identityToken: entry.identitytoken, ...(entry.auth ? {username: decodeAuth(entry.auth, file).username} : {})}
      if (entry.registrytoken) return {registryToken: entry.registrytoken}
      if (entry.auth) return decodeAuth(entry.auth, `registry auth file "${file}": auths.${key}`)
    }
  }
  return undefined
}
