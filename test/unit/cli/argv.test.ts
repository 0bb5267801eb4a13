import assert from 'node:assert/strict'
import {describe, test} from 'node:test'

import {hoistGlobalFlags} from '../../../src/cli/argv.js'

const manifest = {
  commands: {
    pods: {
      flags: {
        root: {type: 'option' as const, helpGroup: 'GLOBAL'},
        'runtime-endpoint': {type: 'option' as const, helpGroup: 'GLOBAL'},
        timeout: {type: 'option' as const, char: 't', helpGroup: 'GLOBAL'},
        debug: {type: 'boolean' as const, char: 'D', helpGroup: 'GLOBAL'},
        quiet: {type: 'boolean' as const, char: 'q'},
      },
    },
  },
}

describe('hoistGlobalFlags: crictl puts global flags before the verb', () => {
  const cases: [string[], string[]][] = [
    [['--runtime-endpoint', 'unix:///s.sock', 'pods'], ['pods', '--runtime-endpoint', 'unix:///s.sock']],
    [['--runtime-endpoint=unix:///s.sock', 'pods', '-q'], ['pods', '-q', '--runtime-endpoint=unix:///s.sock']],
    [['-D', '-t', '5s', 'runp', 'pod.json'], ['runp', 'pod.json', '-D', '-t', '5s']],
    [['--root', '/r', 'runp', 'jsonschema'], ['runp', 'jsonschema', '--root', '/r']],
    [['--root', '/r', 'rmp', '--', '-odd-name'], ['rmp', '--root', '/r', '--', '-odd-name']],
    // exec: what follows the container is the command's, so the flags go right after the verb.
    [['--runtime-endpoint', 'unix:///s.sock', 'exec', '-s', 'web', 'sh', '-c', 'echo'], ['exec', '--runtime-endpoint', 'unix:///s.sock', '-s', 'web', 'sh', '-c', 'echo']],
    // Unchanged: a verb first, a flag that is not global, a value or a verb missing.
    [['pods', '--root', '/r'], ['pods', '--root', '/r']],
    [['-q', 'pods'], ['-q', 'pods']],
    [['--root'], ['--root']],
    [['--root', '/r'], ['--root', '/r']],
    [['-D'], ['-D']],
  ]
  for (const [argv, want] of cases) test(`${argv.join(' ')} -> ${want.join(' ')}`, () => assert.deepEqual(hoistGlobalFlags(argv, manifest), want))
})
