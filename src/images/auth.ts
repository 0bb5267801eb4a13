// Registry credentials from the files the ecosystem already writes:
// containers' auth.json ($REGISTRY_AUTH_FILE, /run/containers/<uid>/auth.json,
// $XDG_RUNTIME_DIR/containers/auth.json), then docker's ~/.docker/config.json
// ($DOCKER_CONFIG). Entries are {"auth": base64("user:pass")} or
// {"identitytoken": ...}, keyed by host, host/repository or a URL.

import {existsSync} from 'node:fs'
import {homedir} from 'node:os'
import {join} from 'node:path'

import {usageError} from '../runtime/errors.js'
import {readUserFile} from '../runtime/user-file.js'
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
    if (!existsSync(file)) continue
    // Through the guarded reader (a FIFO or /proc file named by REGISTRY_AUTH_FILE must not hang a pull);
    // a parse error never quotes the file, which may be any file root can read.
    const text = readUserFile(file, {what: `registry auth file "${file}"`, maxBytes: 1 << 20})
    try {
      doc = JSON.parse(text)
    } catch {
      throw usageError(`registry auth file "${file}" is not valid JSON`, 'fix or remove the file')
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
