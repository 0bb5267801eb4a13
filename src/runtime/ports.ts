// Host ports of pods: what is handed to CNI's portmap plugin, and the
// conflicts portmap itself never notices. portmap only writes DNAT rules;
// a second pod asking for the same host port gets a second rule that never
// matches (the first one wins), so the check is podctl's job. Pure.

import {isIP} from 'node:net'

import {enumName} from '../cri/schema.js'
import type {PodSandboxConfig, PortMapping} from '../cri/types.js'
import {usageError} from './errors.js'

/** The `portMappings` capability argument of CNI (the conventions document). */
export interface CniPortMapping {
  hostPort: number
  containerPort: number
  protocol: string
  hostIP: string
}

/**
 * The mappings that reach portmap, as containerd passes them: only those
 * with a host port (CRI: host_port 0 means no host port, not a random one),
 * the protocol lowercased, host_ip as given ("" means every address).
 */
export function cniPortMappings(config: PodSandboxConfig): CniPortMapping[] {
  return (config.port_mappings ?? [])
    .filter((pm) => (pm.host_port ?? 0) > 0)
    .map((pm) => ({
      hostPort: pm.host_port ?? 0,
      containerPort: pm.container_port ?? 0,
      protocol: protocolOf(pm),
      hostIP: pm.host_ip ?? '',
    }))
}

const protocolOf = (pm: PortMapping) => enumName('Protocol', pm.protocol ?? 0).toLowerCase()

/** "8080/tcp on 0.0.0.0", as the messages name a host port. */
export function describeHostPort(pm: PortMapping): string {
  return `${pm.host_port}/${protocolOf(pm)} on ${pm.host_ip || '0.0.0.0'}`
}

/** IPv6 text in one spelling, so that "::1" and "0:0::1" compare equal. */
function canonicalIp(ip: string): string {
  if (isIP(ip) !== 6) return ip
  const [head, tail] = ip.toLowerCase().split('::') as [string, string | undefined]
  const left = head ? head.split(':') : []
  const right = tail ? tail.split(':') : []
  const fill = tail === undefined ? [] : Array(8 - left.length - right.length).fill('0')
  return [...left, ...fill, ...right].map((g) => g.replace(/^0+(?=.)/, '')).join(':')
}

// Spelled out, not canonicalIp('::'): node compiles its IPv6 pattern on first use, which costs every verb's start-up.
const unspecified = new Set(['0.0.0.0', '0:0:0:0:0:0:0:0'])

/**
 * Whether two host addresses receive some of the same traffic: "" is every
 * address of both families (portmap writes iptables and ip6tables rules),
 * 0.0.0.0 and :: every address of theirs, any other address only itself.
 */
export function hostIpsOverlap(a: string, b: string): boolean {
  if (a === '' || b === '') return true
  if (isIP(a) !== isIP(b)) return false
  const ca = canonicalIp(a)
  const cb = canonicalIp(b)
  return ca === cb || unspecified.has(ca) || unspecified.has(cb)
}

/** Two mappings take the same host port: same port, same protocol, overlapping addresses. */
export function sameHostPort(a: PortMapping, b: PortMapping): boolean {
  return (
    (a.host_port ?? 0) > 0 &&
    a.host_port === b.host_port &&
    (a.protocol ?? 0) === (b.protocol ?? 0) &&
    hostIpsOverlap(a.host_ip ?? '', b.host_ip ?? '')
  )
}

/** The first pair of mappings of one config that take the same host port, as indexes. */
export function duplicateHostPort(mappings: PortMapping[]): [number, number] | undefined {
  for (let j = 1; j < mappings.length; j++) {
    for (let i = 0; i < j; i++) if (sameHostPort(mappings[i], mappings[j])) return [i, j]
  }
  return undefined
}

export interface OtherPod {
  id: string
  config: PodSandboxConfig
}

export interface HostPortConflict {
  /** index in the wanted config's port_mappings */
  index: number
  mapping: PortMapping
  podSandboxId: string
}

/**
 * The first of `wanted`'s host ports that one of `others` already holds.
 * `others` are the pods whose network is set up (their portmap rules exist).
 */
export function conflictingMapping(wanted: PortMapping[], others: OtherPod[]): HostPortConflict | undefined {
  for (const [index, mapping] of wanted.entries()) {
    if ((mapping.host_port ?? 0) <= 0) continue
    for (const pod of others) {
      if ((pod.config.port_mappings ?? []).some((theirs) => sameHostPort(mapping, theirs))) {
        return {index, mapping, podSandboxId: pod.id}
      }
    }
  }
  return undefined
}

/** Refuse a pod whose host port another pod of this state root holds (run under the CNI lock). */
export function refuseTakenHostPorts(config: PodSandboxConfig, others: OtherPod[]): void {
  const conflict = conflictingMapping(config.port_mappings ?? [], others)
  if (!conflict) return
  throw usageError(
    `port_mappings[${conflict.index}]: host port ${describeHostPort(conflict.mapping)} is already mapped by pod "${conflict.podSandboxId}"`,
    'choose another host_port, or remove that pod first',
  )
}

/** Whether a config asks for any host port at all (then the other pods must be read). */
export const wantsHostPorts = (config: PodSandboxConfig): boolean => cniPortMappings(config).length > 0
