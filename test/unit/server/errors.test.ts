// podctl's errors as gRPC statuses and back: what serve answers, and the exit
// code its client (--runtime-endpoint) gives the same failure.

import assert from 'node:assert/strict'
import {describe, test} from 'node:test'

import {status} from '@grpc/grpc-js'

import {ExitCode, type ExitCodeValue, PodctlError} from '../../../src/runtime/errors.js'
import {exitCodeOf, grpcCodeOf, hintMetadataKey, toServiceError} from '../../../src/server/errors.js'

describe('gRPC status codes', () => {
  const table: [ExitCodeValue, status][] = [
    [ExitCode.failure, status.UNKNOWN],
    [ExitCode.usage, status.INVALID_ARGUMENT],
    [ExitCode.notFound, status.NOT_FOUND],
    [ExitCode.prerequisite, status.FAILED_PRECONDITION],
    [ExitCode.timeout, status.DEADLINE_EXCEEDED],
    [ExitCode.interrupted, status.CANCELLED],
  ]
  for (const [exitCode, code] of table) {
    test(`exit code ${exitCode} is ${status[code]}, and back`, () => {
      assert.equal(grpcCodeOf(new PodctlError('x', {exitCode})), code)
      assert.equal(exitCodeOf(code), exitCode)
    })
  }

  test('a reserved name is AlreadyExists, a usage error for the client', () => {
    const err = new PodctlError('failed to reserve pod name "a_b_c_0": name is reserved by pod "ff"', {exitCode: ExitCode.usage})
    assert.equal(grpcCodeOf(err), status.ALREADY_EXISTS)
    assert.equal(exitCodeOf(status.ALREADY_EXISTS), ExitCode.usage)
  })

  test('statuses podctl never sends are failures for the client', () => {
    for (const code of [status.UNIMPLEMENTED, status.UNAVAILABLE, status.INTERNAL, status.PERMISSION_DENIED]) assert.equal(exitCodeOf(code), ExitCode.failure)
  })

  test('the message travels as details, the hint as trailing metadata', () => {
    const e = toServiceError(new PodctlError('pod "x" not found', {exitCode: ExitCode.notFound, hint: 'list pods'}))
    assert.equal(e.code, status.NOT_FOUND)
    assert.equal(e.details, 'pod "x" not found')
    assert.deepEqual(e.metadata?.get(hintMetadataKey), ['list pods'])
    assert.equal(toServiceError(new Error('boom')).code, status.UNKNOWN)
  })
})
