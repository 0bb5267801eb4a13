// crictl takes its global options before the verb (`crictl --runtime-endpoint
// unix:///run/podctl/cri.sock pods`); oclif parses flags only after it. So
// that both orders work, the global flags written before the verb are moved
// behind it, before a `--` if there is one. The manifest says which flags are
// global (helpGroup GLOBAL, the same on every verb) and which take a value.
// Imported by bin/run.js only when the command line starts with a flag.

interface ManifestFlag {
  type: 'boolean' | 'option'
  char?: string
  helpGroup?: string
}

interface Manifest {
  commands: Record<string, {flags?: Record<string, ManifestFlag>}>
}

export function hoistGlobalFlags(argv: string[], manifest: Manifest): string[] {
  const globals = new Map<string, ManifestFlag>()
  for (const command of Object.values(manifest.commands)) {
    for (const [name, flag] of Object.entries(command.flags ?? {})) {
      if (flag.helpGroup !== 'GLOBAL') continue
      globals.set(`--${name}`, flag)
      if (flag.char) globals.set(`-${flag.char}`, flag)
    }
  }
  let i = 0
  while (i < argv.length) {
    const word = argv[i]
    const eq = word.startsWith('--') ? word.indexOf('=') : -1
    const flag = globals.get(eq > 0 ? word.slice(0, eq) : word)
    if (!flag) break
    const words = flag.type === 'option' && eq < 0 ? 2 : 1
    // A value missing, or no verb after the flags: leave the line to oclif, which says what is wrong.
    if (i + words >= argv.length) return argv
    i += words
  }
  if (i === 0) return argv
  const rest = argv.slice(i)
  // exec's words after the container are the command's (`exec web sh -c ...`): the flags go right after the verb.
  if (rest[0] === 'exec') return [rest[0], ...argv.slice(0, i), ...rest.slice(1)]
  const end = rest.includes('--') ? rest.indexOf('--') : rest.length
  return [...rest.slice(0, end), ...argv.slice(0, i), ...rest.slice(end)]
}
