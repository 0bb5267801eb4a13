// Leaks gc could not see: a pod of a user's conflist (its own IPAM dataDir,
// bridge masquerade and portmap chains) whose record was deleted or
// corrupted, or whose netns was unmounted by hand. Recovery works from what
// the host shows: the IP files in that dataDir, the nat rules commented with
// the pod's ID and the chains named after it; and nothing of another
// runtime's is taken.

import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {existsSync, mkdirSync, readdirSync, rmSync, unlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'

import {cniChainName} from '../../src/runtime/iptables.js'
import {e2eOptions, TestEnv} from './harness.js'

describe('recovery from what the host shows', e2eOptions(), () => {
  let env: TestEnv
  let network: string
  let dataDir: string
  const hostPort = 30160
  const config = (name: string) => ({metadata: {name, namespace: 'leaks'}, port_mappings: [{container_port: 80, host_port: hostPort}]})

  before(() => {
    env = new TestEnv(160)
    network = `${env.network}-user`
    dataDir = join(env.dir, 'user-ipam')
    env.networks.add(network)
    env.ipamDirs.push(join(dataDir, network))
    // A user's conflist: its IPs in a dataDir of its own, masquerade and host ports on.
    spawnSync('mkdir', ['-p', env.confDir])
    writeFileSync(
      join(env.confDir, '10-user.conflist'),
      JSON.stringify({
        cniVersion: '1.0.0',
        name: network,
        plugins: [
          {
            type: 'bridge',
            bridge: env.bridge,
            isGateway: true,
            ipMasq: true,
            ipam: {type: 'host-local', ranges: [[{subnet: `${env.subnetPrefix}.0/24`}]], routes: [{dst: '0.0.0.0/0'}], dataDir},
          },
          {type: 'portmap', capabilities: {portMappings: true}},
        ],
      }),
    )
  })
  after(() => env.teardown())

  const nat = () => spawnSync('iptables', ['-t', 'nat', '-S'], {encoding: 'utf8'}).stdout
  const userIps = () => (existsSync(join(dataDir, network)) ? readdirSync(join(dataDir, network)).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f)) : [])

  /** A pod of the user's network, with its IP, masquerade chain and DNAT chain all there. */
  function runUserPod(name: string): string {
    const id = env.ok(['runp', env.podConfig(config(name))]).trim()
    assert.equal(userIps().length, 1, 'its IP is in the user dataDir')
    const rules = nat()
    assert.ok(rules.includes(`-N ${cniChainName('CNI-', network, id)}`), 'bridge made its masquerade chain')
    assert.ok(rules.includes(`-N ${cniChainName('CNI-DN-', network, id)}`), 'portmap made its DNAT chain')
    return id
  }

  test('a record deleted by hand: gc releases the IP in the user conflist\'s dataDir and removes the pod\'s chains', () => {
    const id = runUserPod('deleted')
    rmSync(join(env.root, 'pods', id), {recursive: true})
    const dry = env.ok(['gc', '--dry-run'])
    assert.match(dry, new RegExp(`^Would remove ipam-allocation ${dataDir}/${network}/${env.subnetPrefix.replaceAll('.', '\\.')}\\.\\d+ \\(pod ${id}\\)$`, 'm'))
    assert.match(dry, new RegExp(`^Would remove iptables iptables nat: .*${cniChainName('CNI-', network, id)}.* \\(pod ${id}\\)$`, 'm'))
    env.ok(['gc'])
    assert.deepEqual(userIps(), [])
    env.assertNoLeaks()
  })

  test('a corrupt record: rmp -f releases the IP in the user dataDir and removes the chains', () => {
    const id = runUserPod('corrupt')
    writeFileSync(join(env.root, 'pods', id, 'sandbox.json'), '{"version": 1, "id": ')
    const r = env.podctl(['rmp', '-f', id])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stderr, /is corrupt/)
    env.assertNoLeaks()
  })

  for (const how of ['umount', 'umount and rm'] as const) {
    test(`a netns unmounted by hand (${how}) while the pause lives: rmp -f pins it again, and DEL leaves no masquerade rule`, () => {
      const id = runUserPod(`unmounted-${how.length}`)
      const netns = env.inspect(id).info.netNamespacePath as string
      assert.equal(spawnSync('umount', [netns]).status, 0)
      if (how === 'umount and rm') unlinkSync(netns)
      assert.equal(env.inspect(id).status.state, 'SANDBOX_READY', 'the pause still runs')
      const r = env.podctl(['rmp', '-f', id])
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stderr, '', 'pinned again silently')
      env.assertNoLeaks()
    })
  }

  test('a netns that is gone with its pause: rmp -f removes the masquerade rules bridge cannot find by the pod\'s ID', () => {
    const id = runUserPod('gone')
    const {info} = env.inspect(id)
    // The pause is this test's (its runp made it): killed, and its netns unmounted, the namespace ends.
    process.kill(info.pid as number, 'SIGKILL')
    assert.equal(spawnSync('umount', [info.netNamespacePath as string]).status, 0)
    const r = env.podctl(['rmp', '-f', id])
    assert.equal(r.code, 0, r.stderr)
    env.assertNoLeaks()
  })

  test('rules and chains of a pod ID with no trace in this root are another runtime\'s: gc leaves them', () => {
    const foreign = randomBytes(32).toString('hex')
    const chain = cniChainName('CNI-', network, foreign)
    const comment = `name: "${network}" id: "${foreign}"`
    const rule = ['POSTROUTING', '-s', `${env.subnetPrefix}.250/32`, '-m', 'comment', '--comment', comment, '-j', chain]
    assert.equal(spawnSync('iptables', ['-t', 'nat', '-N', chain]).status, 0)
    try {
      assert.equal(spawnSync('iptables', ['-t', 'nat', '-A', ...rule]).status, 0)
      // An IP of the foreign ID in the user dataDir too.
      mkdirSync(join(dataDir, network), {recursive: true})
      writeFileSync(join(dataDir, network, `${env.subnetPrefix}.250`), `${foreign}\neth0`)
      const r = env.podctl(['gc'])
      assert.equal(r.code, 0, r.stderr)
      assert.doesNotMatch(r.stdout, new RegExp(foreign))
      assert.ok(nat().includes(`-N ${chain}`), 'its chain is kept')
      assert.ok(existsSync(join(dataDir, network, `${env.subnetPrefix}.250`)), 'its IP is kept')
    } finally {
      spawnSync('iptables', ['-t', 'nat', '-D', ...rule])
      spawnSync('iptables', ['-t', 'nat', '-X', chain])
      rmSync(join(dataDir, network, `${env.subnetPrefix}.250`), {force: true})
    }
    env.assertNoLeaks()
  })
})
