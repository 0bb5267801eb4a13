// The one error type of podctl's runtime. Every failure a user can act on is a
// PodctlError: a lowercase message with the IDs quoted, an exit code from the
// table below, an optional hint (what to do), and the cause it wraps.
// Rendering (colour, stack traces behind --debug) is the commands' business.

export const ExitCode = {
  /** success */
  ok: 0,
  /** the operation failed on the system (runtime, CNI, files) */
  failure: 1,
  /** bad input: flags, arguments, pod config */
  usage: 2,
  /** the pod named by the user does not exist */
  notFound: 3,
  /** a prerequisite is missing: not root, runc, catatonit, CNI plugins */
  prerequisite: 4,
  /** --timeout elapsed; the operation was rolled back */
  timeout: 5,
  /** `pods --exit-code`: the filters matched no pod (grep's "no match", with a code of its own) */
  noMatch: 6,
  /** the operation failed and so did its rollback: a NotReady pod is left for rmp -f */
  incomplete: 7,
  /** exec: its --timeout elapsed and the command was killed (timeout(1)'s status) */
  execTimedOut: 124,
  /** exec: the command exists but cannot be executed (a shell's status) */
  cannotExecute: 126,
  /** exec: no such command in the container (a shell's status) */
  commandNotFound: 127,
  /** interrupted by SIGINT/SIGTERM; the operation was rolled back */
  interrupted: 130,
} as const

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode]

/** For --help and the man pages: the EXIT STATUS section. */
export const exitCodeHelp: Record<number, string> = {
  [ExitCode.ok]: 'success',
  [ExitCode.failure]: 'the operation failed (runtime, network or state error)',
  [ExitCode.usage]: 'bad input: unknown flag, missing argument, invalid pod config',
  [ExitCode.notFound]: 'a pod ID or name given on the command line matches no pod',
  [ExitCode.prerequisite]: 'a prerequisite is missing (not root, no runc, catatonit or CNI plugins)',
  [ExitCode.timeout]: '--timeout elapsed; the operation was rolled back',
  [ExitCode.noMatch]: 'pods --exit-code: no pod matched the filters',
  [ExitCode.incomplete]: 'the operation failed (or was interrupted or timed out) and its rollback did not finish: the pod is left NotReady for rmp -f',
  [ExitCode.interrupted]: 'interrupted by a signal; the operation was rolled back',
}

export interface PodctlErrorOptions {
  exitCode?: ExitCodeValue
  hint?: string
  cause?: unknown
}

export class PodctlError extends Error {
  readonly exitCode: ExitCodeValue
  readonly hint?: string

  constructor(message: string, options: PodctlErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.name = 'PodctlError'
    this.exitCode = options.exitCode ?? ExitCode.failure
    this.hint = options.hint
  }
}

export const usageError = (message: string, hint?: string): PodctlError =>
  new PodctlError(message, {exitCode: ExitCode.usage, hint})

export const notFoundError = (message: string, hint?: string): PodctlError =>
  new PodctlError(message, {exitCode: ExitCode.notFound, hint})

export const prerequisiteError = (message: string, hint?: string): PodctlError =>
  new PodctlError(message, {exitCode: ExitCode.prerequisite, hint})

/** The message of any thrown value, for wrapping; a file system error in words (see fsErrorMessage). */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return fsErrorMessage(err) ?? err.message
  return String(err)
}

/** What a file system call was doing, for its error in words. */
const fsActions: Record<string, string> = {
  mkdir: 'create directory',
  scandir: 'list directory',
  opendir: 'list directory',
  open: 'open',
  stat: 'look at',
  lstat: 'look at',
  access: 'look at',
  readlink: 'read the link',
  rmdir: 'remove directory',
  unlink: 'remove',
  rename: 'rename',
  link: 'link',
  chmod: 'change the mode of',
  mkdtemp: 'create a directory in',
  write: 'write',
  read: 'read',
}

/** The errno codes that say a path given is wrong: bad input (exit 2), not a failure of the host. */
const badPathCodes: Record<string, string> = {
  ENOTDIR: 'a part of the path is not a directory',
  ENOENT: 'no such file or directory',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'the name is too long',
  EISDIR: 'it is a directory',
}

const hostCodes: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EEXIST: 'it exists already',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  EINVAL: 'invalid argument',
}

type FsError = Error & {code?: string; syscall?: string; path?: string}

/**
 * A node file system error ("ENOTDIR: not a directory, mkdir '/etc/passwd/x'")
 * as words: `cannot create directory "/etc/passwd/x": a part of the path is
 * not a directory`. Undefined for anything else.
 */
export function fsErrorMessage(err: unknown): string | undefined {
  const e = err as FsError
  if (!(err instanceof Error) || !e.code || !e.syscall || !e.path || !(e.syscall in fsActions)) return undefined
  const reason = badPathCodes[e.code] ?? hostCodes[e.code]
  if (!reason) return undefined
  return `cannot ${fsActions[e.syscall]} ${JSON.stringify(e.path)}: ${reason}`
}

/** Whether an error is a file system error that says a path given is wrong. */
export function isBadPathError(err: unknown): boolean {
  return fsErrorMessage(err) !== undefined && (err as FsError).code! in badPathCodes
}

/**
 * Wrap an error with the context of the layer that saw it fail, keeping the
 * exit code and hint of a PodctlError underneath:
 * `failed to set up network for pod "3f2a…": <cause>`.
 */
export function wrap(context: string, err: unknown): PodctlError {
  if (err instanceof PodctlError) {
    return new PodctlError(`${context}: ${err.message}`, {exitCode: err.exitCode, hint: err.hint, cause: err})
  }
  return new PodctlError(`${context}: ${messageOf(err)}`, {cause: err, exitCode: isBadPathError(err) ? ExitCode.usage : undefined})
}

/** The errno code of a Node system error, if any. */
export function errnoOf(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'code' in err && typeof (err as {code: unknown}).code === 'string') {
    return (err as {code: string}).code
  }
  return undefined
}

/** rmp of a READY pod without -f: the same words in-process and over CRI. */
export const podRunningError = (id: string): PodctlError =>
  new PodctlError(`pod sandbox "${id}" is running, please stop it first`, {hint: 'stop it with podctl stopp, or use rmp -f'})
