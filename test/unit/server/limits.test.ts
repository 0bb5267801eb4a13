// serve's message caps against what pods may carry: with the default max-pods,
// ListPodSandbox fits in one gRPC message (16 MiB, kubelet's and crictl's cap
// and serve's own) even when every pod carries the most runp lets it carry.

import assert from 'node:assert/strict'
import {describe, test} from 'node:test'

import {type MethodDefinition, status} from '@grpc/grpc-js'

import {criDefinition} from '../../../src/cri/proto.js'
import {maxCarriedBytes} from '../../../src/runtime/podconfig.js'
import {PodctlError} from '../../../src/runtime/errors.js'
import {builtinDefaults} from '../../../src/runtime/settings.js'
import {grpcCodeOf} from '../../../src/server/errors.js'

const grpcCap = 16 * 1024 * 1024

/**
 * The labels and annotations that encode largest within runp's bounds
 * (keys and values together at most maxCarriedBytes bytes): as many entries
 * as possible, each the shortest key not used yet and an empty value, since
 * every map entry costs six bytes of framing beside its key.
 */
function heaviestMaps(): {labels: Record<string, string>; annotations: Record<string, string>} {
  const maps = {labels: {} as Record<string, string>, annotations: {} as Record<string, string>}
  let budget = maxCarriedBytes
  const ascii = Array.from({length: 128}, (_, i) => String.fromCharCode(i))
  const keysOfLength = (n: number): string[] => (n === 0 ? [''] : keysOfLength(n - 1).flatMap((k) => ascii.map((c) => k + c)))
  for (let len = 0; budget > 0; len++) {
    for (const map of [maps.labels, maps.annotations]) {
      for (const key of keysOfLength(len)) {
        if (budget < len) break
        map[key] = ''
        budget -= len
      }
    }
  }
  return maps
}

describe('serve limits', () => {
  test('the default max-pods keeps ListPodSandbox under the 16 MiB cap with every pod at its largest', () => {
    const method = (criDefinition()['runtime.v1.RuntimeService'] as Record<string, MethodDefinition<unknown, unknown>>).ListPodSandbox
    // Names of 253 three-byte characters: the checks count characters, the wire counts bytes.
    const name = '\u4e00'.repeat(253)
    const pod = {
      id: 'f'.repeat(64),
      metadata: {name, uid: name, namespace: name, attempt: 4294967295},
      state: 'SANDBOX_NOTREADY',
      createdAt: String(2n ** 63n - 1n),
      ...heaviestMaps(),
      runtimeHandler: 'r'.repeat(253),
    }
    const one = method.responseSerialize({items: [pod]}).length
    const ten = method.responseSerialize({items: Array(10).fill(pod)}).length
    const perPod = (ten - one) / 9
    assert.ok(perPod > maxCarriedBytes, `the worst pod (${perPod} bytes) outweighs its bounded metadata`)
    const listed = one + perPod * (builtinDefaults.maxPods - 1)
    assert.ok(listed < grpcCap, `${builtinDefaults.maxPods} pods of ${perPod} bytes: ${listed} bytes`)
    // Half the cap: room for what a later CRI version adds to PodSandbox.
    assert.ok(listed < grpcCap / 2, `${listed} bytes`)
  })

  test('runp beyond max-pods is ResourceExhausted', () => {
    const err = new PodctlError('cannot run pod "a_b__0": 3 pods exist, and the max-pods setting allows 3')
    assert.equal(grpcCodeOf(err), status.RESOURCE_EXHAUSTED)
  })
})
