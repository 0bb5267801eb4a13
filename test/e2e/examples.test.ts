// Every pod config in examples/ runs as it is: runp, READY, the metadata it
// names, an IP from this env's network unless it uses the host's, then rmp;
// nothing is left. The network is the env's own: its config file names the
// default network, and its empty CNI conf dir makes podctl use it.

import assert from 'node:assert/strict'
import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'

import {parse as parseYaml} from 'yaml'

import {e2eOptions, repoRoot, TestEnv} from './harness.js'

const examplesDir = join(repoRoot, 'examples')
const files = readdirSync(examplesDir).filter((f) => /\.(json|ya?ml)$/.test(f)).sort()

describe('examples/', e2eOptions(), () => {
  let env: TestEnv
  before(() => {
    env = new TestEnv(81)
  })
  after(() => env.teardown())

  for (const file of files) {
    test(`runp examples/${file}, then rmp`, () => {
      const config = parseYaml(readFileSync(join(examplesDir, file), 'utf8'))
      // log_directory is made by runp: point it into this env's dir rather than leave it in /tmp.
      const path = config.log_directory ? env.podConfig({...config, log_directory: join(env.dir, 'logs', file)}, `log-dir-${file}.json`) : join(examplesDir, file)
      const r = env.podctl(['runp', path])
      assert.equal(r.code, 0, `runp ${file}: ${r.stderr}`)
      // The first pod of the env writes its default network, and says so; nothing else is said.
      assert.deepEqual(r.stderr.split('\n').filter((l) => l && !l.startsWith('warning: no CNI config in ')), [], 'no warnings about the config')
      const id = r.stdout.trim()
      assert.match(id, /^[0-9a-f]{64}$/)
      const {status} = env.inspect(id)
      assert.equal(status.state, 'SANDBOX_READY')
      assert.equal(status.metadata.name, config.metadata.name)
      assert.equal(status.metadata.namespace, config.metadata.namespace)
      const hostNetwork = /^(NODE|2)$/i.test(String(config.linux?.security_context?.namespace_options?.network ?? ''))
      if (hostNetwork) assert.equal(status.network?.ip ?? '', '')
      else assert.ok(status.network.ip.startsWith(`${env.subnetPrefix}.`), `IP ${status.network.ip} is in the env's subnet`)
      assert.match(env.ok(['rmp', '-f', id]), new RegExp(`^Stopped sandbox ${id}\nRemoved sandbox ${id}\n$`))
    })
  }

  test('nothing is left', () => {
    assert.ok(files.length >= 7, `examples: ${files.join(' ')}`)
    env.assertNoLeaks()
  })
})
