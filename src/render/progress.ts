// A one-line progress report on stderr for long operations (rmp -a of many
// pods): only on a terminal that understands erase-line, so that nothing of it
// reaches a pipe, a log file or a script's captured stderr.

export interface Progress {
  /** replace the progress line */
  update(text: string): void
  /** erase it: before data is written to a terminal, and at the end */
  clear(): void
}

const silent: Progress = {update: () => undefined, clear: () => undefined}

/** A progress line on `stream`; none at all when it is not a terminal, or when there is no stream. */
export function progressLine(stream: NodeJS.WriteStream | undefined): Progress {
  if (!stream?.isTTY || process.env.TERM === 'dumb') return silent
  let shown = false
  return {
    update(text) {
      const width = stream.columns ? stream.columns - 1 : 79
      stream.write(`\r\u001b[K${text.slice(0, width)}`)
      shown = true
    },
    clear() {
      if (shown) stream.write('\r\u001b[K')
      shown = false
    },
  }
}
