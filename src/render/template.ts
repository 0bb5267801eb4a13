// Go templates for `-o go-template --template '…'`, as crictl's: the template
// runs on the JSON output (the decoded object), with the functions json,
// lower, upper and title, and a missing map key is an error (crictl sets
// missingkey=error).
//
// No npm package fits: @ctrl/golang-template, the maintained one, lacks
// comparisons, variables, len, printf and trim markers. So this is the subset
// of text/template that scripts use, small on purpose:
//
//   {{.a.b}}  {{.}}  {{$}}  {{$v.a}}  {{(index .a 0).b}}  {{x | f}}
//   {{if P}} {{else if P}} {{else}} {{end}}     {{with P}} {{else}} {{end}}
//   {{range P}} {{range $v := P}} {{range $i, $v := P}} {{else}} {{end}}
//   {{$x := P}}  {{$x = P}}  {{/* comment */}}  {{- trim -}}
//   and or not eq ne lt le gt ge len index printf print println
//   json lower upper title
//
// JSON numbers are numbers here (Go's json.Number is a string), so
// `{{if gt .info.pid 0}}` works. Errors name the position as line:column.

import {usageError} from '../runtime/errors.js'

/** A parse or execution error, one line: `template: 1:7: …`. */
const templateError = (pos: Pos, message: string) =>
  usageError(`template: ${pos.line}:${pos.col}: ${message}`, 'see the TEMPLATES section of podctl(1), or the examples in --help')

interface Pos {
  line: number
  col: number
}

// ---------------------------------------------------------------- lexer

type TokenKind = 'field' | 'var' | 'ident' | 'string' | 'number' | 'lparen' | 'rparen' | 'pipe' | 'declare' | 'assign' | 'comma' | 'dot'

interface Token {
  kind: TokenKind
  text: string
  pos: Pos
}

type Piece = {kind: 'text'; text: string} | {kind: 'action'; tokens: Token[]; pos: Pos; comment: boolean}

function position(src: string, offset: number): Pos {
  const before = src.slice(0, offset)
  const line = before.split('\n').length
  return {line, col: offset - before.lastIndexOf('\n')}
}

/** Split the source into text and actions, applying the trim markers. */
function split(src: string): Piece[] {
  const pieces: Piece[] = []
  let i = 0
  let trimNext = false
  while (i <= src.length) {
    const open = src.indexOf('{{', i)
    let text = src.slice(i, open < 0 ? src.length : open)
    if (trimNext) text = text.replace(/^\s+/, '')
    trimNext = false
    if (open < 0) {
      if (text) pieces.push({kind: 'text', text})
      break
    }
    let start = open + 2
    // "{{- " trims the text before; the space is required, as in Go ({{-3}} is a number).
    if (/^-[ \t\r\n]/.test(src.slice(start, start + 2))) {
      text = text.replace(/\s+$/, '')
      start += 1
    }
    if (text) pieces.push({kind: 'text', text})
    const {tokens, end, trim, comment} = lexAction(src, start, position(src, open))
    trimNext = trim
    pieces.push({kind: 'action', tokens, pos: position(src, open), comment})
    i = end
  }
  return pieces
}

/** The tokens of one action from `start`; returns the offset after its "}}". */
function lexAction(src: string, start: number, openPos: Pos): {tokens: Token[]; end: number; trim: boolean; comment: boolean} {
  const tokens: Token[] = []
  let comment = false
  let i = start
  const at = (offset: number) => position(src, offset)
  for (;;) {
    if (i >= src.length) throw templateError(openPos, 'unclosed action')
    const c = src[i]
    const rest = src.slice(i)
    if (/^[ \t\r\n]+-}}/.test(rest)) {
      const end = i + rest.indexOf('-}}') + 3
      return {tokens, end, trim: true, comment}
    }
    if (rest.startsWith('}}')) return {tokens, end: i + 2, trim: false, comment}
    if (/\s/.test(c)) {
      i++
      continue
    }
    if (rest.startsWith('/*')) {
      const close = src.indexOf('*/', i + 2)
      if (close < 0) throw templateError(at(i), 'unclosed comment')
      if (tokens.length > 0) throw templateError(at(i), 'comment must be the whole action')
      i = close + 2
      comment = true
      continue
    }
    const pos = at(i)
    let m: RegExpMatchArray | null
    if ((m = rest.match(/^(\.[A-Za-z_][A-Za-z0-9_]*)+/))) {
      tokens.push({kind: 'field', text: m[0], pos})
    } else if (c === '.' && !/^\.\d/.test(rest)) {
      m = ['.']
      tokens.push({kind: 'dot', text: '.', pos})
    } else if ((m = rest.match(/^\$[A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*/))) {
      tokens.push({kind: 'var', text: m[0], pos})
    } else if ((m = rest.match(/^"(?:[^"\\\n]|\\.)*"/))) {
      tokens.push({kind: 'string', text: unquote(m[0], pos), pos})
    } else if ((m = rest.match(/^`[^`]*`/))) {
      tokens.push({kind: 'string', text: m[0].slice(1, -1), pos})
    } else if ((m = rest.match(/^[-+]?(0[xX][0-9a-fA-F]+|(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?)/))) {
      tokens.push({kind: 'number', text: m[0], pos})
    } else if ((m = rest.match(/^[A-Za-z_][A-Za-z0-9_]*/))) {
      tokens.push({kind: 'ident', text: m[0], pos})
    } else if ((m = rest.match(/^:=/))) {
      tokens.push({kind: 'declare', text: ':=', pos})
    } else if ((m = rest.match(/^[()|=,]/))) {
      const kinds: Record<string, TokenKind> = {'(': 'lparen', ')': 'rparen', '|': 'pipe', '=': 'assign', ',': 'comma'}
      tokens.push({kind: kinds[m[0]], text: m[0], pos})
    } else if (c === '"') {
      throw templateError(pos, 'unterminated quoted string')
    } else {
      throw templateError(pos, `unexpected ${JSON.stringify(c)} in command`)
    }
    // A field right after ")" chains onto it: (index .a 0).name
    i += m[0].length
  }
}

function unquote(quoted: string, pos: Pos): string {
  try {
    return JSON.parse(quoted.replace(/\\'/g, "'").replace(/\\x([0-9a-fA-F]{2})/g, '\\u00$1').replace(/\\a/g, '\\u0007').replace(/\\v/g, '\\u000b'))
  } catch {
    throw templateError(pos, `bad quoted string ${quoted}`)
  }
}

// ---------------------------------------------------------------- parser

type Operand =
  | {kind: 'field'; base: 'dot' | {var: string} | Operand; path: string[]; pos: Pos}
  | {kind: 'literal'; value: unknown; pos: Pos}
  | {kind: 'call'; name: string; args: Operand[]; pos: Pos}
  | {kind: 'pipeline'; pipeline: Pipeline; pos: Pos}

interface Pipeline {
  decl: string[]
  assign: boolean
  commands: Operand[]
  pos: Pos
}

interface Block<K extends string> {
  kind: K
  pipeline: Pipeline
  list: Node[]
  elseList: Node[]
  pos: Pos
}

type Node = {kind: 'text'; text: string} | {kind: 'action'; pipeline: Pipeline} | Block<'if'> | Block<'with'> | Block<'range'>

const functions = new Set(['and', 'or', 'not', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'len', 'index', 'printf', 'print', 'println', 'json', 'lower', 'upper', 'title'])
const keywords = new Set(['if', 'else', 'end', 'range', 'with', 'nil', 'true', 'false', 'define', 'template', 'block', 'break', 'continue'])

class Parser {
  private at = 0
  constructor(private readonly pieces: Piece[]) {}

  parse(): Node[] {
    const {list, stop} = this.list()
    if (stop) throw templateError(stop.pos, `unexpected {{${stop.word}}}`)
    return list
  }

  /** Nodes up to an {{else…}} or {{end}} (returned as `stop`), or the end. */
  private list(): {list: Node[]; stop?: {word: 'else' | 'end'; piece: Extract<Piece, {kind: 'action'}>; pos: Pos}} {
    const list: Node[] = []
    while (this.at < this.pieces.length) {
      const piece = this.pieces[this.at++]
      if (piece.kind === 'text') {
        list.push({kind: 'text', text: piece.text})
        continue
      }
      const [first] = piece.tokens
      if (!first) {
        if (piece.comment) continue
        throw templateError(piece.pos, 'missing value for command')
      }
      if (first.kind === 'ident' && (first.text === 'else' || first.text === 'end')) return {list, stop: {word: first.text, piece, pos: first.pos}}
      if (first.kind === 'ident' && (first.text === 'if' || first.text === 'with' || first.text === 'range')) {
        list.push(this.block(first.text, piece.tokens.slice(1), first.pos))
        continue
      }
      if (first.kind === 'ident' && keywords.has(first.text) && !['nil', 'true', 'false'].includes(first.text)) {
        throw templateError(first.pos, `{{${first.text}}} is not supported`)
      }
      list.push({kind: 'action', pipeline: new TokenParser(piece.tokens, piece.pos).pipeline(true, false)})
    }
    return {list}
  }

  private block(word: 'if' | 'with' | 'range', tokens: Token[], pos: Pos): Node {
    if (tokens.length === 0) throw templateError(pos, `missing value for ${word}`)
    const pipeline = new TokenParser(tokens, pos).pipeline(word === 'range' || word === 'with' || word === 'if', word === 'range')
    const {list, stop} = this.list()
    if (!stop) throw templateError(pos, `unexpected EOF: {{${word}}} has no {{end}}`)
    let elseList: Node[] = []
    if (stop.word === 'else') {
      const rest = stop.piece.tokens.slice(1)
      if (rest.length > 0) {
        // {{else if …}} / {{else with …}}: a nested block sharing this {{end}}.
        const [kw] = rest
        if (kw.kind !== 'ident' || (kw.text !== 'if' && kw.text !== 'with')) throw templateError(kw.pos, `unexpected ${JSON.stringify(kw.text)} after else`)
        elseList = [this.block(kw.text, rest.slice(1), kw.pos)]
      } else {
        const after = this.list()
        if (!after.stop) throw templateError(stop.pos, `unexpected EOF: {{${word}}} has no {{end}}`)
        if (after.stop.word === 'else') throw templateError(after.stop.pos, `{{else}} after {{else}} in {{${word}}}`)
        if (after.stop.piece.tokens.length > 1) throw templateError(after.stop.piece.tokens[1].pos, 'unexpected token in {{end}}')
        elseList = after.list
      }
    } else if (stop.piece.tokens.length > 1) {
      throw templateError(stop.piece.tokens[1].pos, 'unexpected token in {{end}}')
    }
    return {kind: word, pipeline, list, elseList, pos}
  }
}

/** A pipeline within one action: [decl :=] command | command … */
class TokenParser {
  private at = 0
  constructor(
    private readonly tokens: Token[],
    private readonly actionPos: Pos,
  ) {}

  private peek(offset = 0): Token | undefined {
    return this.tokens[this.at + offset]
  }

  private endPos(): Pos {
    return this.tokens.at(-1)?.pos ?? this.actionPos
  }

  pipeline(allowDecl: boolean, allowTwo: boolean, closing?: 'rparen'): Pipeline {
    const pos = this.peek()?.pos ?? this.actionPos
    const decl: string[] = []
    let assign = false
    // $x := …   $i, $v := …   $x = …
    const plainVar = (t?: Token) => t?.kind === 'var' && !t.text.includes('.', 1)
    if (allowDecl && plainVar(this.peek())) {
      if (this.peek(1)?.kind === 'declare' || this.peek(1)?.kind === 'assign') {
        decl.push(this.peek()!.text)
        assign = this.peek(1)!.kind === 'assign'
        this.at += 2
      } else if (allowTwo && this.peek(1)?.kind === 'comma' && plainVar(this.peek(2)) && this.peek(3)?.kind === 'declare') {
        decl.push(this.peek()!.text, this.peek(2)!.text)
        this.at += 4
      }
    }
    const commands: Operand[] = []
    for (;;) {
      commands.push(this.command())
      const t = this.peek()
      if (t === undefined) break
      if (closing && t.kind === closing) break
      if (t.kind === 'pipe') {
        this.at++
        if (this.peek() === undefined || (closing && this.peek()?.kind === closing)) throw templateError(t.pos, 'missing command after |')
        continue
      }
      throw templateError(t.pos, `unexpected ${JSON.stringify(t.text)} in operand`)
    }
    if (!closing && this.at < this.tokens.length) throw templateError(this.tokens[this.at].pos, `unexpected ${JSON.stringify(this.tokens[this.at].text)}`)
    return {decl, assign, commands, pos}
  }

  /** One command: a function with its arguments, or a single operand. */
  private command(): Operand {
    const t = this.peek()
    if (t === undefined) throw templateError(this.endPos(), 'missing value')
    if (t.kind === 'ident' && functions.has(t.text)) {
      this.at++
      const args: Operand[] = []
      while (this.peek() && !['pipe', 'rparen'].includes(this.peek()!.kind)) args.push(this.operand())
      return {kind: 'call', name: t.text, args, pos: t.pos}
    }
    const op = this.operand()
    const next = this.peek()
    if (next && !['pipe', 'rparen'].includes(next.kind)) throw templateError(next.pos, `${describe(op)} is not a function, so it takes no arguments`)
    return op
  }

  private operand(): Operand {
    const t = this.tokens[this.at++]
    if (t === undefined) throw templateError(this.endPos(), 'missing value')
    let op: Operand
    switch (t.kind) {
      case 'dot':
        op = {kind: 'field', base: 'dot', path: [], pos: t.pos}
        break
      case 'field':
        op = {kind: 'field', base: 'dot', path: t.text.slice(1).split('.'), pos: t.pos}
        break
      case 'var': {
        const [name, ...path] = t.text.split('.')
        op = {kind: 'field', base: {var: name}, path, pos: t.pos}
        break
      }
      case 'string':
        op = {kind: 'literal', value: t.text, pos: t.pos}
        break
      case 'number': {
        const value = Number(t.text)
        if (Number.isNaN(value)) throw templateError(t.pos, `bad number syntax: ${JSON.stringify(t.text)}`)
        op = {kind: 'literal', value, pos: t.pos}
        break
      }
      case 'ident':
        if (t.text === 'true' || t.text === 'false') op = {kind: 'literal', value: t.text === 'true', pos: t.pos}
        else if (t.text === 'nil') op = {kind: 'literal', value: null, pos: t.pos}
        else if (functions.has(t.text)) op = {kind: 'call', name: t.text, args: [], pos: t.pos}
        else throw templateError(t.pos, `function ${JSON.stringify(t.text)} not defined`)
        break
      case 'lparen': {
        const pipeline = this.pipeline(false, false, 'rparen')
        const close = this.tokens[this.at++]
        if (close?.kind !== 'rparen') throw templateError(t.pos, 'unclosed left paren')
        op = {kind: 'pipeline', pipeline, pos: t.pos}
        break
      }
      default:
        throw templateError(t.pos, `unexpected ${JSON.stringify(t.text)} in operand`)
    }
    // (…).field and (…).a.b chain onto the value just read, with no space between.
    const next = this.peek()
    if (op.kind === 'pipeline' && next?.kind === 'field' && next.pos.line === this.tokens[this.at - 1].pos.line && next.pos.col === this.tokens[this.at - 1].pos.col + 1) {
      this.at++
      op = {kind: 'field', base: op, path: next.text.slice(1).split('.'), pos: next.pos}
    }
    return op
  }
}

const describe = (op: Operand): string =>
  op.kind === 'literal' ? JSON.stringify(op.value) : op.kind === 'field' ? `.${op.path.join('.')}` : op.kind === 'call' ? op.name : 'a parenthesized pipeline'

// ---------------------------------------------------------------- evaluation

type Scope = {name: string; value: unknown}[]

class Exec {
  private out = ''
  constructor(private readonly root: unknown) {}

  run(nodes: Node[]): string {
    this.list(nodes, this.root, [{name: '$', value: this.root}])
    return this.out
  }

  private list(nodes: Node[], dot: unknown, vars: Scope): void {
    const depth = vars.length
    for (const node of nodes) this.node(node, dot, vars)
    vars.length = depth
  }

  private node(node: Node, dot: unknown, vars: Scope): void {
    switch (node.kind) {
      case 'text':
        this.out += node.text
        return
      case 'action': {
        const value = this.pipeline(node.pipeline, dot, vars)
        if (node.pipeline.decl.length === 0) this.out += printValue(value)
        return
      }
      case 'if':
      case 'with': {
        // A variable declared in the condition lives until {{end}}.
        const depth = vars.length
        const value = this.pipeline(node.pipeline, dot, vars)
        if (!truth(value)) this.list(node.elseList, dot, vars)
        else this.list(node.list, node.kind === 'with' ? value : dot, vars)
        vars.length = depth
        return
      }
      case 'range':
        return this.range(node, dot, vars)
    }
  }

  private range(node: Block<'range'>, dot: unknown, vars: Scope): void {
    const {decl} = node.pipeline
    const value = this.pipeline({...node.pipeline, decl: []}, dot, vars)
    let entries: [unknown, unknown][]
    if (Array.isArray(value)) entries = value.map((v, i) => [i, v])
    else if (isMap(value)) entries = Object.keys(value).sort().map((k) => [k, value[k]])
    else if (value === null || value === undefined) entries = []
    else throw templateError(node.pos, `range can't iterate over ${printValue(value)}`)
    if (entries.length === 0) return this.list(node.elseList, dot, vars)
    for (const [key, item] of entries) {
      const depth = vars.length
      if (decl.length === 1) vars.push({name: decl[0], value: item})
      if (decl.length === 2) vars.push({name: decl[0], value: key}, {name: decl[1], value: item})
      this.list(node.list, item, vars)
      vars.length = depth
    }
  }

  private pipeline(p: Pipeline, dot: unknown, vars: Scope): unknown {
    let value: unknown
    p.commands.forEach((cmd, i) => {
      const final = i === 0 ? undefined : {value}
      value = this.command(cmd, dot, vars, final)
    })
    if (p.decl.length > 0) {
      if (p.assign) {
        const v = findVar(vars, p.decl[0], p.pos)
        v.value = value
      } else vars.push({name: p.decl[0], value})
    }
    return value
  }

  /** A command; `final` is the value piped in, passed as the last argument. */
  private command(cmd: Operand, dot: unknown, vars: Scope, final?: {value: unknown}): unknown {
    if (cmd.kind === 'call') {
      return this.call(cmd, dot, vars, final)
    }
    if (final) throw templateError(cmd.pos, `can't give argument to non-function ${describe(cmd)}`)
    return this.operand(cmd, dot, vars)
  }

  private operand(op: Operand, dot: unknown, vars: Scope): unknown {
    switch (op.kind) {
      case 'literal':
        return op.value
      case 'call':
        return this.call(op, dot, vars)
      case 'pipeline':
        return this.pipeline(op.pipeline, dot, vars)
      case 'field': {
        let value = op.base === 'dot' ? dot : 'var' in op.base ? findVar(vars, op.base.var, op.pos).value : this.operand(op.base, dot, vars)
        for (const key of op.path) {
          if (isMap(value)) {
            if (!Object.hasOwn(value, key)) throw templateError(op.pos, `map has no entry for key ${JSON.stringify(key)}`)
            value = value[key]
          } else if (value === null || value === undefined) {
            throw templateError(op.pos, `nil pointer evaluating .${key}`)
          } else {
            throw templateError(op.pos, `can't evaluate field ${key} in type ${typeName(value)}`)
          }
        }
        return value
      }
    }
  }

  private call(cmd: Extract<Operand, {kind: 'call'}>, dot: unknown, vars: Scope, final?: {value: unknown}): unknown {
    const fail = (message: string) => templateError(cmd.pos, `error calling ${cmd.name}: ${message}`)
    // and/or evaluate lazily, as Go's do since 1.18.
    if (cmd.name === 'and' || cmd.name === 'or') {
      const thunks = cmd.args.map((a) => () => this.operand(a, dot, vars))
      if (final) thunks.push(() => final.value)
      if (thunks.length === 0) throw templateError(cmd.pos, `wrong number of args for ${cmd.name}: want at least 1 got 0`)
      let value: unknown
      for (const thunk of thunks) {
        value = thunk()
        if (cmd.name === 'and' ? !truth(value) : truth(value)) return value
      }
      return value
    }
    const args = cmd.args.map((a) => this.operand(a, dot, vars))
    if (final) args.push(final.value)
    const want = (n: number) => {
      if (args.length !== n) throw templateError(cmd.pos, `wrong number of args for ${cmd.name}: want ${n} got ${args.length}`)
    }
    switch (cmd.name) {
      case 'not':
        want(1)
        return !truth(args[0])
      case 'eq': {
        if (args.length < 2) throw templateError(cmd.pos, 'wrong number of args for eq: want at least 2')
        return args.slice(1).some((b) => compare(args[0], b, fail, true) === 0)
      }
      case 'ne':
        want(2)
        return compare(args[0], args[1], fail, true) !== 0
      case 'lt':
        want(2)
        return compare(args[0], args[1], fail, false) < 0
      case 'le':
        want(2)
        return compare(args[0], args[1], fail, false) <= 0
      case 'gt':
        want(2)
        return compare(args[0], args[1], fail, false) > 0
      case 'ge':
        want(2)
        return compare(args[0], args[1], fail, false) >= 0
      case 'len':
        want(1)
        if (typeof args[0] === 'string') return Buffer.byteLength(args[0])
        if (Array.isArray(args[0])) return args[0].length
        if (isMap(args[0])) return Object.keys(args[0]).length
        throw fail(`len of ${typeName(args[0])}`)
      case 'index': {
        if (args.length < 1) throw templateError(cmd.pos, 'wrong number of args for index: want at least 1 got 0')
        let value = args[0]
        for (const key of args.slice(1)) {
          if (Array.isArray(value) || typeof value === 'string') {
            if (typeof key !== 'number' || !Number.isInteger(key)) throw fail(`cannot index slice/array with type ${typeName(key)}`)
            if (key < 0 || key >= value.length) throw fail(`index out of range: ${key}`)
            value = typeof value === 'string' ? Buffer.from(value)[key] : value[key]
          } else if (isMap(value)) {
            if (typeof key !== 'string') throw fail(`value has type ${typeName(key)}; should be string`)
            // As Go's index: a missing key gives the zero value (nil), whatever missingkey says.
            value = Object.hasOwn(value, key) ? value[key] : undefined
          } else if (value === null || value === undefined) {
            throw fail('index of untyped nil')
          } else throw fail(`can't index item of type ${typeName(value)}`)
        }
        return value
      }
      case 'printf':
        if (args.length < 1 || typeof args[0] !== 'string') throw fail('the format must be a string')
        return sprintf(args[0], args.slice(1))
      case 'print':
        // Go's fmt.Sprint: a space between operands when neither is a string.
        return args.map((a, i) => (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string' ? ' ' : '') + printValue(a)).join('')
      case 'println':
        return args.map(printValue).join(' ') + '\n'
      case 'json':
        want(1)
        return JSON.stringify(args[0] ?? null)
      case 'lower':
        want(1)
        return stringArg(args[0], fail).toLowerCase()
      case 'upper':
        want(1)
        return stringArg(args[0], fail).toUpperCase()
      case 'title':
        want(1)
        // strings.Title: the first letter of each word upper-cased.
        return stringArg(args[0], fail).replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_m, sep: string, ch: string) => sep + ch.toUpperCase())
      default:
        throw templateError(cmd.pos, `function ${JSON.stringify(cmd.name)} not defined`)
    }
  }
}

function findVar(vars: Scope, name: string, pos: Pos): {name: string; value: unknown} {
  for (let i = vars.length - 1; i >= 0; i--) if (vars[i].name === name) return vars[i]
  throw templateError(pos, `undefined variable: ${name}`)
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

function typeName(v: unknown): string {
  if (v === null || v === undefined) return 'nil'
  if (Array.isArray(v)) return '[]interface {}'
  if (isMap(v)) return 'map[string]interface {}'
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64'
  return typeof v === 'boolean' ? 'bool' : 'string'
}

function stringArg(v: unknown, fail: (m: string) => Error): string {
  if (typeof v !== 'string') throw fail(`wrong type for value; expected string; got ${typeName(v)}`)
  return v
}

/** Go's truth: false, 0, nil and empty strings, arrays and maps are false. */
function truth(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false
  if (Array.isArray(v)) return v.length > 0
  if (isMap(v)) return Object.keys(v).length > 0
  return true
}

/** -1, 0, 1; comparing different basic kinds is an error, as in Go. */
function compare(a: unknown, b: unknown, fail: (m: string) => Error, equality: boolean): number {
  const kind = (v: unknown) => (v === null || v === undefined ? 'nil' : typeof v)
  if (kind(a) !== kind(b)) {
    if (equality && (kind(a) === 'nil' || kind(b) === 'nil')) return a === b ? 0 : 1
    throw fail('incompatible types for comparison')
  }
  if (typeof a === 'number' || typeof a === 'string') return a < (b as typeof a) ? -1 : a > (b as typeof a) ? 1 : 0
  if (equality && (typeof a === 'boolean' || a === null || a === undefined)) return a === b ? 0 : 1
  throw fail(equality ? 'non-comparable types' : 'invalid type for comparison')
}

/** A value as Go's fmt %v prints it for decoded JSON. */
export function printValue(v: unknown): string {
  if (v === null || v === undefined) return '<no value>'
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  if (Array.isArray(v)) return `[${v.map(printNested).join(' ')}]`
  if (isMap(v)) return `map[${Object.keys(v).sort().map((k) => `${k}:${printNested(v[k])}`).join(' ')}]`
  return String(v)
}

const printNested = (v: unknown) => (v === null || v === undefined ? '<nil>' : printValue(v))

/** fmt.Sprintf for the verbs scripts use: %s %v %d %q %t %x %X %f %e %g %%, with flags, width and precision. */
function sprintf(format: string, args: unknown[]): string {
  let n = 0
  return format.replace(/%([-+ 0#]*)(\d+)?(?:\.(\d+))?([a-zA-Z%])/g, (_whole, flags: string, width?: string, prec?: string, verb?: string) => {
    if (verb === '%') return '%'
    if (n >= args.length) return `%!${verb}(MISSING)`
    const arg = args[n++]
    let s: string
    switch (verb) {
      case 's':
      case 'v':
        s = printValue(arg)
        if (prec !== undefined && verb === 's') s = s.slice(0, Number(prec))
        break
      case 'q':
        s = JSON.stringify(typeof arg === 'string' ? arg : printValue(arg))
        break
      case 'd':
        if (typeof arg !== 'number' || !Number.isInteger(arg)) return `%!d(${typeName(arg)}=${printValue(arg)})`
        s = (flags.includes('+') && arg >= 0 ? '+' : '') + String(arg)
        break
      case 't':
        if (typeof arg !== 'boolean') return `%!t(${typeName(arg)}=${printValue(arg)})`
        s = String(arg)
        break
      case 'x':
      case 'X':
        s = typeof arg === 'number' ? Math.trunc(arg).toString(16) : Buffer.from(printValue(arg)).toString('hex')
        if (verb === 'X') s = s.toUpperCase()
        break
      case 'f':
      case 'e':
      case 'g':
        if (typeof arg !== 'number') return `%!${verb}(${typeName(arg)}=${printValue(arg)})`
        s = verb === 'f' ? arg.toFixed(prec === undefined ? 6 : Number(prec)) : verb === 'e' ? arg.toExponential(prec === undefined ? 6 : Number(prec)) : String(arg)
        break
      default:
        return `%!${verb}(${typeName(arg)}=${printValue(arg)})`
    }
    const w = width === undefined ? 0 : Number(width)
    if (s.length >= w) return s
    if (flags.includes('-')) return s.padEnd(w)
    return flags.includes('0') && /[dfeg]/.test(verb!) ? s.padStart(w, '0') : s.padStart(w)
  }) + (n < args.length ? `%!(EXTRA ${args.slice(n).map((a) => `${typeName(a)}=${printValue(a)}`).join(', ')})` : '')
}

// ---------------------------------------------------------------- API

export interface GoTemplate {
  /** Run on a decoded JSON value; a runtime error (missing key, bad call) is a usage error naming the position. */
  execute(data: unknown): string
}

/** Parse a template; a syntax error is a usage error (exit 2) naming line:column. */
export function compileTemplate(source: string): GoTemplate {
  const nodes = new Parser(split(source)).parse()
  checkVariables(nodes, ['$'])
  return {execute: (data) => new Exec(data).run(nodes)}
}

/** Go rejects an undefined $variable at parse time: so does this. */
function checkVariables(nodes: Node[], scope: string[]): void {
  const inner = [...scope]
  const checkOp = (op: Operand, vars: string[]) => {
    if (op.kind === 'field' && op.base !== 'dot') {
      if ('var' in op.base) {
        if (!vars.includes(op.base.var)) throw templateError(op.pos, `undefined variable "${op.base.var}"`)
      } else checkOp(op.base, vars)
    }
    if (op.kind === 'call') op.args.forEach((a) => checkOp(a, vars))
    if (op.kind === 'pipeline') checkPipe(op.pipeline, vars)
  }
  const checkPipe = (p: Pipeline, vars: string[]) => {
    p.commands.forEach((c) => checkOp(c, vars))
    if (p.assign && !vars.includes(p.decl[0])) throw templateError(p.pos, `undefined variable "${p.decl[0]}"`)
  }
  for (const node of nodes) {
    if (node.kind === 'text') continue
    checkPipe(node.pipeline, inner)
    if (node.kind === 'action') {
      if (!node.pipeline.assign) inner.push(...node.pipeline.decl)
      continue
    }
    const blockScope = [...inner, ...(node.pipeline.assign ? [] : node.pipeline.decl)]
    checkVariables(node.list, blockScope)
    checkVariables(node.elseList, node.kind === 'range' ? inner : blockScope)
  }
}
