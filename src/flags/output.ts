// Output flags shared by pods, inspectp and (later) statsp.

import {Flags} from '../cli/oclif.js'

export const outputFlag = (options: {formats: string[]; default: string}) =>
  Flags.string({
    char: 'o',
    description: `output format, one of: ${options.formats.join(', ')}`,
    default: options.default,
    options: options.formats,
  })

export const quietFlag = (description: string) => Flags.boolean({char: 'q', description})
