import assert from 'node:assert/strict'
import {describe, test} from 'node:test'

import {defaultCgroupParent, expandSlice, podCgroupsPath} from '../../../src/runtime/cgroups.js'

const id = 'c0ffee'.repeat(10) + 'c0ff'

describe('expandSlice', () => {
  const valid: [string, string][] = [
    ['-.slice', '/'],
    ['test.slice', '/test.slice'],
    ['test', '/test.slice'],
    ['kubepods-burstable.slice', '/kubepods.slice/kubepods-burstable.slice'],
    ['kubepods-besteffort-pod1234.slice', '/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1234.slice'],
  ]
  for (const [slice, want] of valid) test(`${slice} -> ${want}`, () => assert.equal(expandSlice(slice), want))

  for (const slice of ['-foo.slice', 'foo-.slice', 'a--b.slice', 'a/b.slice']) {
    test(`${slice} is not a slice name`, () => assert.throws(() => expandSlice(slice), new RegExp(`"${slice}" is not a valid systemd slice name`)))
  }
})

describe('podCgroupsPath', () => {
  const cases: [string, string | undefined, string][] = [
    ['no parent: podctl\'s own', undefined, `${defaultCgroupParent}/${id}`],
    ['an empty parent: the default', '', `/podctl/${id}`],
    ['a cgroupfs path', '/kubepods/burstable', `/kubepods/burstable/${id}`],
    ['a relative cgroupfs path is rooted', 'kubepods/burstable', `/kubepods/burstable/${id}`],
    ['a trailing slash', '/a/b/', `/a/b/${id}`],
    ['a root slice with a slash', '/test.slice', `/test.slice/${id}`],
    ['a nested slice name', 'kubepods-burstable.slice', `/kubepods.slice/kubepods-burstable.slice/${id}`],
    ['an already expanded slice path is kept', '/kubepods.slice/kubepods-burstable.slice', `/kubepods.slice/kubepods-burstable.slice/${id}`],
    ['".." cannot climb above the cgroup root', '/../../etc', `/etc/${id}`],
  ]
  for (const [label, parent, want] of cases) test(`${label}: ${JSON.stringify(parent)}`, () => assert.equal(podCgroupsPath(parent, id), want))

  for (const parent of ['a--b.slice', '/-x.slice', 'x-.slice']) {
    test(`an invalid slice parent ${parent} throws`, () => assert.throws(() => podCgroupsPath(parent, id), /is not a valid systemd slice name/))
  }
})
