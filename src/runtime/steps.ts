// The two devices of the lifecycle's steps (sandbox.ts): the undo stack of
// runPod, and the step timers that --debug prints.

import {messageOf, wrap} from './errors.js'
import type {OpContext} from './exec.js'

/** Each side effect's undo, pushed before the effect is made. */
export class UndoStack {
  private readonly undos: {name: string; fn: () => Promise<void>}[] = []

  push(name: string, fn: () => Promise<void>): void {
    this.undos.push({name, fn})
  }

  /** Run in reverse; stop at the first failure (what is left stays for rmp). */
  async unwind(log: (m: string) => void): Promise<Error | undefined> {
    while (this.undos.length > 0) {
      const undo = this.undos.pop()!
      try {
        await undo.fn()
        log(`undo ${undo.name}: done`)
      } catch (err) {
        log(`undo ${undo.name}: failed: ${messageOf(err)}`)
        return wrap(`failed to undo ${undo.name}`, err)
      }
    }
    return undefined
  }
}

/**
 * Logs each step's time (under --debug) when called at the end of the step.
 * The steps of one timer follow each other, so their times add up to the
 * whole; a branch that runs beside others has a timer of its own, marked
 * "(concurrent)", whose times overlap the enclosing step's.
 */
export type StepTimer = (step: string) => void

export function stepTimer(ctx: OpContext, concurrent = false): StepTimer {
  let last = performance.now()
  return (step) => {
    const now = performance.now()
    ctx.log(`step ${step}: ${(now - last).toFixed(1)} ms${concurrent ? ' (concurrent)' : ''}`)
    last = now
  }
}
