// Output shapes, as crictl prints them: JSON with two-space indent, YAML,
// tabwriter-style tables, Go-style times and durations.

import {loadYaml} from '../runtime/yaml-lite.js'
import type {GoTemplate} from './template.js'

export const toJson = (value: unknown): string => JSON.stringify(value, null, 2)

// Never anchors and aliases (&a1 / *a1) where one object appears twice, as the labels in inspectp's status and info.config do.
export const toYamlText = (value: unknown): string => loadYaml().stringify(value, {lineWidth: 0, aliasDuplicateObjects: false})

/** Nanoseconds since the epoch (decimal string) as Go's RFC3339Nano: trailing zeros trimmed. */
export function rfc3339Nano(nanos: string): string {
  const ns = BigInt(nanos)
  const seconds = ns / 1_000_000_000n
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '')
  const base = new Date(Number(seconds) * 1000).toISOString().replace(/\.\d{3}Z$/, '')
  return `${base}${frac ? `.${frac}` : ''}Z`
}

/** Go's time.Time String(), as crictl prints `Created:` lines. */
export function goTime(nanos: string): string {
  const ns = BigInt(nanos)
  const d = new Date(Number(ns / 1_000_000n))
  const pad = (n: number, w = 2) => String(n).padStart(w, '0')
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0')
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${frac} +0000 UTC`
}

/** go-units HumanDuration, as crictl's CREATED column: "17 seconds", "About a minute". */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000)
  if (seconds < 1) return 'Less than a second'
  if (seconds === 1) return '1 second'
  if (seconds < 60) return `${seconds} seconds`
  const minutes = Math.floor(seconds / 60)
  if (minutes === 1) return 'About a minute'
  if (minutes < 60) return `${minutes} minutes`
  // As go-units: rounded hours, except years, which it computes from whole hours.
  const hours = Math.round(minutes / 60)
  if (hours === 1) return 'About an hour'
  if (hours < 48) return `${hours} hours`
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`
  return `${Math.floor(Math.floor(ms / 3_600_000) / 24 / 365)} years`
}

export function ago(nanos: string, now = Date.now()): string {
  return `${humanDuration(now - Number(BigInt(nanos) / 1_000_000n))} ago`
}

// eslint-disable-next-line no-control-regex
const ansi = /\u001b\[[0-9;]*m/g
const visibleLength = (s: string) => s.replace(ansi, '').length

/**
 * crictl's table: Go text/tabwriter with minwidth 20, padding 3, spaces;
 * left-aligned, the last column unpadded. Cells are padded by their visible
 * length, so that coloured cells keep their alignment. (Not cli-table3: its
 * layout takes seconds over a thousand rows, and loading it costs every table.)
 */
export function tabwriter(header: string[], rows: string[][]): string {
  const all = [header, ...rows]
  const widths = header.map((_h, col) =>
    col === header.length - 1 ? 0 : Math.max(20, ...all.map((r) => visibleLength(r[col] ?? '') + 3)),
  )
  return all.map((row) => header.map((_h, col) => (row[col] ?? '') + ' '.repeat(Math.max(0, widths[col] - visibleLength(row[col] ?? '')))).join('').trimEnd()).join('\n')
}

// eslint-disable-next-line no-control-regex, no-misleading-character-class
const unprintable = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]/g
const shortEscapes: Record<string, string> = {'\n': '\\n', '\r': '\\r', '\t': '\\t', '\u001b': '\\e'}

/**
 * A value for a table or a line of text, with what a terminal would act on
 * (newlines, escape sequences, bidi overrides, zero-width characters) shown
 * as escapes: a label must not draw a fake row, move the cursor or read
 * backwards. JSON and YAML output keep values as they are.
 */
export function printable(text: string): string {
  return text.replace(unprintable, (c) => shortEscapes[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

/**
 * What inspectp and inspecti print for their status documents: the table
 * form; one template result per document (crictl runs the template on each);
 * or, as JSON or YAML, one document alone and several as an array.
 */
export function statusDocuments(docs: object[], output: string | undefined, template: GoTemplate | undefined, table: () => string): string[] {
  switch (output) {
    case 'table':
      return [table()]
    case 'go-template':
      return docs.map((d) => template!.execute(d)).filter(Boolean)
    case 'yaml':
      return [toYamlText(docs.length === 1 ? docs[0] : docs)]
    default:
      return [toJson(docs.length === 1 ? docs[0] : docs)]
  }
}
