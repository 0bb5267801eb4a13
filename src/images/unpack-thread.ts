// One worker thread beside the main one, shared by the layers a process
// unpacks at once: it writes their files. With everything on the main
// thread, the inflated bytes' hashing, the tar parsing and the file system
// calls of every layer took turns on one core while the other was mostly
// idle (1.6 of a 2.1 s pull of the bench's 117 MB image). The main thread
// keeps the downloads, the digests and the inflating; the unpack thread
// gets the tar stream in 1 MiB buffers, handed over and handed back to be
// filled again. So it makes no garbage of its own: each busy isolate keeps
// ~30 MiB of dead buffers until a collection, and a worker that inflated
// (or one per layer) took a pull to 150-185 MiB.

import {Worker} from 'node:worker_threads'

import {PodctlError, type ExitCodeValue} from '../runtime/errors.js'
import {unpackCompressed} from './unpack.js'

/** From the main thread: a layer's start, `length` bytes of `bytes`, its end, or that its tar stream failed. */
export type ToWorker = {id: number; start: string} | {id: number; bytes: ArrayBuffer; length: number} | {id: number; end: true} | {id: number; abort: true}

/** From the worker: a buffer handed back (to be filled again), the layer's end, or why it failed. */
export type FromWorker = {id: number; back: ArrayBuffer; length: number} | {id: number; done: true} | {id: number; error: WorkerError}

export type WorkerError = {message: string; podctl: true; exitCode: ExitCodeValue; hint?: string} | {message: string; podctl?: undefined; code?: string}

interface Job {
  reply(m: FromWorker): void
  crash(err: Error): void
}

interface Thread {
  worker: Worker
  jobs: Map<number, Job>
  idle?: NodeJS.Timeout
}

/**
 * The size of each message, and how many bytes may be out with the worker:
 * it holds two buffers (the tar reader may keep the end of one while it
 * reads the next), so the third lets the main thread run ahead.
 */
const batchBytes = 1 << 20
const outLimit = 3 * batchBytes

/** How long an idle worker is kept for the next layer (it costs ~35 ms to start). */
const idleMs = 2000

let thread: Thread | undefined
let nextId = 0

function theThread(): Thread {
  if (thread) {
    clearTimeout(thread.idle)
    thread.worker.ref()
    return thread
  }
  // Resolved here, not at import: the start-up snapshot's import.meta.url is set only when it runs.
  // Three directories down, as every module is, also in the snapshot's bundle.
  const worker = new Worker(new URL('../../../dist/src/images/unpack-worker.js', import.meta.url))
  const t: Thread = {worker, jobs: new Map()}
  const crash = (err: Error) => {
    if (thread === t) thread = undefined
    for (const job of t.jobs.values()) job.crash(err)
    t.jobs.clear()
  }
  worker.on('message', (m: FromWorker) => t.jobs.get(m.id)?.reply(m))
  worker.on('error', crash)
  worker.on('exit', (code) => crash(new PodctlError(`the unpack thread exited (code ${code}) before the layer was unpacked`)))
  thread = t
  return t
}

/** Once no layer is under way, the worker no longer keeps the process alive, and goes after a while. */
function release(t: Thread): void {
  if (t.jobs.size > 0 || thread !== t) return
  t.worker.unref()
  t.idle = setTimeout(() => {
    if (thread === t && t.jobs.size === 0) {
      thread = undefined
      void t.worker.terminate()
    }
  }, idleMs).unref()
}

/** unpackCompressed, its files written by the unpack thread. */
export function unpackOffThread(source: AsyncIterable<Buffer>, gzip: boolean, dir: string): Promise<string> {
  return unpackCompressed(source, gzip, dir, writeOffThread)
}

/** unpackLayer on the unpack thread: the tar stream goes to it in buffers; it fails as unpackLayer would. */
async function writeOffThread(tar: AsyncIterable<Buffer>, dir: string): Promise<void> {
  const t = theThread()
  const id = nextId++
  const pool: ArrayBuffer[] = []
  let out = 0
  let wake: (() => void) | undefined
  let failure: Error | undefined
  let settled = false
  const result = new Promise<void>((resolve, reject) => {
    const fail = (err: Error) => {
      settled = true
      failure ??= err
      wake?.()
      reject(failure)
    }
    t.jobs.set(id, {
      reply: (m) => {
        if ('back' in m) {
          out -= m.length
          pool.push(m.back)
          if (out < outLimit) wake?.()
        } else if ('done' in m) {
          settled = true
          resolve()
        } else fail(revived(m.error))
      },
      crash: fail,
    })
  })
  result.catch(() => undefined)
  const post = (m: ToWorker, transfer: ArrayBuffer[] = []) => t.worker.postMessage(m, transfer)
  let filling: Buffer | undefined
  let filled = 0
  const send = () => {
    if (!filling) return
    const bytes = filling.buffer as ArrayBuffer
    out += filled
    post({id, bytes, length: filled}, [bytes])
    filling = undefined
    filled = 0
  }
  post({id, start: dir})
  try {
    for await (const chunk of tar) {
      for (let off = 0; off < chunk.length; ) {
        // Memory of its own (allocUnsafeSlow: never a slice of the shared pool), so that it can be handed over.
        filling ??= pool.length > 0 ? Buffer.from(pool.pop() as ArrayBuffer) : Buffer.allocUnsafeSlow(batchBytes)
        const n = chunk.copy(filling, filled, off)
        off += n
        filled += n
        if (filled === batchBytes) send()
      }
      while (out >= outLimit && !failure) await new Promise<void>((resolve) => (wake = resolve))
      // The worker failed (a refused entry): stop reading; the caller drains the download.
      if (failure) break
    }
    if (!failure) {
      send()
      post({id, end: true})
    }
    await result
  } catch (err) {
    // The tar stream failed (a corrupt gzip, a cut download): the caller removes the directory once the worker has
    // stopped writing into it.
    if (!settled) {
      post({id, abort: true})
      await result.catch(() => undefined)
    }
    throw err
  } finally {
    t.jobs.delete(id)
    release(t)
  }
}

function revived(e: WorkerError): Error {
  if (e.podctl) return new PodctlError(e.message, {exitCode: e.exitCode, hint: e.hint})
  return Object.assign(new Error(e.message), e.code ? {code: e.code} : {})
}
