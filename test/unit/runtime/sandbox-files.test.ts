import assert from 'node:assert/strict'
import {describe, test} from 'node:test'

import type {DNSConfig} from '../../../src/cri/types.js'
import {podHosts, resolvConfFromDns} from '../../../src/runtime/sandbox-files.js'

describe('resolvConfFromDns', () => {
  const cases: [string, DNSConfig, string][] = [
    [
      'search, nameservers, options in that order',
      {servers: ['10.96.0.10', '8.8.8.8'], searches: ['default.svc.cluster.local', 'svc.cluster.local'], options: ['ndots:5', 'edns0']},
      'search default.svc.cluster.local svc.cluster.local\nnameserver 10.96.0.10\nnameserver 8.8.8.8\noptions ndots:5 edns0\n',
    ],
    ['servers only', {servers: ['1.1.1.1']}, 'nameserver 1.1.1.1\n'],
    ['searches only', {searches: ['example.com']}, 'search example.com\n'],
    ['empty lists', {servers: [], searches: [], options: []}, '\n'],
    ['IPv6 server', {servers: ['2001:4860:4860::8888']}, 'nameserver 2001:4860:4860::8888\n'],
  ]
  for (const [label, dns, want] of cases) test(label, () => assert.equal(resolvConfFromDns(dns), want))
})

describe('podHosts', () => {
  const localhost = '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n'
  const cases: [string, string[], string][] = [
    ['no IPs: localhost only', [], localhost],
    ['one IP', ['10.85.0.5'], `${localhost}10.85.0.5\tweb\n`],
    ['dual stack, in order', ['10.85.0.5', 'fd00::5'], `${localhost}10.85.0.5\tweb\nfd00::5\tweb\n`],
  ]
  for (const [label, ips, want] of cases) test(label, () => assert.equal(podHosts('web', ips), want))
})
