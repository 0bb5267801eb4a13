// ./oclif.ts as the start-up snapshot has it (see ./snapshot.ts): the lean
// path's Command, Flags, Args and CLIError, chosen when the snapshot is
// bundled rather than at import. A command line the lean path does not take
// never reaches the snapshot's commands: it goes to oclif in a child process.

export {Args, CLIError, Command, Flags} from './lean.js'
export const leanMode = true
