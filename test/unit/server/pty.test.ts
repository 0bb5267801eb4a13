// The terminal relay of tty execs: a real python3 and sh on a new
// pseudo-terminal, its size set through the relay, the exit status passed on.

import assert from 'node:assert/strict'
import {PassThrough} from 'node:stream'
import {test} from 'node:test'

import {spawnOnPty} from '../../../src/server/streaming/pty.js'

test('a command on a terminal: sizes applied, input in, output out, its exit status', async () => {
  const stdin = new PassThrough()
  const stdout = new PassThrough()
  let out = ''
  stdout.setEncoding('utf8').on('data', (d: string) => (out += d))
  const p = spawnOnPty('sh', ['-c', 'test -t 0 && echo on-a-tty; while read x; do [ "$x" = end ] && exit 4; stty size; done'], {stdin, stdout}, new AbortController().signal)
  p.resize(30, 100)
  // Ask until the size shows: the relay applies it as it reads it, with no answer of its own.
  while (!out.includes('30 100')) {
    stdin.write('\n')
    await new Promise((r) => setTimeout(r, 20))
  }
  p.resize(40, 120)
  while (!out.includes('40 120')) {
    stdin.write('\n')
    await new Promise((r) => setTimeout(r, 20))
  }
  stdin.end('end\n')
  assert.equal(await p.exited, 4)
  assert.match(out, /^on-a-tty\r?\n/)
})
