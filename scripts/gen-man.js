#!/usr/bin/env node
// Man pages from the command definitions, so that they cannot drift from
// --help: everything about a verb (summary, description, flags, arguments,
// examples, exit status) comes from oclif.manifest.json, which `npm run build`
// writes from src/commands/*.ts and src/base-command.ts. The overview page
// adds what only the sources know: the state directory layout (the header
// comment of src/runtime/store.ts), the config-file keys and built-in defaults
// (src/runtime/settings.ts) and the default network's file name
// (src/runtime/cni.ts). A source that no longer has the expected shape is an
// error, not a silently stale page.
//
//   node scripts/gen-man.js           write man/podctl.1 and man/podctl-<verb>.1
//   node scripts/gen-man.js --check   write nothing; exit 1 naming every page
//                                     that differs from what is in man/ (CI)
//   node scripts/gen-man.js --out DIR write the pages to DIR instead of man/
//                                     (tests render them from there)
//
// Plain Node, no dependencies: it runs before or without a full install.

import {existsSync, mkdirSync, readdirSync, readFileSync, statSync, unlinkSync, writeFileSync} from 'node:fs'
import {fileURLToPath, pathToFileURL} from 'node:url'

const repo = new URL('../', import.meta.url)
let manDir = new URL('man/', repo)
const rel = (url) => (fileURLToPath(url).startsWith(fileURLToPath(repo)) ? fileURLToPath(url).slice(fileURLToPath(repo).length) : fileURLToPath(url))

class GenError extends Error {}
const fail = (message) => {
  throw new GenError(message)
}

// ---------------------------------------------------------------- inputs

function readText(path) {
  const url = new URL(path, repo)
  try {
    return readFileSync(url, 'utf8')
  } catch (err) {
    return fail(`cannot read ${path}: ${err.message}`)
  }
}

function loadInputs() {
  const pkg = JSON.parse(readText('package.json'))
  if (!existsSync(new URL('oclif.manifest.json', repo))) {
    fail('oclif.manifest.json not found: run `npm run build` first (it writes the manifest)')
  }
  const manifest = JSON.parse(readText('oclif.manifest.json'))
  if (manifest.version !== pkg.version) {
    fail(`oclif.manifest.json is for version ${manifest.version}, package.json says ${pkg.version}: run \`npm run build\``)
  }
  warnIfStale()
  const bin = pkg.oclif?.bin ?? Object.keys(pkg.bin ?? {})[0] ?? pkg.name
  const topicSeparator = pkg.oclif?.topicSeparator ?? ':'
  const commands = Object.values(manifest.commands ?? {})
    .filter((c) => !c.hidden)
    .sort((a, b) => a.id.localeCompare(b.id))
  if (commands.length === 0) fail('oclif.manifest.json lists no commands')
  return {pkg, bin, topicSeparator, commands, sources: readSources()}
}

/** A manifest older than the sources it is built from gives stale pages: say so (mtimes can lie, so only a warning). */
function warnIfStale() {
  const built = statSync(new URL('oclif.manifest.json', repo)).mtimeMs
  const dirs = ['src/commands/', 'src/flags/']
  const files = ['src/base-command.ts', 'src/runtime/errors.ts', ...dirs.flatMap((d) => (existsSync(new URL(d, repo)) ? readdirSync(new URL(d, repo)).filter((n) => n.endsWith('.ts')).map((n) => d + n) : []))]
  const newer = files.filter((f) => existsSync(new URL(f, repo)) && statSync(new URL(f, repo)).mtimeMs > built)
  if (newer.length) process.stderr.write(`gen-man: warning: oclif.manifest.json is older than ${newer.join(', ')}: run \`npm run build\` first\n`)
}

/** What the overview needs from the runtime's sources, parsed (not imported: no build needed). */
function readSources() {
  const store = readText('src/runtime/store.ts')
  const settings = readText('src/runtime/settings.ts')
  const cni = readText('src/runtime/cni.ts')

  // The header comment of store.ts: the layout block (indented) and the prose after it.
  const header = []
  for (const line of store.split('\n')) {
    if (!line.startsWith('//')) break
    header.push(line.replace(/^\/\/ ?/, ''))
  }
  const paragraphs = splitParagraphs(header.join('\n'))
  const layoutAt = paragraphs.findIndex((p) => p.split('\n').every((l) => /^\s{2,}\S/.test(l)))
  if (layoutAt < 0) fail('src/runtime/store.ts: no indented directory layout in its header comment')
  const layout = dedent(paragraphs[layoutAt])
  const layoutNotes = paragraphs.slice(layoutAt + 1)

  const fileKeysSrc = settings.match(/const fileKeys = \[([\s\S]*?)\]/)
  if (!fileKeysSrc) fail('src/runtime/settings.ts: `fileKeys` not found')
  const fileKeys = [...fileKeysSrc[1].matchAll(/'([^']+)'/g)].map((m) => m[1])
  if (fileKeys.length === 0) fail('src/runtime/settings.ts: `fileKeys` is empty')

  const str = (re, what) => settings.match(re)?.[1] ?? fail(`src/runtime/settings.ts: ${what} not found`)
  const defaults = {
    configFile: str(/defaultConfigFile = '([^']+)'/, 'defaultConfigFile'),
    root: str(/\broot: '([^']+)'/, 'builtinDefaults.root'),
    runRoot: str(/\brunRoot: '([^']+)'/, 'builtinDefaults.runRoot'),
    cniConfDir: str(/\bcniConfDir: '([^']+)'/, 'builtinDefaults.cniConfDir'),
    defaultRuntime: str(/\bdefaultRuntime: '([^']+)'/, 'builtinDefaults.defaultRuntime'),
    cgroupParent: str(/\bcgroupParent: '([^']+)'/, 'builtinDefaults.cgroupParent'),
  }
  const net = settings.match(/defaultNetwork: \{name: '([^']+)', bridge: '([^']+)', subnet: '([^']+)'\}/)
  if (!net) fail('src/runtime/settings.ts: builtinDefaults.defaultNetwork not found')
  defaults.network = {name: net[1], bridge: net[2], subnet: net[3]}

  // `87-${net.name}-bridge.conflist` -> a function of the network name
  const conflist = cni.match(/defaultConflistFile = \(net: DefaultNetwork\) => `([^`]*)`/)
  if (!conflist || !conflist[1].includes('${net.name}')) fail('src/runtime/cni.ts: defaultConflistFile not found')
  const conflistFile = (name) => conflist[1].replaceAll('${net.name}', name)

  // The functions Go templates may call (src/render/template.ts): the TEMPLATES section lists them.
  const template = readText('src/render/template.ts')
  const fnSrc = template.match(/const functions = new Set\(\[([^\]]*)\]\)/)
  if (!fnSrc) fail('src/render/template.ts: `functions` not found')
  const templateFunctions = [...fnSrc[1].matchAll(/'([^']+)'/g)].map((m) => m[1])

  return {layout, layoutNotes, fileKeys, defaults, conflistFile, templateFunctions}
}

// ---------------------------------------------------------------- roff

/** Non-ASCII as \[uXXXX]; a backslash as \e. */
function escapeChars(text) {
  return text.replace(/\\/g, '\\e').replace(/[^\x00-\x7f]/gu, (c) => `\\[u${c.codePointAt(0).toString(16).toUpperCase().padStart(4, '0')}]`)
}

/** A line must not start with a control character, nor (in filled text) a space. */
function guardLine(line) {
  return /^[.']/.test(line) ? `\\&${line}` : line
}

/**
 * Running text. A hyphen stays a hyphen in words ("did-you-mean"); in anything
 * that looks typed (options, paths, file names, key=value) it is \- so that it
 * renders, copies and greps as an ASCII minus.
 */
function roffText(text) {
  return text
    .split('\n')
    .map((line) =>
      guardLine(
        escapeChars(line.trim()).replace(/\S+/g, (tok) => {
          if (!tok.includes('-')) return tok
          const typed = /^[(["'`]*-/.test(tok) || /[/=$.:_<>]/.test(tok.replace(/[.,;:)\]"'`]+$/, ''))
          return typed ? tok.replace(/-/g, '\\-') : tok
        }),
      ),
    )
    .join('\n')
}

/** Literal text: every hyphen a minus, spacing kept (for .EX / .nf blocks). */
function roffCode(text) {
  return text
    .split('\n')
    .map((line) => guardLine(escapeChars(line).replace(/-/g, '\\-')))
    .join('\n')
}

/** A quoted macro argument (.TH, .SH). */
function roffArg(text) {
  return `"${escapeChars(text).replace(/-/g, '\\-').replace(/"/g, '""')}"`
}

const bold = (s) => `\\fB${roffCode(s)}\\fR`
const ital = (s) => `\\fI${roffCode(s)}\\fR`

function splitParagraphs(text) {
  return text
    .split(/\n[ \t]*\n/)
    .map((p) => p.replace(/^\n+|\n+$/g, ''))
    .filter((p) => p.trim() !== '')
}

function dedent(text) {
  const lines = text.split('\n')
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => l.match(/^ */)[0].length))
  return lines.map((l) => l.slice(indent)).join('\n')
}

/** Prose paragraphs; an all-indented paragraph is a preformatted block. */
function roffParagraphs(text) {
  const out = []
  for (const p of splitParagraphs(text)) {
    if (p.split('\n').every((l) => /^\s/.test(l))) out.push('.PP', '.RS 4', '.EX', roffCode(dedent(p)), '.EE', '.RE')
    else out.push('.PP', roffText(p))
  }
  return out
}

// ---------------------------------------------------------------- pieces

/** Split "EXIT STATUS\n  0  success\n..." off a description. */
function splitExitStatus(description) {
  const m = description.match(/(^|\n)EXIT STATUS[ \t]*\n/)
  if (!m) return {body: description, codes: []}
  const before = description.slice(0, m.index)
  const rest = description.slice(m.index + m[0].length).split('\n')
  const codes = []
  let i = 0
  for (; i < rest.length; i++) {
    const c = rest[i].match(/^\s*(\d+)\s+(\S.*)$/)
    if (!c) break
    codes.push({code: Number(c[1]), text: c[2]})
  }
  if (codes.length === 0) fail('an "EXIT STATUS" block with no "<code>  <text>" lines')
  return {body: [before, rest.slice(i).join('\n')].join('\n\n').trim(), codes}
}


function exitStatusSection(codes) {
  const out = ['.SH "EXIT STATUS"', '.PD 0']
  for (const c of codes) out.push('.TP', `.B ${c.code}`, roffText(c.text))
  return [...out, '.PD']
}

function flagTag(f) {
  const long = f.type === 'boolean' && f.allowNo ? `--[no-]${f.name}` : `--${f.name}`
  let tag = f.char ? `${bold(`-${f.char}`)}, ${bold(long)}` : bold(long)
  if (f.type === 'option') {
    tag += f.options?.length ? `=${f.options.map(ital).join('|')}` : `=${ital('value')}`
    if (f.multiple) tag += '...\\&'
  }
  return tag
}

function flagBody(f) {
  const out = [roffText(f.description ?? f.summary ?? '')]
  const notes = []
  const hasDefault = f.default !== undefined && f.default !== '' && f.default !== false && !Array.isArray(f.default)
  if (hasDefault && !/\[default:/.test(f.description ?? '')) notes.push(`Default: ${bold(String(f.default))}.`)
  if (f.options?.length && !f.description?.includes(f.options.join(', '))) notes.push(`One of: ${f.options.map(bold).join(', ')}.`)
  if (f.multiple) notes.push('May be given more than once.')
  if (f.env) notes.push(`Environment variable: ${bold(f.env)}.`)
  if (f.exclusive?.length) notes.push(`Cannot be used with ${f.exclusive.map((x) => bold(`--${x}`)).join(', ')}.`)
  if (f.dependsOn?.length) notes.push(`Requires ${f.dependsOn.map((x) => bold(`--${x}`)).join(', ')}.`)
  if (notes.length) out.push('.br', notes.join('\n'))
  return out
}

function flagList(flags) {
  const out = []
  for (const f of flags) out.push('.TP', flagTag(f), ...flagBody(f))
  return out
}

const visibleFlags = (cmd) => Object.values(cmd.flags ?? {}).filter((f) => !f.hidden)
const isGlobal = (f) => f.helpGroup === 'GLOBAL'

function argName(a, cmd, last) {
  let s = ital(a.name.toUpperCase())
  if (last && cmd.strict === false) s += '...\\&'
  return a.required ? s : `[${s}]`
}

function substitute(text, ctx) {
  const out = text.replace(/<%=\s*([\w.]+)\s*%>/g, (whole, key) => {
    if (key === 'config.bin') return ctx.bin
    if (key === 'command.id') return ctx.id
    return fail(`${ctx.id}: example uses unknown template variable ${whole}`)
  })
  if (out.includes('<%')) fail(`${ctx.id}: example has a template the generator does not understand: ${text}`)
  return out
}

function th(name, pkg, title) {
  return [
    `.\\" Generated by scripts/gen-man.js from oclif.manifest.json (src/commands/*.ts,`,
    `.\\" src/base-command.ts) and src/runtime/*.ts. Do not edit: run \`npm run man\`.`,
    `.TH ${roffArg(name.toUpperCase())} 1 "" ${roffArg(`${pkg.name} ${pkg.version}`)} ${roffArg(title)}`,
    '.nh',
    '.ad l',
  ]
}

function filesSection(d) {
  return [
    '.SH FILES',
    '.TP',
    ital(d.configFile),
    `The config file (see ${bold('podctl')}(1), CONFIG FILE); optional. Another one is named with ${bold('--config')}.`,
    '.TP',
    ital(`${d.root}/`),
    `The state directory: pod records, the name index, the pause rootfs, the IPAM of the built-in network. Moved with ${bold('--root')}.`,
    '.TP',
    ital(`${d.runRoot}/`),
    `The volatile state directory: the OCI runtime's state and the pods' network namespaces. Moved with ${bold('--run-root')}.`,
    '.TP',
    ital(`${d.cniConfDir}/`),
    `CNI network configurations; the first in lexical order is used. Moved with ${bold('--cni-conf-dir')}.`,
  ]
}

function environmentSection(flags) {
  const out = ['.SH ENVIRONMENT']
  const withEnv = flags.filter((f) => f.env)
  if (withEnv.length === 0) return [...out, 'None of its own.']
  out.push(`Each variable sets the default of a flag; the flag, when given, wins.`)
  for (const f of withEnv) {
    out.push('.TP', bold(f.env), `${bold(`--${f.name}`)}: ${roffText(f.description ?? '')}`)
  }
  return out
}

function seeAlso(ctx, exceptId) {
  const refs = [
    ...(exceptId ? [`${ctx.bin}(1)`] : []),
    ...ctx.commands.filter((c) => c.id !== exceptId).map((c) => `${pageName(ctx, c)}(1)`),
    'crictl(1)',
    'runc(8)',
  ]
  return ['.SH "SEE ALSO"', refs.map((r) => {
    const [, name, sec] = r.match(/^(.*)\((\d)\)$/)
    return `.BR ${roffCode(name)} (${sec})`
  }).join(',\n')]
}

const pageName = (ctx, cmd) => `${ctx.bin}-${cmd.id.replace(/[: ]/g, '-')}`
const commandLine = (ctx, cmd) => `${ctx.bin} ${cmd.id.replaceAll(':', ctx.topicSeparator)}`

// ---------------------------------------------------------------- pages

function verbPage(ctx, cmd) {
  const {body, codes} = splitExitStatus(cmd.description ?? '')
  const flags = visibleFlags(cmd)
  const own = flags.filter((f) => !isGlobal(f))
  const global = flags.filter(isGlobal)
  const args = Object.values(cmd.args ?? {}).filter((a) => !a.hidden)
  const line = commandLine(ctx, cmd)
  const out = [...th(pageName(ctx, cmd), ctx.pkg, `${ctx.bin} manual`)]

  out.push('.SH NAME', `${roffCode(pageName(ctx, cmd))} \\- ${roffText(cmd.summary ?? '')}`)

  out.push('.SH SYNOPSIS', `${bold(line)}`)
  for (const f of own) {
    const name = f.char ? `-${f.char}` : `--${f.name}`
    const sep = f.char ? '\\ ' : '=' // an unbreakable space: "-s value" stays on one line
    const value = f.type === 'option' ? `${sep}${f.options?.length ? f.options.map(ital).join('|') : ital('value')}${f.multiple ? '...\\&' : ''}` : ''
    out.push(`[${bold(name)}${value}]`)
  }
  if (global.length) out.push(`[\\fIGLOBAL\\ OPTIONS\\fR]`)
  args.forEach((a, i) => out.push(argName(a, cmd, i === args.length - 1)))

  out.push('.SH DESCRIPTION', ...roffParagraphs(body || cmd.summary || ''))

  out.push('.SH OPTIONS')
  const groups = new Map()
  for (const f of own) groups.set(f.helpGroup ?? '', [...(groups.get(f.helpGroup ?? '') ?? []), f])
  if (own.length === 0) out.push(`None of its own; the global options below apply.`)
  for (const [group, fs] of groups) {
    if (group) out.push(`.SS ${roffArg(group)}`)
    out.push(...flagList(fs))
  }
  if (global.length) {
    out.push('.SH "GLOBAL OPTIONS"', `Every ${bold(ctx.bin)} command takes these.`, ...flagList(global))
  }

  if (args.length) {
    out.push('.SH ARGUMENTS')
    args.forEach((a, i) => {
      const last = i === args.length - 1
      const notes = [a.required ? 'Required.' : 'Optional.']
      if (last && cmd.strict === false) notes.push('May be given more than once.')
      if (a.options?.length) notes.push(`One of: ${a.options.map(bold).join(', ')}.`)
      if (a.default !== undefined) notes.push(`Default: ${bold(String(a.default))}.`)
      out.push('.TP', ital(a.name.toUpperCase()), roffText(a.description ?? ''), '.br', notes.join(' '))
    })
  }

  const examples = cmd.examples ?? []
  if (examples.length) {
    out.push('.SH EXAMPLES')
    for (const ex of examples) {
      const {description, command} = typeof ex === 'string' ? {description: '', command: ex} : ex
      if (description) out.push('.PP', roffText(substitute(description, {bin: ctx.bin, id: line.slice(ctx.bin.length + 1)})))
      const cmdText = substitute(command, {bin: ctx.bin, id: line.slice(ctx.bin.length + 1)})
      out.push('.PP', '.RS 4', '.EX', roffCode(`$ ${cmdText}`), '.EE', '.RE')
    }
  }

  if (codes.length) out.push(...exitStatusSection(codes))
  out.push(...environmentSection(flags))
  out.push(...filesSection(ctx.sources.defaults))
  out.push(...seeAlso(ctx, cmd.id))
  return out.join('\n') + '\n'
}

/** Config-file keys that are not global flags: described here. */
const configKeyHelp = (d) => ({
  'default-runtime': `The runtime handler ${bold('runp')} uses when it gets no ${bold('--runtime')}. Default: ${bold(d.defaultRuntime)}.`,
  runtimes: `Runtime handlers, a map of handler name to ${bold('{path, args}')}: ${bold('path')} is the OCI runtime binary, an absolute path or a name looked up on ${bold('PATH')}; ${bold('args')} is a list of global options given to it before every command, each in --name=value form (podctl's own --root, --log, --log-format and a systemd cgroup manager are refused). Merged over the built-in handlers ${bold('runc')} and ${bold('crun')}, which keep their path when given only args.`,
  'default-network': `The built-in network, a map with any of ${bold('name')}, ${bold('bridge')}, ${bold('subnet')} (see DEFAULT NETWORK). Default: ${bold(`{name: ${d.network.name}, bridge: ${d.network.bridge}, subnet: ${d.network.subnet}}`)}.`,
  registries: `How images are pulled from each registry host, a map of host (as in image references: ${bold('docker.io')}, ${bold('10.0.0.5:5000')}) to ${bold('{mirrors, insecure, ca-files}')}: ${bold('mirrors')} is a list of endpoints tried in order before the registry itself (${bold('http://127.0.0.1:5000')}; a bare host is HTTPS); ${bold('insecure')} allows plain HTTP and unverified TLS; ${bold('ca-files')} are PEM files of CAs trusted beside the system's. A registry on 127.0.0.0/8 or localhost may answer plain HTTP without any setting. Default: none.`,
  'seccomp-profile-root': `The directory a ${bold('Localhost')} seccomp profile must be in, as the kubelet's seccomp root: a profile path that resolves outside it (${bold('..')}, a symlink) is refused. Default: ${bold('/var/lib/kubelet/seccomp')}.`,
  'pause-image': `The sandbox image ${bold('runp')} uses, pulled into the image store on first use (as containerd's sandbox_image). Default: unset, the built-in catatonit rootfs.`,
  'stream-listen': `Where ${bold('serve')} answers the URLs that Exec, Attach and PortForward return (the CRI streaming server): ${bold('host:port')} (port 0: any free port, as containerd's default), ${bold('[v6]:port')}, or ${bold('unix:///path')} (mode 0660; crictl and the kubelet cannot dial a unix socket, so it needs ${bold('stream-base-url')}). Default: ${bold('127.0.0.1:0')}.`,
  'stream-base-url': `The URL prefix of those URLs, for a proxy in front of the streaming server: ${bold('http(s)://host[:port][/path]')}; the token path (${bold('/portforward/<token>')}) is appended. Default: unset, ${bold('http://')} and the address listened on.`,
  'max-pods': `The most pods at once: ${bold('runp')} (and RunPodSandbox in ${bold('serve')}) beyond it is refused, before anything is made. CRI has no paging, so every ListPodSandbox answer holds every pod in one message, which kubelet, crictl and ${bold('serve')} cap at 16 MiB; with the default the listing fits even when every pod carries the most metadata runp allows. An integer from 1 to 10000. Default: ${bold('110')}, the kubelet's own.`,
  'cgroup-parent': `The parent cgroup of pods whose config names no ${bold('linux.cgroup_parent')}: an absolute cgroupfs path, or a systemd-style slice such as ${bold('kubepods.slice')}, mapped as for cgroup_parent. Each pod records the parent it was placed under, so changing this later does not lose existing pods. Default: ${bold(d.cgroupParent)}.`,
})

/** What a config-file key adds to its flag. */
const configKeyExtra = {
  timeout: 'A bare number is a number of seconds, as in crictl.yaml.',
  debug: `${bold('true')} or ${bold('false')}.`,
}

function overviewPage(ctx) {
  const {pkg, bin, commands, sources} = ctx
  const d = sources.defaults
  const globalFlags = []
  for (const c of commands) for (const f of visibleFlags(c)) if (isGlobal(f) && !globalFlags.some((g) => g.name === f.name)) globalFlags.push(f)

  // podctl.1 shows every code any verb documents (exec adds its command's 124, 126, 127), each with the first words given for it.
  const exitCodes = new Map()
  for (const c of commands) {
    for (const code of splitExitStatus(c.description ?? '').codes) if (!exitCodes.has(code.code)) exitCodes.set(code.code, code)
  }

  const out = [...th(bin, pkg, `${bin} manual`)]
  out.push('.SH NAME', `${roffCode(bin)} \\- ${roffText(pkg.description)}`)
  out.push(
    '.SH SYNOPSIS',
    `${bold(bin)} ${ital('command')} [${ital('OPTIONS')}] [${ital('ARGUMENTS')}]`,
    '.br',
    `${bold(bin)} ${ital('command')} ${bold('--help')}`,
    '.br',
    `${bold(bin)} ${bold('--version')}`,
  )
  out.push(
    '.SH DESCRIPTION',
    '.PP',
    `${bold(bin)} is a daemonless, ${bold('crictl')}(1)-style command line for CRI pod sandboxes.`,
    `Each command runs in-process against a local state directory and runs the OCI runtime (${bold('runc')}(8) or ${bold('crun')}(1)) and the CNI plugin binaries directly:`,
    'no container runtime daemon is involved, and nothing of podctl keeps running between two commands except the pods themselves.',
    '.PP',
    `It reads the same ${bold('PodSandboxConfig')} files as ${bold('crictl runp')} and prints the same shapes.`,
    'A command that fails undoes what it did, so that no half-made pod, leaked IP address or stray network namespace is left.',
    `Most commands must run as root: they create network namespaces and run the OCI runtime (${bold('--help')} works for anyone).`,
  )

  out.push('.SH COMMANDS')
  for (const c of commands) out.push('.TP', `.BR ${roffCode(pageName(ctx, c))} (1)`, roffText(c.summary ?? ''))
  out.push('.PP', `${bold(`${bin} `)}${ital('command')} ${bold('--help')} prints the same as the command's page.`)

  out.push(
    '.SH OPTIONS',
    '.TP',
    bold('--version'),
    `Print ${bold(bin)}'s version, platform and Node.js version (${bold(`${bin} version`)} says more).`,
    '.TP',
    `${bold('-h')}, ${bold('--help')}`,
    `Print the commands; after a command, its help, which says what its page says.`,
    '.SS "GLOBAL OPTIONS"',
    `Every command takes these. Precedence: the flag, then its environment variable, then the config file, then the built-in default.`,
    ...flagList(globalFlags),
  )

  out.push(
    '.SH "STATE DIRECTORY"',
    `${ital('<root>')} is ${bold('--root')} (default ${ital(d.root)}), ${ital('<run-root>')} is ${bold('--run-root')} (default ${ital(d.runRoot)}):`,
    '.PP',
    '.RS 4',
    '.EX',
    roffCode(sources.layout),
    '.EE',
    '.RE',
  )
  for (const p of sources.layoutNotes) out.push('.PP', roffText(p.replace(/\s*\n\s*/g, ' ')))

  const net = d.network
  out.push(
    '.SH "DEFAULT NETWORK"',
    '.PP',
    `Pods attach to the first network configuration (${ital('.conflist')}, ${ital('.conf')} or ${ital('.json')}) in lexical order in the CNI conf dir, as libcni and containerd pick it.`,
    `When that directory holds none, ${bold(bin)} writes its built-in network there, as`,
    `${ital(`<cni-conf-dir>/${sources.conflistFile(net.name)}`)}, for you to see and edit, and uses it:`,
    `CNI network ${bold(`"${net.name}"`)}, a ${bold('bridge')} plugin on bridge ${bold(net.bridge)} (gateway, IP masquerade, hairpin mode)`,
    `with ${bold('host-local')} IPAM on subnet ${bold(net.subnet)} (allocations under ${ital('<root>/cni/networks')}),`,
    `then ${bold('portmap')} and ${bold('loopback')}.`,
    '.PP',
    `The config-file key ${bold('default-network')} overrides its ${bold('name')}, ${bold('bridge')} and ${bold('subnet')};`,
    `the file is then named ${ital(sources.conflistFile('<name>'))}. A bridge name is at most 15 characters.`,
    'Pods with host networking (namespace_options.network NODE) attach to no network.',
  )

  const help = configKeyHelp(d)
  out.push(
    '.SH "CONFIG FILE"',
    '.PP',
    `A YAML map read from ${ital(d.configFile)}, or from the file named by ${bold('--config')} / ${bold('PODCTL_CONFIG')}.`,
    'The default file is optional; a named one must exist. An unknown key is an error. The keys, kebab-case as in crictl.yaml:',
  )
  for (const key of sources.fileKeys) {
    const flag = globalFlags.find((f) => f.name === key)
    let text = help[key]
    if (!text && flag) text = `As ${bold(`--${key}`)}: ${roffText(flag.description ?? '')}`
    if (configKeyExtra[key]) text += `\n.br\n${configKeyExtra[key]}`
    if (!text) {
      process.stderr.write(`gen-man: warning: config-file key "${key}" has no description: add one to configKeyHelp in scripts/gen-man.js\n`)
      text = 'See the source.'
    }
    out.push('.TP', bold(key), text)
  }
  out.push(
    '.PP',
    'For example:',
    '.PP',
    '.RS 4',
    '.EX',
    roffCode(
      [
        `root: ${d.root}`,
        'timeout: 2m',
        `default-runtime: crun`,
        'runtimes:',
        '  crun: {path: /usr/local/bin/crun}',
        'default-network:',
        `  bridge: ${net.bridge}`,
        '  subnet: 10.200.0.0/16',
      ].join('\n'),
    ),
    '.EE',
    '.RE',
  )

  out.push(...scriptingSections(ctx, sources))
  out.push(...overviewExamples(bin))

  const codes = [...exitCodes.values()].sort((a, b) => a.code - b.code)
  if (codes) out.push(...exitStatusSection(codes))
  out.push(...environmentSection(globalFlags))
  out.push(...filesSection(d))
  out.push(...seeAlso(ctx, undefined))
  return out.join('\n') + '\n'
}

/** TEMPLATES, SHELL COMPLETION and SCRIPTING: what the overview tells scripts and their authors. */
function scriptingSections(ctx, sources) {
  const {bin} = ctx
  const has = (id) => ctx.commands.some((c) => c.id === id)
  const out = [
    '.SH TEMPLATES',
    '.PP',
    `${bold('inspectp')} and ${bold('pods')} take ${bold('-o go-template --template')} ${ital('TEMPLATE')}, as ${bold('crictl')} does.`,
    `The template is a Go text/template run on the JSON the command prints with ${bold('-o json')}:`,
    `for ${bold('inspectp')}, each pod's ${bold('{"status": ..., "info": ...}')} in turn, one result per pod;`,
    `for ${bold('pods')}, the whole ${bold('{"items": [...]}')}.`,
    'Keys are those of the JSON (lowerCamelCase), and a key that is not there is an error, as in crictl.',
    'A newline follows each result unless it ends with one.',
    '.PP',
    `${bin} implements the part of the language that scripts use:`,
    'fields, chained and on maps, of the data (.a.b), of a variable ($v.a) or of a parenthesized pipeline;',
    `pipelines (${bold('|')}); variables (${bold('$x := ...')}, ${bold('$x = ...')}, ${bold('$')} for the whole data);`,
    `${bold('if')}/${bold('else if')}/${bold('else')}, ${bold('with')}/${bold('else')}, ${bold('range')} over arrays and maps (keys sorted) with ${bold('$i, $v :=')} and ${bold('else')};`,
    `comments and the trim markers ${bold('{{-')} and ${bold('-}}')}.`,
    `The functions: ${sources.templateFunctions.map(bold).join(', ')}`,
    `(${bold('json')} prints a value as compact JSON; ${bold('title')} capitalizes each word).`,
    'Unlike Go, JSON numbers are numbers, so they compare with number literals.',
    'A template that does not parse, or fails as it runs, is a usage error (exit status 2) that names the line and column.',
    '.PP',
    '.RS 4',
    '.EX',
    roffCode(
      [
        `$ ${bin} inspectp -o go-template --template '{{.status.network.ip}}' web`,
        `$ ${bin} pods -o go-template --template \\`,
        `    '{{range .items}}{{.id}} {{.metadata.name}} {{lower .state}}{{"\\n"}}{{end}}'`,
        `$ ${bin} inspectp -o go-template --template \\`,
        `    '{{range $k, $v := .status.labels}}{{$k}}={{$v}} {{end}}' web`,
      ].join('\n'),
    ),
    '.EE',
    '.RE',
  ]
  if (has('completion')) {
    out.push(
      '.SH "SHELL COMPLETION"',
      '.PP',
      `${bold(`${bin} completion bash`)}|${bold('zsh')}|${bold('fish')} prints a script that completes commands, options, their fixed values, and the IDs and names of existing pods`,
      `(see ${bold(`${bin}-completion`)}(1)). For example, in ${ital('~/.bashrc')}:`,
      '.PP',
      '.RS 4',
      '.EX',
      roffCode(`source <(${bin} completion bash)`),
      '.EE',
      '.RE',
    )
  }
  out.push(
    '.SH SCRIPTING',
    '.PP',
    `Data goes to standard output, and nothing else does: warnings, errors and progress go to standard error, and ${bold('-q')}, ${bold('-o json')}, ${bold('-o yaml')} and templates are never mixed with messages.`,
    'Colours are used only on a terminal, and never when the environment variable NO_COLOR is set; progress lines only when standard error is a terminal.',
    'Each error is one line on standard error (a second line may give a hint), and its exit status says what kind of failure it was (see EXIT STATUS).',
    '.PP',
    `Where ${bold('crictl')} is a pitfall for scripts, ${bin} deliberately differs:`,
    '.IP \\(bu 2',
    `a missing required argument is a usage error (exit status 2), where crictl prints its help and exits 0;`,
    '.IP \\(bu 2',
    `${bold('pods --exit-code')} exits 6 when no pod matches the filters (an empty list exits 0 otherwise, as crictl);`,
    '.IP \\(bu 2',
    `${bold('--name-exact')} and ${bold('--namespace-exact')} match a whole name, beside crictl's unanchored regular expressions ${bold('--name')} and ${bold('--namespace')};`,
    '.IP \\(bu 2',
    `${bold('statsp --watch')} clears the screen only on a terminal;`,
    '.IP \\(bu 2',
    `${bold('createdAt')} is an RFC 3339 time in ${bold('pods -o json')} as in ${bold('inspectp')}.`,
  )
  return out
}

function overviewExamples(bin) {
  const lines = [
    ['Run a pod from a crictl-style config, and list pods', `${bin} runp pod.json\n${bin} pods`],
    ['Its IP address', `${bin} inspectp -o go-template --template '{{.status.network.ip}}' nginx-sandbox`],
    ['Stop and remove every pod', `${bin} rmp -af`],
  ]
  const out = ['.SH EXAMPLES']
  for (const [what, cmd] of lines) {
    out.push('.PP', roffText(what), '.PP', '.RS 4', '.EX', roffCode(cmd.split('\n').map((c) => `$ ${c}`).join('\n')), '.EE', '.RE')
  }
  return out
}

// ---------------------------------------------------------------- main

function generate() {
  const inputs = loadInputs()
  const ctx = {...inputs}
  const pages = new Map()
  pages.set(`${ctx.bin}.1`, overviewPage(ctx))
  for (const cmd of ctx.commands) pages.set(`${pageName(ctx, cmd)}.1`, verbPage(ctx, cmd))
  return {pages, ctx}
}

/** Pages of ours in man/ (podctl.1, podctl-*.1), whether or not still generated. */
function existingPages(bin) {
  if (!existsSync(manDir)) return []
  const ours = new RegExp(`^${bin.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(-[\\w-]+)?\\.1$`)
  return readdirSync(manDir).filter((n) => ours.test(n))
}

function main(argv) {
  const check = argv.includes('--check')
  const outAt = argv.indexOf('--out')
  if (outAt >= 0) {
    if (!argv[outAt + 1]) fail('--out needs a directory')
    manDir = pathToFileURL(`${argv[outAt + 1].replace(/\/+$/, '')}/`)
  }
  const unknown = argv.filter((a, i) => a !== '--check' && !(outAt >= 0 && (i === outAt || i === outAt + 1)))
  if (unknown.length) fail(`unknown argument ${unknown[0]}; usage: node scripts/gen-man.js [--check] [--out DIR]`)
  const {pages, ctx} = generate()
  const stale = existingPages(ctx.bin).filter((n) => !pages.has(n))

  if (check) {
    const problems = []
    for (const [name, text] of pages) {
      const url = new URL(name, manDir)
      if (!existsSync(url)) problems.push(`${rel(url)}: missing`)
      else if (readFileSync(url, 'utf8') !== text) problems.push(`${rel(url)}: differs`)
    }
    for (const n of stale) problems.push(`${rel(new URL(n, manDir))}: no such command any more`)
    if (problems.length) {
      process.stderr.write(`man pages are out of date; run \`npm run build && npm run man\` and commit man/:\n${problems.map((p) => `  ${p}\n`).join('')}`)
      return 1
    }
    process.stdout.write(`man pages up to date (${pages.size} pages)\n`)
    return 0
  }

  mkdirSync(manDir, {recursive: true})
  for (const [name, text] of pages) {
    const url = new URL(name, manDir)
    if (existsSync(url) && readFileSync(url, 'utf8') === text) continue
    writeFileSync(url, text)
    process.stdout.write(`wrote ${rel(url)}\n`)
  }
  for (const n of stale) {
    unlinkSync(new URL(n, manDir))
    process.stdout.write(`removed ${rel(new URL(n, manDir))}\n`)
  }
  return 0
}

try {
  process.exitCode = main(process.argv.slice(2))
} catch (err) {
  if (!(err instanceof GenError)) throw err
  process.stderr.write(`gen-man: ${err.message}\n`)
  process.exitCode = 2
}
