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

export function grpcCodeOf(err: PodctlError): status {
  if (nameReserved.test(err.message)) return status.ALREADY_EXISTS
  switch (err.exitCode) {
    case ExitCode.usage:
      return status.INVALID_ARGUMENT
    case ExitCode.notFound:
      return status.NOT_FOUND
    case ExitCode.prerequisite:
      return status.FAILED_PRECONDITION
    case ExitCode.timeout:
      return status.DEADLINE_EXCEEDED
    case ExitCode.interrupted:
      return status.CANCELLED
    default:
      // containerd's plain errors: Unknown.
      return status.UNKNOWN
  }
}

/** grpcCodeOf read backwards: the exit code of podctl's CRI client for a status. */
export function exitCodeOf(code: status): ExitCodeValue {
  switch (code) {
    case status.INVALID_ARGUMENT:
    case status.ALREADY_EXISTS:
      return ExitCode.usage
    case status.NOT_FOUND:
      return ExitCode.notFound
    case status.FAILED_PRECONDITION:
      return ExitCode.prerequisite
    case status.DEADLINE_EXCEEDED:
      return ExitCode.timeout
    case status.CANCELLED:
      return ExitCode.interrupted
    default:
      return ExitCode.failure
  }
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
