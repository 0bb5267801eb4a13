// podctl version and podctl runp jsonschema on the real binary, and the
// edge of the latter: a pod config file named "jsonschema".

import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'

import {parse as parseYaml} from 'yaml'

import {e2eOptions, repoRoot, type Result, TestEnv} from './harness.js'

const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {version: string}

describe('podctl version and runp jsonschema', e2eOptions(), () => {
  let env: TestEnv
  before(() => {
    env = new TestEnv(84)
  })
  after(() => env.teardown())

  test("version: crictl's four lines, then the OCI runtime's and the CNI plugins' versions", () => {
    const out = env.ok(['version'])
    assert.ok(out.startsWith(`Version:  0.1.0\nRuntimeName:  podctl\nRuntimeVersion:  ${pkg.version}\nRuntimeApiVersion:  v1\n`), out)
    const runc = execFileSync('runc', ['--version'], {encoding: 'utf8'}).match(/^runc version (\S+)/)?.[1]
    assert.match(out, new RegExp(`\\nOCIRuntimeName:  runc\\nOCIRuntimeVersion:  ${runc?.replaceAll('+', '\\+')}\\nOCIRuntimePath:  /\\S+/runc\\n`))
    for (const plugin of ['bridge', 'host-local', 'portmap', 'loopback']) assert.match(out, new RegExp(`\\nCNIPlugin\\.${plugin}:  \\S+ \\(CNI spec up to \\d+\\.\\d+\\.\\d+\\)\\n`))
  })

  test('version -o json and -o yaml', () => {
    const json = JSON.parse(env.ok(['version', '-o', 'json']))
    assert.deepEqual([json.version, json.runtimeName, json.runtimeVersion, json.runtimeApiVersion], ['0.1.0', 'podctl', pkg.version, 'v1'])
    assert.equal(json.ociRuntime.handler, 'runc')
    assert.equal(json.ociRuntime.name, 'runc')
    assert.match(json.ociRuntime.spec, /^\d+\.\d+/)
    assert.ok(json.cniPlugins.every((p: {cniVersions: string[]}) => p.cniVersions.includes('1.0.0')))
    assert.deepEqual(parseYaml(env.ok(['version', '-o', 'yaml'])), json)
  })

  test('version answers on a half-installed node, saying what is missing', () => {
    const r = env.podctl(['version', '--cni-bin-dir', join(env.dir, 'nothing-here')])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /\nCNIPlugin\.bridge:  not found: CNI plugin "bridge" not found in /)
  })

  test('runp jsonschema, and its alias js, print the schema', () => {
    const schema = JSON.parse(env.ok(['runp', 'jsonschema']))
    assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema')
    assert.equal(schema.title, 'PodSandboxConfig')
    assert.deepEqual(schema.$defs.NamespaceOption.properties.network.anyOf[0].enum, ['POD', 'CONTAINER', 'NODE', 'TARGET', 0, 1, 2, 3, null])
    assert.deepEqual(JSON.parse(env.ok(['runp', 'js'])), schema)
    const extra = env.podctl(['runp', 'jsonschema', 'pod.json'])
    assert.equal(extra.code, 2)
    assert.match(extra.stderr, /^error: Unexpected argument: pod.json\nhint: see: podctl runp jsonschema --help\n$/)
  })

  test('a pod config file named jsonschema runs as ./jsonschema; "runp jsonschema" stays the schema', () => {
    writeFileSync(join(env.dir, 'jsonschema'), JSON.stringify({metadata: {name: 'named-jsonschema', namespace: 'default'}}))
    const inDir = (args: string[]): Result => env.podctl(args, {cwd: env.dir})
    assert.equal(JSON.parse(inDir(['runp', 'jsonschema']).stdout).title, 'PodSandboxConfig')
    const r = inDir(['runp', './jsonschema'])
    assert.equal(r.code, 0, r.stderr)
    const id = r.stdout.trim()
    assert.equal(env.inspect(id).status.metadata.name, 'named-jsonschema')
    // After a flag, "jsonschema" is runp's file argument, as oclif reads it too.
    const second = inDir(['runp', '-r', 'runc', 'jsonschema'])
    assert.equal(second.code, 0, second.stderr)
    const id2 = second.stdout.trim()
    assert.equal(env.inspect(id2).status.metadata.name, 'named-jsonschema')
    env.ok(['rmp', '-f', id, id2])
  })

  test('nothing is left', () => env.assertNoLeaks())
})
