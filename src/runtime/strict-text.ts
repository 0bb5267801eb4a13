// What node's decoders do silently, said instead: bytes that are not UTF-8
// (Buffer.toString replaces them with U+FFFD) and a JSON key given twice in
// one object (JSON.parse keeps the last). A config that means something else
// than what was written is refused, with where.

import {isUtf8} from 'node:buffer'

/** The text of a file's bytes; null and the offset of the first byte that is not UTF-8 when there is one. */
export function strictUtf8(buf: Buffer): {text: string} | {badOffset: number; byte: number} {
  if (isUtf8(buf)) return {text: buf.toString('utf8')}
  const badOffset = firstInvalidUtf8(buf)
  return {badOffset, byte: buf[badOffset]}
}

/** The offset of the first byte that does not belong to a well-formed UTF-8 sequence (RFC 3629). */
function firstInvalidUtf8(buf: Buffer): number {
  let i = 0
  while (i < buf.length) {
    const b = buf[i]
    let n: number
    let min: number
    if (b < 0x80) {
      i++
      continue
    } else if (b >= 0xc2 && b <= 0xdf) [n, min] = [1, 0x80]
    else if (b >= 0xe0 && b <= 0xef) [n, min] = [2, 0x800]
    else if (b >= 0xf0 && b <= 0xf4) [n, min] = [3, 0x10000]
    else return i
    let cp = b & (0x3f >> n)
    for (let k = 1; k <= n; k++) {
      const c = buf[i + k]
      if (c === undefined || (c & 0xc0) !== 0x80) return i
      cp = (cp << 6) | (c & 0x3f)
    }
    // overlong forms, UTF-16 surrogates, beyond U+10FFFF
    if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return i
    i += n + 1
  }
  return buf.length
}

export interface DuplicateKey {
  key: string
  /** the object's path, "metadata" or "labels" ("" at the top level) */
  path: string
  line: number
  column: number
}

/**
 * The first key given twice in one object of a JSON text that JSON.parse
 * has accepted (so the scan can trust its structure), or null.
 */
export function duplicateJsonKey(text: string): DuplicateKey | null {
  interface Frame {
    keys: Set<string> | null
    path: string
    index: number
    lastKey: string
  }
  const stack: Frame[] = []
  let expectKey = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x22 /* " */) {
      let j = i + 1
      while (text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c /* \ */ ? 2 : 1
      const top = stack[stack.length - 1]
      if (top?.keys && expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string
        if (top.keys.has(key)) return {key, path: top.path, ...lineColumn(text, i)}
        top.keys.add(key)
        top.lastKey = key
        expectKey = false
      }
      i = j
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      const parent = stack[stack.length - 1]
      const path = !parent ? '' : parent.keys ? (parent.path ? `${parent.path}.${parent.lastKey}` : parent.lastKey) : `${parent.path}[${parent.index}]`
      stack.push({keys: c === 0x7b ? new Set() : null, path, index: 0, lastKey: ''})
      expectKey = c === 0x7b
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop()
    } else if (c === 0x2c /* , */) {
      const top = stack[stack.length - 1]
      if (top?.keys) expectKey = true
      else if (top) top.index++
    }
  }
  return null
}

function lineColumn(text: string, offset: number): {line: number; column: number} {
  let line = 1
  let start = 0
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++
    start = i + 1
  }
  return {line, column: offset - start + 1}
}
