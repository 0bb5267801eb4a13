// What pull shows while it works: on a terminal, one line per layer redrawn
// in place (bytes, rate); otherwise one line per layer on stderr as it
// finishes, so that a log shows what was fetched.

import type {PullProgress} from '../images/store.js'

export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB']
  let v = n
  let i = 0
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000
    i++
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`
}

const shortDigest = (d: string) => d.replace(/^sha256:/, '').slice(0, 12)

const stateWords: Record<PullProgress['state'], string> = {
  waiting: 'Waiting',
  downloading: 'Downloading',
  verifying: 'Verifying',
  extracting: 'Extracting',
  done: 'Pull complete',
  exists: 'Already exists',
}

export interface PullDisplay {
  onProgress(p: PullProgress): void
  /** erase the live lines (terminal) before the result is printed */
  finish(): void
}

export function pullDisplay(stream: NodeJS.WriteStream, quiet: boolean, now: () => number = () => performance.now()): PullDisplay {
  if (quiet) return {onProgress: () => undefined, finish: () => undefined}
  const layers = new Map<string, {p: PullProgress; start: number; line: string}>()
  if (!stream.isTTY || process.env.TERM === 'dumb') {
    return {
      onProgress(p) {
        if (p.state !== 'done' && p.state !== 'exists') return
        if (layers.has(p.digest)) return
        layers.set(p.digest, {p, start: 0, line: ''})
        stream.write(`${shortDigest(p.digest)}: ${stateWords[p.state]} (${formatBytes(p.total)})\n`)
      },
      finish: () => undefined,
    }
  }
  let drawn = 0
  let last = 0
  const draw = (force: boolean) => {
    const t = now()
    if (!force && t - last < 100) return
    last = t
    const width = stream.columns ? stream.columns - 1 : 79
    let out = drawn > 0 ? `\u001b[${drawn}A` : ''
    for (const l of layers.values()) {
      const {p, start} = l
      let text = `${shortDigest(p.digest)}: ${stateWords[p.state]}`
      if (p.state === 'downloading') {
        const secs = Math.max((t - start) / 1000, 0.001)
        text += ` ${formatBytes(p.done)}/${formatBytes(p.total)} ${formatBytes(p.done / secs)}/s`
      } else if (p.state === 'done' || p.state === 'exists') {
        text += ` ${formatBytes(p.total)}`
      }
      out += `\r\u001b[K${text.slice(0, width)}\n`
    }
    drawn = layers.size
    stream.write(out)
  }
  return {
    onProgress(p) {
      const seen = layers.get(p.digest)
      if (seen) seen.p = p
      else layers.set(p.digest, {p, start: now(), line: ''})
      draw(p.state !== 'downloading')
    },
    finish() {
      if (drawn > 0) draw(true)
    },
  }
}
