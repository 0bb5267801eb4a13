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

/** What the stop path may still have to undo, as the record and the system say. */
export interface StopFacts extends Liveness {
  phase: PodPhase
  /** the record says CNI ADD ran and no DEL has since */
  networkAdded: boolean
  /** the pod's netns file is still a mount */
  netnsMounted: boolean
}

/**
 * Whether stopp, and rmp before it removes anything, run the stop path: for
 * anything but a cleanly stopped pod, whose pause is gone, network torn down
 * and netns removed. stopp may always be asked: it is idempotent and finishes
 * what a crash left (CRI).
 */
export function needsStop(facts: StopFacts): boolean {
  return facts.phase !== 'stopped' || facts.pauseAlive || facts.networkAdded || facts.netnsMounted
}

/** rmp without -f refuses a pod that is READY, as crictl does. */
export function canRemoveWithoutForce(state: PodSandboxState): boolean {
  return state !== 'SANDBOX_READY'
}
