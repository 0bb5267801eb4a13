#!/usr/bin/env node
// Fails on exports under src/ that no module of src/ uses: a function, class,
// constant or type exported from a module, or a public method of an exported
// class, that nothing but the tests refers to is dead code. Read with the TypeScript compiler's checker, so
// that `import type`, re-exports, `(await import('./x.js')).name` and
// destructured dynamic imports all count as uses.
//
//   node scripts/check-exports.js    exit 1 and one line per unused export
//
// An export used in its own file is fine (it types a public signature, or is a
// pure piece tested on its own); src/commands/*'s default exports are oclif's, and the entry points
// that bin/ and scripts/ load are listed in `entries`.

import path from 'node:path'
import {fileURLToPath} from 'node:url'

import ts from 'typescript'

const repo = fileURLToPath(new URL('..', import.meta.url))

/** Exports used from outside src/ (bin/run.js, scripts/build-snapshot.js, oclif's manifest). */
const entries = new Set([
  // the commands call it as this.parse(), typed by ./oclif.ts as oclif's own
  'src/cli/lean.ts:Command.parse',
  'src/cli/main.ts:main', 'src/cli/snapshot.ts:*', 'src/cli/oclif-lean.ts:*'])

const configFile = ts.readConfigFile(path.join(repo, 'tsconfig.json'), ts.sys.readFile)
const parsed = ts.parseJsonConfigFileContent(configFile.config, ts.sys, repo)
const program = ts.createProgram(parsed.fileNames, {...parsed.options, noEmit: true})
const checker = program.getTypeChecker()

const rel = (f) => path.relative(repo, typeof f === "string" ? f : f.fileName)
const inSrc = (f) => rel(f).startsWith('src/')
const files = program.getSourceFiles().filter((f) => !f.isDeclarationFile && !rel(f).startsWith('..') && !rel(f).startsWith('node_modules'))

/** declaration -> set of files (relative) that refer to it; keyed by declaration, as the checker makes transient copies of symbols */
const uses = new Map()
const resolve = (s) => (s && s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s)
const keyOf = (s) => resolve(s)?.declarations?.[0]
const usersOf = (s) => uses.get(keyOf(s)) ?? new Set()
const note = (symbol, file) => {
  const key = keyOf(symbol)
  if (!key) return
  if (!uses.has(key)) uses.set(key, new Set())
  uses.get(key).add(rel(file.fileName))
}

for (const file of files) {
  const visit = (node) => {
    if (ts.isIdentifier(node) || ts.isPrivateIdentifier(node)) {
      const parent = node.parent
      // A declaration's own name is not a use.
      const isDeclName = parent && parent.name === node && (ts.isFunctionDeclaration(parent) || ts.isClassDeclaration(parent) || ts.isMethodDeclaration(parent) ||
        ts.isInterfaceDeclaration(parent) || ts.isTypeAliasDeclaration(parent) || (ts.isVariableDeclaration(parent) && ts.isVariableStatement(parent.parent?.parent)) ||
        ts.isEnumDeclaration(parent) || ts.isPropertyDeclaration(parent))
      if (!isDeclName) note(checker.getSymbolAtLocation(node), file)
      // const {a, b} = await import('./x.js'): the properties of the module named.
      if (parent && ts.isBindingElement(parent) && ts.isObjectBindingPattern(parent.parent)) {
        const key = parent.propertyName ?? parent.name
        if (ts.isIdentifier(key)) {
          const type = checker.getTypeAtLocation(parent.parent)
          const prop = type.getProperty(key.text)
          if (prop) note(prop, file)
        }
      }
    }
    ts.forEachChild(node, visit)
  }
  visit(file)
}

const unused = []
for (const file of files.filter((f) => inSrc(f.fileName))) {
  const name = rel(file.fileName)
  const moduleSymbol = checker.getSymbolAtLocation(file)
  if (!moduleSymbol || entries.has(`${name}:*`)) continue
  for (const exp of checker.getExportsOfModule(moduleSymbol)) {
    const label = `${name}:${exp.name}`
    if (entries.has(label)) continue
    if (exp.name === 'default' && name.startsWith('src/commands/')) continue
    // A type or helper used in its own file is exported for the signatures that use it, or for its tests.
    if (![...usersOf(exp)].some((f) => f.startsWith('src/'))) unused.push(`${label}: exported, used by no module of src/`)
    // Public methods of an exported class: one that only the tests (or nothing) call is dead.
    const target = resolve(exp)
    if (target.flags & ts.SymbolFlags.Class && target.members) {
      for (const [member, s] of target.members) {
        const decl = s.declarations?.[0]
        if (!decl || !ts.isMethodDeclaration(decl)) continue
        if (entries.has(`${label}.${member}`)) continue
        const mods = ts.getCombinedModifierFlags(decl)
        if (mods & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected) || mods & ts.ModifierFlags.Override) continue
        const users = [...usersOf(s)]
        if (!users.some((f) => f.startsWith('src/'))) unused.push(`${label}.${member}: a method no module of src/ calls`)
      }
    }
  }
}

for (const u of unused.sort()) process.stderr.write(`${u}\n`)
if (unused.length > 0) {
  process.stderr.write(`${unused.length} unused exports: remove the code, or the export keyword\n`)
  process.exit(1)
}
process.stdout.write('no unused exports in src\n')
