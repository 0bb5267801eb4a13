// Pod filter flags, as crictl's pods and inspectp have them.

import {setFlagsFromString} from 'node:v8'

import {Flags} from '../cli/oclif.js'

import {usageError} from '../runtime/errors.js'
import type {PodFilter} from '../runtime/listing.js'
import type {PodSandboxState} from '../cri/types.js'

export const podFilterFlags = {
  id: Flags.string({description: 'filter by pod ID (a unique prefix is enough)'}),
  name: Flags.string({description: 'filter by pod name regular expression (unanchored, as crictl)'}),
  'name-exact': Flags.string({description: 'filter by pod name, matched exactly (not a regular expression)'}),
  namespace: Flags.string({description: 'filter by pod namespace regular expression (unanchored)'}),
  'namespace-exact': Flags.string({description: 'filter by pod namespace, matched exactly (not a regular expression)'}),
  state: Flags.string({char: 's', description: 'filter by pod state: ready or notready (case-insensitive)'}),
  label: Flags.string({description: 'filter by key=value label; repeat to AND several', multiple: true}),
  latest: Flags.boolean({char: 'l', description: 'show only the most recently created pod'}),
  last: Flags.integer({char: 'n', description: 'show only the last N recently created pods (0: all)', min: 0}),
}

export interface PodFilterFlagValues {
  id?: string
  name?: string
  'name-exact'?: string
  namespace?: string
  'namespace-exact'?: string
  state?: string
  label?: string[]
  latest?: boolean
  last?: number
}

/** The flags as a runtime filter; bad values are usage errors naming the flag. */
export function podFilter(flags: PodFilterFlagValues): PodFilter {
  return {
    id: flags.id,
    name: exactOrRegex(flags['name-exact'], flags.name, 'name'),
    namespace: exactOrRegex(flags['namespace-exact'], flags.namespace, 'namespace'),
    state: podState(flags.state),
    labelSelector: labels(flags.label),
    // crictl: -n overrides -l.
    last: flags.last ? flags.last : flags.latest ? 1 : 0,
  }
}

/** crictl's --name is an unanchored regex (cri-tools#1810): --name-exact is the plain string. */
function exactOrRegex(exact: string | undefined, pattern: string | undefined, what: string): RegExp | string | undefined {
  if (exact !== undefined && pattern !== undefined) throw usageError(`--${what} and --${what}-exact cannot be used together`)
  return exact ?? regex(pattern, `--${what}`)
}

/**
 * crictl's patterns are Go's RE2, which runs in linear time: a pattern such
 * as (a+)+$ cannot hang it. V8's backtracking engine would take seconds per
 * pod name for it, past any --timeout, so patterns run on V8's linear-time
 * engine (the `l` flag). It refuses what RE2 also lacks (back-references,
 * lookaround). Measured on a 41-character name: (a+)+$ takes 0.2 ms there;
 * the backtracking engine takes 2 s already at 25 characters.
 */
function regex(value: string | undefined, flag: string): RegExp | undefined {
  if (value === undefined) return undefined
  linearEngine()
  try {
    return new RegExp(value, 'l')
  } catch (err) {
    const reason = (err as Error).message.includes('linear time') ? 'back-references and lookaround are not supported (as in crictl\'s RE2)' : (err as Error).message
    throw usageError(`${flag}: ${JSON.stringify(value)} is not a valid regular expression: ${reason}`)
  }
}

let linearEnabled = false
/** The flag is set when first needed, not at start-up: few invocations filter by name. */
function linearEngine(): void {
  if (linearEnabled) return
  setFlagsFromString('--enable-experimental-regexp-engine')
  linearEnabled = true
}

function podState(value: string | undefined): PodSandboxState | undefined {
  if (value === undefined) return undefined
  switch (value.toLowerCase()) {
    case 'ready':
      return 'SANDBOX_READY'
    case 'notready':
      return 'SANDBOX_NOTREADY'
    default:
      throw usageError('--state should be ready or notready')
  }
}

/** --label key=value flags as a CRI label selector. */
export function labels(values: string[] | undefined): Record<string, string> | undefined {
  if (!values || values.length === 0) return undefined
  const out: Record<string, string> = {}
  for (const v of values) {
    const parts = v.split('=')
    if (parts.length !== 2 || parts[0] === '') throw usageError(`incorrectly specified label: ${v}`, 'use --label key=value')
    out[parts[0]] = parts[1]
  }
  return out
}

/** crictl ps's filters. */
export const containerFilterFlags = {
  id: Flags.string({description: 'filter by container ID (a prefix is enough)'}),
  name: Flags.string({description: 'filter by container name regular expression (unanchored, as crictl)'}),
  pod: Flags.string({char: 'p', description: 'filter by pod ID, unique ID prefix or pod name'}),
  image: Flags.string({description: 'filter by image: a reference or image ID naming the same image as the container\'s'}),
  state: Flags.string({char: 's', description: 'filter by state: created, running, exited or unknown (case-insensitive)'}),
  label: Flags.string({description: 'filter by key=value label; repeat to AND several', multiple: true}),
  all: Flags.boolean({char: 'a', description: 'show all containers, not only running ones'}),
  latest: Flags.boolean({char: 'l', description: 'show only the most recently created container (any state)'}),
  last: Flags.integer({char: 'n', description: 'show only the last N recently created containers (any state; 0: all)', min: 0}),
}

export interface ContainerFilterValues {
  id?: string
  podSandboxId?: string
  state?: 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN'
  labelSelector?: Record<string, string>
  name?: RegExp
  last: number
}

/** The flags as ps applies them: without -a, -s, -l or -n only running containers, as crictl. */
export function containerFilter(flags: {id?: string; name?: string; pod?: string; state?: string; label?: string[]; all?: boolean; latest?: boolean; last?: number}): ContainerFilterValues {
  const last = flags.last ? flags.last : flags.latest ? 1 : 0
  let state: ContainerFilterValues['state']
  if (flags.state !== undefined) {
    const s = flags.state.toLowerCase()
    if (!['created', 'running', 'exited', 'unknown'].includes(s)) throw usageError('--state should be one of created, running, exited or unknown')
    state = `CONTAINER_${s.toUpperCase()}` as ContainerFilterValues['state']
  } else if (!flags.all && last === 0) state = 'CONTAINER_RUNNING'
  return {id: flags.id, podSandboxId: flags.pod, state, labelSelector: labels(flags.label), name: regex(flags.name, '--name'), last}
}
