// Colour for people, never for pipes: chalk is enabled per stream, only on a
// TTY and only when NO_COLOR is unset (https://no-color.org). When neither
// stream is coloured (scripts, CI), chalk is not even loaded.

import type {ChalkInstance} from 'chalk'

const wantsColour = (stream: NodeJS.WriteStream): boolean => Boolean(stream.isTTY) && !('NO_COLOR' in process.env) && process.env.TERM !== 'dumb'

const plain = (s: string) => s
const errColour = wantsColour(process.stderr)
const outColour = wantsColour(process.stdout)
const {Chalk} = errColour || outColour ? await import('chalk') : {Chalk: undefined}
const err: ChalkInstance | undefined = errColour && Chalk ? new Chalk({level: 1}) : undefined
const out: ChalkInstance | undefined = outColour && Chalk ? new Chalk({level: 1}) : undefined

/** Styles for stderr (messages) and stdout (tables). */
export const paint = {
  error: err ? (s: string) => err.bold.red(s) : plain,
  warn: err ? (s: string) => err.bold.yellow(s) : plain,
  dim: err ? (s: string) => err.dim(s) : plain,
  ready: out ? (s: string) => out.green(s) : plain,
  notReady: out ? (s: string) => out.yellow(s) : plain,
}
