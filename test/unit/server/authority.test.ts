// The authority filter in front of grpc-js: HPACK decoding against RFC 7541's
// own examples, and header blocks re-encoded with a valid :authority.

import assert from 'node:assert/strict'
import {describe, test} from 'node:test'

import {AuthorityFilter, encodeLiterals, frame, HpackDecoder, withUnixAuthority} from '../../../src/server/authority.js'

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex')
const pairs = (fields: {name: string; value: string}[]) => fields.map((f) => [f.name, f.value])

describe('HPACK decoding', () => {
  test('RFC 7541 C.4: requests with Huffman, indexing and a dynamic table reference', () => {
    const hpack = new HpackDecoder()
    assert.deepEqual(pairs(hpack.decode(hex('8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff'))), [
      [':method', 'GET'],
      [':scheme', 'http'],
      [':path', '/'],
      [':authority', 'www.example.com'],
    ])
    assert.deepEqual(pairs(hpack.decode(hex('8286 84be 5886 a8eb 1064 9cbf'))), [
      [':method', 'GET'],
      [':scheme', 'http'],
      [':path', '/'],
      [':authority', 'www.example.com'],
      ['cache-control', 'no-cache'],
    ])
    assert.deepEqual(pairs(hpack.decode(hex('8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf'))), [
      [':method', 'GET'],
      [':scheme', 'https'],
      [':path', '/index.html'],
      [':authority', 'www.example.com'],
      ['custom-key', 'custom-value'],
    ])
  })

  test('a reference past the table, bad padding and a truncated string are errors', () => {
    assert.throws(() => new HpackDecoder().decode(hex('be')))
    assert.throws(() => new HpackDecoder().decode(hex('0481 00')))
    assert.throws(() => new HpackDecoder().decode(hex('0405 6162')))
  })

  test('the re-encoded literals decode to the same fields, and add nothing to the table', () => {
    const fields = [
      {name: ':method', value: 'POST', neverIndexed: false},
      {name: 'x-long', value: 'v'.repeat(300), neverIndexed: false},
      {name: 'authorization', value: 'secret', neverIndexed: true},
    ]
    const decoded = new HpackDecoder().decode(encodeLiterals(fields))
    assert.deepEqual(decoded, fields)
  })
})

describe(':authority of a request', () => {
  const f = (name: string, value: string) => ({name, value, neverIndexed: false})
  for (const authority of ['/run/podctl/cri.sock', '%2Frun%2Fpodctl%2Fcri.sock', '', 'localhost']) {
    test(`"${authority}" becomes localhost`, () => {
      const out = withUnixAuthority([f(':method', 'POST'), f(':scheme', 'http'), f(':path', '/x'), f(':authority', authority), f('te', 'trailers')])
      assert.deepEqual(pairs(out), [[':method', 'POST'], [':scheme', 'http'], [':path', '/x'], [':authority', 'localhost'], ['te', 'trailers']])
    })
  }
  test('a missing one is added after the pseudo-headers; trailers are left alone', () => {
    assert.deepEqual(pairs(withUnixAuthority([f(':method', 'POST'), f(':path', '/x'), f('te', 'trailers')])), [
      [':method', 'POST'],
      [':path', '/x'],
      [':authority', 'localhost'],
      ['te', 'trailers'],
    ])
    assert.deepEqual(pairs(withUnixAuthority([f('grpc-status', '0')])), [['grpc-status', '0']])
  })
})

describe('the frame filter', () => {
  const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1')
  const settings = frame(4, 0, 0, Buffer.alloc(0))
  // :method POST, :scheme http, :path /p, :authority /tmp/a.sock (indexed name, incremental indexing)
  const block = Buffer.concat([hex('83 86'), hex('44 02 2f 70'), hex('41 0b'), Buffer.from('/tmp/a.sock')])

  test('byte by byte, with padding and CONTINUATION, frames come out with the authority replaced', () => {
    const headers = frame(1, 0x8 | 0x1, 1, Buffer.concat([Buffer.from([2]), block.subarray(0, 5), Buffer.alloc(2)]))
    const continuation = frame(9, 0x4, 1, block.subarray(5))
    const data = frame(0, 0x1, 1, Buffer.from('abc'))
    const input = Buffer.concat([preface, settings, headers, continuation, data])
    const filter = new AuthorityFilter()
    const out = Buffer.concat([...input].flatMap((b) => filter.push(Buffer.from([b]))))
    assert.deepEqual(out.subarray(0, preface.length + settings.length), Buffer.concat([preface, settings]))
    let at = preface.length + settings.length
    const length = out.readUIntBE(at, 3)
    assert.equal(out[at + 3], 1, 'a HEADERS frame')
    assert.equal(out[at + 4], 0x4 | 0x1, 'END_HEADERS and END_STREAM, no padding')
    const fields = new HpackDecoder().decode(out.subarray(at + 9, at + 9 + length))
    assert.deepEqual(pairs(fields), [[':method', 'POST'], [':scheme', 'http'], [':path', '/p'], [':authority', 'localhost']])
    at += 9 + length
    assert.deepEqual(out.subarray(at), data, 'DATA is copied as it came')
  })

  test('a second request that refers to the first one’s indexed authority is still rewritten', () => {
    const filter = new AuthorityFilter()
    filter.push(Buffer.concat([preface, frame(1, 0x4, 1, block)]))
    const [second] = filter.push(frame(1, 0x4, 3, hex('83 86 be 44 02 2f 70')))
    assert.deepEqual(pairs(new HpackDecoder().decode(second.subarray(9))), [
      [':method', 'POST'],
      [':scheme', 'http'],
      [':path', '/p'],
      [':authority', 'localhost'],
    ])
  })

  test('a block it cannot decode goes on unchanged, and so does everything after it', () => {
    const filter = new AuthorityFilter()
    const bad = frame(1, 0x4, 1, hex('ff ff ff ff ff'))
    const after = frame(1, 0x4, 3, block)
    assert.deepEqual(Buffer.concat(filter.push(Buffer.concat([preface, bad, after]))), Buffer.concat([preface, bad, after]))
  })
})
