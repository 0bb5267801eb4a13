// Shell completion scripts for bash, zsh and fish, written from the command
// definitions (oclif.manifest.json): verbs, their flags, the values of flags
// with fixed options, files where a file is expected, and live pod IDs and
// names where a pod is expected. Verbs and flags are in the script itself, so
// completing them runs nothing; only pods ask podctl, through the hidden
// `podctl completion --list-pods`, which reads the state directory and
// nothing else, with stderr discarded and (where `timeout` exists) a time limit.

import {fileKeys} from '../runtime/settings.js'

export interface ManifestFlag {
  name: string
  char?: string
  type: 'boolean' | 'option'
  options?: string[]
  description?: string
  summary?: string
  hidden?: boolean
  helpGroup?: string
}

export interface ManifestCommand {
  id: string
  summary?: string
  description?: string
  hidden?: boolean
  flags: Record<string, ManifestFlag>
  args: Record<string, {name: string; description?: string; options?: string[]; hidden?: boolean}>
}

/** What a position on the command line takes. */
type Value = {kind: 'pods'} | {kind: 'files'} | {kind: 'words'; words: string[]} | {kind: 'none'}

interface Flag {
  names: string[]
  long: string
  char?: string
  value?: Value
  description: string
}

interface Verb {
  /** as typed: "pods", "runp jsonschema" */
  words: string[]
  /** as keyed in the scripts: "pods", "runp:jsonschema" */
  key: string
  summary: string
  /** its own flags; the global ones are in Model.global */
  flags: Flag[]
  /** what the positional arguments take */
  arg: Value
  /** subcommands below this verb ("jsonschema" for runp) */
  subcommands: string[]
}

/** Flags whose values are paths. */
const pathFlags = new Set(['config', 'root', 'run-root', 'cni-conf-dir', 'cni-bin-dir'])
/** The shells `completion` writes scripts for. */
export const shells = ['bash', 'zsh', 'fish']
/** Settings `config --get` takes: the file's keys and the default network's fields. */
const configKeys = [...fileKeys, ...['name', 'bridge', 'subnet'].map((k) => `default-network.${k}`)].sort()
/** Flags whose choices are checked by the command rather than by oclif's `options`. */
const knownWords: Record<string, string[]> = {state: ['ready', 'notready'], get: configKeys}
/** Positional arguments whose choices are checked by the command. */
const knownArgWords: Record<string, string[]> = {shell: shells}
/** Flags whose values are pods. */
const podFlags = new Set(['id'])

function flagValue(f: ManifestFlag): Value | undefined {
  if (f.type === 'boolean') return undefined
  if (f.options?.length) return {kind: 'words', words: f.options}
  if (knownWords[f.name]) return {kind: 'words', words: knownWords[f.name]}
  if (podFlags.has(f.name)) return {kind: 'pods'}
  if (pathFlags.has(f.name)) return {kind: 'files'}
  return {kind: 'none'}
}

function argValue(cmd: ManifestCommand): Value {
  const args = Object.values(cmd.args ?? {}).filter((a) => !a.hidden)
  const [first] = args
  if (!first) return {kind: 'none'}
  if (first.options?.length) return {kind: 'words', words: first.options}
  if (knownArgWords[first.name]) return {kind: 'words', words: knownArgWords[first.name]}
  if (first.name === 'pod') return {kind: 'pods'}
  if (/\bfile\b/i.test(first.description ?? '') || first.name === 'config') return {kind: 'files'}
  return {kind: 'none'}
}

export interface Model {
  verbs: Verb[]
  /** the flags every verb takes (helpGroup GLOBAL) */
  global: Flag[]
}

const toFlag = (f: ManifestFlag): Flag => ({
  names: [`--${f.name}`, ...(f.char ? [`-${f.char}`] : [])],
  long: f.name,
  char: f.char,
  value: flagValue(f),
  description: (f.summary ?? f.description ?? '').split('\n')[0],
})

/** The verbs of a manifest, as the scripts need them; hidden commands and flags left out. */
export function completionModel(commands: ManifestCommand[]): Model {
  const visible = commands.filter((c) => !c.hidden).sort((a, b) => a.id.localeCompare(b.id))
  const global = new Map<string, Flag>()
  for (const c of visible) for (const f of Object.values(c.flags ?? {})) if (f.helpGroup === 'GLOBAL' && !f.hidden && !global.has(f.name)) global.set(f.name, toFlag(f))
  const verbs = visible.map((c) => ({
    words: c.id.split(':'),
    key: c.id,
    summary: c.summary ?? c.description?.split('\n')[0] ?? '',
    flags: Object.values(c.flags ?? {})
      .filter((f) => !f.hidden && f.helpGroup !== 'GLOBAL')
      .map(toFlag),
    arg: argValue(c),
    subcommands: visible.filter((s) => s.id.startsWith(`${c.id}:`) && s.id.split(':').length === c.id.split(':').length + 1).map((s) => s.id.split(':').at(-1)!),
  }))
  return {verbs, global: [...global.values()]}
}

/** A shell word in single quotes (bash, zsh). */
const sq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`

// ---------------------------------------------------------------- bash

export function bashCompletion(bin: string, {verbs, global}: Model): string {
  const fn = `_${bin.replace(/\W/g, '_')}`
  const top = verbs.filter((v) => v.words.length === 1)
  const lines: string[] = [
    `# bash completion for ${bin}: verbs, flags and live pod IDs and names.`,
    `# Generated by \`${bin} completion bash\`; regenerate it after an upgrade.`,
    `#   now:     source <(${bin} completion bash)`,
    `#   always:  ${bin} completion bash > /etc/bash_completion.d/${bin}`,
    '',
    `${fn}_pods() {`,
    '  # The same binary the user is completing for; the state directory only; silent.',
    '  local cmd="${COMP_WORDS[0]}"',
    '  if command -v timeout >/dev/null 2>&1; then',
    '    timeout 3 "$cmd" completion --list-pods 2>/dev/null',
    '  else',
    '    "$cmd" completion --list-pods 2>/dev/null',
    '  fi',
    '}',
    '',
    `${fn}_reply() {`,
    '  # $1: pods | files | words; $2: the words; $3: the word being completed',
    '  case "$1" in',
    `    pods) COMPREPLY=($(compgen -W "$(${fn}_pods)" -- "$3")) ;;`,
    '    files) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$3")) ;;',
    '    words) COMPREPLY=($(compgen -W "$2" -- "$3")) ;;',
    '  esac',
    '}',
    '',
    `${fn}() {`,
    '  local cur="${COMP_WORDS[COMP_CWORD]}" prev="" cmd=""',
    '  COMPREPLY=()',
    '  ((COMP_CWORD > 0)) && prev="${COMP_WORDS[COMP_CWORD-1]}"',
    '  # --flag=value: COMP_WORDBREAKS splits it into "--flag" "=" "value".',
    '  if [[ $cur == "=" ]]; then',
    '    cur=""',
    '  elif [[ $prev == "=" ]] && ((COMP_CWORD > 1)); then',
    '    prev="${COMP_WORDS[COMP_CWORD-2]}"',
    '  fi',
    '  if ((COMP_CWORD == 1)); then',
    `    COMPREPLY=($(compgen -W ${sq(top.map((v) => v.words[0]).join(' '))} -- "$cur"))`,
    '    return 0',
    '  fi',
    '  cmd="${COMP_WORDS[1]}"',
  ]
  for (const v of verbs.filter((x) => x.words.length === 2)) {
    lines.push(`  [[ $cmd == ${v.words[0]} && \${COMP_WORDS[2]} == ${v.words[1]} ]] && ((COMP_CWORD > 2)) && cmd=${v.key}`)
  }
  const valueCase = (key: string, f: Flag) => {
    if (!f.value) return []
    const pattern = f.names.map((n) => `${key}:${n}`).join('|')
    const body =
      f.value.kind === 'words' ? `${fn}_reply words ${sq(f.value.words.join(' '))} "$cur"` : f.value.kind === 'none' ? ':' : `${fn}_reply ${f.value.kind} '' "$cur"`
    return [`    ${pattern}) ${body}; return 0 ;;`]
  }
  lines.push('  case "$cmd:$prev" in')
  for (const v of verbs) for (const f of v.flags) lines.push(...valueCase(v.key, f))
  for (const f of global) lines.push(...valueCase('*', f))
  lines.push('  esac', '  if [[ $cur == -* ]]; then', '    case "$cmd" in')
  const globalNames = global.flatMap((f) => f.names)
  for (const v of verbs) lines.push(`      ${v.key}) COMPREPLY=($(compgen -W ${sq([...v.flags.flatMap((f) => f.names), ...globalNames].join(' '))} -- "$cur")) ;;`)
  lines.push('    esac', '    return 0', '  fi', '  case "$cmd" in')
  for (const v of verbs) {
    const subs = v.subcommands.length && v.arg.kind !== 'words' ? v.subcommands.join(' ') : ''
    if (v.arg.kind === 'none' && !subs) continue
    const parts: string[] = []
    if (v.arg.kind === 'words') parts.push(`${fn}_reply words ${sq(v.arg.words.join(' '))} "$cur"`)
    else if (v.arg.kind !== 'none') parts.push(`${fn}_reply ${v.arg.kind} '' "$cur"`)
    // The subcommand only in its own place, right after the verb.
    if (subs) parts.push(`((COMP_CWORD == 2)) && COMPREPLY+=($(compgen -W ${sq(subs)} -- "$cur"))`)
    lines.push(`    ${v.key}) ${parts.join('; ')} ;;`)
  }
  lines.push('  esac', '  return 0', '}', '', `complete -F ${fn} ${bin}`, '')
  return lines.join('\n')
}

// ---------------------------------------------------------------- zsh

export function zshCompletion(bin: string, {verbs, global}: Model): string {
  const fn = `_${bin.replace(/\W/g, '_')}`
  const top = verbs.filter((v) => v.words.length === 1)
  const describe = (name: string, text: string) => sq(`${name.replace(/:/g, '\\:')}:${text}`)
  const valueCase = (value: Value) =>
    value.kind === 'words' ? `compadd -- ${value.words.map(sq).join(' ')}` : value.kind === 'pods' ? `${fn}_pods` : value.kind === 'files' ? '_files' : ':'
  const lines: string[] = [
    `#compdef ${bin}`,
    `# zsh completion for ${bin}: verbs, flags and live pod IDs and names.`,
    `# Generated by \`${bin} completion zsh\`; regenerate it after an upgrade.`,
    `#   now:     source <(${bin} completion zsh)     (after compinit)`,
    `#   always:  ${bin} completion zsh > "\${fpath[1]}/_${bin}"`,
    '',
    `${fn}_pods() {`,
    '  local -a pods',
    `  pods=(\${(f)"$(\${words[1]} completion --list-pods 2>/dev/null)"})`,
    '  compadd -a pods',
    '}',
    '',
    `${fn}() {`,
    '  local cur=${words[CURRENT]} prev=${words[CURRENT-1]} cmd',
    '  if (( CURRENT == 2 )); then',
    '    local -a verbs',
    `    verbs=(${top.map((v) => describe(v.words[0], v.summary)).join(' ')})`,
    `    _describe -t commands '${bin} command' verbs`,
    '    return',
    '  fi',
    '  cmd=${words[2]}',
  ]
  for (const v of verbs.filter((x) => x.words.length === 2)) {
    lines.push(`  [[ $cmd == ${v.words[0]} && \${words[3]} == ${v.words[1]} ]] && (( CURRENT > 3 )) && cmd=${v.key}`)
  }
  const flagCase = (key: string, f: Flag) => (f.value ? [`    (${f.names.map((n) => `${key}:${n}`).join('|')}) ${valueCase(f.value)}; return ;;`] : [])
  lines.push('  case "$cmd:$prev" in')
  for (const v of verbs) for (const f of v.flags) lines.push(...flagCase(v.key, f))
  for (const f of global) lines.push(...flagCase('*', f))
  const entries = (flags: Flag[]) => flags.flatMap((f) => f.names.map((n) => describe(n, f.description)))
  lines.push('  esac', '  if [[ $cur == -* ]]; then', `    local -a flags=(${entries(global).join(' ')})`, '    case $cmd in')
  for (const v of verbs) if (v.flags.length) lines.push(`      (${v.key}) flags+=(${entries(v.flags).join(' ')}) ;;`)
  lines.push('    esac', `    _describe -t options 'option' flags`, '    return', '  fi', '  case $cmd in')
  for (const v of verbs) {
    const parts: string[] = []
    if (v.arg.kind !== 'none') parts.push(valueCase(v.arg))
    if (v.subcommands.length) parts.push(`(( CURRENT == 3 )) && compadd -- ${v.subcommands.map(sq).join(' ')}`)
    if (parts.length) lines.push(`    (${v.key}) ${parts.join('; ')} ;;`)
  }
  lines.push(
    '  esac',
    '}',
    '',
    '# As a file in $fpath, zsh calls this body as the function; when sourced, register it.',
    `if [[ \${funcstack[1]} == ${fn} ]]; then`,
    `  ${fn} "$@"`,
    'else',
    `  compdef ${fn} ${bin}`,
    'fi',
    '',
  )
  return lines.join('\n')
}

// ---------------------------------------------------------------- fish

export function fishCompletion(bin: string, {verbs, global}: Model): string {
  const fn = `__${bin.replace(/\W/g, '_')}`
  const q = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
  const top = verbs.filter((v) => v.words.length === 1)
  const lines: string[] = [
    `# fish completion for ${bin}: verbs, flags and live pod IDs and names.`,
    `# Generated by \`${bin} completion fish\`; regenerate it after an upgrade.`,
    `#   now:     ${bin} completion fish | source`,
    `#   always:  ${bin} completion fish > ~/.config/fish/completions/${bin}.fish`,
    '',
    `function ${fn}_pods`,
    '    set -l cmd (commandline -opc)[1]',
    '    command -q $cmd; or return 0',
    '    if command -q timeout',
    '        timeout 3 $cmd completion --list-pods 2>/dev/null',
    '    else',
    '        $cmd completion --list-pods 2>/dev/null',
    '    end',
    'end',
    '',
    `# true when the command line's verb (and subcommand) is $argv`,
    `function ${fn}_verb`,
    '    set -l words (commandline -opc)',
    '    test (count $words) -gt (count $argv); or return 1',
    '    for i in (seq (count $argv))',
    '        set -l j (math $i + 1)',
    '        test "$words[$j]" = "$argv[$i]"; or return 1',
    '    end',
    '    # a verb does not own the command lines of its subcommands',
    '    if test (count $argv) -eq 1; and test (count $words) -ge 3',
    '        switch "$argv[1] $words[3]"',
    ...verbs.filter((v) => v.words.length === 2).flatMap((v) => [`            case ${q(v.words.join(' '))}`, '                return 1']),
    '        end',
    '    end',
    '    return 0',
    'end',
    '',
    `complete -c ${bin} -f`,
  ]
  for (const v of top) lines.push(`complete -c ${bin} -n __fish_use_subcommand -a ${v.words[0]} -d ${q(v.summary)}`)
  const flagSpec = (cond: string, f: Flag) => {
    let spec = `complete -c ${bin} -n ${cond} -l ${f.long}`
    if (f.char) spec += ` -s ${f.char}`
    if (f.value?.kind === 'words') spec += ` -x -a ${q(f.value.words.join(' '))}`
    else if (f.value?.kind === 'pods') spec += ` -x -a ${q(`(${fn}_pods)`)}`
    else if (f.value?.kind === 'files') spec += ' -r -F'
    else if (f.value?.kind === 'none') spec += ' -x'
    return `${spec} -d ${q(f.description)}`
  }
  for (const f of global) lines.push(flagSpec(q('not __fish_use_subcommand'), f))
  for (const v of verbs) {
    const cond = q(`${fn}_verb ${v.words.join(' ')}`)
    for (const s of v.subcommands) {
      const sub = verbs.find((x) => x.key === `${v.key}:${s}`)
      lines.push(`complete -c ${bin} -n ${q(`${fn}_verb ${v.words.join(' ')}; and test (count (commandline -opc)) -eq ${v.words.length + 1}`)} -a ${s} -d ${q(sub?.summary ?? '')}`)
    }
    for (const f of v.flags) lines.push(flagSpec(cond, f))
    if (v.arg.kind === 'pods') lines.push(`complete -c ${bin} -n ${cond} -a ${q(`(${fn}_pods)`)}`)
    if (v.arg.kind === 'files') lines.push(`complete -c ${bin} -n ${cond} -F`)
    if (v.arg.kind === 'words') lines.push(`complete -c ${bin} -n ${cond} -a ${q(v.arg.words.join(' '))}`)
  }
  return lines.join('\n') + '\n'
}
