// Image references as docker, containerd and CRI-O read them: a short name
// is on Docker Hub ("busybox" is docker.io/library/busybox:latest); the first
// component is a registry host only when it has a dot or a port, or is
// "localhost"; a tag, a digest, or both may follow.

import {usageError} from '../runtime/errors.js'

export interface ImageReference {
  /** 'docker.io', 'localhost:5000', '127.0.0.1:5000', 'localhost' */
  registry: string
  /** 'library/busybox' */
  repository: string
  /** 'latest' when neither tag nor digest is given */
  tag?: string
  /** 'sha256:...' */
  digest?: string
  /** normalised: 'docker.io/library/busybox:latest' or 'reg/repo@sha256:...' */
  name: string
}

export const defaultRegistry = 'docker.io'

// The grammar of distribution's reference package.
const component = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/
const tagPattern = /^[\w][\w.-]{0,127}$/
const digestPattern = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/
const hostPattern = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::\d{1,5})?$/

export function parseReference(text: string): ImageReference {
  // The parts quoted in `why` are shown escaped too: a reference must not paint the terminal.
  // eslint-disable-next-line no-control-regex
  const bad = (why: string) =>
    usageError(`invalid image reference ${JSON.stringify(text)}: ${why.replace(/[\u0000-\u001f\u007f-\u009f]/g, (ch) => JSON.stringify(ch).slice(1, -1))}`, 'write it as [registry/]repository[:tag][@sha256:digest], e.g. busybox:1.36 or registry.example.com:5000/team/app@sha256:...')
  if (text === '' || text.trim() !== text) throw bad('empty or surrounded by spaces')
  let rest = text
  let digest: string | undefined
  const at = rest.indexOf('@')
  if (at >= 0) {
    digest = rest.slice(at + 1)
    rest = rest.slice(0, at)
    if (!digestPattern.test(digest)) throw bad(`"${digest}" is not a digest`)
    const [algorithm, hex] = digest.split(':')
    if (algorithm === 'sha256' && !/^[a-f0-9]{64}$/.test(hex)) throw bad('a sha256 digest is 64 lowercase hex digits')
    if (algorithm !== 'sha256' && algorithm !== 'sha512') throw bad(`unsupported digest algorithm "${algorithm}"`)
  }
  let tag: string | undefined
  const slash = rest.lastIndexOf('/')
  const colon = rest.lastIndexOf(':')
  if (colon > slash) {
    tag = rest.slice(colon + 1)
    rest = rest.slice(0, colon)
    if (!tagPattern.test(tag)) throw bad(`"${tag}" is not a valid tag`)
  }
  if (rest === '') throw bad('no repository name')
  const parts = rest.split('/')
  let registry = defaultRegistry
  const first = parts[0]
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('['))) {
    registry = parts.shift() as string
    if (!hostPattern.test(registry)) throw bad(`"${registry}" is not a registry host`)
    const port = registry.match(/:(\d+)$/)
    if (port && Number(port[1]) > 65535) throw bad(`port ${port[1]} is out of range`)
  }
  // Docker Hub's aliases are one registry.
  if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = defaultRegistry
  for (const part of parts) {
    if (!component.test(part)) {
      throw bad(part.toLowerCase() !== part && component.test(part.toLowerCase()) ? 'repository names must be lowercase' : `"${part}" is not a valid repository name component`)
    }
  }
  if (registry === defaultRegistry && parts.length === 1) parts.unshift('library')
  const repository = parts.join('/')
  if (registry.length + 1 + repository.length > 255) throw bad('the name is longer than 255 characters')
  if (tag === undefined && digest === undefined) tag = 'latest'
  const base = `${registry}/${repository}`
  const name = digest ? `${base}@${digest}` : `${base}:${tag}`
  const ref: ImageReference = {registry, repository, name}
  if (tag !== undefined) ref.tag = tag
  if (digest !== undefined) ref.digest = digest
  return ref
}

/** registry/repository@digest, for repoDigests. */
export function digestName(ref: ImageReference, digest: string): string {
  return `${ref.registry}/${ref.repository}@${digest}`
}
