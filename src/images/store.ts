// The image store: an OCI image layout under <root>/images (blobs and an
// index.json that skopeo and umoci read as they are), and each layer
// unpacked once under <root>/snapshots/<chain-id>.

import {join} from 'node:path'

import {PodctlError} from '../runtime/errors.js'
import type {Settings} from '../runtime/settings.js'
import type {OciImageConfig} from './oci.js'

export type {OciImageConfig} from './oci.js'

/** What CRI's Image message needs. */
export interface ImageRecord {
  /** 'sha256:<config digest>' */
  id: string
  /** ['docker.io/library/busybox:latest'] */
  repoTags: string[]
  /** ['docker.io/library/busybox@sha256:<manifest digest>'] */
  repoDigests: string[]
  /** sum of compressed layer sizes + config (as containerd reports) */
  size: number
  manifestDigest: string
  /** the image config blob, parsed */
  config: OciImageConfig
  /** bottom layer first */
  chainIds: string[]
  created?: string
}

export interface PullProgress {
  digest: string
  total: number
  done: number
  state: 'waiting' | 'downloading' | 'verifying' | 'extracting' | 'done' | 'exists'
}

export interface PullAuth {
  username?: string
  password?: string
  auth?: string
  identityToken?: string
  registryToken?: string
}

export interface PullOptions {
  /** 'linux/amd64' default; 'linux/arm64/v8' */
  platform?: string
  auth?: PullAuth
  signal?: AbortSignal
  onProgress?: (p: PullProgress) => void
}

const notYet = (what: string) => new PodctlError(`${what} is not implemented yet`)

export class ImageStore {
  readonly imagesDir: string
  readonly snapshotsDir: string

  constructor(readonly settings: Settings) {
    this.imagesDir = join(settings.root, 'images')
    this.snapshotsDir = join(settings.root, 'snapshots')
  }

  async pull(_ref: string, _options: PullOptions = {}): Promise<ImageRecord> {
    throw notYet('pull')
  }

  list(): ImageRecord[] {
    return []
  }

  /** by full ref, short ref ('busybox'), full or unique-prefix image ID, or repo digest; undefined when unknown */
  status(_refOrId: string): ImageRecord | undefined {
    return undefined
  }

  /** untags/removes; returns what was removed; throws exit 3 when unknown */
  async remove(_refOrId: string): Promise<{id: string; removedTags: string[]}> {
    throw notYet('remove')
  }

  fsInfo(): {mountpoint: string; usedBytes: number; inodesUsed: number; timestampNanos: bigint} {
    throw notYet('fsInfo')
  }

  /** docker-archive or oci-archive */
  async load(_input: string | NodeJS.ReadableStream): Promise<ImageRecord[]> {
    throw notYet('load')
  }

  /** oci-archive */
  async save(_refs: string[], _outFile: string): Promise<void> {
    throw notYet('save')
  }

  /** for containers: overlay lower dirs, topmost layer first (as overlayfs lowerdir= wants), and the config */
  rootfs(_refOrId: string): {image: ImageRecord; lowerDirs: string[]} {
    throw notYet('rootfs')
  }

  /** blobs and snapshots nothing refers to; returns what was removed */
  async gc(_inUse?: Set<string>): Promise<string[]> {
    return []
  }
}
