// What the image verbs act through: the image store in this process, or a
// CRI ImageService at --runtime-endpoint (src/cri/image-client.ts). The
// verbs, and podctl serve's ImageService handlers, see images only in the
// CRI's shapes (Image, FilesystemUsage), so that output is the same whichever
// side answers.

import type {ImageRecord, ImageStore} from '../images/store.js'
import {imagesInUse} from './container-store.js'
import {usageError} from './errors.js'
import type {Settings} from './settings.js'
import {Store} from './store.js'

/** CRI's Image message as protojson prints it (crictl's -o json: every field present). */
export interface CriImage {
  id: string
  repoTags: string[]
  repoDigests: string[]
  /** uint64 as a decimal string */
  size: string
  /** the image's numeric user, if its config names one; exclusive with username */
  uid: {value: string} | null
  username: string
  spec: {image: string; annotations: Record<string, string>} | null
  pinned: boolean
}

/** CRI's FilesystemUsage message. */
export interface CriFilesystemUsage {
  timestamp: string
  fsId: {mountpoint: string}
  usedBytes: {value: string}
  inodesUsed: {value: string}
}

export interface ImageStatusResult {
  /** null when the store has no such image: ImageStatus answers that, not an error */
  image: CriImage | null
  /** verbose only: each value a JSON document, as containerd's `info` */
  info: Record<string, string>
}

export interface ImageBackend {
  /** ListImages, sorted as crictl prints them; `filter` is crictl's REPOSITORY[:TAG] argument */
  listImages(filter?: string): Promise<CriImage[]>
  imageStatus(ref: string, verbose: boolean): Promise<ImageStatusResult>
  /** RemoveImage; CRI: an image already gone is not an error */
  removeImage(ref: string): Promise<void>
  imageFsInfo(): Promise<CriFilesystemUsage[]>
  /** PullImage: the image reference the runtime answers (podctl serve and containerd: the image ID) */
  pullImage(ref: string, auth: {username?: string; password?: string; auth?: string}): Promise<string>
}

/** The verbs' default: the store under --root, loaded on first use so that pod verbs never pay for it. */
export function localImageBackend(settings: Settings): ImageBackend {
  let opened: ImageStore | undefined
  const store = async (): Promise<ImageStore> => {
    if (!opened) {
      const {ImageStore} = await import('../images/store.js')
      opened = new ImageStore(settings)
    }
    return opened
  }
  return {
    pullImage: async (ref, auth) => (await (await store()).pull(ref, {auth})).id,
    listImages: async (filter) => sortImages((await store()).list().filter((r) => matchesFilter(r, filter)).map(criImage)),
    imageStatus: async (ref, verbose) => {
      const record = (await store()).status(ref)
      if (!record) return {image: null, info: {}}
      return {image: criImage(record), info: verbose ? imageInfo(record) : {}}
    },
    removeImage: async (ref) => {
      const s = await store()
      // CRI: RemoveImage is idempotent.
      const image = s.status(ref)
      if (!image) return
      const use = imagesInUse(new Store(settings.root, settings.runRoot))
      const user = use.images.get(image.id)
      if (user) throw usageError(`image "${ref}" is in use by container ${user.slice(0, 13)}`, `remove the container first: podctl rm -f ${user.slice(0, 13)}`)
      await s.remove(ref)
      // The layers no other image (and no container) shares go with it.
      await s.gc(use.snapshots)
    },
    imageFsInfo: async () => {
      const fs = (await store()).fsInfo()
      return [
        {
          timestamp: fs.timestampNanos.toString(),
          fsId: {mountpoint: fs.mountpoint},
          usedBytes: {value: String(fs.usedBytes)},
          inodesUsed: {value: String(fs.inodesUsed)},
        },
      ]
    },
  }
}

/** An image record in CRI's Image shape. uid/username come from the config's User, the part before any ":" (containerd's rule). */
export function criImage(record: ImageRecord): CriImage {
  const user = (record.config.config?.User ?? '').split(':')[0]
  const numeric = /^\d+$/.test(user)
  return {
    id: record.id,
    repoTags: [...record.repoTags],
    repoDigests: [...record.repoDigests],
    size: String(record.size),
    uid: numeric ? {value: user} : null,
    username: numeric ? '' : user,
    spec: null,
    pinned: false,
  }
}

/** ImageStatus's verbose info, as containerd's: the chain ID of the top layer and the whole image config. */
export function imageInfo(record: ImageRecord): Record<string, string> {
  return {info: JSON.stringify({chainID: record.chainIds.at(-1) ?? '', imageSpec: record.config})}
}

/**
 * crictl's positional REPOSITORY[:TAG]: an image matches when one of its tags
 * is that reference, or its repository is (any tag), in full or as the user
 * wrote it (`busybox` is docker.io/library/busybox).
 */
function matchesFilter(record: ImageRecord, filter: string | undefined): boolean {
  if (!filter) return true
  const wanted = new Set([filter, `docker.io/${filter}`, `docker.io/library/${filter}`])
  return record.repoTags.some((tag) => wanted.has(tag) || wanted.has(repositoryOf(tag))) || record.repoDigests.some((d) => wanted.has(d))
}

/** 'reg:5000/repo:tag' → 'reg:5000/repo' (the tag is after the last ':' that follows the last '/'). */
export function repositoryOf(tag: string): string {
  const slash = tag.lastIndexOf('/')
  const colon = tag.lastIndexOf(':')
  return colon > slash ? tag.slice(0, colon) : tag
}

/** crictl's order: by first repo tag, else first repo digest, else ID. */
export function sortImages(images: CriImage[]): CriImage[] {
  const key = (i: CriImage) => i.repoTags[0] ?? i.repoDigests[0] ?? i.id
  return images.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0))
}
