// The streaming server's SPDY/3.1 framing, header compression and tokens,
// and one connection driven frame by frame over loopback TCP by a client
// made of the same primitives, as moby/spdystream would drive it.

import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {connect, createServer, type Server, type Socket} from 'node:net'
import {after, before, describe, test} from 'node:test'

import {type RemoteCommandRequest, type RemoteCommandRunner, remoteCommandSession} from '../../../src/server/streaming/remotecommand.js'
import {RequestCache, TooManyRequestsError} from '../../../src/server/streaming/requests.js'
import {spdyDictionary} from '../../../src/server/streaming/spdy-dictionary.js'
import {
  controlFrame,
  dataFrame,
  decodeHeaderBlock,
  encodeHeaderBlock,
  type Frame,
  FrameParser,
  frameType,
  HeaderCompressor,
  HeaderDecompressor,
  rstStatus,
  SpdyConnection,
  SpdyProtocolError,
  type SpdyStream,
} from '../../../src/server/streaming/spdy.js'

const adler32 = (b: Buffer) => {
  let a = 1
  let s = 0
  for (const byte of b) {
    a = (a + byte) % 65521
    s = (s + a) % 65521
  }
  return ((s << 16) | a) >>> 0
}

describe('the SPDY/3 header dictionary', () => {
  test('is the 1423 bytes of the draft, by SHA-256 and the DICTID peers name', () => {
    assert.equal(spdyDictionary.length, 1423)
    assert.equal(createHash('sha256').update(spdyDictionary).digest('hex'), '51d27341373f923f3cd88e1eb7162aeaa3723d7585ff2399201dc06498407f02')
    assert.equal(adler32(spdyDictionary), 0xe3c6a7c2)
  })
})

describe('frames', () => {
  const u32 = (n: number) => {
    const b = Buffer.alloc(4)
    b.writeUInt32BE(n)
    return b
  }

  test('control and data frames come out whole, however the bytes are split', () => {
    const bytes = Buffer.concat([controlFrame(frameType.ping, 0, u32(7)), dataFrame(3, 0x01, Buffer.from('hello')), dataFrame(5, 0, Buffer.alloc(0))])
    // The fixed header, bit for bit: C=1, version 3, type 6, flags 0, length 4.
    assert.deepEqual([...bytes.subarray(0, 8)], [0x80, 0x03, 0x00, 0x06, 0x00, 0x00, 0x00, 0x04])
    const parser = new FrameParser()
    const frames: Frame[] = []
    for (const byte of bytes) frames.push(...parser.push(Buffer.from([byte])))
    assert.deepEqual(frames, [
      {kind: 'control', type: frameType.ping, flags: 0, payload: u32(7)},
      {kind: 'data', streamId: 3, flags: 1, data: Buffer.from('hello')},
      {kind: 'data', streamId: 5, flags: 0, data: Buffer.alloc(0)},
    ])
    assert.deepEqual(new FrameParser().push(bytes).length, 3)
  })

  test('a control frame of another SPDY version is a protocol error', () => {
    const v2 = controlFrame(frameType.ping, 0, u32(1))
    v2.writeUInt16BE(0x8002, 0)
    assert.throws(() => new FrameParser().push(v2), SpdyProtocolError)
  })

  test('header blocks: counted, length-prefixed, lower-case names; the first of NUL-separated values', () => {
    const block = encodeHeaderBlock({streamtype: 'data', port: '8080', requestid: '0'})
    assert.deepEqual(block.subarray(0, 4), u32(3))
    assert.deepEqual(decodeHeaderBlock(block), {streamtype: 'data', port: '8080', requestid: '0'})
    const twoValues = Buffer.concat([u32(1), u32(1), Buffer.from('a'), u32(3), Buffer.from('x\0y')])
    assert.deepEqual(decodeHeaderBlock(twoValues), {a: 'x'})
    const upper = Buffer.concat([u32(1), u32(1), Buffer.from('A'), u32(0)])
    assert.throws(() => decodeHeaderBlock(upper), /not lower case/)
    assert.throws(() => decodeHeaderBlock(block.subarray(0, block.length - 1)), /truncated/)
  })

  test('header compression: one context per direction, the dictionary named in the zlib header', async () => {
    const deflate = new HeaderCompressor()
    const inflate = new HeaderDecompressor()
    const first = await deflate.run(encodeHeaderBlock({streamtype: 'error', port: '80', requestid: '0'}))
    // zlib header with FDICT set, then the dictionary's Adler-32.
    assert.equal(first[1] & 0x20, 0x20)
    assert.equal(first.readUInt32BE(2), 0xe3c6a7c2)
    const second = await deflate.run(encodeHeaderBlock({streamtype: 'data', port: '80', requestid: '0'}))
    // The second block refers back into the first: it is only readable in order, by the same context.
    assert.ok(second.length < first.length, `${second.length} < ${first.length}`)
    assert.deepEqual(decodeHeaderBlock(await inflate.run(first)), {streamtype: 'error', port: '80', requestid: '0'})
    assert.deepEqual(decodeHeaderBlock(await inflate.run(second)), {streamtype: 'data', port: '80', requestid: '0'})
    await assert.rejects(new HeaderDecompressor().run(Buffer.from('not zlib')), SpdyProtocolError)
    deflate.close()
    inflate.close()
  })
})

describe('tokens', () => {
  const request = {kind: 'portforward' as const, podSandboxId: 'a'.repeat(64)}

  test('8 URL-safe characters, good for one use', () => {
    const cache = new RequestCache()
    const token = cache.insert(request)
    assert.match(token, /^[A-Za-z0-9_-]{8}$/)
    assert.deepEqual(cache.consume(token), request)
    assert.equal(cache.consume(token), undefined)
    assert.equal(cache.consume('nosuchtk'), undefined)
  })

  test('expire after the TTL, and are gone once tried', () => {
    let now = 1000
    const cache = new RequestCache(60_000, 1000, () => now)
    const token = cache.insert(request)
    now += 60_000
    assert.equal(cache.consume(token), undefined)
    assert.equal(cache.size, 0)
  })

  test('at most so many wait; expired ones make room', () => {
    let now = 0
    const cache = new RequestCache(10, 2, () => now)
    cache.insert(request)
    cache.insert(request)
    assert.throws(() => cache.insert(request), TooManyRequestsError)
    now = 10
    cache.insert(request)
    assert.equal(cache.size, 1)
  })
})

/** The client end of a connection, frame by frame. */
class Client {
  private readonly parser = new FrameParser()
  private readonly deflate = new HeaderCompressor()
  private readonly inflate = new HeaderDecompressor()
  private readonly frames: Frame[] = []
  private wake: (() => void) | null = null
  ended = false

  constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.frames.push(...this.parser.push(chunk))
      this.wake?.()
    })
    socket.on('end', () => {
      this.ended = true
      this.wake?.()
    })
  }

  async synStream(id: number, headers: Record<string, string>, fin = false): Promise<void> {
    const head = Buffer.alloc(10)
    head.writeUInt32BE(id, 0)
    const block = await this.deflate.run(encodeHeaderBlock(headers))
    this.socket.write(controlFrame(frameType.synStream, fin ? 1 : 0, Buffer.concat([head, block])))
  }

  /** The next frame, with a control frame's header block decoded. */
  async next(): Promise<Frame & {headers?: Record<string, string>}> {
    while (this.frames.length === 0) {
      if (this.ended) throw new Error('the server closed the connection')
      await new Promise<void>((resolve) => (this.wake = resolve))
    }
    const frame = this.frames.shift()!
    if (frame.kind === 'control' && frame.type === frameType.synReply) return {...frame, headers: decodeHeaderBlock(await this.inflate.run(frame.payload.subarray(4)))}
    return frame
  }

  close(): void {
    this.deflate.close()
    this.inflate.close()
    this.socket.destroy()
  }
}

describe('a connection', () => {
  let server: Server
  let port = 0
  const accepted: SpdyStream[] = []
  const connections: SpdyConnection[] = []
  before(async () => {
    server = createServer((socket) => {
      const conn = new SpdyConnection(socket, Buffer.alloc(0), {
        idleTimeoutMs: 60_000,
        log: () => undefined,
        onStream: (stream) => {
          accepted.push(stream)
          if (stream.headers.streamtype === 'refuse') return stream.reset(rstStatus.refusedStream)
          stream.accept()
          // An echo: what comes in goes out, FIN for FIN.
          stream.pipe(stream)
        },
      })
      connections.push(conn)
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as {port: number}).port
  })
  after(() => server.close())

  const client = () =>
    new Promise<Client>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => resolve(new Client(socket)))
    })

  test('replies to each stream, carries data both ways, ends at FIN, echoes pings, says GOAWAY', async () => {
    const c = await client()
    await c.synStream(1, {streamtype: 'stdin'})
    const reply = await c.next()
    assert.ok(reply.kind === 'control' && reply.type === frameType.synReply)
    assert.equal(reply.payload.readUInt32BE(0), 1)
    assert.deepEqual(reply.headers, {})
    assert.deepEqual(accepted.at(-1)!.headers, {streamtype: 'stdin'})

    c.socket.write(dataFrame(1, 0, Buffer.from('ping me')))
    assert.deepEqual(await c.next(), {kind: 'data', streamId: 1, flags: 0, data: Buffer.from('ping me')})
    // A client's ping (odd ID) comes back as it was.
    const ping = Buffer.from([0, 0, 0, 5])
    c.socket.write(controlFrame(frameType.ping, 0, ping))
    assert.deepEqual(await c.next(), {kind: 'control', type: frameType.ping, flags: 0, payload: ping})
    // SETTINGS and WINDOW_UPDATE are read and ignored.
    c.socket.write(controlFrame(frameType.settings, 0, Buffer.from([0, 0, 0, 0])))
    c.socket.write(controlFrame(frameType.windowUpdate, 0, Buffer.from([0, 0, 0, 1, 0, 0, 1, 0])))
    c.socket.write(dataFrame(1, 0x01, Buffer.alloc(0)))
    assert.deepEqual(await c.next(), {kind: 'data', streamId: 1, flags: 1, data: Buffer.alloc(0)})

    // A second stream's header block is read through the same context.
    await c.synStream(3, {streamtype: 'stdout', port: '80'})
    const second = await c.next()
    assert.ok(second.kind === 'control' && second.type === frameType.synReply && second.payload.readUInt32BE(0) === 3)
    assert.deepEqual(accepted.at(-1)!.headers, {streamtype: 'stdout', port: '80'})

    connections.at(-1)!.close()
    const goaway = await c.next()
    assert.ok(goaway.kind === 'control' && goaway.type === frameType.goaway)
    assert.equal(goaway.payload.readUInt32BE(0), 3, 'the last stream ID seen')
    assert.equal(goaway.payload.readUInt32BE(4), 0)
    c.close()
  })

  test('a refused stream is reset; an even or reused stream ID is a protocol error', async () => {
    const c = await client()
    await c.synStream(1, {streamtype: 'refuse'})
    const rst = await c.next()
    assert.ok(rst.kind === 'control' && rst.type === frameType.rstStream)
    assert.deepEqual([rst.payload.readUInt32BE(0), rst.payload.readUInt32BE(4)], [1, rstStatus.refusedStream])
    await c.synStream(2, {streamtype: 'x'})
    const even = await c.next()
    assert.ok(even.kind === 'control' && even.type === frameType.rstStream)
    assert.deepEqual([even.payload.readUInt32BE(0), even.payload.readUInt32BE(4)], [2, rstStatus.protocolError])
    c.close()
  })

  test('a large write arrives whole and in order', async () => {
    const c = await client()
    await c.synStream(1, {streamtype: 'bulk'})
    await c.next()
    const payload = Buffer.alloc(3 * 1024 * 1024)
    for (let i = 0; i < payload.length; i++) payload[i] = i % 251
    for (let at = 0; at < payload.length; at += 65536) c.socket.write(dataFrame(1, 0, payload.subarray(at, at + 65536)))
    c.socket.write(dataFrame(1, 1, Buffer.alloc(0)))
    const got: Buffer[] = []
    for (;;) {
      const f = await c.next()
      assert.equal(f.kind, 'data')
      if (f.kind !== 'data') break
      got.push(f.data)
      if (f.flags & 1) break
    }
    assert.ok(Buffer.concat(got).equals(payload))
    c.close()
  })
})

describe('exec and attach sessions (channel.k8s.io v1-v4)', () => {
  let server: Server
  let port = 0
  /** What the next connection runs, and with which protocol. */
  let next: {protocol: string; request: RemoteCommandRequest; run: RemoteCommandRunner}
  before(async () => {
    server = createServer((socket) => {
      const session = remoteCommandSession(next.request, next.protocol, next.run, 60_000, () => undefined)
      const conn = new SpdyConnection(socket, Buffer.alloc(0), {idleTimeoutMs: 60_000, log: () => undefined, onStream: (s) => session.onStream(s)})
      conn.once('close', () => session.close())
      session.begin(conn)
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as {port: number}).port
  })
  after(() => server.close())

  const request = (over: Partial<RemoteCommandRequest> = {}): RemoteCommandRequest => ({kind: 'exec', containerId: 'c'.repeat(64), cmd: ['sh', '-c', 'exit 3'], tty: false, stdin: true, stdout: true, stderr: true, ...over})

  /** Opens the streams in client-go's order, sends stdin (and resize lines), and collects every stream's bytes until GOAWAY. */
  async function session(protocol: string, req: RemoteCommandRequest, run: RemoteCommandRunner, input: {stdin?: string; resize?: string} = {}) {
    next = {protocol, request: req, run}
    const c = await new Promise<Client>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => resolve(new Client(socket)))
    })
    const types = ['error', ...(req.stdin ? ['stdin'] : []), 'stdout', ...(req.tty ? [] : ['stderr']), ...(req.tty && protocol !== 'v2.channel.k8s.io' ? ['resize'] : [])]
    const ids: Record<string, number> = {}
    for (const [i, type] of types.entries()) {
      ids[type] = 1 + 2 * i
      await c.synStream(ids[type], {streamtype: type})
      const reply = await c.next()
      assert.ok(reply.kind === 'control' && reply.type === frameType.synReply, `a reply to ${type}`)
    }
    if (input.resize) c.socket.write(dataFrame(ids.resize, 0, Buffer.from(input.resize)))
    if (ids.stdin) c.socket.write(dataFrame(ids.stdin, 1, Buffer.from(input.stdin ?? '')))
    const got: Record<string, {data: string; fin: boolean}> = Object.fromEntries(types.map((t) => [t, {data: '', fin: false}]))
    const byId = Object.fromEntries(Object.entries(ids).map(([t, id]) => [id, t]))
    const order: string[] = []
    for (;;) {
      const f = await c.next()
      if (f.kind === 'control' && f.type === frameType.goaway) break
      if (f.kind !== 'data') continue
      const t = byId[f.streamId]
      got[t].data += f.data.toString()
      if (f.flags & 1) {
        got[t].fin = true
        order.push(t)
      }
    }
    c.close()
    return {got, order}
  }

  test('v4: stdin in, stdout and stderr out, then the exit code as NonZeroExitCode, after the output', async () => {
    const {got, order} = await session('v4.channel.k8s.io', request(), async (_req, io) => {
      let text = ''
      for await (const chunk of io.stdin!) text += chunk
      io.stdout!.write(text.toUpperCase())
      io.stderr!.write('to stderr')
      return 3
    }, {stdin: 'hello'})
    assert.deepEqual(got.stdout, {data: 'HELLO', fin: true})
    assert.deepEqual(got.stderr, {data: 'to stderr', fin: true})
    assert.deepEqual(JSON.parse(got.error.data), {
      metadata: {},
      status: 'Failure',
      message: 'command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3',
      reason: 'NonZeroExitCode',
      details: {causes: [{reason: 'ExitCode', message: '3'}]},
    })
    assert.equal(order.at(-1), 'error', 'the status comes last')
  })

  test('v4 with a tty: sizes from the resize stream (bad ones skipped), Success for exit 0', async () => {
    const sizes: string[] = []
    const {got} = await session('v4.channel.k8s.io', request({tty: true, stderr: false, cmd: ['sh']}), async (_req, io) => {
      io.onResize((s) => sizes.push(`${s.width}x${s.height}`))
      for await (const chunk of io.stdin!) io.stdout!.write(chunk)
      return 0
    }, {stdin: 'typed', resize: '{"Width":80,"Height":24}\n{"Width":0,"Height":5}\nnot json\n{"Width":100,"Height":30}\n'})
    assert.deepEqual(sizes, ['80x24', '100x30'])
    assert.equal(got.stdout.data, 'typed')
    assert.equal(got.error.data, '{"metadata":{},"status":"Success"}')
  })

  test('v4: a failure to run is an InternalError with the message', async () => {
    const {got} = await session('v4.channel.k8s.io', request({kind: 'attach', stdin: false}), async () => {
      throw new Error('container "c" is not running')
    })
    assert.deepEqual(JSON.parse(got.error.data), {
      metadata: {},
      status: 'Failure',
      message: 'Internal error occurred: container "c" is not running',
      reason: 'InternalError',
      details: {causes: [{message: 'container "c" is not running'}]},
      code: 500,
    })
  })

  test('v2 and v3: the error as text, nothing on success; no resize stream before v3', async () => {
    const failed = await session('v3.channel.k8s.io', request({stdin: false}), async () => 2)
    assert.equal(failed.got.error.data, 'command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 2')
    const ok = await session('v2.channel.k8s.io', request({tty: true, stderr: false}), async (_req, io) => {
      for await (const chunk of io.stdin!) io.stdout!.write(chunk)
      return 0
    }, {stdin: 'x'})
    assert.deepEqual(ok.got.error, {data: '', fin: true})
    assert.equal(ok.got.stdout.data, 'x')
  })
})
