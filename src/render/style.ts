// Colour for people, never for pipes: chalk is enabled per stream, only on a
// TTY and only when NO_COLOR is unset (https://no-color.org).

import {Chalk, type ChalkInstance} from 'chalk'

const colourFor = (stream: NodeJS.WriteStream): ChalkInstance =>
  new Chalk({level: stream.isTTY && !('NO_COLOR' in process.env) && process.env.TERM !== 'dumb' ? 1 : 0})

const err = colourFor(process.stderr)
const out = colourFor(process.stdout)

/** Styles for stderr (messages) and stdout (tables). */
export const paint = {
  error: (s: string) => err.bold.red(s),
  warn: (s: string) => err.bold.yellow(s),
  dim: (s: string) => err.dim(s),
  ready: (s: string) => out.green(s),
  notReady: (s: string) => out.yellow(s),
}
