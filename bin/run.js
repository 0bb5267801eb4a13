#!/usr/bin/env node
// podctl's entry point without the start-up snapshot (bin/podctl uses it when
// it has been built for this node): the same main, with each verb's module
// and oclif imported when needed. src/cli/main.ts says what runs where.
import {main} from '../dist/src/cli/main.js'

const root = new URL('../', import.meta.url)
await main(process.argv.slice(2), {
  root,
  loadCommand: async (_id, relativePath) => (await import(new URL(relativePath.join('/'), root).href)).default,
  oclif: async (argv) => {
    const {execute} = await import('@oclif/core/execute')
    await execute({dir: import.meta.url, args: argv})
  },
})
