import assert from 'node:assert/strict'
import {test} from 'node:test'

import {mountPoints} from '../../../src/runtime/netns.js'

const mountinfo = [
  '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
  '36 22 0:4 net:[4026532281] /run/podctl/netns/abc rw shared:5 - nsfs nsfs rw',
  '37 22 8:1 /x /mnt/with\\040space rw - ext4 /dev/sda1 rw',
  '38 22 8:1 /y /mnt/tab\\011and\\134backslash rw - ext4 /dev/sda1 rw',
  '39 22 8:1 /z /mnt/new\\012line rw - ext4 /dev/sda1 rw',
  '40 22 8:1 /w /mnt/not\\08escape rw - ext4 /dev/sda1 rw',
  '',
].join('\n')

const cases: [string, boolean][] = [
  ['/', true],
  ['/run/podctl/netns/abc', true],
  ['/mnt/with space', true],
  ['/mnt/with\\040space', false],
  ['/mnt/tab\tand\\backslash', true],
  ['/mnt/new\nline', true],
  ['/mnt/not\\08escape', true],
  ['/run/podctl/netns', false],
  ['/mnt', false],
]
for (const [path, want] of cases) {
  test(`mountPoints ${want ? 'has' : 'lacks'} ${JSON.stringify(path)}`, () => assert.equal(mountPoints(mountinfo).has(path), want))
}

test('mountPoints of empty text is empty', () => assert.equal(mountPoints('').size, 0))
test('mountPoints holds exactly field 5 of each line', () => assert.equal(mountPoints(mountinfo).size, 6))
