// The context of one call into the pod runtime: one per CLI verb (built in
// src/base-command.ts) or per RPC (src/server/context.ts). It is a module of
// its own, importing only types, so that every runtime module can take it
// without importing the lifecycle (sandbox.ts) or anything that imports it.

import type {OpContext} from './exec.js'
import type {Settings} from './settings.js'
import type {Store} from './store.js'

/** Everything a lifecycle call needs; built once per command or RPC. */
export interface CallContext {
  settings: Settings
  store: Store
  ctx: OpContext
  /** a warning for the user (stderr) */
  warn: (message: string) => void
}
