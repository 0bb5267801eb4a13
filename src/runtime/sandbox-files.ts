// The files every pod gets: /etc/hostname, /etc/hosts and /etc/resolv.conf.
// The generators are pure; the host's files come in as text.

import {readFile} from 'node:fs/promises'

import type {DNSConfig} from '../cri/types.js'

/** resolv.conf from dns_config, in containerd's order: search, nameserver, options. */
export function resolvConfFromDns(dns: DNSConfig): string {
  const lines: string[] = []
  if (dns.searches?.length) lines.push(`search ${dns.searches.join(' ')}`)
  for (const s of dns.servers ?? []) lines.push(`nameserver ${s}`)
  if (dns.options?.length) lines.push(`options ${dns.options.join(' ')}`)
  return lines.join('\n') + '\n'
}

const loopbackNameserver = /^\s*nameserver\s+(127\.|::1\b)/m

/**
 * The host's resolv.conf for a pod in its own network namespace. A host that
 * runs systemd-resolved points at 127.0.0.53, which the pod cannot reach; its
 * upstream servers are in /run/systemd/resolve/resolv.conf (podman does the same).
 */
export async function hostResolvConf(hostNetwork: boolean): Promise<string> {
  const text = await readFile('/etc/resolv.conf', 'utf8').catch(() => '')
  if (hostNetwork || !loopbackNameserver.test(text)) return text
  const upstream = await readFile('/run/systemd/resolve/resolv.conf', 'utf8').catch(() => '')
  return upstream || text
}

/** /etc/hosts of a pod with its own network: localhost, then the pod's address and name. */
export function podHosts(hostname: string, ips: string[]): string {
  const lines = [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'ff00::0\tip6-mcastprefix',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
  ]
  for (const ip of ips) lines.push(`${ip}\t${hostname}`)
  return lines.join('\n') + '\n'
}

export async function hostHosts(): Promise<string> {
  return readFile('/etc/hosts', 'utf8').catch(() => '127.0.0.1\tlocalhost\n')
}
