// Colour for people, never for pipes: chalk is enabled per stream, only on a
// TTY and only when NO_COLOR is unset (https://no-color.org). Whether a stream
// is coloured is decided on its first use, not at import: the start-up
// snapshot evaluates this module when it is built, with no terminal.

import {Chalk, type ChalkInstance} from 'chalk'

const wantsColour = (stream: NodeJS.WriteStream): boolean => Boolean(stream.isTTY) && !('NO_COLOR' in process.env) && process.env.TERM !== 'dumb'

/** A chalk for the stream, or none; made once. */
function chalkFor(stream: () => NodeJS.WriteStream): () => ChalkInstance | undefined {
  let chalk: ChalkInstance | undefined | null = null
  return () => {
    if (chalk === null) chalk = wantsColour(stream()) ? new Chalk({level: 1}) : undefined
    return chalk
  }
}

const err = chalkFor(() => process.stderr)
const out = chalkFor(() => process.stdout)

/** Styles for stderr (messages) and stdout (tables). */
export const paint = {
  error: (s: string) => err()?.bold.red(s) ?? s,
  warn: (s: string) => err()?.bold.yellow(s) ?? s,
  dim: (s: string) => err()?.dim(s) ?? s,
  ready: (s: string) => out()?.green(s) ?? s,
  notReady: (s: string) => out()?.yellow(s) ?? s,
}
