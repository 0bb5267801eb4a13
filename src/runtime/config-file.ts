// `podctl config`: read, list and edit the config file by key, as crictl's
// config verb does with /etc/crictl.yaml. Nested settings are named with
// dots (default-network.subnet, runtimes.kata.path). Edits keep the file's
// other keys and its comments, are checked exactly as a load would check
// them, and replace the file atomically.

import {existsSync} from 'node:fs'
import {mkdir, realpath, stat} from 'node:fs/promises'
import {dirname} from 'node:path'

import {errnoOf, messageOf, PodctlError, usageError} from './errors.js'
import {checkSettingsText, effectiveConfig, fileKeys, maxSettingsBytes, registryHostKeys, runtimeHandlerKeys, type Settings} from './settings.js'
import {writeFileAtomic} from './store.js'
import {readUserFile} from './user-file.js'
import {didYouMean} from './suggest.js'
import {loadYaml} from './yaml-lite.js'

export type SettingSource = 'flag' | 'env' | 'file' | 'default'

export interface SettingEntry {
  key: string
  value: unknown
  source: SettingSource
}

const networkKeys = ['name', 'bridge', 'subnet']
const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** The file's settings as a plain object; {} when the default file does not exist. */
export async function readConfigDocument(file: string): Promise<Record<string, unknown>> {
  const text = existsSync(file) ? readUserFile(file, {what: `config file "${file}"`, maxBytes: maxSettingsBytes}) : ''
  const doc: unknown = loadYaml().parse(text)
  return isMap(doc) ? doc : {}
}

/**
 * Split a dotted key into its path, refusing what the file cannot hold with
 * a did-you-mean: top-level keys, default-network.<name|bridge|subnet>,
 * runtimes.<handler> and runtimes.<handler>.<path|args>.
 */
export function settingPath(key: string): string[] {
  const path = key.split('.')
  const [top, ...rest] = path
  const unknown = (at: string, word: string, candidates: readonly string[]) =>
    usageError(`unknown setting "${key}"${didYouMean(at + word, candidates.map((c) => at + c))}`, `valid settings: ${candidates.map((c) => at + c).join(', ')}`)
  if (!(fileKeys as readonly string[]).includes(top)) throw unknown('', top, fileKeys)
  if (top === 'default-network') {
    if (rest.length > 1 || (rest.length === 1 && !networkKeys.includes(rest[0]))) throw unknown('default-network.', rest[0], networkKeys)
  } else if (top === 'runtimes') {
    if (rest.length > 0 && !/^[a-z0-9][a-z0-9_-]*$/.test(rest[0])) throw usageError(`"${key}": "${rest[0]}" is not a valid handler name`, 'a handler name is lowercase letters, digits, "-" and "_"')
    if (rest.length > 2 || (rest.length === 2 && !(runtimeHandlerKeys as readonly string[]).includes(rest[1]))) {
      throw unknown(`runtimes.${rest[0]}.`, rest[1], runtimeHandlerKeys)
    }
  } else if (top === 'registries') {
    // Hosts have dots of their own: the last word is the host's setting when it names one.
    if (rest.length === 0) return path
    const last = rest[rest.length - 1]
    if (rest.length > 1 && (registryHostKeys as readonly string[]).includes(last)) return [top, rest.slice(0, -1).join('.'), last]
    return [top, rest.join('.')]
  } else if (rest.length > 0) {
    throw usageError(`unknown setting "${key}": ${top} has no nested settings`, `use: ${top}`)
  }
  return path
}

function lookup(tree: unknown, path: string[]): unknown {
  return path.reduce<unknown>((node, part) => (isMap(node) ? node[part] : undefined), tree)
}

/** The effective value of a key (flags, environment, file, defaults applied). */
export function getSetting(settings: Settings, fileDoc: Record<string, unknown>, key: string): unknown {
  const path = settingPath(key)
  const value = lookup(effectiveConfig(settings), path) ?? lookup(fileDoc, path)
  if (value === undefined && path[0] === 'runtimes' && path.length > 1) {
    throw usageError(`"${key}": no runtime handler "${path[1]}"${didYouMean(path[1], Object.keys(settings.runtimes))}`, `handlers: ${Object.keys(settings.runtimes).join(', ')}`)
  }
  return value
}

/**
 * Every leaf setting with its effective value and where it came from.
 * `overriddenBy` tells which top-level keys a flag or an environment
 * variable set (only the CLI knows its flags).
 */
export function listSettings(settings: Settings, fileDoc: Record<string, unknown>, overriddenBy: (key: string) => 'flag' | 'env' | undefined): SettingEntry[] {
  const effective = effectiveConfig(settings)
  for (const key of fileKeys) if (!(key in effective) && fileDoc[key] !== undefined) effective[key] = fileDoc[key]
  const entries: SettingEntry[] = []
  const walk = (node: unknown, path: string[]) => {
    // runtimes and default-network are maps of settings; every other value (args lists included) is a leaf.
    const depth: Record<string, number> = {runtimes: 3, registries: 3, 'default-network': 2}
    if (isMap(node) && path.length < (depth[path[0]] ?? 0)) {
      for (const [k, v] of Object.entries(node)) walk(v, [...path, k])
      return
    }
    const source = overriddenBy(path[0]) ?? (lookup(fileDoc, path) !== undefined ? 'file' : 'default')
    entries.push({key: path.join('.'), value: node, source})
  }
  for (const [key, value] of Object.entries(effective)) walk(value, [key])
  return entries
}

/** The value of KEY=VALUE as the file holds it; undefined removes the key. */
function fileValue(path: string[], text: string, key: string): unknown {
  if (text === '') return undefined
  const leaf = path.join('.')
  if (leaf === 'debug') {
    if (text !== 'true' && text !== 'false') throw usageError(`"${key}": "${text}" is not true or false`)
    return text === 'true'
  }
  // crictl.yaml's form: a bare number of seconds.
  if (leaf === 'timeout' && /^\d+$/.test(text)) return Number(text)
  if (leaf === 'max-pods' && /^\d+$/.test(text)) return Number(text)
  if (path[0] === 'registries' && path[2] === 'insecure') {
    if (text !== 'true' && text !== 'false') throw usageError(`"${key}": "${text}" is not true or false`)
    return text === 'true'
  }
  const structured =
    path[0] === 'runtimes'
      ? path.length < 3 || path[2] === 'args'
      : path[0] === 'registries'
        ? path.length < 3 || path[2] !== 'insecure'
        : path[0] === 'default-network' && path.length === 1
  if (!structured) return text
  try {
    return loadYaml().parse(text)
  } catch (err) {
    throw usageError(`"${key}": ${JSON.stringify(text)} is not a YAML value: ${messageOf(err).split('\n')[0]}`, 'give a list as [--a, --b] and a map as {path: /usr/bin/runc}')
  }
}

/** crictl's --set a=1,b=2: commas separate assignments, except inside [] and {}. */
export function splitAssignments(text: string): string[] {
  const out: string[] = []
  let depth = 0
  let start = 0
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === '[' || c === '{') depth++
    else if ((c === ']' || c === '}') && depth > 0) depth--
    else if (c === ',' && depth === 0) {
      out.push(text.slice(start, i))
      start = i + 1
    }
  }
  out.push(text.slice(start))
  return out
}

/**
 * Apply KEY=VALUE assignments to the config file (each --set value may hold
 * several, comma-separated): each checked, the result
 * checked as a whole as a load would, then written atomically. An empty
 * VALUE removes the key (back to its default). A file that does not exist
 * is created, with its directory.
 */
export async function setSettings(file: string, assignments: string[]): Promise<void> {
  const target = await realpath(file).catch(() => file)
  const existing = existsSync(target) ? readUserFile(target, {what: `config file "${file}"`, maxBytes: maxSettingsBytes}) : undefined
  const doc = loadYaml().parseDocument(existing ?? '', {uniqueKeys: true})
  if (doc.errors.length > 0) throw usageError(`config file "${file}" is not valid YAML: ${doc.errors[0].message.split('\n')[0]}`)
  if (doc.contents !== null && !isMap(doc.toJS())) throw usageError(`config file "${file}": must be a map of settings`)
  for (const assignment of assignments.flatMap(splitAssignments)) {
    const eq = assignment.indexOf('=')
    if (eq <= 0) throw usageError(`--set "${assignment}": expected KEY=VALUE`, 'e.g. --set timeout=2m, or KEY= to remove a key')
    const key = assignment.slice(0, eq)
    const path = settingPath(key)
    const value = fileValue(path, assignment.slice(eq + 1), key)
    if (value === undefined) {
      doc.deleteIn(path)
      // Drop maps the removal left empty: "runtimes: {}" means nothing.
      for (let n = path.length - 1; n > 0; n--) {
        const parent = doc.getIn(path.slice(0, n)) as {items?: unknown[]} | undefined
        if (parent?.items?.length === 0) doc.deleteIn(path.slice(0, n))
      }
    } else {
      doc.setIn(path, doc.createNode(value, {flow: Array.isArray(value)}))
    }
  }
  // An empty map is an empty file (keeping a leading comment), not "{}".
  const empty = doc.contents === null || (doc.contents as {items?: unknown[]}).items?.length === 0
  const comment = doc.commentBefore ? `${doc.commentBefore.replace(/^/gm, '#')}\n` : ''
  const text = empty ? comment : doc.toString()
  checkSettingsText(text, file)
  const mode = await stat(target).then((st) => st.mode & 0o777, () => 0o644)
  try {
    await mkdir(dirname(target), {recursive: true, mode: 0o755})
    writeFileAtomic(target, text, mode)
  } catch (err) {
    throw new PodctlError(`cannot write config file "${file}": ${messageOf(err)}`, {hint: errnoOf(err) === 'EACCES' ? 'run it as root, or name a file you can write with --config' : undefined, cause: err})
  }
}
