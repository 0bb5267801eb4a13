// The JSON Schema (draft 2020-12) of PodSandboxConfig, derived from the one
// message table in ./schema.ts, so it can never drift from what runp reads.
// It accepts the forms the parser accepts (src/runtime/podconfig.ts):
// snake_case proto names and their lowerCamelCase JSON names (not both at
// once), enum names in any case and enum numbers (also as strings),
// integers as numbers or decimal strings, and null for "unset". Unknown keys
// are flagged (additionalProperties: false) where runp warns and ignores
// them. The schema checks shapes and the few values marked below; runp
// checks the rest (IP addresses, sysctl names, what this host supports).

import {enums, type FieldDef, jsonName, messages, type ScalarType} from './schema.js'

type Schema = Record<string, unknown>

export const jsonSchemaDialect = 'https://json-schema.org/draft/2020-12/schema'

const intRanges: Record<Exclude<ScalarType, 'string' | 'bool'>, [number, number]> = {
  int32: [-(2 ** 31), 2 ** 31 - 1],
  uint32: [0, 2 ** 32 - 1],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  uint64: [0, Number.MAX_SAFE_INTEGER],
}

/** Values runp itself requires, beyond the types: keyed "Message.field". */
const valueRules: Record<string, Schema> = {
  'PodSandboxMetadata.name': {minLength: 1, maxLength: 253},
  'PodSandboxMetadata.namespace': {minLength: 1, maxLength: 253},
  'PortMapping.container_port': {minimum: 1, maximum: 65535},
  'PortMapping.host_port': {minimum: 0, maximum: 65535},
  'LinuxContainerResources.oom_score_adj': {minimum: -1000, maximum: 1000},
}
const requiredFields: Record<string, string[]> = {
  PodSandboxConfig: ['metadata'],
  PodSandboxMetadata: ['name', 'namespace'],
}

/** A string matching any of these words, case-insensitively (JSON Schema patterns have no flags). */
function caseInsensitive(words: string[]): string {
  const word = (w: string) => [...w].map((c) => (/[a-z]/i.test(c) ? `[${c.toUpperCase()}${c.toLowerCase()}]` : c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('')
  return `^(?:${words.map(word).join('|')})$`
}

function enumSchema(name: string): Schema {
  const values = enums[name]
  const listed = Object.entries(values).map(([n, v]) => `${n} (${v})`).join(', ')
  return {
    description: `runtime.v1.${name}: ${listed}; names in any case`,
    anyOf: [{enum: [...Object.keys(values), ...Object.values(values), null]}, {type: 'string', pattern: caseInsensitive([...Object.keys(values), ...Object.values(values).map(String)])}],
  }
}

function scalarSchema(type: ScalarType): Schema {
  if (type === 'string') return {type: ['string', 'null']}
  if (type === 'bool') return {type: ['boolean', 'null']}
  const [minimum, maximum] = intRanges[type]
  // protojson writes 64-bit integers as strings; the parser takes decimal strings for every integer type.
  return {type: ['integer', 'string', 'null'], minimum, maximum, pattern: minimum < 0 ? '^\\s*-?\\d+\\s*$' : '^\\s*\\d+\\s*$'}
}

function singleSchema(field: FieldDef): Schema {
  const {type} = field
  if (typeof type === 'string') return scalarSchema(type)
  if ('enum' in type) return enumSchema(type.enum)
  const ref = {$ref: `#/$defs/${type.message}`}
  // google.protobuf-style wrapper: a bare integer stands for {value: n}.
  return type.message === 'Int64Value' ? {anyOf: [ref, scalarSchema('int64')]} : ref
}

function fieldSchema(message: string, field: FieldDef): Schema {
  let schema: Schema
  if (field.map) schema = {type: ['object', 'null'], additionalProperties: {type: 'string'}}
  else if (field.repeated) schema = {type: ['array', 'null'], items: singleSchema(field)}
  else schema = {...singleSchema(field), ...valueRules[`${message}.${field.name}`]}
  return {description: `field ${field.number} of runtime.v1.${message}`, ...schema}
}

function messageSchema(name: string): Schema {
  const {fields} = messages[name]
  const properties: Record<string, Schema> = {}
  const exclusive: Schema[] = []
  for (const field of fields) {
    properties[field.name] = fieldSchema(name, field)
    const camel = jsonName(field.name)
    if (camel !== field.name) {
      properties[camel] = {...fieldSchema(name, field), description: `${field.name}, by its JSON name`}
      exclusive.push({not: {type: 'object', required: [field.name, camel]}})
    }
  }
  const required = requiredFields[name]
  return {
    type: required ? 'object' : ['object', 'null'],
    description: `runtime.v1.${name}`,
    properties,
    additionalProperties: false,
    ...(required ? {required} : {}),
    ...(exclusive.length > 0 ? {allOf: exclusive} : {}),
  }
}

/** Every message reachable from `root`, in the order first met. */
function reachable(root: string): string[] {
  const seen: string[] = []
  const visit = (name: string) => {
    if (seen.includes(name)) return
    seen.push(name)
    for (const f of messages[name].fields) if (typeof f.type === 'object' && 'message' in f.type) visit(f.type.message)
  }
  visit(root)
  return seen
}

/** The JSON Schema of PodSandboxConfig, the document `runp` reads. */
export function podSandboxConfigSchema(): Schema {
  const [root, ...rest] = reachable('PodSandboxConfig')
  return {
    $schema: jsonSchemaDialect,
    title: 'PodSandboxConfig',
    ...messageSchema(root),
    description: 'A CRI v1 PodSandboxConfig as podctl runp (and crictl runp) reads it, in JSON or YAML.',
    $defs: Object.fromEntries(rest.map((name) => [name, messageSchema(name)])),
  }
}
