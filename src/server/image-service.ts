// runtime.v1.ImageService. podctl has no image store yet: the only image on
// the node is the pause rootfs it builds from the host's catatonit. So the
// image list is empty, ImageFsInfo reports what the pause rootfs takes under
// the state root (the kubelet's image garbage collector reads it), and pulling
// or removing images answers UNIMPLEMENTED.

import {lstat, readdir} from 'node:fs/promises'
import {join} from 'node:path'

import type {UntypedServiceImplementation} from '@grpc/grpc-js'

import {imageServiceDefinition} from '../cri/proto.js'
import {errnoOf} from '../runtime/errors.js'
import {nowNanos} from '../runtime/stats.js'
import {type ServerContext, unimplemented} from './context.js'

const noImages = 'podctl has no image store yet: pods run its built-in pause rootfs'

export function imageServiceHandlers(ctx: ServerContext): UntypedServiceImplementation {
  const implemented: UntypedServiceImplementation = {
    // Empty until images exist.
    ListImages: ctx.unary('ListImages', async () => ({}), {mutates: false}),
    ImageFsInfo: ctx.unary(
      'ImageFsInfo',
      async () => {
        const usage = await diskUsage(ctx.store.pauseDir())
        const filesystem = {
          timestamp: nowNanos().toString(),
          fsId: {mountpoint: ctx.settings.root},
          usedBytes: {value: usage.bytes.toString()},
          inodesUsed: {value: usage.inodes.toString()},
        }
        return {imageFilesystems: [filesystem]}
      },
      {mutates: false},
    ),
  }
  return Object.fromEntries(
    Object.entries(imageServiceDefinition()).map(([rpc, def]) => [
      rpc,
      implemented[rpc] ?? unimplemented(rpc, rpc === 'StreamImages' ? 'use ListImages' : noImages, def.responseStream),
    ]),
  )
}

/** Bytes and inodes under a directory, as du counts them; a missing directory is empty. */
export async function diskUsage(dir: string): Promise<{bytes: bigint; inodes: bigint}> {
  let bytes = 0n
  let inodes = 0n
  const walk = async (path: string): Promise<void> => {
    let st
    try {
      st = await lstat(path, {bigint: true})
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return
      throw err
    }
    bytes += st.blocks * 512n
    inodes += 1n
    if (st.isDirectory()) for (const name of await readdir(path)) await walk(join(path, name))
  }
  await walk(dir)
  return {bytes, inodes}
}
