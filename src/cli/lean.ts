// The lean path: the part of oclif's Command, Flags and Args that podctl's
// verbs use, over node's util.parseArgs, so that a plain invocation of a verb
// never loads oclif (see ./oclif.ts for why). Flag definitions stay the ones
// in the command files; oclif's manifest (built from them) tells bin/run.js
// whether an invocation is plain: the verb exists, no help is asked for, and
// every flag is known with a valid value. Anything else goes to oclif, which
// also produces the error messages for bad command lines.

import {parseArgs} from 'node:util'

interface FlagDef {
  type: 'boolean' | 'option'
  char?: string
  description?: string
  env?: string
  default?: unknown
  multiple?: boolean
  options?: string[]
  integer?: boolean
  min?: number
  helpGroup?: string
  allowNo?: boolean
  required?: boolean
}

interface ArgDef {
  description?: string
  required?: boolean
}

export class CLIError extends Error {
  readonly oclif = {exit: 2}
}

export const Flags = {
  string: (opts: Omit<FlagDef, 'type'> = {}): FlagDef => ({...opts, type: 'option'}),
  boolean: (opts: Omit<FlagDef, 'type'> = {}): FlagDef => ({...opts, type: 'boolean'}),
  integer: (opts: Omit<FlagDef, 'type'> = {}): FlagDef => ({...opts, type: 'option', integer: true}),
}

export const Args = {
  string: (opts: ArgDef = {}): ArgDef => ({...opts}),
}

/** oclif's truthy strings for a boolean flag set by an environment variable. */
const truthy = (v: string) => ['1', 'true', 'yes', 'y'].includes(v.toLowerCase())

interface ParseInput {
  flags?: Record<string, FlagDef>
  baseFlags?: Record<string, FlagDef>
  args?: Record<string, ArgDef>
  strict?: boolean
}

export class Command {
  static flags: Record<string, FlagDef> = {}
  static baseFlags: Record<string, FlagDef> = {}
  static args: Record<string, ArgDef> = {}
  static strict = true
  id: string | undefined

  constructor(
    readonly argv: string[],
    readonly config: {bin: string; version: string},
  ) {}

  get ctor(): typeof Command {
    return this.constructor as typeof Command
  }

  async init(): Promise<void> {}

  async catch(err: Error): Promise<void> {
    throw err
  }

  async parse(input: ParseInput): Promise<{flags: Record<string, unknown>; args: Record<string, string | undefined>; argv: string[]}> {
    const defs = {...input.baseFlags, ...input.flags}
    const options: Record<string, {type: 'boolean' | 'string'; short?: string; multiple?: boolean}> = {}
    for (const [name, def] of Object.entries(defs)) {
      options[name] = {type: def.type === 'boolean' ? 'boolean' : 'string', multiple: def.multiple === true}
      if (def.char) options[name].short = def.char
    }
    let parsed
    try {
      parsed = parseArgs({args: this.argv, options, strict: true, allowPositionals: true})
    } catch (err) {
      throw new CLIError((err as Error).message)
    }
    const flags: Record<string, unknown> = {}
    for (const [name, def] of Object.entries(defs)) {
      let value: unknown = parsed.values[name]
      const fromEnv = def.env ? process.env[def.env] : undefined
      if (value === undefined && fromEnv !== undefined) value = def.type === 'boolean' ? truthy(fromEnv) : fromEnv
      if (value === undefined) value = def.default
      if (value !== undefined && def.integer) value = integer(String(value), def.min, name)
      if (typeof value === 'string' && def.options && !def.options.includes(value)) {
        throw new CLIError(`Expected --${name}=${value} to be one of: ${def.options.join(', ')}`)
      }
      if (value !== undefined) flags[name] = value
    }
    const argDefs = Object.entries(input.args ?? {})
    const args: Record<string, string | undefined> = {}
    argDefs.forEach(([name], i) => (args[name] = parsed.positionals[i]))
    const missing = argDefs.filter(([name, def]) => def.required && args[name] === undefined)
    if (missing.length > 0) {
      throw new CLIError(`Missing ${missing.length} required arg${missing.length > 1 ? 's' : ''}:\n${missing.map(([n, d]) => `${n}  ${d.description ?? ''}`).join('\n')}`)
    }
    if (input.strict !== false && parsed.positionals.length > argDefs.length) {
      throw new CLIError(`Unexpected argument: ${parsed.positionals[argDefs.length]}`)
    }
    return {flags, args, argv: parsed.positionals}
  }

  async run(): Promise<unknown> {
    return undefined
  }
}

/** An integer flag's value; errors worded as oclif's. */
function integer(text: string, min: number | undefined, name: string): number {
  const fail = (why: string) => new CLIError(`Parsing --${name} \n\t${why}`)
  if (!/^-?\d+$/.test(text)) throw fail(`Expected an integer but received: ${text}`)
  const n = Number(text)
  if (min !== undefined && n < min) throw fail(`Expected an integer greater than or equal to ${min} but received: ${text}`)
  return n
}

interface ManifestFlag {
  name: string
  type: 'boolean' | 'option'
  char?: string
  options?: string[]
}

export interface Manifest {
  version: string
  commands: Record<string, {flags: Record<string, ManifestFlag>; aliases?: string[]; isESM?: boolean; relativePath?: string[]}>
}

/**
 * Whether the lean path can run this command line: a known verb, no help
 * asked for, and only known flags with valid values. Reads nothing but the
 * manifest it is given.
 */
export function leanInvocation(argv: string[], manifest: Manifest): string | undefined {
  const [first, second] = argv
  // `runp jsonschema` (alias `runp js`) is a command of its own when the word
  // directly follows its parent, as oclif resolves it; the caller drops as
  // many words as the ID has.
  const sub = second === undefined ? undefined : commandId(`${first}:${second}`, manifest)
  const id = sub ?? (first !== undefined && manifest.commands[first] ? first : undefined)
  const cmd = id === undefined ? undefined : manifest.commands[id]
  if (id === undefined || !cmd || !cmd.relativePath) return undefined
  const rest = argv.slice(sub ? 2 : 1)
  const flags = Object.values(cmd.flags)
  const byChar = new Map(flags.filter((f) => f.char).map((f) => [f.char as string, f]))
  for (let i = 0; i < rest.length; i++) {
    const token = rest[i]
    if (token === '--help' || token === '-h' || token === '--') return undefined
    if (token.startsWith('--')) {
      const [name, inline] = token.slice(2).split(/=(.*)/s, 2)
      const flag = cmd.flags[name]
      if (!flag) return undefined
      if (flag.type === 'option') {
        const value = inline ?? rest[++i]
        if (value === undefined || (flag.options && !flag.options.includes(value))) return undefined
      } else if (inline !== undefined) return undefined
    } else if (token.startsWith('-') && token.length > 1) {
      const chars = token.slice(1)
      for (let c = 0; c < chars.length; c++) {
        const flag = byChar.get(chars[c])
        if (!flag) return undefined
        if (flag.type === 'option') {
          const value = c + 1 < chars.length ? chars.slice(c + 1) : rest[++i]
          if (value === undefined || (flag.options && !flag.options.includes(value))) return undefined
          break
        }
      }
    }
  }
  return id
}

/** A command's ID from its ID or one of its aliases. */
function commandId(name: string, manifest: Manifest): string | undefined {
  if (manifest.commands[name]) return name
  return Object.entries(manifest.commands).find(([, c]) => c.aliases?.includes(name))?.[0]
}

/** A verb's class, as the lean path constructs it. */
export type CommandClass = new (argv: string[], config: {bin: string; version: string}) => Command

/** Run one command on the lean path, as oclif's Command._run does: init, run, catch. */
export async function runLean(Cmd: CommandClass, id: string, argv: string[], version: string): Promise<void> {
  const cmd = new Cmd(argv, {bin: 'podctl', version})
  cmd.id = id
  try {
    await cmd.init()
    await cmd.run()
  } catch (err) {
    await cmd.catch(err as Error)
  }
}
