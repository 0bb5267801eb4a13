// The pod's lifecycle. The record keeps a phase (what podctl last did); the
// CRI state READY/NOTREADY is derived from the phase AND the live system on
// every read, never trusted from the record.
//
//              runp                 steps done, pause running
//   (none) ──────────► creating ───────────────────────────► ready
//                        │   │                                 │  │
//      failed, undo done │   │ failed, undo failed     stopp   │  │ pause died
//                        ▼   ▼                                 ▼  ▼ (derived)
//                    (none)  unknown ───── stopp ────────► stopped / ready+dead
//                                                              │
//                                  rmp (runs the stop path) ───┴──► (none)
//
// creating and unknown show as NOTREADY, as containerd maps UNKNOWN; only a
// `ready` pod whose pause process is alive (same PID, same start time) is
// SANDBOX_READY. A `creating` pod whose runp is still running holds the pod
// lock, which is how `rmp` tells it from one whose runp was killed.

import type {PodSandboxState} from '../cri/types.js'

export type PodPhase = 'creating' | 'ready' | 'stopped' | 'unknown'

export interface Liveness {
  /** the pause process recorded for the pod is still the same live process */
  pauseAlive: boolean
}

export function criState(phase: PodPhase, live: Liveness): PodSandboxState {
  return phase === 'ready' && live.pauseAlive ? 'SANDBOX_READY' : 'SANDBOX_NOTREADY'
}

/** stopp may always run: it is idempotent and finishes what a crash left (CRI). */
export function needsStop(phase: PodPhase, live: Liveness): boolean {
  return phase !== 'stopped' || live.pauseAlive
}

/** rmp without -f refuses a pod that is READY, as crictl does. */
export function canRemoveWithoutForce(state: PodSandboxState): boolean {
  return state !== 'SANDBOX_READY'
}
