// Pod filter flags, as crictl's pods and inspectp have them.

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

function regex(value: string | undefined, flag: string): RegExp | undefined {
  if (value === undefined) return undefined
  try {
    return new RegExp(value)
  } catch (err) {
    throw usageError(`${flag}: "${value}" is not a valid regular expression: ${(err as Error).message}`)
  }
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

function labels(values: string[] | undefined): Record<string, string> | undefined {
  if (!values || values.length === 0) return undefined
  const out: Record<string, string> = {}
  for (const v of values) {
    const parts = v.split('=')
    if (parts.length !== 2 || parts[0] === '') throw usageError(`incorrectly specified label: ${v}`, 'use --label key=value')
    out[parts[0]] = parts[1]
  }
  return out
}
