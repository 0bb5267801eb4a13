// The image verbs' output, as crictl prints it: the images table and its -v
// records, inspecti's and imagefsinfo's table forms.

import type {CriFilesystemUsage, CriImage} from '../runtime/images.js'
import {tabwriter} from './format.js'
import {humanSize} from './stats.js'

const idLength = 13

/** crictl's getTruncatedID: the prefix dropped, then 13 characters. */
const truncated = (id: string, prefix: string, noTrunc: boolean) => (noTrunc ? id : id.replace(prefix, '').slice(0, idLength))

/**
 * crictl's normalizeRepoTagPair: one (IMAGE, TAG) per repo tag, split at the
 * last ':'; with no tags, the repo digest's name and <none>.
 */
function repoTagPairs(image: CriImage): [string, string][] {
  const digestName = image.repoDigests[0]?.split('@')[0] ?? '<none>'
  if (image.repoTags.length === 0) return [[digestName, '<none>']]
  return image.repoTags.map((tag) => {
    const colon = tag.lastIndexOf(':')
    if (colon === -1) return ['errorRepoTag', 'errorRepoTag']
    const name = tag.slice(0, colon)
    return [name === '<none>' ? digestName : name, tag.slice(colon + 1)]
  })
}

export function imagesTable(images: CriImage[], options: {digests: boolean; noTrunc: boolean}): string {
  const header = options.digests ? ['IMAGE', 'TAG', 'DIGEST', 'IMAGE ID', 'SIZE'] : ['IMAGE', 'TAG', 'IMAGE ID', 'SIZE']
  const rows = images.flatMap((image) => {
    const id = truncated(image.id, 'sha256:', options.noTrunc)
    const size = humanSize(Number(image.size), 3)
    // crictl's normalizeRepoDigest: <none> without a repo digest.
    const digest = truncated(image.repoDigests[0]?.split('@')[1] ?? '<none>', 'sha256:', options.noTrunc)
    return repoTagPairs(image).map(([name, tag]) => (options.digests ? [name, tag, digest, id, size] : [name, tag, id, size]))
  })
  return tabwriter(header, rows)
}

/** `images -v`: crictl's record per image, each followed by a blank line. */
export function imagesVerbose(images: CriImage[]): string {
  return images
    .map((image) => {
      const lines = [`ID: ${image.id}`, ...image.repoTags.map((t) => `RepoTags: ${t}`), ...image.repoDigests.map((d) => `RepoDigests: ${d}`)]
      if (image.size !== '0') lines.push(`Size: ${image.size}`)
      // crictl prints the wrapper with %v of its pointer: gogo's String().
      if (image.uid) lines.push(`Uid: &Int64Value{Value:${image.uid.value},}`)
      if (image.username) lines.push(`Username: ${image.username}`)
      // crictl ends each block with an empty line, the last one too.
      return `${lines.join('\n')}\n\n`
    })
    .join('')
}

/** `inspecti -o table`: crictl's ID, Tag, Digest, Size lines, and the info map when verbose. */
export function imageStatusTable(image: CriImage, info: Record<string, string>): string {
  const lines = [`ID: ${image.id}`, ...image.repoTags.map((t) => `Tag: ${t}`), ...image.repoDigests.map((d) => `Digest: ${d}`), `Size: ${humanSize(Number(image.size), 3)}`]
  if (Object.keys(info).length > 0) lines.push(`Info: map[${Object.entries(info).map(([k, v]) => `${k}:${v}`).join(' ')}]`)
  return lines.join('\n')
}

/** `imagefsinfo -o table`: crictl's three lines per filesystem. */
export function fsInfoTable(filesystems: CriFilesystemUsage[]): string {
  return filesystems.map((fs) => [`TimeStamp: ${fs.timestamp}`, `UsedBytes: &UInt64Value{Value:${fs.usedBytes.value},}`, `Mountpoint: ${fs.fsId.mountpoint}`].join('\n')).join('\n')
}

/** `{"status": ..., <info keys>}` as crictl's outputStatusInfo: each info value embedded as JSON when it parses, else as a string. */
export function statusInfo(status: unknown, info: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {status}
  for (const key of Object.keys(info).sort()) {
    try {
      out[key] = JSON.parse(info[key])
    } catch {
      out[key] = info[key]
    }
  }
  return out
}
