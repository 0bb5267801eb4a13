import assert from 'node:assert/strict'
import {describe, test} from 'node:test'

import {cniChainName, commentedId, podRulesIn} from '../../../src/runtime/iptables.js'

const id = '48ce3108985085f50ac3126402c72d9e52da8266b3c3efbe6326e2eee26586f9'
const other = 'ae0a0c7c6da1f4bd4d37bee012bed861109d63eaf4348f52aa3905f945762ad3'
const comment = (who: string, dnat = '') => `--comment "${dnat}name: \\"net\\" id: \\"${who}\\""`

// What iptables-save -t nat printed for a pod of a bridge + portmap network (CNI plugins 1.1), and another pod's rules.
const masq = cniChainName('CNI-', 'net', id)
const dn = cniChainName('CNI-DN-', 'net', id)
const save = [
  '*nat',
  ':POSTROUTING ACCEPT [0:0]',
  `:${dn} - [0:0]`,
  ':CNI-HOSTPORT-DNAT - [0:0]',
  `:${masq} - [0:0]`,
  `:${cniChainName('CNI-', 'net', other)} - [0:0]`,
  '-A POSTROUTING -m comment --comment "CNI portfwd requiring masquerade" -j CNI-HOSTPORT-MASQ',
  `-A POSTROUTING -s 10.1.0.2/32 -m comment ${comment(id)} -j ${masq}`,
  `-A POSTROUTING -s 10.1.0.3/32 -m comment ${comment(other)} -j ${cniChainName('CNI-', 'net', other)}`,
  `-A ${dn} -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.1.0.2:80`,
  `-A CNI-HOSTPORT-DNAT -p tcp -m comment ${comment(id, 'dnat ')} -m multiport --dports 8080 -j ${dn}`,
  `-A ${masq} -d 10.1.0.0/24 -m comment ${comment(id)} -j ACCEPT`,
  `-A ${masq} ! -d 224.0.0.0/4 -m comment ${comment(id)} -j MASQUERADE`,
  'COMMIT',
].join('\n')

describe('the CNI rules of a pod', () => {
  test('chain names are CNI plugins\' hash of network and container ID, at most 28 characters', () => {
    // As bridge and portmap named them on this machine for network "leakexp".
    assert.equal(cniChainName('CNI-', 'leakexp', id), 'CNI-e004b8db7603d11246bca471')
    assert.equal(cniChainName('CNI-DN-', 'leakexp', id), 'CNI-DN-e004b8db7603d11246bca')
  })

  test('the container ID is read from bridge\'s and portmap\'s comments, and only from them', () => {
    assert.equal(commentedId(`-A X ${comment(id)} -j ACCEPT`), id)
    assert.equal(commentedId(`-A X ${comment(id, 'dnat ')} -j Y`), id)
    assert.equal(commentedId('-A POSTROUTING -m comment --comment "CNI portfwd requiring masquerade" -j CNI-HOSTPORT-MASQ'), undefined)
  })

  test('the pod\'s commented rules and its own chains are found; the shared chains and another pod\'s are not', () => {
    const {rules, chains} = podRulesIn(save, id, ['net'])
    assert.equal(rules.length, 4)
    assert.ok(rules.every((r) => r.includes(id)))
    assert.deepEqual(chains.sort(), [dn, masq].sort())
  })

  test('a chain left empty is found by its name; one another rule still jumps to is kept', () => {
    const empty = ['*nat', `:${masq} - [0:0]`, 'COMMIT'].join('\n')
    assert.deepEqual(podRulesIn(empty, id, ['net']), {rules: [], chains: [masq]})
    const referenced = ['*nat', `:${masq} - [0:0]`, `-A POSTROUTING -s 10.9.9.9/32 -j ${masq}`, 'COMMIT'].join('\n')
    assert.deepEqual(podRulesIn(referenced, id, ['net']), {rules: [], chains: []})
    assert.deepEqual(podRulesIn(save, id, []).chains.sort(), [dn, masq].sort(), 'without the network name, by the jumps of its rules')
  })
})
