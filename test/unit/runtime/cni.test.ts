import assert from 'node:assert/strict'
import {describe, test} from 'node:test'

import {defaultConflist, type NetworkConfigList, parseConflist, pluginConfig, podIPs, splitTrailingLoopback} from '../../../src/runtime/cni.js'
import {podctlError} from '../helpers.js'

const file = '/etc/cni/net.d/10-test.conflist'

describe('parseConflist', () => {
  test('a conflist is kept as is', () => {
    const doc = {cniVersion: '1.0.0', name: 'net', disableCheck: true, plugins: [{type: 'bridge', bridge: 'cni0'}, {type: 'portmap', capabilities: {portMappings: true}}]}
    assert.deepEqual(parseConflist(JSON.stringify(doc), file), doc)
  })

  test('a single-plugin .conf is wrapped into a list', () => {
    const conf = {cniVersion: '0.4.0', name: 'net', type: 'bridge', bridge: 'cni0', ipam: {type: 'host-local'}}
    assert.deepEqual(parseConflist(JSON.stringify(conf), '/etc/cni/net.d/10.conf'), {
      cniVersion: '0.4.0',
      name: 'net',
      plugins: [{type: 'bridge', bridge: 'cni0', ipam: {type: 'host-local'}}],
    })
  })

  const bad: [string, string, string][] = [
    ['invalid JSON', '{"name": ', 'is not valid JSON'],
    ['a list', '[]', 'must be a JSON object'],
    ['null', 'null', 'must be a JSON object'],
    ['no name', '{"cniVersion": "1.0.0", "plugins": [{"type": "bridge"}]}', '"name" must be a non-empty string'],
    ['an empty name', '{"cniVersion": "1.0.0", "name": "", "plugins": [{"type": "bridge"}]}', '"name" must be a non-empty string'],
    ['no cniVersion', '{"name": "n", "plugins": [{"type": "bridge"}]}', '"cniVersion" must be set'],
    ['a numeric cniVersion', '{"name": "n", "cniVersion": 1, "plugins": [{"type": "bridge"}]}', '"cniVersion" must be set'],
    ['no plugins', '{"name": "n", "cniVersion": "1.0.0", "plugins": []}', '"plugins" is empty'],
    ['a plugin without type', '{"name": "n", "cniVersion": "1.0.0", "plugins": [{"type": "bridge"}, {"bridge": "x"}]}', 'plugins[1].type must be a plugin name'],
    ['a plugin that is a string', '{"name": "n", "cniVersion": "1.0.0", "plugins": ["bridge"]}', 'plugins[0].type must be a plugin name'],
    ['a plugin type with a path', '{"name": "n", "cniVersion": "1.0.0", "plugins": [{"type": "../../bin/sh"}]}', 'plugins[0].type "../../bin/sh" is not a plugin name'],
    ['a .conf without type', '{"name": "n", "cniVersion": "1.0.0"}', 'plugins[0].type must be a plugin name'],
  ]
  for (const [label, text, needle] of bad) {
    test(`refuses ${label}`, () => assert.throws(() => parseConflist(text, file), podctlError(2, `CNI config "${file}"`, needle)))
  }
})

describe('pluginConfig', () => {
  const list: NetworkConfigList = {cniVersion: '1.0.0', name: 'podnet', plugins: []}
  const capabilityArgs = {portMappings: [{hostPort: 8080, containerPort: 80, protocol: 'tcp'}], dns: {servers: ['10.0.0.10']}, cgroupPath: undefined}

  const cases: [string, Record<string, unknown>, Record<string, unknown> | undefined, Record<string, unknown>][] = [
    ['a plugin without capabilities gets no runtimeConfig', {type: 'bridge', bridge: 'b0'}, undefined, {type: 'bridge', bridge: 'b0', cniVersion: '1.0.0', name: 'podnet'}],
    [
      'only the declared capabilities, capabilities key removed',
      {type: 'portmap', capabilities: {portMappings: true, bandwidth: true}},
      undefined,
      {type: 'portmap', cniVersion: '1.0.0', name: 'podnet', runtimeConfig: {portMappings: capabilityArgs.portMappings}},
    ],
    ['a capability declared false is not passed', {type: 'portmap', capabilities: {portMappings: false}}, undefined, {type: 'portmap', cniVersion: '1.0.0', name: 'podnet'}],
    ['an undefined argument is not passed', {type: 'x', capabilities: {cgroupPath: true}}, undefined, {type: 'x', cniVersion: '1.0.0', name: 'podnet'}],
    [
      'prevResult passed; list name and version override the plugin\'s',
      {type: 'tuning', name: 'mine', cniVersion: '0.3.1', capabilities: {dns: true}},
      {ips: [{address: '10.0.0.2/24'}]},
      {type: 'tuning', name: 'podnet', cniVersion: '1.0.0', prevResult: {ips: [{address: '10.0.0.2/24'}]}, runtimeConfig: {dns: {servers: ['10.0.0.10']}}},
    ],
  ]
  for (const [label, plugin, prev, want] of cases) {
    test(label, () => {
      const before = structuredClone(plugin)
      assert.deepEqual(pluginConfig(list, plugin, capabilityArgs, prev), want)
      assert.deepEqual(plugin, before, 'the conflist plugin is not mutated')
    })
  }
})

describe('podIPs', () => {
  const result = {
    interfaces: [
      {name: 'cni0', mac: '00:11'},
      {name: 'veth1234', mac: '00:22'},
      {name: 'eth0', mac: '00:33', sandbox: '/run/podctl/netns/x'},
      {name: 'net1', sandbox: '/run/podctl/netns/x'},
    ],
    ips: [
      {address: 'fd00::5/64', interface: 2},
      {address: '10.88.0.1/16', interface: 0},
      {address: '10.85.0.5/16', interface: 2, gateway: '10.85.0.1'},
      {address: '10.99.0.5/16', interface: 3},
    ],
  }
  const cases: [string, Record<string, unknown>, {ip: string; additionalIps: string[]}][] = [
    ['the sandbox interface, IPv4 first, host side ignored', result, {ip: '10.85.0.5', additionalIps: ['fd00::5']}],
    ['IPs without an interface index count', {ips: [{address: '10.1.1.1/24'}]}, {ip: '10.1.1.1', additionalIps: []}],
    ['an interface index out of range is ignored', {interfaces: [], ips: [{address: '10.1.1.1/24', interface: 4}]}, {ip: '', additionalIps: []}],
    ['a sandbox interface without a name counts', {interfaces: [{sandbox: '/ns'}], ips: [{address: '10.2.2.2/24', interface: 0}]}, {ip: '10.2.2.2', additionalIps: []}],
    ['an empty sandbox path is the host side', {interfaces: [{name: 'eth0', sandbox: ''}], ips: [{address: '10.2.2.2/24', interface: 0}]}, {ip: '', additionalIps: []}],
    ['garbage addresses are dropped', {ips: [{address: 'nonsense'}, {}, {address: '10.3.3.3/8'}]}, {ip: '10.3.3.3', additionalIps: []}],
    ['an empty result', {}, {ip: '', additionalIps: []}],
  ]
  for (const [label, res, want] of cases) test(label, () => assert.deepEqual(podIPs(res, 'eth0'), want))
})

describe('defaultConflist', () => {
  const cases: [string, string, string][] = [
    ['IPv4', '10.85.0.0/16', '0.0.0.0/0'],
    ['IPv6', 'fd85::/64', '::/0'],
  ]
  for (const [label, subnet, route] of cases) {
    test(`${label}: bridge + host-local, portmap with portMappings, loopback`, () => {
      const list = defaultConflist({name: 'podctl', bridge: 'podctl0', subnet}, '/var/lib/podctl/cni/networks')
      assert.equal(list.name, 'podctl')
      assert.equal(list.cniVersion, '1.0.0')
      assert.deepEqual(list.plugins.map((p) => p.type), ['bridge', 'portmap', 'loopback'])
      assert.deepEqual(list.plugins[0].ipam, {type: 'host-local', routes: [{dst: route}], ranges: [[{subnet}]], dataDir: '/var/lib/podctl/cni/networks'})
      assert.equal(list.plugins[0].bridge, 'podctl0')
      assert.deepEqual(list.plugins[1].capabilities, {portMappings: true})
      assert.deepEqual(parseConflist(JSON.stringify(list), 'default'), list, 'it passes its own parser')
    })
  }
})

describe('splitTrailingLoopback: only a loopback that ends a list runs beside the rest', () => {
  const bridge = {type: 'bridge'}
  const portmap = {type: 'portmap'}
  const lo = {type: 'loopback'}
  const cases: [string, Record<string, unknown>[], ReturnType<typeof splitTrailingLoopback>][] = [
    ['podctl\'s default: bridge, portmap, loopback', [bridge, portmap, lo], {chain: [bridge, portmap], beside: lo}],
    ['no loopback', [bridge, portmap], {chain: [bridge, portmap]}],
    ['a loopback first feeds the plugins after it', [lo, bridge], {chain: [lo, bridge]}],
    ['a loopback alone is the whole list', [lo], {chain: [lo]}],
  ]
  for (const [label, list, want] of cases) test(label, () => assert.deepEqual(splitTrailingLoopback(list), want))
})
