// podctl's errors as gRPC statuses, with the codes containerd's CRI plugin
// returns for the same failures, so that a kubelet or crictl sees what it
// would see from containerd. The message is podctl's own (the one the CLI
// prints); the hint travels in trailing metadata for podctl's client.

import {Metadata, type ServerErrorResponse, status} from '@grpc/grpc-js'

import {ExitCode, type ExitCodeValue, messageOf, PodctlError} from '../runtime/errors.js'

/** Trailing metadata key holding a PodctlError's hint. */
export const hintMetadataKey = 'podctl-hint'

/**
 * The reservation error of the name index (store.reserveName). containerd
 * returns such a conflict as a plain error (Unknown); AlreadyExists says what
 * happened, and the CRI allows either.
 */
const nameReserved = /^failed to reserve pod name /

/** runp beyond the max-pods setting (store.reserveName): a quota, as gRPC names it. */
const tooManyPods = /^cannot run pod .*the max-pods setting allows/

/** podctl's exit codes and the status codes containerd returns for the same failures; any other is Unknown. */
const statusOfExitCode = new Map<ExitCodeValue, status>([
  [ExitCode.usage, status.INVALID_ARGUMENT],
  [ExitCode.notFound, status.NOT_FOUND],
  [ExitCode.prerequisite, status.FAILED_PRECONDITION],
  [ExitCode.timeout, status.DEADLINE_EXCEEDED],
  [ExitCode.interrupted, status.CANCELLED],
])

export function grpcCodeOf(err: PodctlError): status {
  if (nameReserved.test(err.message)) return status.ALREADY_EXISTS
  if (tooManyPods.test(err.message)) return status.RESOURCE_EXHAUSTED
  // containerd's plain errors: Unknown.
  return statusOfExitCode.get(err.exitCode) ?? status.UNKNOWN
}

/** The same table read backwards: the exit code of podctl's CRI client for a status. */
export function exitCodeOf(code: status): ExitCodeValue {
  if (code === status.ALREADY_EXISTS) return ExitCode.usage
  for (const [exitCode, grpcCode] of statusOfExitCode) if (grpcCode === code) return exitCode
  return ExitCode.failure
}

export function toServiceError(err: unknown): ServerErrorResponse {
  // One that already carries its code (see serviceError) goes as it is.
  if (err instanceof Error && typeof (err as ServerErrorResponse).code === 'number') return err as ServerErrorResponse
  const e = err instanceof PodctlError ? err : new PodctlError(messageOf(err), {cause: err})
  const metadata = new Metadata()
  if (e.hint) metadata.set(hintMetadataKey, e.hint)
  return Object.assign(new Error(e.message), {code: grpcCodeOf(e), details: e.message, metadata})
}

/** An error for a call that carries its own code (Unavailable, Unimplemented). */
export function serviceError(code: status, details: string): ServerErrorResponse {
  return Object.assign(new Error(details), {code, details})
}
