// The CRI log reader on files in conmon's k8s-file format: records, --tail,
// --since, --timestamps, partial lines, --limit-bytes, -p paths and follow.

import assert from 'node:assert/strict'
import {appendFileSync, closeSync, openSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, test} from 'node:test'

import {
  formatTimestamp,
  type LogOptions,
  type LogStream,
  parseDuration,
  parseLogLine,
  parseSince,
  parseTimestamp,
  previousLogPath,
  readLogFile,
  tailStart,
} from '../../../src/runtime/container-logs.js'
import {podctlError, tempDir} from '../helpers.js'

const all: LogOptions = {tail: -1, timestamps: false, limitBytes: -1, follow: false}

const file = [
  '2026-12-03T10:00:00.000000001+00:00 stdout F one',
  '2026-12-03T10:00:01.5+00:00 stderr F oops',
  '2026-12-03T10:00:02.000000000Z stdout P par',
  '2026-12-03T10:00:02.100000000Z stdout P ti',
  '2026-12-03T10:00:02.200000000Z stdout F al',
  '2026-12-03T10:00:03.000000000+01:00 stdout F earlier by the zone',
  'not a record',
  '2026-12-03T10:00:04.000000000Z stdout F last',
  '',
].join('\n')

function logFile(text = file): string {
  const path = join(tempDir(), '0.log')
  writeFileSync(path, text)
  return path
}

async function read(path: string, options: Partial<LogOptions> = {}): Promise<{stdout: string; stderr: string; both: string}> {
  const out: Record<LogStream, string> = {stdout: '', stderr: ''}
  let both = ''
  await readLogFile(path, {...all, ...options}, {write: (stream, data) => {
    out[stream] += data.toString()
    both += data.toString()
  }})
  return {...out, both}
}

describe('parseLogLine', () => {
  test('a full record keeps its newline, a partial one has none', () => {
    const full = parseLogLine(Buffer.from('2026-12-03T10:00:00.5Z stdout F hello world'))
    assert.equal(full?.stream, 'stdout')
    assert.equal(full?.partial, false)
    assert.equal(full?.content.toString(), 'hello world\n')
    assert.equal(full?.nanos, parseTimestamp('2026-12-03T10:00:00.500000000Z'))
    const part = parseLogLine(Buffer.from('2026-12-03T10:00:00Z stderr P:x abc'))
    assert.equal(part?.partial, true)
    assert.equal(part?.content.toString(), 'abc')
  })

  test('an empty line and lines that are not records', () => {
    assert.equal(parseLogLine(Buffer.from('2026-12-03T10:00:00Z stdout F'))?.content.toString(), '\n')
    assert.equal(parseLogLine(Buffer.from('2026-12-03T10:00:00Z stdin F x')), null)
    assert.equal(parseLogLine(Buffer.from('yesterday stdout F x')), null)
    assert.equal(parseLogLine(Buffer.from('garbage')), null)
  })
})

describe('timestamps', () => {
  test('zones and fractions', () => {
    assert.equal(parseTimestamp('1970-01-01T00:00:01Z'), 1_000_000_000n)
    assert.equal(parseTimestamp('1970-01-01T01:00:01.000000002+01:00'), 1_000_000_002n)
    assert.equal(parseTimestamp('1970-01-01T00:00:00-00:30'), 1_800_000_000_000n)
    assert.equal(parseTimestamp('1970-01-01 00:00:00Z'), null)
  })

  test('--timestamps prints nine digits and the record\'s own zone', () => {
    assert.equal(formatTimestamp('2026-12-03T10:00:01.5+01:00'), '2026-12-03T10:00:01.500000000+01:00')
    assert.equal(formatTimestamp('2026-12-03T10:00:01Z'), '2026-12-03T10:00:01.000000000Z')
  })

  test('durations as Go writes them', () => {
    assert.equal(parseDuration('42m'), 42n * 60_000_000_000n)
    assert.equal(parseDuration('1h30m'), 90n * 60_000_000_000n)
    assert.equal(parseDuration('1.5s'), 1_500_000_000n)
    assert.equal(parseDuration('10'), null)
    assert.equal(parseDuration('m'), null)
  })

  test('--since: a duration, a time, a date, Unix seconds; anything else is bad input', () => {
    const now = 10_000_000_000_000n
    assert.equal(parseSince('10s', now), now - 10_000_000_000n)
    assert.equal(parseSince('1970-01-01T00:00:02Z', now), 2_000_000_000n)
    assert.equal(parseSince('1970-01-01T00:00:02', now), 2_000_000_000n)
    assert.equal(parseSince('1970-01-02', now), 86_400_000_000_000n)
    assert.equal(parseSince('3.25', now), 3_250_000_000n)
    assert.throws(() => parseSince('yesterday', now), podctlError(2, '--since "yesterday"'))
  })
})

test('-p names the previous attempt\'s file beside this one', () => {
  assert.equal(previousLogPath('/var/log/pods/x/web/2.log', 2), '/var/log/pods/x/web/1.log')
  assert.equal(previousLogPath('/var/log/pods/x/web_1.log', 1), '/var/log/pods/x/0.log')
  assert.equal(previousLogPath('/var/log/pods/x/web/0.log', 0), null)
})

describe('readLogFile', () => {
  test('streams apart, partial records joined, bad lines skipped', async () => {
    const {stdout, stderr} = await read(logFile())
    assert.equal(stdout, 'one\npartial\nearlier by the zone\nlast\n')
    assert.equal(stderr, 'oops\n')
  })

  test('--timestamps prefixes logical lines, not their continuations', async () => {
    const {stdout} = await read(logFile(), {timestamps: true})
    assert.match(stdout, /^2026-12-03T10:00:00\.000000001\+00:00 one\n2026-12-03T10:00:02\.000000000Z partial\n/)
  })

  test('--tail counts records; an unterminated last line is not one', async () => {
    // a line that is no record is still a line of the file
    assert.equal((await read(logFile(), {tail: 3})).both, 'earlier by the zone\nlast\n')
    assert.equal((await read(logFile(), {tail: 0})).both, '')
    assert.equal((await read(logFile(`${file}2026-12-03T10:00:05Z stdout F unfinished`), {tail: 1})).both, 'last\n')
    // --tail 1 of a split line is its last fragment only, as kubelet's
    assert.equal((await read(logFile(file.split('\n').slice(2, 5).join('\n') + '\n'), {tail: 1})).both, 'al\n')
  })

  test('tailStart across block boundaries', () => {
    const line = `${'x'.repeat(1000)}\n`
    const path = logFile(line.repeat(200))
    const fd = openSync(path, 'r')
    try {
      assert.equal(tailStart(fd, 200 * 1001, 3), 197 * 1001)
      assert.equal(tailStart(fd, 200 * 1001, 0), 200 * 1001)
      assert.equal(tailStart(fd, 200 * 1001, 500), 0)
    } finally {
      closeSync(fd)
    }
  })

  test('--since skips records stamped before it, zones honoured', async () => {
    const since = parseTimestamp('2026-12-03T10:00:02.1Z')!
    // 10:00:03+01:00 is 09:00:03Z: before it
    assert.equal((await read(logFile(), {since})).both, 'tial\nlast\n')
  })

  test('--limit-bytes cuts the output', async () => {
    assert.equal((await read(logFile(), {limitBytes: 6})).both, 'one\noo')
  })

  test('a missing file is named', async () => {
    await assert.rejects(read('/nonexistent/podctl/0.log'), podctlError(1, '"/nonexistent/podctl/0.log" does not exist'))
  })

  test('follow reads what is written while the container runs, then ends when it has exited', async () => {
    const path = logFile('2026-12-03T10:00:00Z stdout F first\n')
    let out = ''
    let asked = 0
    await readLogFile(path, {...all, follow: true}, {
      write: (_s, data) => void (out += data.toString()),
      running: async () => {
        asked++
        if (asked === 1) appendFileSync(path, '2026-12-03T10:00:01Z stdout P sec\n')
        if (asked === 2) appendFileSync(path, '2026-12-03T10:00:01Z stdout F ond\n')
        if (asked === 3) {
          appendFileSync(path, '2026-12-03T10:00:02Z stdout F written as it exited\n')
          return false
        }
        return true
      },
    })
    assert.equal(out, 'first\nsecond\nwritten as it exited\n')
  })
})
