import assert from 'node:assert/strict'
import {describe, test} from 'node:test'

import {leanInvocation} from '../../../src/cli/lean.js'

const flag = (name: string, type: 'boolean' | 'option', char?: string) => ({name, type, char})
const manifest = {
  version: '0.1.0',
  commands: {
    runp: {flags: {runtime: flag('runtime', 'option', 'r'), debug: flag('debug', 'boolean', 'D')}, relativePath: ['dist', 'src', 'commands', 'runp.js']},
    'runp:jsonschema': {flags: {debug: flag('debug', 'boolean', 'D')}, aliases: ['runp:js'], relativePath: ['dist', 'src', 'commands', 'runp', 'jsonschema.js']},
  },
}

describe('leanInvocation: a subcommand directly after its parent', () => {
  const cases: [string[], string | undefined][] = [
    [['runp', 'jsonschema'], 'runp:jsonschema'],
    [['runp', 'js'], 'runp:jsonschema'],
    [['runp', 'jsonschema', '-D'], 'runp:jsonschema'],
    [['runp', 'pod.json'], 'runp'],
    // A file named jsonschema: by its path, or after a flag.
    [['runp', './jsonschema'], 'runp'],
    [['runp', '-r', 'crun', 'jsonschema'], 'runp'],
    // Help and flags the subcommand does not have go to oclif.
    [['runp', 'jsonschema', '--help'], undefined],
    [['runp', 'jsonschema', '-r', 'crun'], undefined],
    [['jsonschema'], undefined],
  ]
  for (const [argv, want] of cases) test(`${argv.join(' ')} -> ${want ?? 'oclif'}`, () => assert.equal(leanInvocation(argv, manifest), want))
})
