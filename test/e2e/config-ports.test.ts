// port_mappings on a real pod: a listener inside the pod's network namespace
// answers through CNI's portmap on 127.0.0.1:<host_port> and on the pod IP
// at <container_port>, over TCP and UDP; host_ip is honoured; a host port
// another pod holds is refused and the refused runp leaves nothing.
//
// Found here: portmap's localhost support (route_localnet plus its SNAT of
// 127.0.0.1) works for UDP as it does for TCP, so both are tested on
// 127.0.0.1. Only 127.0.0.1, this env's pod IPs and its bridge gateway are
// ever contacted.

import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {after, afterEach, before, describe, test} from 'node:test'

import {outcome, startListener, stopListener, tcpRequest, udpRequest} from './config-helpers.js'
import {e2eOptions, TestEnv} from './harness.js'

/** Host ports of this file: 23100-23199 (slot 31). */
const port = (n: number) => 23100 + n

describe('port_mappings', e2eOptions(), () => {
  let env: TestEnv
  before(() => {
    env = new TestEnv(31)
  })
  after(() => env.teardown())
  afterEach(() => env.podctl(['rmp', '-af']))

  const natRules = () => spawnSync('iptables', ['-t', 'nat', '-S'], {encoding: 'utf8'}).stdout
  /**
   * The nat rules of this env's pods only: other files' pods (and other
   * engineers' runs) change the table at the same time. A pod's chains are
   * named in the rules that carry its network's name in their comment.
   */
  const envNatRules = (): string => {
    const lines = natRules().split('\n')
    const mine = lines.filter((l) => l.includes(`name: \\"${env.network}\\"`))
    const chains = new Set(mine.flatMap((l) => [...l.matchAll(/-j (CNI-[\w-]+)/g)].map((m) => m[1])).filter((c) => !c.startsWith('CNI-HOSTPORT')))
    return lines.filter((l) => mine.includes(l) || chains.has(l.split(' ')[1])).join('\n')
  }

  test('TCP and UDP reach the pod on 127.0.0.1:<host_port> and <pod IP>:<container_port>', async () => {
    const id = env.runPod('ports', {
      port_mappings: [
        {container_port: 8080, host_port: port(1)},
        {protocol: 'UDP', container_port: 8081, host_port: port(1)},
        // No host port: CRI says nothing is mapped; the pod IP still answers.
        {container_port: 8082, host_port: 0},
      ],
    })
    const {status, info} = env.inspect(id)
    const ip = status.network.ip as string
    const gateway = `${env.subnetPrefix}.1`
    const listener = await startListener(info.netNamespacePath, {tcp: [8080, 8082], udp: [8081]})
    try {
      assert.equal(await tcpRequest('127.0.0.1', port(1), 'a'), 'tcp 8080: a')
      assert.equal(await tcpRequest(ip, 8080, 'b'), 'tcp 8080: b')
      assert.equal(await udpRequest('127.0.0.1', port(1), 'c'), 'udp 8081: c')
      assert.equal(await udpRequest(ip, 8081, 'd'), 'udp 8081: d')
      // A host address of this env (the bridge gateway) forwards too.
      assert.equal(await tcpRequest(gateway, port(1), 'e'), 'tcp 8080: e')
      assert.equal(await udpRequest(gateway, port(1), 'f'), 'udp 8081: f')
      assert.equal(await tcpRequest(ip, 8082, 'g'), 'tcp 8082: g')
    } finally {
      await stopListener(listener)
    }
    // Only host_port > 0 reached portmap, protocols lowercased: the rules in the kernel say so.
    const rules = natRules().split('\n').filter((l) => l.includes(`${ip}:`))
    assert.deepEqual(rules.map((l) => l.match(/-p (\w+) .*--dport (\d+) -j DNAT --to-destination ([\d.:]+)/)?.slice(1)).sort(), [
      ['tcp', String(port(1)), `${ip}:8080`],
      ['udp', String(port(1)), `${ip}:8081`],
    ])
    // inspectp shows the CNI result (the IP that was applied) beside the spec.
    assert.equal(info.cniResult.ips[0].address.split('/')[0], ip)
    assert.deepEqual(info.config.port_mappings[1], {protocol: 1, container_port: 8081, host_port: port(1)})

    env.ok(['rmp', '-f', id])
    assert.ok(!natRules().includes(`${ip}:8080`), 'the DNAT rules go with the pod')
    assert.match(await outcome(tcpRequest('127.0.0.1', port(1), 'x', 1000)), /^error: /)
    env.assertNoLeaks()
  })

  test('host_ip is honoured: a mapping on one address does not answer on another', async () => {
    // The bridge (and its gateway address) exists from the first pod of this env on.
    const gateway = `${env.subnetPrefix}.1`
    const first = env.runPod('bridge-up')
    assert.ok(first)
    const id = env.runPod('host-ip', {
      port_mappings: [
        {container_port: 8080, host_port: port(2), host_ip: '127.0.0.1'},
        {container_port: 8080, host_port: port(3), host_ip: gateway},
        {protocol: 'UDP', container_port: 8081, host_port: port(3), host_ip: gateway},
      ],
    })
    const listener = await startListener(env.inspect(id).info.netNamespacePath, {tcp: [8080], udp: [8081]})
    try {
      assert.equal(await tcpRequest('127.0.0.1', port(2), 'a'), 'tcp 8080: a')
      assert.notEqual(await outcome(tcpRequest(gateway, port(2), 'b', 1000)), 'tcp 8080: b', 'not on the gateway address')
      assert.equal(await tcpRequest(gateway, port(3), 'c'), 'tcp 8080: c')
      assert.notEqual(await outcome(tcpRequest('127.0.0.1', port(3), 'd', 1000)), 'tcp 8080: d', 'not on 127.0.0.1')
      assert.equal(await udpRequest(gateway, port(3), 'e'), 'udp 8081: e')
      assert.notEqual(await outcome(udpRequest('127.0.0.1', port(3), 'f', 1000)), 'udp 8081: f')
    } finally {
      await stopListener(listener)
    }
    env.ok(['rmp', '-af'])
    env.assertNoLeaks()
  })

  test('a host port another pod holds is a clear error, and the refused runp leaves nothing', () => {
    const holder = env.runPod('holder', {port_mappings: [{container_port: 80, host_port: port(4)}, {protocol: 'UDP', container_port: 53, host_port: port(5), host_ip: '127.0.0.1'}]})
    const before = {ipam: env.ipamAllocations().length, rules: envNatRules()}
    const cases: [string, object[], string][] = [
      ['the same TCP port', [{container_port: 8080, host_port: port(4)}], `port_mappings[0]: host port ${port(4)}/tcp on 0.0.0.0 is already mapped by pod "${holder}"`],
      ['the same port on one address of it', [{container_port: 1, host_port: port(6)}, {container_port: 8080, host_port: port(4), host_ip: '127.0.0.1'}], `port_mappings[1]: host port ${port(4)}/tcp on 127.0.0.1 is already mapped by pod "${holder}"`],
      ['UDP on every address over UDP on 127.0.0.1', [{protocol: 'UDP', container_port: 53, host_port: port(5)}], `port_mappings[0]: host port ${port(5)}/udp on 0.0.0.0 is already mapped by pod "${holder}"`],
    ]
    for (const [what, mappings, message] of cases) {
      const r = env.podctl(['runp', env.podConfig({metadata: {name: 'taker', namespace: 'default'}, port_mappings: mappings})])
      assert.equal(r.code, 2, `${what}: ${r.stderr}`)
      assert.equal(r.stdout, '')
      assert.ok(r.stderr.includes(message), `${what}: ${r.stderr}`)
      assert.equal(env.ok(['pods', '-q']).trim(), holder, `${what}: the refused runp left no pod`)
      assert.equal(env.ipamAllocations().length, before.ipam, `${what}: no IP kept`)
      assert.equal(envNatRules(), before.rules, `${what}: no iptables rule added`)
    }
    // Not a conflict: another protocol, or another address.
    const udp = env.runPod('other-protocol', {port_mappings: [{protocol: 'UDP', container_port: 80, host_port: port(4)}]})
    const other = env.runPod('other-address', {port_mappings: [{protocol: 'UDP', container_port: 53, host_port: port(5), host_ip: `${env.subnetPrefix}.1`}]})
    // A stopped pod gives its host ports back (its portmap rules went with CNI DEL).
    env.ok(['stopp', holder])
    const taker = env.runPod('taker', {port_mappings: [{container_port: 8080, host_port: port(4)}]})
    assert.equal(env.ok(['pods', '-q']).trim().split('\n').length, 4)
    for (const id of [udp, other, taker, holder]) env.ok(['rmp', '-f', id])
    env.assertNoLeaks()
  })

  test('one config mapping a host port twice is refused before anything is made', () => {
    const r = env.podctl(['runp', env.podConfig({metadata: {name: 'twice', namespace: 'default'}, port_mappings: [{container_port: 80, host_port: port(7)}, {container_port: 81, host_port: port(7)}]})])
    assert.equal(r.code, 2)
    assert.match(r.stderr, new RegExp(`port_mappings\\[1\\]: host port ${port(7)}/tcp on 0\\.0\\.0\\.0 is also mapped by port_mappings\\[0\\]`))
    assert.equal(env.ok(['pods', '-q']), '')
    env.assertNoLeaks()
  })

  test('a host-network pod takes the host ports themselves: host_port must equal container_port', () => {
    const r = env.podctl(['runp', env.podConfig({metadata: {name: 'hn', namespace: 'default'}, linux: {security_context: {namespace_options: {network: 'NODE'}}}, port_mappings: [{container_port: 80, host_port: port(8)}]})])
    assert.equal(r.code, 2)
    assert.match(r.stderr, new RegExp(`port_mappings\\[0\\]\\.host_port: ${port(8)} differs from container_port 80`))
    const id = env.runPod('hn', {linux: {security_context: {namespace_options: {network: 'NODE'}}}, port_mappings: [{container_port: port(8), host_port: port(8)}]})
    assert.equal(env.inspect(id).info.cniResult, null, 'no CNI, so no portmap rules, for a host-network pod')
    env.ok(['rmp', '-f', id])
    env.assertNoLeaks()
  })
})
