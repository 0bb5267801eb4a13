// runtime.v1.ImageService over the image store the CLI's verbs use
// (src/runtime/images.ts), so images pulled by either are seen by both.
// StreamImages belongs to a newer CRI than the kubelets this serves.

import type {UntypedServiceImplementation} from '@grpc/grpc-js'

import {imageServiceDefinition} from '../cri/proto.js'
import {localImageBackend} from '../runtime/images.js'
import {type ServerContext, unimplemented} from './context.js'

interface ImageSpec {
  image?: string
}

interface AuthConfig {
  username?: string
  password?: string
  auth?: string
  identityToken?: string
  registryToken?: string
}

export function imageServiceHandlers(ctx: ServerContext): UntypedServiceImplementation {
  const images = localImageBackend(ctx.settings)
  const implemented: UntypedServiceImplementation = {
    ListImages: ctx.unary('ListImages', async (request: {filter?: {image?: ImageSpec}}) => ({images: await images.listImages(request.filter?.image?.image || undefined)}), {
      mutates: false,
    }),
    ImageStatus: ctx.unary(
      'ImageStatus',
      async (request: {image?: ImageSpec; verbose?: boolean}) => {
        // CRI: an image that is not present is an empty answer, not an error.
        const {image, info} = await images.imageStatus(request.image?.image ?? '', request.verbose ?? false)
        return image ? {image, info} : {}
      },
      {mutates: false, what: (r) => `"${r.image?.image ?? ''}"`},
    ),
    PullImage: ctx.unary(
      'PullImage',
      async (request: {image?: ImageSpec; auth?: AuthConfig}, rt) => {
        const {ImageStore} = await import('../images/store.js')
        const record = await new ImageStore(ctx.settings).pull(request.image?.image ?? '', {auth: request.auth, signal: rt.ctx.signal, log: rt.ctx.log})
        // As containerd: the image reference the kubelet then passes to CreateContainer is the image ID.
        return {imageRef: record.id}
      },
      {mutates: true, what: (r) => `"${r.image?.image ?? ''}"`, result: (r) => r.imageRef},
    ),
    RemoveImage: ctx.unary(
      'RemoveImage',
      async (request: {image?: ImageSpec}) => {
        await images.removeImage(request.image?.image ?? '')
        return {}
      },
      {mutates: true, what: (r) => `"${r.image?.image ?? ''}"`},
    ),
    ImageFsInfo: ctx.unary('ImageFsInfo', async () => ({imageFilesystems: await images.imageFsInfo()}), {mutates: false}),
  }
  return Object.fromEntries(
    Object.entries(imageServiceDefinition()).map(([rpc, def]) => [
      rpc,
      implemented[rpc] ?? unimplemented(rpc, rpc === 'StreamImages' ? 'use ListImages' : 'not part of the CRI v1 of kubelet 1.26', def.responseStream),
    ]),
  )
}
