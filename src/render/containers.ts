// How containers look on stdout: crictl's shapes for ps (table, verbose) and inspect -o table.

import type {Container, ContainerStatus} from '../cri/container-types.js'
import {ago, printable, rfc3339Nano, tabwriter} from './format.js'
import {truncatedIdLength} from './pods.js'

/** Created, Running, Exited, Unknown. */
export const containerStateWord = (state: string): string => {
  const w = state.replace('CONTAINER_', '').toLowerCase()
  return w.charAt(0).toUpperCase() + w.slice(1)
}

/** crictl: an image given as a digest (sha256:...) shows as its first 13 hex digits. */
function imageColumn(image: string, noTrunc: boolean): string {
  const m = /^sha256:([0-9a-f]{64})$/.exec(image)
  if (m) return noTrunc ? image : m[1].slice(0, truncatedIdLength)
  return printable(image)
}

export function containersTable(containers: Container[], noTrunc: boolean, now = Date.now()): string {
  const rows = containers.map((c) => [
    noTrunc ? c.id : c.id.slice(0, truncatedIdLength),
    imageColumn(c.image.image, noTrunc),
    ago(c.createdAt, now),
    containerStateWord(c.state),
    printable(c.metadata.name),
    String(c.metadata.attempt),
    noTrunc ? c.podSandboxId : c.podSandboxId.slice(0, truncatedIdLength),
    printable(c.labels['io.kubernetes.pod.name'] ?? 'unknown'),
  ])
  return tabwriter(['CONTAINER', 'IMAGE', 'CREATED', 'STATE', 'NAME', 'ATTEMPT', 'POD ID', 'POD'], rows)
}

const sortedMapLines = (title: string, map: Record<string, string>): string[] => {
  const keys = Object.keys(map).sort()
  return keys.length === 0 ? [] : [`${title}:`, ...keys.map((k) => `\t${printable(k)} -> ${printable(map[k])}`)]
}

/** crictl ps -v: a block per container. */
export function containersVerbose(containers: Container[]): string {
  return containers
    .map((c) => {
      const lines = [`ID: ${c.id}`, `PodID: ${c.podSandboxId}`, `Name: ${printable(c.metadata.name)}`, `Attempt: ${c.metadata.attempt}`, `State: ${c.state}`, `Image: ${printable(c.image.image)}`, `Created: ${ago(c.createdAt)}`]
      lines.push(...sortedMapLines('Labels', c.labels), ...sortedMapLines('Annotations', c.annotations))
      return lines.join('\n') + '\n'
    })
    .join('\n')
}

/** The status with its times as crictl inspect prints them: RFC 3339, the zero time for 0. */
export function withContainerTimes(status: ContainerStatus): Record<string, unknown> {
  const t = (nanos: string) => (nanos === '0' ? '0001-01-01T00:00:00Z' : rfc3339Nano(nanos))
  return {...status, createdAt: t(status.createdAt), startedAt: t(status.startedAt), finishedAt: t(status.finishedAt)}
}

/** crictl inspect -o table. */
export function containerStatusTable(status: ContainerStatus, info?: Record<string, unknown>): string {
  const lines = [`ID: ${status.id}`, `Name: ${printable(status.metadata.name)}`]
  if (status.metadata.attempt) lines.push(`Attempt: ${status.metadata.attempt}`)
  lines.push(`State: ${status.state}`, `Created: ${ago(status.createdAt)}`)
  if (status.state !== 'CONTAINER_CREATED' && status.startedAt !== '0') lines.push(`Started: ${ago(status.startedAt)}`)
  if (status.state === 'CONTAINER_EXITED') lines.push(`Finished: ${ago(status.finishedAt)}`, `Exit Code: ${status.exitCode}`)
  if (status.reason) lines.push(`Reason: ${status.reason}`)
  lines.push(...sortedMapLines('Labels', status.labels), ...sortedMapLines('Annotations', status.annotations))
  if (info) lines.push(`Info: ${printable(JSON.stringify(info))}`)
  return lines.join('\n') + '\n'
}
