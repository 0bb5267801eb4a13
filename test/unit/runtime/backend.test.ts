import assert from 'node:assert/strict'
import {setTimeout as sleep} from 'node:timers/promises'
import {describe, test} from 'node:test'

import {withDeadline} from '../../../src/runtime/backend.js'
import {PodctlError} from '../../../src/runtime/errors.js'
import type {CallContext} from '../../../src/runtime/context.js'

/** Only what withDeadline reads: the timeout and the command's signal. */
const runtime = (timeoutMs: number, signal: AbortSignal) => ({settings: {timeoutMs}, ctx: {signal, log: () => undefined}}) as unknown as CallContext

describe('withDeadline: each pod operation of a verb gets the whole --timeout', () => {
  test('a finished call leaves no timer behind, and the next call starts a fresh one', async () => {
    const command = new AbortController()
    const first = withDeadline(runtime(50, command.signal))
    first.done()
    const second = withDeadline(runtime(50, command.signal))
    await sleep(120)
    assert.equal(first.rt.ctx.signal.aborted, false)
    assert.equal(second.rt.ctx.signal.aborted, true)
    const reason = second.rt.ctx.signal.reason as PodctlError
    assert.ok(reason instanceof PodctlError)
    assert.equal(reason.exitCode, 5)
    assert.match(reason.message, /timed out after 50 ms/)
    second.done()
    assert.equal(command.signal.aborted, false, 'a call timing out does not cancel the command')
  })

  test('Ctrl-C of the command cancels the call in flight with its own reason', () => {
    const command = new AbortController()
    const call = withDeadline(runtime(60_000, command.signal))
    const interrupted = new PodctlError('interrupted by SIGINT', {exitCode: 130})
    command.abort(interrupted)
    assert.equal(call.rt.ctx.signal.reason, interrupted)
    call.done()
    const late = withDeadline(runtime(60_000, command.signal))
    assert.equal(late.rt.ctx.signal.reason, interrupted, 'a call started after Ctrl-C is cancelled at once')
    late.done()
  })
})
