// The image verbs as a CRI v1 client (--runtime-endpoint): the ImageBackend
// of src/runtime/images.ts over the ImageService of podctl serve, containerd
// or CRI-O. Answers are filled out to the shapes the in-process store gives
// (proto3 leaves defaults off the wire), so the verbs print the same either way.

import type {CriFilesystemUsage, CriImage, ImageBackend} from '../runtime/images.js'
import {sortImages} from '../runtime/images.js'
import {type CriClientOptions, criCaller} from './client.js'
import {imageServiceDefinition} from './proto.js'

interface WireImage {
  id?: string
  repoTags?: string[]
  repoDigests?: string[]
  size?: string
  uid?: {value?: string}
  username?: string
  spec?: {image?: string; annotations?: Record<string, string>}
  pinned?: boolean
}

interface WireFilesystemUsage {
  timestamp?: string
  fsId?: {mountpoint?: string}
  usedBytes?: {value?: string}
  inodesUsed?: {value?: string}
}

export function criImageBackend(options: CriClientOptions): ImageBackend {
  const call = criCaller(imageServiceDefinition(), 'ImageService', options)
  return {
    pullImage: async (ref, auth) => {
      // As crictl's: no client deadline for a pull, which may take minutes.
      const {imageRef} = await call<{imageRef?: string}>('PullImage', {image: {image: ref}, auth}, 2 ** 31 - 1)
      return imageRef ?? ''
    },
    listImages: async (filter) => {
      // crictl always sends the filter, possibly empty; some runtimes ignore it, so it is applied here too.
      const {images} = await call<{images?: WireImage[]}>('ListImages', {filter: {image: {image: filter ?? ''}}})
      return sortImages((images ?? []).map(imageOf))
    },
    imageStatus: async (ref, verbose) => {
      const response = await call<{image?: WireImage; info?: Record<string, string>}>('ImageStatus', {image: {image: ref}, verbose})
      return {image: response.image ? imageOf(response.image) : null, info: response.info ?? {}}
    },
    removeImage: async (ref) => {
      await call('RemoveImage', {image: {image: ref}})
    },
    imageFsInfo: async () => {
      const {imageFilesystems} = await call<{imageFilesystems?: WireFilesystemUsage[]}>('ImageFsInfo', {})
      return (imageFilesystems ?? []).map(filesystemOf)
    },
  }
}

function imageOf(w: WireImage): CriImage {
  return {
    id: w.id ?? '',
    repoTags: w.repoTags ?? [],
    repoDigests: w.repoDigests ?? [],
    size: w.size ?? '0',
    uid: w.uid ? {value: w.uid.value ?? '0'} : null,
    username: w.username ?? '',
    spec: w.spec ? {image: w.spec.image ?? '', annotations: w.spec.annotations ?? {}} : null,
    pinned: w.pinned ?? false,
  }
}

function filesystemOf(w: WireFilesystemUsage): CriFilesystemUsage {
  return {
    timestamp: w.timestamp ?? '0',
    fsId: {mountpoint: w.fsId?.mountpoint ?? ''},
    usedBytes: {value: w.usedBytes?.value ?? '0'},
    inodesUsed: {value: w.inodesUsed?.value ?? '0'},
  }
}
