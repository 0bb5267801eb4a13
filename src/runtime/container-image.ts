// The image a container needs, pulled when it is not there (run, create --with-pull):
// in the local store, or with --runtime-endpoint in that runtime's.

import {wrap} from './errors.js'
import type {ImageBackend} from './images.js'

export async function ensureImage(images: ImageBackend, ref: string): Promise<void> {
  if ((await images.imageStatus(ref, false)).image) return
  await images.pullImage(ref, {}).catch((err) => {
    throw wrap(`pulling image "${ref}"`, err)
  })
}
