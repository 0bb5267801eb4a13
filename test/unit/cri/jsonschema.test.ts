// The JSON Schema of PodSandboxConfig against the parser it describes: every
// example config passes both; documents the parser accepts pass the schema,
// documents it refuses for their shape fail it. A small evaluator of the
// keywords the schema uses stands in for a JSON Schema library; it fails on
// any keyword it does not know, so the schema cannot outgrow this test.

import assert from 'node:assert/strict'
import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, test} from 'node:test'

import {parse as parseYaml} from 'yaml'

import {jsonSchemaDialect, podSandboxConfigSchema} from '../../../src/cri/jsonschema.js'
import {enums, jsonName, messages} from '../../../src/cri/schema.js'
import {parsePodSandboxConfig} from '../../../src/runtime/podconfig.js'

type Schema = Record<string, any>
const root = podSandboxConfigSchema() as Schema
const examplesDir = new URL('../../../../examples/', import.meta.url)

const annotations = new Set(['$schema', 'title', 'description', '$defs'])

function typeOf(v: unknown): string[] {
  if (v === null) return ['null']
  if (Array.isArray(v)) return ['array']
  if (typeof v === 'number') return Number.isInteger(v) ? ['integer', 'number'] : ['number']
  if (typeof v === 'boolean') return ['boolean']
  return [typeof v]
}

/** Errors of `value` against `schema`, as "path: what"; [] when valid. */
function validate(value: unknown, schema: Schema, path = '$'): string[] {
  const errors: string[] = []
  for (const [keyword, arg] of Object.entries(schema)) {
    if (annotations.has(keyword)) continue
    switch (keyword) {
      case '$ref': {
        const name = (arg as string).replace('#/$defs/', '')
        assert.ok(root.$defs[name], `${path}: $ref to a missing definition ${arg}`)
        errors.push(...validate(value, root.$defs[name], path))
        break
      }
      case 'type': {
        const types = Array.isArray(arg) ? arg : [arg]
        if (!types.some((t: string) => typeOf(value).includes(t))) errors.push(`${path}: not ${types.join(' or ')}`)
        break
      }
      case 'properties':
        if (typeOf(value)[0] === 'object') {
          for (const [k, v] of Object.entries(value as object)) if (arg[k]) errors.push(...validate(v, arg[k], `${path}.${k}`))
        }
        break
      case 'additionalProperties':
        if (typeOf(value)[0] === 'object') {
          for (const [k, v] of Object.entries(value as object)) {
            if (schema.properties?.[k]) continue
            if (arg === false) errors.push(`${path}.${k}: not allowed`)
            else errors.push(...validate(v, arg, `${path}.${k}`))
          }
        }
        break
      case 'required':
        if (typeOf(value)[0] === 'object') for (const k of arg) if (!(k in (value as object))) errors.push(`${path}: ${k} is required`)
        break
      case 'items':
        if (Array.isArray(value)) value.forEach((v, i) => errors.push(...validate(v, arg, `${path}[${i}]`)))
        break
      case 'enum':
        if (!arg.includes(value)) errors.push(`${path}: not one of ${JSON.stringify(arg)}`)
        break
      case 'anyOf':
        if (!arg.some((s: Schema) => validate(value, s, path).length === 0)) errors.push(`${path}: matches none of anyOf`)
        break
      case 'allOf':
        for (const s of arg) errors.push(...validate(value, s, path))
        break
      case 'not':
        if (validate(value, arg, path).length === 0) errors.push(`${path}: matches "not" ${JSON.stringify(arg)}`)
        break
      case 'minimum':
        if (typeof value === 'number' && value < arg) errors.push(`${path}: below ${arg}`)
        break
      case 'maximum':
        if (typeof value === 'number' && value > arg) errors.push(`${path}: above ${arg}`)
        break
      case 'minLength':
        if (typeof value === 'string' && value.length < arg) errors.push(`${path}: shorter than ${arg}`)
        break
      case 'maxLength':
        if (typeof value === 'string' && value.length > arg) errors.push(`${path}: longer than ${arg}`)
        break
      case 'pattern':
        if (typeof value === 'string' && !new RegExp(arg, 'u').test(value)) errors.push(`${path}: does not match ${arg}`)
        break
      default:
        assert.fail(`${path}: the schema uses "${keyword}", which this test does not evaluate`)
    }
  }
  return errors
}

const parses = (doc: unknown) => parsePodSandboxConfig(JSON.stringify(doc), 'test.json')

describe('runp jsonschema', () => {
  test('is a draft 2020-12 schema of PodSandboxConfig', () => {
    assert.equal(root.$schema, jsonSchemaDialect)
    assert.equal(jsonSchemaDialect, 'https://json-schema.org/draft/2020-12/schema')
    assert.equal(root.title, 'PodSandboxConfig')
    assert.deepEqual(root.required, ['metadata'])
  })

  test('names every field of every message, by proto name and JSON name, and every enum value', () => {
    const defs: Record<string, Schema> = {...root.$defs, PodSandboxConfig: root}
    for (const [name, message] of Object.entries(messages)) {
      const def = defs[name]
      if (!def) continue // not reachable from PodSandboxConfig
      assert.equal(def.additionalProperties, false, name)
      const keys = message.fields.flatMap((f) => [...new Set([f.name, jsonName(f.name)])])
      assert.deepEqual(Object.keys(def.properties), keys, name)
      for (const f of message.fields) {
        if (typeof f.type === 'object' && 'enum' in f.type) {
          const values = enums[f.type.enum]
          const schema = f.repeated ? def.properties[f.name].items : def.properties[f.name]
          assert.deepEqual(schema.anyOf[0].enum, [...Object.keys(values), ...Object.values(values), null], `${name}.${f.name}`)
        }
      }
    }
    // Every message reachable from PodSandboxConfig has its definition.
    const reachable = new Set<string>()
    const visit = (n: string) => {
      if (reachable.has(n)) return
      reachable.add(n)
      for (const f of messages[n].fields) if (typeof f.type === 'object' && 'message' in f.type) visit(f.type.message)
    }
    visit('PodSandboxConfig')
    assert.deepEqual(new Set([...Object.keys(root.$defs), 'PodSandboxConfig']), reachable)
  })

  const files = readdirSync(examplesDir).filter((f) => /\.(json|ya?ml)$/.test(f)).sort()
  test('examples/ holds the configs the README promises', () => {
    for (const f of ['minimal.yaml', 'host-network.yaml', 'port-mappings.yaml', 'dns.yaml', 'sysctls.yaml', 'resources.yaml']) assert.ok(files.includes(f), f)
  })
  for (const file of files) {
    test(`examples/${file} is valid for the schema and for the parser, with no warnings`, () => {
      const text = readFileSync(join(examplesDir.pathname, file), 'utf8')
      assert.deepEqual(validate(parseYaml(text), root), [])
      assert.deepEqual(parsePodSandboxConfig(text, file).warnings, [])
    })
  }

  const md = {name: 'a', namespace: 'default'}
  const accepted: [string, unknown][] = [
    ['the least config', {metadata: md}],
    ['lowerCamelCase keys', {metadata: md, logDirectory: '/tmp/l', dnsConfig: {servers: ['10.0.0.1']}, portMappings: [{containerPort: 80, hostPort: 8080, hostIp: '127.0.0.1'}]}],
    ['enum names in any case', {metadata: md, port_mappings: [{protocol: 'udp', container_port: 53}], linux: {security_context: {namespace_options: {network: 'node', pid: 'Container'}}}}],
    ['enum numbers, also as strings', {metadata: md, linux: {security_context: {namespace_options: {network: 2, ipc: '0'}}}}],
    ['integers as decimal strings', {metadata: {...md, attempt: '3'}, port_mappings: [{container_port: '80'}], linux: {resources: {memory_limit_in_bytes: '268435456'}}}],
    ['Int64Value as a bare integer or a message', {metadata: md, linux: {security_context: {run_as_user: 1000, run_as_group: {value: 1000}}}}],
    ['null for unset', {metadata: md, hostname: null, linux: null, labels: null, dns_config: {servers: null}}],
    ['maps of strings', {metadata: md, labels: {app: 'x'}, annotations: {'a/b': 'c'}, linux: {sysctls: {'net.core.somaxconn': '1024'}}}],
  ]
  for (const [label, doc] of accepted) {
    test(`accepted by both: ${label}`, () => {
      assert.deepEqual(validate(doc, root), [])
      assert.deepEqual(parses(doc).warnings, [])
    })
  }

  const refused: [string, unknown][] = [
    ['no metadata', {hostname: 'x'}],
    ['no name', {metadata: {namespace: 'default'}}],
    ['an empty namespace', {metadata: {name: 'a', namespace: ''}}],
    ['a fractional port', {metadata: md, port_mappings: [{container_port: 80.5}]}],
    ['a port as a word', {metadata: md, port_mappings: [{container_port: 'eighty'}]}],
    ['a port out of range', {metadata: md, port_mappings: [{container_port: 70000}]}],
    ['an int32 out of range', {metadata: md, port_mappings: [{container_port: 80, host_port: 2 ** 31}]}],
    ['a negative uint32', {metadata: {...md, attempt: -1}}],
    ['an unknown enum name', {metadata: md, linux: {security_context: {namespace_options: {network: 'HOSTONLY'}}}}],
    ['an unknown enum number', {metadata: md, port_mappings: [{protocol: 7, container_port: 80}]}],
    ['a label that is not a string', {metadata: md, labels: {replicas: 1}}],
    ['a key given by both names', {metadata: md, log_directory: '/a', logDirectory: '/b'}],
    ['a list where a map goes', {metadata: md, linux: {sysctls: ['net.core.somaxconn=1']}}],
    ['a string where a list goes', {metadata: md, dns_config: {servers: '10.0.0.1'}}],
    ['a string where a bool goes', {metadata: md, linux: {security_context: {privileged: 'true'}}}],
    ['a string where a message goes', {metadata: md, linux: 'host'}],
    ['an oom_score_adj out of range', {metadata: md, linux: {resources: {oom_score_adj: 1001}}}],
  ]
  for (const [label, doc] of refused) {
    test(`refused by both: ${label}`, () => {
      assert.notDeepEqual(validate(doc, root), [], 'the schema accepts it')
      assert.throws(() => parses(doc), 'the parser accepts it')
    })
  }

  test('an unknown key: flagged by the schema, warned about and ignored by runp', () => {
    const doc = {metadata: md, log_dir: '/tmp'}
    assert.deepEqual(validate(doc, root), ['$.log_dir: not allowed'])
    assert.match(parses(doc).warnings[0], /unknown key "log_dir" ignored \(did you mean "log_directory"\?\)/)
  })
})
