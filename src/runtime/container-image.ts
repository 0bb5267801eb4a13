// The image a container needs, pulled when it is not in the store (run, create --with-pull).

import type {CallContext} from './context.js'
import {wrap} from './errors.js'

export async function ensureImage(rt: CallContext, ref: string): Promise<void> {
  const {ImageStore} = await import('../images/store.js')
  const store = new ImageStore(rt.settings)
  if (store.status(ref)) return
  rt.ctx.log(`image "${ref}" is not in the store: pulling it`)
  await store.pull(ref, {signal: rt.ctx.signal, log: rt.ctx.log}).catch((err) => {
    throw wrap(`pulling image "${ref}"`, err)
  })
}
