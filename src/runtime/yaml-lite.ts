// The plain block YAML that config files are written in (nested maps and
// lists of plain or quoted one-line scalars), read without the `yaml`
// package: loading that costs about 50 ms (74 files), more than half of
// node's own start-up, and every command reading a config file would pay it.
// Anything outside this subset (flow collections, anchors, tags, block or
// multi-line scalars, escapes, duplicate keys, several documents, tabs)
// returns undefined, and the caller uses the full parser, which also words
// the errors. Values are typed as the YAML 1.2 core schema (yaml's default)
// types them. Pure, but for loadYaml, the one way in to that full parser.

import {createRequire} from 'node:module'

/**
 * The full `yaml` package, loaded on first use (synchronously: it is
 * CommonJS). Never imported at module level, so that no command pays for it
 * before it needs it, and the start-up snapshot does not hold it.
 */
export const loadYaml = (): typeof import('yaml') => createRequire(import.meta.url)('yaml') as typeof import('yaml')

interface Line {
  indent: number
  text: string
}

class NotSimple extends Error {}

const keyLine = /^([A-Za-z_][A-Za-z0-9_./-]*):(?: +(.*))?$/
const nulls = new Set(['~', 'null', 'Null', 'NULL'])
const bools = new Map([...['true', 'True', 'TRUE'].map((t) => [t, true] as const), ...['false', 'False', 'FALSE'].map((f) => [f, false] as const)])
/** What the core schema reads as a number other than a short decimal integer. */
const otherNumbers = [/^0o[0-7]+$/, /^0x[0-9a-fA-F]+$/, /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/, /^[-+]?\.(inf|Inf|INF)$/, /^\.(nan|NaN|NAN)$/]

/** {value} of a document in the subset (null for an empty one); undefined for anything else. */
export function parseSimpleYaml(text: string): {value: unknown} | undefined {
  if (text.includes('\t') || text.startsWith('\uFEFF')) return undefined
  const lines: Line[] = []
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw
    const body = line.trimStart()
    if (body === '' || body.startsWith('#')) continue
    lines.push({indent: line.length - body.length, text: body.trimEnd()})
  }
  if (lines[0]?.indent === 0 && lines[0].text === '---') lines.shift()
  if (lines.some((l) => l.indent === 0 && /^(---|\.\.\.|%)/.test(l.text))) return undefined
  if (lines.length === 0) return {value: null}
  const parser = new Parser(lines)
  try {
    const value = parser.block(lines[0].indent)
    return parser.done() ? {value} : undefined
  } catch (err) {
    if (err instanceof NotSimple) return undefined
    throw err
  }
}

const isItem = (l: Line) => l.text === '-' || l.text.startsWith('- ')

class Parser {
  private pos = 0

  constructor(private readonly lines: Line[]) {}

  done(): boolean {
    return this.pos === this.lines.length
  }

  block(indent: number): unknown {
    return isItem(this.lines[this.pos]) ? this.sequence(indent) : this.mapping(indent)
  }

  private mapping(indent: number): Record<string, unknown> {
    const map: Record<string, unknown> = {}
    for (let line = this.lines[this.pos]; line && line.indent >= indent; line = this.lines[this.pos]) {
      if (line.indent > indent || isItem(line)) break
      const m = keyLine.exec(line.text)
      if (!m || m[1] === '__proto__' || Object.hasOwn(map, m[1])) throw new NotSimple()
      this.pos++
      map[m[1]] = this.value(m[2] ?? '', indent, true)
    }
    return map
  }

  private sequence(indent: number): unknown[] {
    const list: unknown[] = []
    for (let line = this.lines[this.pos]; line && line.indent === indent && isItem(line); line = this.lines[this.pos]) {
      const rest = line.text.slice(1)
      const body = rest.trimStart()
      if (keyLine.test(body)) {
        // "- key: value": a map whose keys line up with this one.
        this.lines[this.pos] = {indent: indent + 1 + rest.length - body.length, text: body}
        list.push(this.mapping(this.lines[this.pos].indent))
      } else {
        this.pos++
        list.push(this.value(body, indent, false))
      }
    }
    return list
  }

  /** The value after "key:" or "-": on the same line, or the block below it. */
  private value(text: string, indent: number, underKey: boolean): unknown {
    const next = this.lines[this.pos]
    const own = text === '' || text.startsWith('#') ? undefined : scalar(text)
    if (own !== undefined) {
      // A more indented line below a value would continue it: a multi-line scalar.
      if (next && next.indent > indent) throw new NotSimple()
      return own.value
    }
    if (next && next.indent > indent) return this.block(next.indent)
    // YAML lets a key's list start at the key's own indentation.
    if (underKey && next && next.indent === indent && isItem(next)) return this.sequence(indent)
    return null
  }
}

/** One scalar on one line, with an optional comment after it. */
function scalar(text: string): {value: unknown} {
  const quote = text[0]
  if (quote === '"' || quote === "'") {
    const m = quote === '"' ? /^"([^"\\]*)"(.*)$/.exec(text) : /^'((?:[^']|'')*)'(.*)$/.exec(text)
    if (!m || !(m[2] === '' || /^ +#/.test(m[2]))) throw new NotSimple()
    return {value: quote === "'" ? m[1].replaceAll("''", "'") : m[1]}
  }
  const comment = text.search(/ #/)
  const s = comment < 0 ? text : text.slice(0, comment).trimEnd()
  if (s === '[]') return {value: []}
  if (s === '{}') return {value: {}}
  if (/^[[\]{},&*!|>%@`#]/.test(s) || /^[-?:]( |$)/.test(s) || /: |:$/.test(s)) throw new NotSimple()
  if (nulls.has(s)) return {value: null}
  if (bools.has(s)) return {value: bools.get(s)}
  if (/^[-+]?[0-9]{1,15}$/.test(s)) return {value: Number(s)}
  if (otherNumbers.some((re) => re.test(s))) throw new NotSimple()
  return {value: s}
}
