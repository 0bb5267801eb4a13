// How pods look on stdout: crictl's shapes for table, verbose, JSON and YAML.

import type {PodSandbox, PodSandboxStatus} from '../cri/types.js'
import {ago, goTime, printable, rfc3339Nano, tabwriter} from './format.js'
import {paint} from './style.js'

/** crictl's truncatedIDLen. */
export const truncatedIdLength = 13

const stateWord = (state: string) => (state === 'SANDBOX_READY' ? 'Ready' : 'NotReady')
const colourState = (word: string) => (word === 'Ready' ? paint.ready(word) : paint.notReady(word))

export function podsTable(pods: PodSandbox[], noTrunc: boolean, now = Date.now()): string {
  const rows = pods.map((p) => [
    noTrunc ? p.id : p.id.slice(0, truncatedIdLength),
    ago(p.createdAt, now),
    colourState(stateWord(p.state)),
    printable(p.metadata.name),
    printable(p.metadata.namespace),
    String(p.metadata.attempt),
    printable(p.runtimeHandler) || '(default)',
  ])
  return tabwriter(['POD ID', 'CREATED', 'STATE', 'NAME', 'NAMESPACE', 'ATTEMPT', 'RUNTIME'], rows)
}

const sortedMapLines = (title: string, map: Record<string, string>): string[] => {
  const keys = Object.keys(map).sort()
  return keys.length === 0 ? [] : [`${title}:`, ...keys.map((k) => `\t${printable(k)} -> ${printable(map[k])}`)]
}

/** crictl pods -v: a block per pod. */
export function podsVerbose(pods: PodSandbox[]): string {
  return pods
    .map((p) => {
      const md = p.metadata
      const lines = [`ID: ${p.id}`]
      if (md.name) lines.push(`Name: ${md.name}`)
      if (md.uid) lines.push(`UID: ${md.uid}`)
      if (md.namespace) lines.push(`Namespace: ${md.namespace}`)
      if (md.attempt) lines.push(`Attempt: ${md.attempt}`)
      lines.push(`Status: ${stateWord(p.state)}`, `Created: ${goTime(p.createdAt)}`)
      lines.push(...sortedMapLines('Labels', p.labels), ...sortedMapLines('Annotations', p.annotations))
      lines.push(`Runtime: ${p.runtimeHandler || '(default)'}`)
      return lines.join('\n') + '\n'
    })
    .join('\n')
}

/** The createdAt field as podctl prints it everywhere: RFC3339Nano (see podctl-pods(1)). */
export function withRfc3339<T extends {createdAt: string}>(item: T): T {
  return {...item, createdAt: rfc3339Nano(item.createdAt)}
}

/** crictl inspectp -o table. */
export function statusTable(status: PodSandboxStatus, info?: Record<string, unknown>): string {
  const md = status.metadata
  const lines = [`ID: ${status.id}`]
  if (md.name) lines.push(`Name: ${md.name}`)
  if (md.uid) lines.push(`UID: ${md.uid}`)
  if (md.namespace) lines.push(`Namespace: ${md.namespace}`)
  lines.push(`Attempt: ${md.attempt}`, `Status: ${status.state}`, `Created: ${goTime(status.createdAt)}`)
  if (status.network.ip) lines.push(`IP Addresses: ${status.network.ip}`)
  for (const extra of status.network.additionalIps) lines.push(`Additional IP: ${extra.ip}`)
  lines.push(...sortedMapLines('Labels', status.labels), ...sortedMapLines('Annotations', status.annotations))
  // printable() leaves valid JSON: what it escapes, JSON.stringify leaves raw (bidi, zero-width, U+2028).
  if (info) lines.push(`Info: ${printable(JSON.stringify(info))}`)
  return lines.join('\n') + '\n'
}
