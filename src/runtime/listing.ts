// Listing pods: records read, state derived from the live pause process, filters.
// Kept apart from sandbox.ts (running, stopping, removing, which need the
// runtime, CNI, netns and cgroup modules) so that `pods` and the CRI list
// calls load only this: each module costs node's loader time at start-up.

import type {PodSandbox, PodSandboxState} from '../cri/types.js'
import type {CallContext} from './context.js'
import {sameProcessAlive} from './proc.js'
import {criState} from './state.js'
import {type PodRecord, recordVersion} from './store.js'

export interface PodView {
  record: PodRecord
  state: PodSandboxState
}

/** A record with its state; the pause process is looked at (one /proc read) only where the state depends on it. */
export function view(record: PodRecord): PodView {
  const pauseAlive = record.phase === 'ready' && sameProcessAlive(record.pid, record.pidStartTime)
  return {record, state: criState(record.phase, {pauseAlive})}
}

/** Metadata in proto field order, as protojson prints it. */
export function metadataOf(record: PodRecord) {
  const {name, uid, namespace, attempt} = record.config.metadata
  return {name, uid, namespace, attempt}
}

export function toPodSandbox(v: PodView): PodSandbox {
  const {record} = v
  return {
    id: record.id,
    metadata: metadataOf(record),
    state: v.state,
    createdAt: record.createdAt,
    labels: record.config.labels ?? {},
    annotations: record.config.annotations ?? {},
    runtimeHandler: record.runtimeHandler,
  }
}

export interface PodFilter {
  /** exact ID after prefix resolution */
  id?: string
  state?: PodSandboxState
  /** every key must match exactly */
  labelSelector?: Record<string, string>
  name?: RegExp | string
  namespace?: RegExp | string
  /** keep only the newest N (0: all) */
  last?: number
}

/** Pods newest first, filtered; never spawns a process per pod. */
export async function listPods(rt: CallContext, filter: PodFilter = {}): Promise<PodView[]> {
  const {records: readable, broken} = await rt.store.listRecords()
  // A corrupt record is one pod shown NotReady with a warning, never the end of the listing.
  for (const b of broken) rt.warn(`${b.error.message}; listing it as NotReady`)
  const records = [...readable, ...broken.map((b) => unreadableRecord(b.id, b.createdAt))]
  let id = filter.id
  if (id !== undefined) {
    const resolved = await rt.store.resolve(id, records).catch(() => null)
    if (resolved === null) return []
    id = resolved
  }
  const labels = Object.entries(filter.labelSelector ?? {})
  const candidates = records.filter(
    (r) =>
      (id === undefined || r.id === id) &&
      matchesText(r.config.metadata.name, filter.name) &&
      matchesText(r.config.metadata.namespace, filter.namespace) &&
      labels.every(([k, v]) => r.config.labels?.[k] === v),
  )
  let views = candidates.map(view)
  if (filter.state) views = views.filter((v) => v.state === filter.state)
  views.sort((a, b) => compareNanos(b.record.createdAt, a.record.createdAt))
  return filter.last ? views.slice(0, filter.last) : views
}

/** What a pod with an unreadable record is listed as: its ID, no metadata, NotReady. */
function unreadableRecord(id: string, createdAt: string): PodRecord {
  return {
    version: recordVersion,
    id,
    name: '',
    createdAt,
    phase: 'unknown',
    config: {metadata: {name: '', uid: '', namespace: '', attempt: 0}},
    runtimeHandler: '',
    runtimePath: '',
  }
}

/** A name filter: none, an exact string (--name-exact), or a regular expression (--name). */
export function matchesText(value: string, want: RegExp | string | undefined): boolean {
  return want === undefined || (typeof want === 'string' ? value === want : want.test(value))
}

/** Decimal nanosecond strings compared without BigInt (a thousand pods sort ten thousand times): the longer is later, else the text decides. */
export function compareNanos(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0)
}
