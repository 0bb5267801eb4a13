// The unpack thread (./unpack-thread.ts): unpackLayer for each layer the
// main thread starts, side by side. A layer's tar stream arrives in buffers
// handed over; each goes back once the tar reader is past it: it may keep
// the end of one buffer until it has copied it with the next, so a buffer
// goes back when the one after the next is asked for. The last message of a
// layer is its end or its error.

import {parentPort} from 'node:worker_threads'

import {errnoOf, messageOf, PodctlError} from '../runtime/errors.js'
import {unpackLayer} from './unpack.js'
import type {FromWorker, ToWorker} from './unpack-thread.js'

type Bytes = {bytes: ArrayBuffer; length: number}
type Received = Bytes | 'end' | 'abort'

const port = parentPort
if (!port) throw new Error('unpack-worker.js runs as podctl\'s unpack thread')
const reply = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer)

const jobs = new Map<number, {queue: Received[]; wake?: () => void}>()

port.on('message', (m: ToWorker) => {
  if ('start' in m) return start(m.id, m.start)
  const job = jobs.get(m.id)
  if (!job) return
  job.queue.push('bytes' in m ? {bytes: m.bytes, length: m.length} : 'end' in m ? 'end' : 'abort')
  job.wake?.()
})

function start(id: number, dir: string): void {
  const job: {queue: Received[]; wake?: () => void} = {queue: []}
  jobs.set(id, job)
  const received = async function* (): AsyncGenerator<Buffer> {
    // The last two given to the tar reader: the one it reads, and the one whose end it may still copy.
    const held: Bytes[] = []
    for (;;) {
      while (job.queue.length === 0) await new Promise<void>((resolve) => (job.wake = resolve))
      const next = job.queue.shift() as Received
      if (next === 'end') return
      if (next === 'abort') throw new Error('the layer\'s download failed')
      if (held.length === 2) {
        const done = held.shift() as Bytes
        reply({id, back: done.bytes, length: done.length}, [done.bytes])
      }
      held.push(next)
      yield Buffer.from(next.bytes, 0, next.length)
    }
  }
  unpackLayer(received(), dir)
    .then(
      () => reply({id, done: true}),
      (err: unknown) =>
        reply({
          id,
          error: err instanceof PodctlError ? {message: err.message, exitCode: err.exitCode, hint: err.hint, podctl: true} : {message: messageOf(err), code: errnoOf(err)},
        }),
    )
    .finally(() => jobs.delete(id))
}
