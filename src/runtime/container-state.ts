// A container's CRI state, derived from its record and the live system on
// every read, never trusted from the record:
//
//   create          runc create done          start              exit (conmon's exit file)
//   (none) ──► creating ─────────────► created ─────► running ─────────────────► EXITED
//
// - the exit file (conmon writes it once it has reaped the container) wins:
//   EXITED with its code, its ctime as the finish time, and the reason
//   Completed (0), OOMKilled (conmon's oom marker) or Error;
// - else the recorded init process (PID and start time) alive: CREATED before
//   `runc start`, RUNNING after;
// - else UNKNOWN: a create cut short, or a monitor that died with its container.

import type {ContainerRecord} from './container-store.js'
import type {MonitorExit} from './monitor.js'
import {sameProcessAlive} from './proc.js'

export type ContainerState = 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN'

export interface ContainerFacts {
  exit?: MonitorExit
  initAlive: boolean
}

export function containerState(record: ContainerRecord, facts: ContainerFacts): ContainerState {
  if (record.phase === 'creating' || record.phase === 'unknown') return 'CONTAINER_UNKNOWN'
  if (facts.exit) return 'CONTAINER_EXITED'
  if (facts.initAlive) return record.startedAt ? 'CONTAINER_RUNNING' : 'CONTAINER_CREATED'
  return 'CONTAINER_UNKNOWN'
}

export function exitReason(exit: MonitorExit): string {
  if (exit.oomKilled) return 'OOMKilled'
  return exit.exitCode === 0 ? 'Completed' : 'Error'
}

export const initAlive = (record: ContainerRecord): boolean => sameProcessAlive(record.pid, record.pidStartTime)

/** stop has something to do: a process that may still run. */
export const isLive = (state: ContainerState): boolean => state === 'CONTAINER_RUNNING' || state === 'CONTAINER_CREATED'
