// Output flags shared by pods, inspectp and statsp: -o, -q, --template.

import {Flags} from '../cli/oclif.js'

import {compileTemplate, type GoTemplate} from '../render/template.js'
import {usageError} from '../runtime/errors.js'

export const outputFlag = (options: {formats: string[]; default: string}) =>
  Flags.string({
    char: 'o',
    description: `output format, one of: ${options.formats.join(', ')}${options.formats.includes('go-template') ? ' (go-template runs --template)' : ''}`,
    default: options.default,
    options: options.formats,
  })

export const quietFlag = (description: string) => Flags.boolean({char: 'q', description})

/** --template, read only with -o go-template (crictl's pair of flags). */
export const templateFlag = () =>
  Flags.string({description: 'Go template for -o go-template, run on the JSON output, e.g. {{.status.network.ip}}; see podctl(1), TEMPLATES'})

/**
 * The compiled --template when -o go-template is asked for, checked before
 * any work is done: a bad template, or one flag without the other, is a usage error.
 */
export function goTemplate(flags: {output?: string; template?: string}): GoTemplate | undefined {
  if (flags.output !== 'go-template') {
    if (flags.template !== undefined) throw usageError('--template is only used with -o go-template', `add: -o go-template --template '${flags.template}'`)
    return undefined
  }
  if (flags.template === undefined) throw usageError('-o go-template needs --template', `e.g. --template '{{.status.network.ip}}'`)
  return compileTemplate(flags.template)
}
