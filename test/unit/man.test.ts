// The man pages: committed, generated from the command definitions by
// scripts/gen-man.js, and saying at least what --help says. Needs a build
// (bin/run.js runs dist/, gen-man reads oclif.manifest.json) and, for the
// rendering checks, man(1) (Debian: man-db, groff-base). The rendering checks
// run on pages generated afresh into a temp dir, so that they test the
// generator and the commands as they are now; the first two tests check that
// the committed man/ is what the generator makes.

import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'node:test'
import {fileURLToPath} from 'node:url'

import {exitCodeHelp} from '../../src/runtime/errors.js'
import {tempDir} from './helpers.js'

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))
const bin = join(repoRoot, 'bin', 'run.js')
const manDir = join(repoRoot, 'man')

interface ManifestCommand {
  id: string
  hidden?: boolean
}

function verbs(): string[] {
  const manifest = JSON.parse(readFileSync(join(repoRoot, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, ManifestCommand>}
  return Object.values(manifest.commands)
    .filter((c) => !c.hidden)
    .map((c) => c.id)
    .sort()
}

/** Why man pages cannot be rendered here, or undefined when they can. */
function manMissing(): string | undefined {
  const r = spawnSync('man', ['--version'], {encoding: 'utf8'})
  if (r.error) return `man is not installed (apt-get install man-db groff-base): ${r.error.message}`
  return undefined
}

/** Skip with the reason printed; under CI=true a missing prerequisite is a failure. */
function skipUnlessMan(t: {skip: (message?: string) => void}): boolean {
  const reason = manMissing()
  if (reason === undefined) return false
  if (process.env.CI === 'true') assert.fail(`CI=true and ${reason}`)
  console.log(`# skipped: ${reason}`)
  t.skip(reason)
  return true
}

/** The pages as the generator makes them now, in a temp dir. */
let fresh: string | undefined
function freshDir(): string {
  if (fresh) return fresh
  const dir = tempDir('podctl-man-')
  const r = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'gen-man.js'), '--out', dir], {cwd: repoRoot, encoding: 'utf8'})
  assert.equal(r.status, 0, `gen-man --out exited ${r.status}: ${r.stderr}`)
  fresh = dir
  return dir
}

/** A page as man(1) shows it, as plain ASCII text (what `col -b` would leave); any groff warning fails. */
function render(file: string): string {
  const r = spawnSync('man', ['-l', '--warnings', '--no-justification', '--no-hyphenation', file], {
    encoding: 'utf8',
    env: {...process.env, MANWIDTH: '100', MANPAGER: 'cat', PAGER: 'cat', MAN_KEEP_FORMATTING: '', LC_ALL: 'C.UTF-8'},
  })
  assert.equal(r.status, 0, `man -l ${file} exited ${r.status}: ${r.stderr}`)
  assert.equal(r.stderr, '', `man -l --warnings ${file} warned`)
  return (
    r.stdout
      // overstrike bold/underline and SGR sequences
      .replace(/.\x08/g, '')
      .replace(/\x1b\[[0-9;]*m/g, '')
      // a minus or hyphen glyph, on devices that do not map \- to ASCII
      .replace(/[\u2010\u2011\u2212]/g, '-')
  )
}

/** Every --long option named in a verb's --help. */
function helpFlags(verb: string): string[] {
  const r = spawnSync(process.execPath, [bin, ...verb.split(':'), '--help'], {
    encoding: 'utf8',
    env: {...process.env, NO_COLOR: '1', OCLIF_COLUMNS: '200'},
  })
  assert.equal(r.status, 0, `${verb} --help exited ${r.status}: ${r.stderr}`)
  const names = new Set<string>()
  for (const m of r.stdout.matchAll(/(?<![\w-])--(?:\[no-\])?([a-z0-9][a-z0-9-]*)/gi)) names.add(m[1].replace(/-+$/, ''))
  return [...names].sort()
}

test('the man pages are up to date (scripts/gen-man.js --check)', () => {
  const r = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'gen-man.js'), '--check'], {cwd: repoRoot, encoding: 'utf8'})
  assert.equal(r.status, 0, `gen-man --check exited ${r.status}; run \`npm run build && npm run man\`:\n${r.stderr}${r.stdout}`)
})

test('every verb has a man page', () => {
  for (const verb of verbs()) assert.ok(existsSync(join(manDir, `podctl-${verb.replaceAll(':', '-')}.1`)), `man/podctl-${verb.replaceAll(':', '-')}.1 is missing`)
})

for (const verb of verbs()) {
  test(`man page of ${verb}: renders, and names every flag of --help`, (t) => {
    if (skipUnlessMan(t)) return
    const text = render(join(freshDir(), `podctl-${verb.replaceAll(':', '-')}.1`))
    assert.ok(text.trim().length > 0, 'man rendered nothing')
    for (const section of ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'OPTIONS', 'EXAMPLES', 'EXIT STATUS', 'FILES', 'ENVIRONMENT', 'SEE ALSO']) {
      assert.match(text, new RegExp(`^${section}$`, 'm'), `no ${section} section`)
    }
    assert.match(text, new RegExp(`podctl-${verb.replaceAll(':', '-')} - `), 'NAME line')
    // the exit codes of --help, every one
    for (const code of Object.keys(exitCodeHelp)) assert.match(text.split(/^EXIT STATUS$/m)[1] ?? '', new RegExp(`^\\s+${code}\\s`, 'm'), `exit status ${code} not in EXIT STATUS`)
    const flags = helpFlags(verb)
    assert.ok(flags.length > 0, `no --flags found in ${verb} --help`)
    // A long option broken over two lines still counts.
    const joined = text.replace(/-\n\s*/g, '-')
    for (const flag of flags) {
      assert.match(joined, new RegExp(`(?<![\\w-])--(\\[no-\\])?${flag}(?![\\w-])`), `--${flag} is in ${verb} --help but not in man/podctl-${verb}.1`)
    }
  })
}

test('the overview page lists every verb', (t) => {
  if (skipUnlessMan(t)) return
  const text = render(join(freshDir(), 'podctl.1'))
  const sections = ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'COMMANDS', 'OPTIONS', 'STATE DIRECTORY', 'CONFIG FILE', 'TEMPLATES', 'SCRIPTING', 'EXAMPLES', 'EXIT STATUS', 'ENVIRONMENT', 'FILES', 'SEE ALSO']
  for (const section of sections) assert.match(text, new RegExp(`^${section}$`, 'm'), `no ${section} section`)
  assert.match(text, /^ {3}GLOBAL OPTIONS$/m, 'no GLOBAL OPTIONS subsection')
  for (const verb of verbs()) assert.match(text, new RegExp(`^\\s+podctl-${verb.replaceAll(':', '-')}\\(1\\)`, 'm'), `COMMANDS does not list ${verb}`)
  // The state-dir layout, from src/runtime/store.ts.
  for (const path of ['pods/<id>/sandbox.json', 'names/', 'netns/<id>']) assert.ok(text.includes(path), `STATE DIRECTORY does not show ${path}`)
  // Every template function the evaluator has.
  for (const fn of ['json', 'lower', 'upper', 'title', 'printf', 'index', 'len']) assert.match(text, new RegExp(`\\b${fn}\\b`), `TEMPLATES does not name ${fn}`)
})

test('every page renders without a warning', (t) => {
  if (skipUnlessMan(t)) return
  for (const page of readdirSync(freshDir())) render(join(freshDir(), page))
})
