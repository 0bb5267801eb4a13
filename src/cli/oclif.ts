// The one door to oclif. Commands take Command, Flags, Args and CLIError from
// here, never from @oclif/core directly.
//
// Why: importing any part of oclif costs 40-120 ms on these machines — more
// than node's own start-up — and a daemonless CLI pays it on every call. So a
// plain invocation of a verb (no --help, only known flags; bin/run.js decides
// before anything is loaded) runs on the lean implementation in ./lean.ts:
// the same flag definitions, parsed with node's util.parseArgs. Help, errors
// in the command line and everything else go through oclif itself.

import type * as OclifArgs from '@oclif/core/args'
import type * as OclifCommand from '@oclif/core/command'
import type * as OclifErrors from '@oclif/core/errors'
import type * as OclifFlags from '@oclif/core/flags'

/** Set by ./main.ts when the lean path runs this process (the start-up snapshot bundles ./oclif-lean.ts instead). */
export const leanMode = (globalThis as {__podctlLean?: boolean}).__podctlLean === true

const impl = leanMode
  ? await import('./lean.js')
  : await Promise.all([import('@oclif/core/command'), import('@oclif/core/flags'), import('@oclif/core/args'), import('@oclif/core/errors')]).then(
      ([command, flags, args, errors]) => ({Command: command.Command, Flags: flags, Args: args, CLIError: errors.CLIError}),
    )

export const Command = impl.Command as unknown as typeof OclifCommand.Command
export const Flags = impl.Flags as unknown as typeof OclifFlags
export const Args = impl.Args as unknown as typeof OclifArgs
export const CLIError = impl.CLIError as unknown as typeof OclifErrors.CLIError
