// The image store: an OCI image layout under <root>/images (blobs and an
// index.json that skopeo and umoci read as they are), and each layer
// unpacked once under <root>/snapshots/<chain-id>. Everything lands under
// a temporary name and is renamed in complete and verified; index.json,
// which makes an image exist, is written last, atomically. Pulls of the
// same blob or snapshot meet at a lock and do the work once.

import {execFile} from 'node:child_process'
import {createHash, randomBytes} from 'node:crypto'
import {closeSync, constants, createReadStream, createWriteStream, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeSync} from 'node:fs'
import {mkdir, open, readdir, rename, rm as rmPath, stat, unlink, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {ExitCode, messageOf, notFoundError, PodctlError, wrap} from '../runtime/errors.js'
import {lock, lockName, tryLock} from '../runtime/lock.js'
import type {Settings} from '../runtime/settings.js'
import {writeFileAtomic} from '../runtime/store.js'
import {resolveCredentials} from './auth.js'
import {readBody, RegistryClient, registryMessage, denied} from './distribution.js'
import {indexMediaTypes, manifestMediaTypes, mediaTypes, refNameAnnotation, type Descriptor, type OciImageConfig, type OciIndex, type OciManifest} from './oci.js'
import {digestName, parseReference, type ImageReference} from './reference.js'
import {unpackCompressed} from './unpack.js'
import {unpackOffThread} from './unpack-thread.js'

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
  log?: (m: string) => void
}

/** The top-level digest the image was pulled by (an index's, for a multi-platform image), per index.json entry. */
const repoDigestAnnotation = 'io.podctl.image.repo-digest'

const manifestAccept = [mediaTypes.ociManifest, mediaTypes.ociIndex, mediaTypes.dockerManifest, mediaTypes.dockerList].join(', ')
const maxManifest = 4 << 20

const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`
const hexOf = (digest: string) => digest.slice('sha256:'.length)
const digestRe = /^sha256:[a-f0-9]{64}$/

/** chain[0] = diff[0]; chain[n] = sha256(chain[n-1] + " " + diff[n]) (image-spec). */
export function chainIds(diffIds: string[]): string[] {
  const out: string[] = []
  for (const d of diffIds) out.push(out.length === 0 ? d : sha256(`${out[out.length - 1]} ${d}`))
  return out
}

export interface PlatformSpec {
  os: string
  architecture: string
  variant?: string
}

export function parsePlatform(text: string | undefined): PlatformSpec {
  const t = text ?? 'linux/amd64'
  const parts = t.split('/')
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[a-z0-9_.-]+$/.test(p))) {
    throw new PodctlError(`--platform: "${t}" is not a platform`, {exitCode: ExitCode.usage, hint: 'write it as os/arch[/variant], e.g. linux/amd64 or linux/arm64/v8'})
  }
  const [os, arch, variant] = parts
  const architecture = arch === 'x86_64' ? 'amd64' : arch === 'aarch64' ? 'arm64' : arch
  return {os, architecture, ...(variant ? {variant} : architecture === 'arm64' ? {} : {})}
}

function platformMatches(want: PlatformSpec, have: Descriptor['platform']): boolean {
  if (!have || have.os !== want.os || have.architecture !== want.architecture) return false
  if (!want.variant) return true
  // arm64 images often omit their v8.
  return (have.variant ?? (have.architecture === 'arm64' ? 'v8' : undefined)) === want.variant
}

interface IndexEntry extends Descriptor {
  annotations: Record<string, string>
}

export class ImageStore {
  readonly imagesDir: string
  readonly blobsDir: string
  readonly snapshotsDir: string
  readonly ingestDir: string
  private spread?: Promise<void>

  constructor(readonly settings: Settings) {
    this.imagesDir = join(settings.root, 'images')
    this.blobsDir = join(this.imagesDir, 'blobs', 'sha256')
    this.snapshotsDir = join(settings.root, 'snapshots')
    this.ingestDir = join(settings.root, 'ingest')
  }

  blobPath(digest: string): string {
    return join(this.blobsDir, hexOf(digest))
  }

  snapshotPath(chainId: string): string {
    return join(this.snapshotsDir, hexOf(chainId))
  }

  private ensureLayout(): void {
    mkdirSync(this.blobsDir, {recursive: true, mode: 0o755})
    // The attribute stays with the directory, so it is set once, when the directory is made (the spawn is 7 ms of a 110 ms pull).
    if (mkdirSync(this.snapshotsDir, {recursive: true, mode: 0o755}) !== undefined) this.spread = spreadSnapshots(this.snapshotsDir)
    mkdirSync(this.ingestDir, {recursive: true, mode: 0o700})
    if (!existsSync(join(this.imagesDir, 'oci-layout'))) writeFileAtomic(join(this.imagesDir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}', 0o644)
    if (!existsSync(join(this.imagesDir, 'index.json'))) writeFileAtomic(join(this.imagesDir, 'index.json'), JSON.stringify({schemaVersion: 2, mediaType: mediaTypes.ociIndex, manifests: []}), 0o644)
  }

  private lockWait(what: string, signal?: AbortSignal) {
    return {timeoutMs: this.settings.timeoutMs, signal, what}
  }

  // ---- reading ------------------------------------------------------------

  private readIndex(): IndexEntry[] {
    let text: string
    try {
      text = readFileSync(join(this.imagesDir, 'index.json'), 'utf8')
    } catch {
      return []
    }
    try {
      const doc = JSON.parse(text) as OciIndex
      return (doc.manifests ?? []).filter((m): m is IndexEntry => typeof m?.digest === 'string' && typeof m.annotations?.[refNameAnnotation] === 'string')
    } catch (err) {
      throw new PodctlError(`the image store's index "${join(this.imagesDir, 'index.json')}" is not valid JSON: ${messageOf(err)}`)
    }
  }

  /** A small JSON blob from the store, its digest verified. */
  private readJsonBlob<T>(digest: string): T {
    if (!digestRe.test(digest)) throw new PodctlError(`the image store refers to a bad digest "${digest}"`)
    const data = readFileSync(this.blobPath(digest))
    if (sha256(data) !== digest) {
      throw new PodctlError(`blob ${digest} in the image store does not match its digest (the store was modified)`, {hint: 'pull the image again to repair it'})
    }
    return JSON.parse(data.toString()) as T
  }

  private recordOf(manifestDigest: string, entries: IndexEntry[]): ImageRecord {
    const manifest = this.readJsonBlob<OciManifest>(manifestDigest)
    const config = this.readJsonBlob<OciImageConfig>(manifest.config.digest)
    const names = entries.map((e) => e.annotations[refNameAnnotation])
    const repoTags = [...new Set(names.filter((n) => !n.includes('@')))]
    const repoDigests = [
      ...new Set(
        entries.map((e) => {
          const ref = parseReference(e.annotations[refNameAnnotation])
          return digestName(ref, e.annotations[repoDigestAnnotation] ?? manifestDigest)
        }),
      ),
    ]
    return {
      id: manifest.config.digest,
      repoTags,
      repoDigests,
      size: manifest.config.size + manifest.layers.reduce((s, l) => s + l.size, 0),
      manifestDigest,
      config,
      chainIds: chainIds(config.rootfs?.diff_ids ?? []),
      ...(config.created ? {created: config.created} : {}),
    }
  }

  private byManifest(): Map<string, IndexEntry[]> {
    const groups = new Map<string, IndexEntry[]>()
    for (const e of this.readIndex()) {
      if (!manifestMediaTypes.includes(e.mediaType)) continue
      groups.set(e.digest, [...(groups.get(e.digest) ?? []), e])
    }
    return groups
  }

  list(): ImageRecord[] {
    return [...this.byManifest()].map(([digest, entries]) => this.recordOf(digest, entries))
  }

  /** by full ref, short ref ('busybox'), full or unique-prefix image ID, or repo digest; undefined when unknown */
  status(refOrId: string): ImageRecord | undefined {
    const images = this.list()
    const id = refOrId.replace(/^sha256:/, '')
    if (/^[a-f0-9]{1,64}$/.test(id)) {
      const hits = images.filter((i) => hexOf(i.id).startsWith(id))
      if (hits.length === 1) return hits[0]
      if (hits.length > 1 && id.length < 64) throw new PodctlError(`image ID prefix "${refOrId}" is ambiguous: it matches ${hits.length} images`, {exitCode: ExitCode.usage, hint: 'give more of the ID'})
    }
    let name: string
    try {
      name = parseReference(refOrId).name
    } catch {
      return undefined
    }
    return images.find((i) => i.repoTags.includes(name) || i.repoDigests.includes(name) || i.repoDigests.includes(name.replace(/^([^@]+):[^:/@]+@/, '$1@')))
  }

  /** untags/removes; returns what was removed; throws exit 3 when unknown */
  async remove(refOrId: string): Promise<{id: string; removedTags: string[]}> {
    const image = this.status(refOrId)
    if (!image) throw notFoundError(`no such image "${refOrId}"`, 'list images with podctl images')
    await this.editIndex((entries) => entries.filter((e) => e.digest !== image.manifestDigest))
    return {id: image.id, removedTags: image.repoTags}
  }

  private async editIndex(edit: (entries: IndexEntry[]) => IndexEntry[], signal?: AbortSignal): Promise<void> {
    this.ensureLayout()
    const held = await lock(lockName(this.settings.root, 'images', 'index'), this.lockWait('the image index', signal))
    try {
      const path = join(this.imagesDir, 'index.json')
      const doc = JSON.parse(readFileSync(path, 'utf8')) as OciIndex
      const keep = (doc.manifests ?? []).filter((m) => typeof m.annotations?.[refNameAnnotation] !== 'string') as IndexEntry[]
      const next = edit(this.readIndex())
      writeFileAtomic(path, JSON.stringify({...doc, schemaVersion: 2, mediaType: mediaTypes.ociIndex, manifests: [...keep, ...next]}), 0o644)
    } finally {
      await held.release()
    }
  }

  fsInfo(): {mountpoint: string; usedBytes: number; inodesUsed: number; timestampNanos: bigint} {
    let usedBytes = 0
    let inodesUsed = 0
    const seen = new Set<string>()
    const walk = (dir: string) => {
      let names: string[]
      try {
        names = readdirSync(dir)
      } catch {
        return
      }
      for (const n of names) {
        const p = join(dir, n)
        const st = lstatSync(p, {bigint: false})
        const key = `${st.dev}:${st.ino}`
        if (seen.has(key)) continue
        seen.add(key)
        usedBytes += st.blocks * 512
        inodesUsed++
        if (st.isDirectory()) walk(p)
      }
    }
    walk(this.imagesDir)
    walk(this.snapshotsDir)
    return {mountpoint: this.settings.root, usedBytes, inodesUsed, timestampNanos: BigInt(Date.now()) * 1_000_000n}
  }

  /** for containers: overlay lower dirs, topmost layer first (as overlayfs lowerdir= wants), and the config */
  rootfs(refOrId: string): {image: ImageRecord; lowerDirs: string[]} {
    const image = this.status(refOrId)
    if (!image) throw notFoundError(`no such image "${refOrId}"`, `pull it first: podctl pull ${refOrId}`)
    const lowerDirs = image.chainIds.map((c) => this.snapshotPath(c)).reverse()
    for (const d of lowerDirs) {
      if (!existsSync(d)) throw new PodctlError(`image "${refOrId}" is missing its layer snapshot ${d}`, {hint: `pull it again: podctl pull ${image.repoTags[0] ?? refOrId}`})
    }
    return {image, lowerDirs}
  }

  // ---- garbage --------------------------------------------------------------

  /** blobs and snapshots nothing refers to; returns what was removed */
  async gc(inUse: Set<string> = new Set(), options: {dryRun?: boolean} = {}): Promise<string[]> {
    const rm = options.dryRun ? async () => undefined : rmPath
    if (!existsSync(this.imagesDir)) return []
    const blobs = new Set<string>()
    const snapshots = new Set<string>([...inUse].map((c) => c.replace(/^sha256:/, '')))
    for (const e of this.readIndex()) {
      blobs.add(hexOf(e.digest))
      if (e.annotations[repoDigestAnnotation]) blobs.add(hexOf(e.annotations[repoDigestAnnotation]))
    }
    for (const image of this.list()) {
      blobs.add(hexOf(image.manifestDigest))
      const manifest = this.readJsonBlob<OciManifest>(image.manifestDigest)
      blobs.add(hexOf(manifest.config.digest))
      for (const l of manifest.layers) blobs.add(hexOf(l.digest))
      for (const c of image.chainIds) snapshots.add(hexOf(c))
    }
    // What pulls in progress have fetched, but not yet indexed.
    for (const name of await readdir(this.ingestDir).catch(() => [] as string[])) {
      if (!name.startsWith('pull-')) continue
      const path = join(this.ingestDir, name)
      const held = await tryLock(lockName(this.settings.root, 'pull', name))
      if (held) {
        await held.release()
        if (!options.dryRun) await unlink(path).catch(() => undefined)
        continue
      }
      for (const d of readFileSync(path, 'utf8').split('\n').filter(Boolean)) {
        blobs.add(hexOf(d))
        snapshots.add(hexOf(d))
      }
    }
    const removed: string[] = []
    for (const name of await readdir(this.blobsDir).catch(() => [] as string[])) {
      if (blobs.has(name)) continue
      const held = await tryLock(lockName(this.settings.root, 'blob', name))
      if (!held) continue
      try {
        await rm(join(this.blobsDir, name), {force: true})
        removed.push(`blob sha256:${name}`)
      } finally {
        await held.release()
      }
    }
    for (const name of await readdir(this.snapshotsDir).catch(() => [] as string[])) {
      const hex = name.startsWith('.tmp-') ? name.slice(5, 69) : name
      if (!name.startsWith('.tmp-') && snapshots.has(hex)) continue
      const held = await tryLock(lockName(this.settings.root, 'snapshot', hex))
      if (!held) continue
      try {
        await rm(join(this.snapshotsDir, name), {recursive: true, force: true})
        removed.push(name.startsWith('.tmp-') ? `partial snapshot ${name}` : `snapshot sha256:${name}`)
      } finally {
        await held.release()
      }
    }
    for (const name of await readdir(this.ingestDir).catch(() => [] as string[])) {
      if (name.startsWith('pull-')) continue
      const held = await tryLock(lockName(this.settings.root, 'blob', name))
      if (!held) continue
      try {
        await rm(join(this.ingestDir, name), {force: true})
        removed.push(`partial download sha256:${name}`)
      } finally {
        await held.release()
      }
    }
    return removed
  }

  // ---- importing ------------------------------------------------------------

  /**
   * An image from local files (an archive being loaded): the manifest, and
   * `blobFile(digest)` where the caller put each blob it names. Each blob is
   * verified and moved into the layout, each layer unpacked once, and the
   * index entries, one per name, are written last, as a pull does.
   */
  async importImage(manifestBody: Buffer, blobFile: (digest: string) => string, names: string[], signal?: AbortSignal): Promise<ImageRecord> {
    this.ensureLayout()
    const manifest = parseJson<OciManifest>(manifestBody, 'the manifest in the archive')
    if (!manifest.config?.digest || !Array.isArray(manifest.layers)) throw new PodctlError('the manifest in the archive has no config or layers')
    refuseZstd(manifest.layers, 'loading the archive')
    const manifestDigest = sha256(manifestBody)
    const ref = parseReference(names[0])
    // Kept from gc until index.json names them, as a pull's.
    const journal = `pull-${process.pid}-${randomBytes(4).toString('hex')}`
    const journalLock = await lock(lockName(this.settings.root, 'pull', journal), this.lockWait('the pull journal', signal))
    const journalPath = join(this.ingestDir, journal)
    try {
      const config = readFileSync(blobFile(manifest.config.digest))
      if (sha256(config) !== manifest.config.digest) throw new PodctlError(`the archive's image config does not match its digest ${manifest.config.digest}`)
      const cfg = parseJson<OciImageConfig>(config, 'the image config in the archive')
      const diffIds = cfg.rootfs?.diff_ids ?? []
      if (diffIds.length !== manifest.layers.length) throw new PodctlError(`the archive's image config lists ${diffIds.length} layers, its manifest ${manifest.layers.length}`)
      const chains = chainIds(diffIds)
      await writeFile(journalPath, [manifestDigest, manifest.config.digest, ...manifest.layers.map((l) => l.digest), ...chains].map((d) => `${d}\n`).join(''), {mode: 0o600})
      for (const [i, desc] of manifest.layers.entries()) {
        if (!digestRe.test(desc.digest) || !digestRe.test(diffIds[i])) throw new PodctlError(`the archive's manifest has a layer with an unsupported digest "${desc.digest}"`)
        const snapshot = this.snapshotPath(chains[i])
        const snapLock = await lock(lockName(this.settings.root, 'snapshot', hexOf(chains[i])), this.lockWait(`snapshot ${chains[i]}`, signal))
        try {
          await this.adoptBlob(desc, blobFile(desc.digest), signal)
          if (!existsSync(snapshot)) await this.unpack(ref, desc, diffIds[i], snapshot)
        } finally {
          await snapLock.release()
        }
      }
      await this.putBlob(manifest.config.digest, config)
      await this.putBlob(manifestDigest, manifestBody)
      const entries: IndexEntry[] = names.map((name) => ({
        mediaType: manifest.mediaType && manifestMediaTypes.includes(manifest.mediaType) ? manifest.mediaType : mediaTypes.ociManifest,
        digest: manifestDigest,
        size: manifestBody.length,
        annotations: {[refNameAnnotation]: name},
      }))
      await this.editIndex((current) => [...current.filter((e) => !names.includes(e.annotations[refNameAnnotation])), ...entries], signal)
      return this.recordOf(manifestDigest, this.byManifest().get(manifestDigest) ?? entries)
    } finally {
      await unlink(journalPath).catch(() => undefined)
      await journalLock.release()
    }
  }

  /** A layer blob from a local file into the layout, its size and digest verified first. */
  private async adoptBlob(desc: Descriptor, file: string, signal?: AbortSignal): Promise<void> {
    const target = this.blobPath(desc.digest)
    if (existsSync(target) && statSync(target).size === desc.size) return
    const held = await lock(lockName(this.settings.root, 'blob', hexOf(desc.digest)), this.lockWait(`blob ${desc.digest}`, signal))
    try {
      let size = 0
      const hash = createHash('sha256')
      for await (const chunk of createReadStream(file)) {
        size += (chunk as Buffer).length
        hash.update(chunk as Buffer)
      }
      if (size !== desc.size || `sha256:${hash.digest('hex')}` !== desc.digest) throw new PodctlError(`the archive's layer ${desc.digest} does not match its digest or size; nothing was stored`)
      await rename(file, target)
    } finally {
      await held.release()
    }
  }

  // ---- pulling --------------------------------------------------------------

  async pull(text: string, options: PullOptions = {}): Promise<ImageRecord> {
    const ref = parseReference(text)
    const platform = parsePlatform(options.platform)
    this.ensureLayout()
    const credentials = resolveCredentials(ref, options.auth)
    const log = options.log ?? (() => undefined)
    const client = new RegistryClient(ref, this.settings.registries, credentials, options.signal, log)
    // This pull's fetched digests, kept from gc until index.json names them.
    const journal = `pull-${process.pid}-${randomBytes(4).toString('hex')}`
    const journalLock = await lock(lockName(this.settings.root, 'pull', journal), this.lockWait('the pull journal', options.signal))
    const journalPath = join(this.ingestDir, journal)
    const note = async (...digests: string[]) => {
      const fh = await open(journalPath, 'a', 0o600)
      await fh.write(digests.map((d) => `${d}\n`).join(''))
      await fh.close()
    }
    try {
      const top = await this.fetchManifest(client, ref, ref.digest ?? (ref.tag as string))
      let manifestDigest = top.digest
      let manifestBody = top.body
      if (indexMediaTypes.includes(top.mediaType)) {
        const index = parseJson<OciIndex>(top.body, `the image index of ${ref.name}`)
        const chosen = (index.manifests ?? []).find((m) => platformMatches(platform, m.platform) && manifestMediaTypes.includes(m.mediaType))
        if (!chosen) {
          const have = (index.manifests ?? []).map((m) => [m.platform?.os, m.platform?.architecture, m.platform?.variant].filter(Boolean).join('/')).filter(Boolean)
          throw new PodctlError(`image ${ref.name} has no manifest for platform ${[platform.os, platform.architecture, platform.variant].filter(Boolean).join('/')}`, {
            exitCode: ExitCode.notFound,
            hint: `it has: ${have.join(', ') || 'no platforms'}; choose one with --platform`,
          })
        }
        manifestDigest = chosen.digest
        manifestBody = existsSync(this.blobPath(chosen.digest)) ? readFileSync(this.blobPath(chosen.digest)) : (await this.fetchManifest(client, ref, chosen.digest)).body
        if (sha256(manifestBody) !== chosen.digest) manifestBody = (await this.fetchManifest(client, ref, chosen.digest)).body
      }
      const manifest = parseJson<OciManifest>(manifestBody, `the manifest of ${ref.name}`)
      if (!manifest.config?.digest || !Array.isArray(manifest.layers)) throw new PodctlError(`the manifest of ${ref.name} has no config or layers`)
      refuseZstd(manifest.layers, `pulling ${ref.name}`)
      await note(top.digest, manifestDigest, manifest.config.digest, ...manifest.layers.map((l) => l.digest))

      // The config: small, fetched whole and verified.
      const config = await this.ensureJsonBlob(client, ref, manifest.config, options.signal)
      const cfg = parseJson<OciImageConfig>(config, `the image config of ${ref.name}`)
      if (!indexMediaTypes.includes(top.mediaType) && cfg.architecture && cfg.os && options.platform && !platformMatches(platform, {os: cfg.os, architecture: cfg.architecture, variant: cfg.variant})) {
        throw new PodctlError(`image ${ref.name} is for ${[cfg.os, cfg.architecture, cfg.variant].filter(Boolean).join('/')}, not ${options.platform}`, {exitCode: ExitCode.notFound})
      }
      const diffIds = cfg.rootfs?.diff_ids ?? []
      if (diffIds.length !== manifest.layers.length) throw new PodctlError(`the image config of ${ref.name} lists ${diffIds.length} layers, its manifest ${manifest.layers.length}`)
      const chains = chainIds(diffIds)
      await note(...chains)

      // Layers: three at a time, as containerd's default, each snapshot made once. The largest go first: in
      // manifest order a large last layer waits for a slot and then runs alone, while the others are long done.
      const order = manifest.layers.map((_, i) => i).sort((a, b) => (manifest.layers[b].size ?? 0) - (manifest.layers[a].size ?? 0))
      let next = 0
      const worker = async () => {
        while (next < order.length) {
          const i = order[next++]
          await this.ensureLayer(client, ref, manifest.layers[i], diffIds[i], chains[i], options)
        }
      }
      await Promise.all([worker(), worker(), worker()])

      // Manifests last, then the index entry: the image exists only now.
      await this.putBlob(manifestDigest, manifestBody)
      if (top.digest !== manifestDigest) await this.putBlob(top.digest, top.body)
      const name = ref.name
      const entry: IndexEntry = {
        mediaType: manifest.mediaType ?? top.mediaType,
        digest: manifestDigest,
        size: manifestBody.length,
        annotations: {[refNameAnnotation]: name, [repoDigestAnnotation]: top.digest},
      }
      if (!manifestMediaTypes.includes(entry.mediaType)) entry.mediaType = mediaTypes.ociManifest
      await this.editIndex((entries) => [...entries.filter((e) => e.annotations[refNameAnnotation] !== name), entry], options.signal)
      const groups = this.byManifest()
      return this.recordOf(manifestDigest, groups.get(manifestDigest) ?? [entry])
    } finally {
      client.close()
      await unlink(journalPath).catch(() => undefined)
      await journalLock.release()
    }
  }

  /** The manifest (or index) by tag or digest, its digest checked when asked by digest. */
  private async fetchManifest(client: RegistryClient, ref: ImageReference, reference: string): Promise<{body: Buffer; mediaType: string; digest: string}> {
    const path = `/v2/${ref.repository}/manifests/${reference}`
    let res
    try {
      res = await client.get(path, {accept: manifestAccept})
    } catch (err) {
      throw wrap(`pulling ${ref.name}`, err)
    }
    const body = await readBody(res, maxManifest)
    if (res.status === 404) {
      const what = reference.startsWith('sha256:') ? `manifest ${reference}` : `tag "${reference}"`
      throw notFoundError(`pulling ${ref.name}: ${what} not found in ${ref.registry}/${ref.repository}${registryMessage(body) ? ` (${registryMessage(body)})` : ''}`, 'check the name and tag; list tags with skopeo list-tags')
    }
    if (res.status === 401 || res.status === 403) throw denied(ref, res.status, Boolean(client.credentials?.username))
    if (res.status !== 200) throw new PodctlError(`pulling ${ref.name}: registry ${ref.registry} answered ${res.status} for the manifest${registryMessage(body) ? ` (${registryMessage(body)})` : ''}`)
    const digest = sha256(body)
    if (reference.startsWith('sha256:') && digest !== reference) throw new PodctlError(`pulling ${ref.name}: the manifest the registry sent does not match digest ${reference}`)
    let mediaType = String(res.headers['content-type'] ?? '').split(';')[0].trim()
    let doc: {mediaType?: string; manifests?: unknown; layers?: unknown; schemaVersion?: number}
    try {
      doc = JSON.parse(body.toString())
    } catch {
      throw new PodctlError(`pulling ${ref.name}: registry ${ref.registry} answered a manifest that is not JSON`)
    }
    if (doc.schemaVersion !== 2) throw new PodctlError(`pulling ${ref.name}: unsupported manifest (schemaVersion ${doc.schemaVersion ?? 'missing'}); only schema 2 and OCI images are supported`)
    if (doc.mediaType) mediaType = doc.mediaType
    if (![...manifestMediaTypes, ...indexMediaTypes].includes(mediaType)) mediaType = Array.isArray(doc.manifests) ? mediaTypes.ociIndex : Array.isArray(doc.layers) ? mediaTypes.ociManifest : mediaType
    if (![...manifestMediaTypes, ...indexMediaTypes].includes(mediaType)) throw new PodctlError(`pulling ${ref.name}: unsupported manifest media type "${mediaType}"`)
    return {body, mediaType, digest}
  }

  private async putBlob(digest: string, data: Buffer): Promise<void> {
    const path = this.blobPath(digest)
    // Small blobs only (manifests, configs): what is there is checked, and replaced when it was modified.
    if (existsSync(path) && sha256(readFileSync(path)) === digest) return
    const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
    const fh = await open(tmp, 'wx', 0o644)
    try {
      await fh.write(data)
    } finally {
      await fh.close()
    }
    await rename(tmp, path)
  }

  private async ensureJsonBlob(client: RegistryClient, ref: ImageReference, desc: Descriptor, signal?: AbortSignal): Promise<Buffer> {
    const path = this.blobPath(desc.digest)
    if (existsSync(path)) {
      const data = readFileSync(path)
      if (sha256(data) === desc.digest) return data
    }
    const held = await lock(lockName(this.settings.root, 'blob', hexOf(desc.digest)), this.lockWait(`blob ${desc.digest}`, signal))
    try {
      const res = await client.get(`/v2/${ref.repository}/blobs/${desc.digest}`)
      const data = await readBody(res, 16 << 20)
      if (res.status !== 200) throw blobError(ref, desc.digest, res.status, data)
      if (data.length !== desc.size || sha256(data) !== desc.digest) throw mismatch(ref, desc.digest)
      await this.putBlob(desc.digest, data)
      return data
    } finally {
      await held.release()
    }
  }

  private async ensureLayer(client: RegistryClient, ref: ImageReference, desc: Descriptor, diffId: string, chainId: string, options: PullOptions): Promise<void> {
    const progress = (state: PullProgress['state'], done = 0) => options.onProgress?.({digest: desc.digest, total: desc.size, done, state})
    if (!digestRe.test(desc.digest) || !digestRe.test(diffId)) throw new PodctlError(`the manifest of ${ref.name} has a layer with an unsupported digest "${desc.digest}"`)
    const snapshot = this.snapshotPath(chainId)
    const blob = this.blobPath(desc.digest)
    const haveBlob = () => existsSync(blob) && statSync(blob).size === desc.size
    if (existsSync(snapshot) && haveBlob()) {
      progress('exists', desc.size)
      return
    }
    progress('waiting')
    const snapLock = await lock(lockName(this.settings.root, 'snapshot', hexOf(chainId)), this.lockWait(`snapshot ${chainId}`, options.signal))
    try {
      const blobLock = await lock(lockName(this.settings.root, 'blob', hexOf(desc.digest)), this.lockWait(`blob ${desc.digest}`, options.signal))
      try {
        if (!haveBlob()) {
          if (!existsSync(snapshot) && !existsSync(join(this.ingestDir, hexOf(desc.digest)))) {
            // The common case, in one pass: unpacked as it downloads.
            await this.streamLayer(client, ref, desc, diffId, snapshot, (done) => progress('downloading', done), options.signal)
            progress('done', desc.size)
            return
          }
          // A partial download (a killed pull), or a snapshot whose blob went: finish the blob first.
          await this.download(client, ref, desc, (done) => progress('downloading', done), options.signal)
        }
      } finally {
        await blobLock.release()
      }
      if (existsSync(snapshot)) {
        progress('done', desc.size)
        return
      }
      progress('extracting', desc.size)
      await this.unpack(ref, desc, diffId, snapshot)
      progress('done', desc.size)
    } finally {
      await snapLock.release()
    }
  }

  /**
   * Download and unpack a layer in one pass: each chunk from the registry is
   * hashed, appended to ingest/<hex> and fed to the unpack. The blob is
   * renamed into the layout only when its size and digest verify, and the
   * snapshot only after that and its diff ID check; a mismatch discards
   * both. A cut connection resumes with Range into the same unpack; a kill
   * leaves ingest/<hex>, which the next pull resumes.
   */
  private async streamLayer(client: RegistryClient, ref: ImageReference, desc: Descriptor, diffId: string, snapshot: string, onBytes: (done: number) => void, signal?: AbortSignal): Promise<void> {
    const partial = join(this.ingestDir, hexOf(desc.digest))
    const hash = createHash('sha256')
    let done = 0
    const path = `/v2/${ref.repository}/blobs/${desc.digest}`
    // Written as each chunk arrives, on this thread (a copy into the page cache): no queue of chunks waits for the
    // thread pool, which is busy inflating, and holds memory meanwhile (up to 16 MiB a layer did).
    const out = openSync(partial, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600)
    const fetched = async function* (): AsyncGenerator<Buffer> {
      for (let attempt = 0; ; attempt++) {
        let res
        try {
          res = await client.get(path, done > 0 ? {range: `bytes=${done}-`} : {})
        } catch (err) {
          // Ctrl-C: said as such (exit 130), not as the aborted request's error.
          if (signal?.aborted) throw signal.reason
          throw wrap(`pulling ${ref.name}: fetching layer ${desc.digest}`, err)
        }
        if (res.status === 200 && done > 0) {
          res.body.resume()
          throw new PodctlError(`pulling ${ref.name}: the download of layer ${desc.digest} was cut and registry ${ref.registry} does not resume it (it ignores Range)`, {hint: 'pull again'})
        }
        if (res.status !== 200 && res.status !== 206) throw blobError(ref, desc.digest, res.status, await readBody(res, 1 << 16).catch(() => Buffer.alloc(0)))
        let cut: unknown
        try {
          for await (const chunk of res.body as AsyncIterable<Buffer>) {
            done += chunk.length
            if (done > desc.size) throw mismatch(ref, desc.digest)
            hash.update(chunk)
            for (let off = 0; off < chunk.length; ) off += writeSync(out, chunk, off)
            onBytes(done)
            yield chunk
          }
        } catch (err) {
          if (signal?.aborted) throw signal.reason
          if (err instanceof PodctlError) throw err
          cut = err
        } finally {
          res.body.destroy()
        }
        if (done === desc.size) return
        if (attempt >= 5) throw new PodctlError(`pulling ${ref.name}: the download of layer ${desc.digest} was cut ${attempt + 1} times${cut ? ` (${messageOf(cut)})` : ''}`)
      }
    }
    // Closed once on either path: by verify, or below when verify was never reached.
    const verify = async () => {
      closeSync(out)
      if (done !== desc.size || `sha256:${hash.digest('hex')}` !== desc.digest) throw mismatch(ref, desc.digest)
      await rename(partial, this.blobPath(desc.digest))
    }
    let verifying = false
    try {
      await this.unpackInto(ref, desc, diffId, snapshot, fetched(), async () => {
        verifying = true
        await verify()
      })
    } catch (err) {
      if (!verifying) {
        closeSync(out)
        // The whole blob arrived: a bad digest is the error to report, not what the unpack made of the bytes.
        if (done === desc.size && `sha256:${hash.digest('hex')}` !== desc.digest) {
          await unlink(partial).catch(() => undefined)
          throw mismatch(ref, desc.digest)
        }
        // A cut or interrupted download is kept for the next pull to resume; anything else goes.
        if (!signal?.aborted && !(err instanceof PodctlError && /was cut/.test(err.message))) await unlink(partial).catch(() => undefined)
      } else {
        await unlink(partial).catch(() => undefined)
      }
      throw err
    }
  }

  /** Download a blob into ingest/<hex>, resuming what is there, verify it, and rename it into the layout. */
  private async download(client: RegistryClient, ref: ImageReference, desc: Descriptor, onBytes: (done: number) => void, signal?: AbortSignal): Promise<void> {
    const partial = join(this.ingestDir, hexOf(desc.digest))
    for (let attempt = 0; ; attempt++) {
      let offset = await stat(partial).then((s) => s.size, () => 0)
      if (offset > desc.size) {
        await unlink(partial)
        offset = 0
      }
      const hash = createHash('sha256')
      if (offset > 0) for await (const chunk of createReadStream(partial)) hash.update(chunk as Buffer)
      if (offset === desc.size) {
        if (`sha256:${hash.digest('hex')}` === desc.digest) {
          await rename(partial, this.blobPath(desc.digest))
          return
        }
        await unlink(partial)
        continue
      }
      let res
      try {
        res = await client.get(`/v2/${ref.repository}/blobs/${desc.digest}`, offset > 0 ? {range: `bytes=${offset}-`} : {})
      } catch (err) {
        throw wrap(`pulling ${ref.name}: fetching layer ${desc.digest}`, err)
      }
      if (res.status === 200 && offset > 0) {
        // The server ignored the range: start over.
        res.body.resume()
        await unlink(partial)
        if (attempt > 3) throw new PodctlError(`pulling ${ref.name}: layer ${desc.digest} could not be resumed`)
        continue
      }
      if (res.status !== 200 && res.status !== 206) throw blobError(ref, desc.digest, res.status, await readBody(res, 1 << 16).catch(() => Buffer.alloc(0)))
      let done = offset
      let cut: unknown
      await new Promise<void>((resolve) => {
        const out = createWriteStream(partial, {flags: offset > 0 ? 'a' : 'w', mode: 0o600})
        res.body.on('data', (chunk: Buffer) => {
          done += chunk.length
          hash.update(chunk)
          if (done > desc.size) {
            cut = mismatch(ref, desc.digest)
            res.body.destroy()
            return
          }
          if (!out.write(chunk)) res.body.pause()
          onBytes(done)
        })
        out.on('drain', () => res.body.resume())
        res.body.on('error', (err) => {
          cut = err
        })
        res.body.on('close', () => out.end())
        out.on('close', () => resolve())
        out.on('error', (err) => {
          cut = err
          res.body.destroy()
        })
      })
      if (signal?.aborted) throw signal.reason
      if (cut instanceof PodctlError) {
        await unlink(partial).catch(() => undefined)
        throw cut
      }
      if (done < desc.size) {
        if (attempt >= 5) throw new PodctlError(`pulling ${ref.name}: the download of layer ${desc.digest} was cut ${attempt + 1} times${cut ? ` (${messageOf(cut)})` : ''}`)
        continue
      }
      if (`sha256:${hash.digest('hex')}` !== desc.digest) {
        await unlink(partial).catch(() => undefined)
        throw mismatch(ref, desc.digest)
      }
      await rename(partial, this.blobPath(desc.digest))
      return
    }
  }

  /** Unpack a verified blob from the layout into its snapshot. */
  private async unpack(ref: ImageReference, desc: Descriptor, diffId: string, snapshot: string): Promise<void> {
    await this.unpackInto(ref, desc, diffId, snapshot, createReadStream(this.blobPath(desc.digest), {highWaterMark: 1 << 20}))
  }

  /**
   * Unpack a layer's compressed bytes into snapshots/.tmp-<hex>-*; then
   * `verified` (the blob's digest, for a stream), the diff ID, and the
   * rename into place. The temporary directory goes on any failure.
   */
  private async unpackInto(ref: ImageReference, desc: Descriptor, diffId: string, snapshot: string, source: AsyncIterable<Buffer>, verified?: () => Promise<void>): Promise<void> {
    const hex = snapshot.slice(snapshot.lastIndexOf('/') + 1)
    await this.spread
    const tmpDir = join(this.snapshotsDir, `.tmp-${hex}-${randomBytes(3).toString('hex')}`)
    // Left by a killed pull of this snapshot (we hold its lock).
    for (const n of await readdir(this.snapshotsDir)) if (n.startsWith(`.tmp-${hex}-`)) await rmPath(join(this.snapshotsDir, n), {recursive: true, force: true})
    await mkdir(tmpDir, {mode: 0o755})
    try {
      let digest: string
      try {
        const head = await sniffed(source, desc, ref)
        // The files written on the unpack thread, unless the layer is small: its start (~35 ms) costs more than that.
        digest = await (desc.size >= offThreadBytes ? unpackOffThread : unpackCompressed)(head.source, head.gzip, tmpDir)
      } catch (err) {
        if (err instanceof PodctlError && err.message.startsWith('pulling ')) throw err
        throw err instanceof PodctlError
          ? new PodctlError(`unpacking layer ${desc.digest} of ${ref.name}: ${err.message}`, {exitCode: err.exitCode, hint: err.hint, cause: err})
          : new PodctlError(`unpacking layer ${desc.digest} of ${ref.name}: ${messageOf(err)}`, {cause: err})
      }
      await verified?.()
      if (digest !== diffId) {
        throw new PodctlError(`unpacking layer ${desc.digest} of ${ref.name}: it unpacks to content that does not match its diff ID ${diffId} in the image config`)
      }
      await rename(tmpDir, snapshot)
    } catch (err) {
      await rmPath(tmpDir, {recursive: true, force: true})
      throw err
    }
  }
}

/** The compressed size from which a layer's files are written by the unpack thread (./unpack-thread.ts). */
const offThreadBytes = 4 << 20

/**
 * Mark snapshots/ as the top of unrelated trees (ext2/3/4's TOPDIR
 * attribute, chattr +T): the kernel then places each new snapshot in a
 * block group of its own choosing, as it does directories under /, instead
 * of next to its parent, where the store's and everything else's recent
 * deletions are. On an ext4 without a journal an inode allocation skips
 * every inode freed in the last minutes, one by one, from the start of the
 * group: on this project's machine a create cost ~0.9 ms next to /tmp's
 * churn and ~0.04 ms in a fresh group. Other filesystems refuse the
 * attribute, and a missing chattr only costs the speed-up: neither is an
 * error.
 */
function spreadSnapshots(dir: string): Promise<void> {
  return new Promise((resolve) => execFile('chattr', ['+T', dir], {timeout: 5000}, () => resolve()))
}

/** zstd is refused from the manifest, before anything is fetched (node's zlib has no zstd). */
function refuseZstd(layers: Descriptor[], what: string): void {
  const z = layers.find((l) => typeof l?.mediaType === 'string' && /zstd/.test(l.mediaType))
  if (z) {
    throw new PodctlError(`${what}: layer ${z.digest} is zstd-compressed (${z.mediaType}), which podctl cannot unpack; nothing was fetched`, {
      hint: 'pull a gzip variant of the image, or convert it: skopeo copy --dest-compress-format gzip ...',
    })
  }
}

/** The layer's first bytes, read ahead: whether it is gzip (by content, as a docker-archive's may be typed as a plain tar), and all of it again. */
async function sniffed(source: AsyncIterable<Buffer>, desc: Descriptor, ref: ImageReference): Promise<{gzip: boolean; source: AsyncIterable<Buffer>}> {
  const it = source[Symbol.asyncIterator]()
  const head: Buffer[] = []
  let size = 0
  let ended = false
  while (size < 4) {
    const r = await it.next()
    if (r.done) {
      ended = true
      break
    }
    head.push(r.value)
    size += r.value.length
  }
  const h = Buffer.concat(head)
  if (h[0] === 0x28 && h[1] === 0xb5 && h[2] === 0x2f && h[3] === 0xfd) {
    await it.return?.()
    throw new PodctlError(`pulling ${ref.name}: layer ${desc.digest} is zstd-compressed, which podctl cannot unpack`, {hint: 'pull a gzip variant of the image'})
  }
  const all = async function* () {
    yield* head
    if (ended) return
    for (;;) {
      const r = await it.next()
      if (r.done) return
      yield r.value
    }
  }
  return {gzip: h[0] === 0x1f && h[1] === 0x8b, source: all()}
}

function parseJson<T>(body: Buffer, what: string): T {
  try {
    return JSON.parse(body.toString()) as T
  } catch {
    throw new PodctlError(`${what} is not valid JSON`)
  }
}

function mismatch(ref: ImageReference, digest: string): PodctlError {
  return new PodctlError(`pulling ${ref.name}: blob ${digest} from registry ${ref.registry} does not match its digest; nothing was stored`, {hint: 'the registry\'s storage may be corrupt; pull again, or from another mirror'})
}

function blobError(ref: ImageReference, digest: string, status: number, body: Buffer): PodctlError {
  const msg = registryMessage(body)
  if (status === 404) return notFoundError(`pulling ${ref.name}: blob ${digest} not found in ${ref.registry}/${ref.repository}`)
  if (status === 401 || status === 403) return denied(ref, status, false)
  return new PodctlError(`pulling ${ref.name}: registry ${ref.registry} answered ${status} for blob ${digest}${msg ? ` (${msg})` : ''}`)
}

