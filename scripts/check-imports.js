#!/usr/bin/env node
// Fails when the modules under src/ import each other in a circle. Every
// import counts: static, `import type`, `export ... from` and `import()`, as
// a circle of types alone still ties two modules' meaning together and a
// dynamic one still runs both modules' top levels in an order neither sees.
//
//   node scripts/check-imports.js [dir]    exit 1 and one line per circle
//
// Node built-ins only.

import fs from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const repo = fileURLToPath(new URL('..', import.meta.url))

/** The .ts files under dir, relative to the repository. */
function sources(dir) {
  return fs.readdirSync(dir, {withFileTypes: true, recursive: true})
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => path.relative(repo, path.join(e.parentPath ?? e.path, e.name)))
    .sort()
}

const specifier = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm

/** The files each file imports, as a map from file to its sorted imports. */
export function importGraph(files) {
  const known = new Set(files)
  const graph = new Map()
  for (const file of files) {
    const text = fs.readFileSync(path.join(repo, file), 'utf8')
    const deps = new Set()
    for (const [, spec] of text.matchAll(specifier)) {
      const target = path.normalize(path.join(path.dirname(file), spec.replace(/\.js$/, '.ts')))
      if (known.has(target)) deps.add(target)
    }
    graph.set(file, [...deps].sort())
  }
  return graph
}

/** The strongly connected components of more than one file, or of a file that imports itself (Tarjan). */
export function circles(graph) {
  let counter = 0
  const index = new Map()
  const low = new Map()
  const stack = []
  const onStack = new Set()
  const found = []
  const visit = (v) => {
    index.set(v, counter)
    low.set(v, counter++)
    stack.push(v)
    onStack.add(v)
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v), low.get(w)))
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)))
    }
    if (low.get(v) !== index.get(v)) return
    const component = []
    let w
    do {
      w = stack.pop()
      onStack.delete(w)
      component.push(w)
    } while (w !== v)
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort())
  }
  for (const v of graph.keys()) if (!index.has(v)) visit(v)
  return found
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = path.resolve(repo, process.argv[2] ?? 'src')
  const found = circles(importGraph(sources(dir)))
  for (const c of found) process.stderr.write(`import circle: ${c.join(' <-> ')}\n`)
  if (found.length > 0) {
    process.stderr.write('break each circle: move what both sides need into a module that imports neither\n')
    process.exit(1)
  }
  process.stdout.write(`no import circles in ${path.relative(repo, dir) || '.'}\n`)
}
