// Image archives, as `podman load`/`podman save` and `ctr images
// import/export` read and write them: an oci-archive (a tar of an OCI image
// layout) or a docker-archive (docker save's manifest.json, configs and
// layer tars). Loading unpacks the tar's regular files into a private
// directory under the store's ingest dir (any other kind of entry, and any
// path that climbs out, is refused), then hands each image to the store,
// which verifies every blob before it keeps it. Saving writes an
// oci-archive, the blobs streamed from the store.

import {createHash, randomBytes} from 'node:crypto'
import {closeSync, createReadStream, createWriteStream, existsSync, linkSync, mkdirSync, openSync, readFileSync, readSync, renameSync, statSync} from 'node:fs'
import {rm, stat} from 'node:fs/promises'
import {basename, dirname, join} from 'node:path'

import {messageOf, PodctlError, usageError, wrap} from '../runtime/errors.js'
import {indexMediaTypes, manifestMediaTypes, mediaTypes, refNameAnnotation, type Descriptor, type OciImageConfig, type OciIndex, type OciManifest} from './oci.js'
import {parseReference} from './reference.js'
import type {ImageRecord, ImageStore} from './store.js'
import {ByteReader, readTar} from './tar.js'
import {layerPath} from './unpack.js'

/** containerd's and podman's annotation for an image's full name in an OCI layout. */
const containerdName = 'io.containerd.image.name'

const sha256Hex = (data: Buffer) => createHash('sha256').update(data).digest('hex')

/** Load every image of the archive at `input` ('-' for standard input); returns what was loaded. */
export async function loadArchive(store: ImageStore, input: string, signal?: AbortSignal): Promise<ImageRecord[]> {
  const where = input === '-' ? 'standard input' : `"${input}"`
  const dir = join(store.ingestDir, `load-${process.pid}-${randomBytes(4).toString('hex')}`)
  mkdirSync(store.ingestDir, {recursive: true, mode: 0o700})
  mkdirSync(dir, {mode: 0o700})
  try {
    try {
      await extract(input, dir)
    } catch (err) {
      throw wrap(`loading ${where}`, err)
    }
    const loaded = existsSync(join(dir, 'oci-layout')) ? await loadOciLayout(store, dir, input, signal) : existsSync(join(dir, 'manifest.json')) ? await loadDockerArchive(store, dir, signal) : undefined
    if (!loaded) throw new PodctlError(`loading ${where}: not an image archive (it has neither oci-layout nor manifest.json)`, {exitCode: 2, hint: 'give an oci-archive or a docker-archive (podman save, skopeo copy ... oci-archive:FILE)'})
    return loaded
  } catch (err) {
    throw err instanceof PodctlError && err.message.startsWith('loading') ? err : wrap(`loading ${where}`, err)
  } finally {
    await rm(dir, {recursive: true, force: true})
  }
}

/** The tar's regular files and directories under `dir`. */
async function extract(input: string, dir: string): Promise<void> {
  const source = (input === '-' ? process.stdin : createReadStream(input)) as AsyncIterable<Buffer>
  // docker-archives written by skopeo name each layer twice, once through a
  // symlink: kept as a hard link to its target, which must be a file of the archive.
  const symlinks: [string[], string][] = []
  await readTar(new ByteReader(source), async (entry, data) => {
    const parts = layerPath(entry.path)
    if (parts.length === 0) return
    const path = join(dir, ...parts)
    if (entry.type === 'dir') {
      mkdirSync(path, {recursive: true, mode: 0o700})
      return
    }
    if (entry.type === 'symlink' && !entry.linkname.startsWith('/')) {
      symlinks.push([parts, entry.linkname])
      return
    }
    if (entry.type !== 'file') throw new PodctlError(`the archive has an entry "${entry.path}" that is a ${entry.type}; image archives hold only files and directories`)
    mkdirSync(dirname(path), {recursive: true, mode: 0o700})
    const out = createWriteStream(path, {flags: 'wx', mode: 0o600})
    const opened = new Promise<void>((resolve, reject) => out.once('open', () => resolve()).once('error', reject))
    await opened.catch((err) => {
      throw new PodctlError(`the archive has the entry "${entry.path}" twice, or one that goes through another file: ${messageOf(err)}`)
    })
    await data((chunk) => new Promise<void>((resolve, reject) => out.write(chunk, (err) => (err ? reject(err) : resolve()))))
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())))
  })
  for (const [parts, linkname] of symlinks) {
    const resolved: string[] = []
    for (const part of [...parts.slice(0, -1), ...linkname.split('/')]) {
      if (part === '' || part === '.') continue
      if (part !== '..') resolved.push(part)
      else if (resolved.pop() === undefined) throw new PodctlError(`the archive has a symlink "${parts.join('/')}" to "${linkname}", which escapes the archive`)
    }
    const target = join(dir, ...resolved)
    const path = join(dir, ...parts)
    if (!existsSync(target) || !statSync(target).isFile()) throw new PodctlError(`the archive has a symlink "${parts.join('/')}" to "${linkname}", which is not a file of the archive`)
    mkdirSync(dirname(path), {recursive: true, mode: 0o700})
    linkSync(target, path)
  }
}

/** An oci-archive: each image its index.json names (an index is resolved to its linux/amd64 manifest). */
async function loadOciLayout(store: ImageStore, dir: string, input: string, signal?: AbortSignal): Promise<ImageRecord[]> {
  const blob = (digest: string) => {
    if (!/^sha256:[a-f0-9]{64}$/.test(digest)) throw new PodctlError(`the archive refers to a bad digest "${digest}"`)
    return join(dir, 'blobs', 'sha256', digest.slice(7))
  }
  const readBlob = (desc: Descriptor) => {
    const path = blob(desc.digest)
    if (!existsSync(path)) throw new PodctlError(`the archive is missing blob ${desc.digest}`)
    const data = readFileSync(path)
    if (`sha256:${sha256Hex(data)}` !== desc.digest) throw new PodctlError(`blob ${desc.digest} in the archive does not match its digest`)
    return data
  }
  const index = json<OciIndex>(readFileSync(join(dir, 'index.json')), 'index.json')
  const byManifest = new Map<string, {body: Buffer; names: string[]}>()
  for (const entry of index.manifests ?? []) {
    let desc = entry
    if (indexMediaTypes.includes(entry.mediaType)) {
      const inner = json<OciIndex>(readBlob(entry), `the image index ${entry.digest}`)
      const chosen = (inner.manifests ?? []).find((m) => m.platform?.os === 'linux' && m.platform?.architecture === 'amd64' && manifestMediaTypes.includes(m.mediaType))
      if (!chosen) throw new PodctlError(`the image index ${entry.digest} in the archive has no linux/amd64 manifest`)
      desc = chosen
    }
    const body = readBlob(desc)
    const name = imageName(entry.annotations?.[containerdName] ?? entry.annotations?.[refNameAnnotation], input)
    const known = byManifest.get(desc.digest) ?? {body, names: []}
    if (!known.names.includes(name)) known.names.push(name)
    byManifest.set(desc.digest, known)
  }
  if (byManifest.size === 0) throw new PodctlError('the archive\'s index.json names no image')
  const loaded: ImageRecord[] = []
  for (const {body, names} of byManifest.values()) loaded.push(await store.importImage(body, blob, names, signal))
  return loaded
}

/**
 * The name an archive gives an image, as a full reference. An oci-archive
 * written by skopeo names only a tag ("latest"): podman then names the image
 * after the archive, and so does podctl (localhost/<file name>:<tag>).
 */
function imageName(given: string | undefined, input: string): string {
  if (given && (given.includes('/') || given.includes('@') || /^[^:]+:[^:]+$/.test(given))) return parseReference(given).name
  const tag = given && /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(given) ? given : 'latest'
  const file = input === '-' ? 'stdin' : basename(input).replace(/\.(tar|tar\.gz|tgz)$/, '').toLowerCase().replace(/[^a-z0-9._-]+/g, '-') || 'image'
  return parseReference(`localhost/${file}:${tag}`).name
}

interface DockerArchiveEntry {
  Config: string
  RepoTags?: string[] | null
  Layers: string[]
}

/** A docker-archive: an OCI manifest made for each image of manifest.json, its layers as they are (tar or tar+gzip). */
async function loadDockerArchive(store: ImageStore, dir: string, signal?: AbortSignal): Promise<ImageRecord[]> {
  const entries = json<DockerArchiveEntry[]>(readFileSync(join(dir, 'manifest.json')), 'manifest.json')
  if (!Array.isArray(entries) || entries.length === 0) throw new PodctlError('the archive\'s manifest.json names no image')
  const file = (rel: unknown) => {
    if (typeof rel !== 'string') throw new PodctlError('the archive\'s manifest.json has an entry that is not a file name')
    const path = join(dir, ...layerPath(rel))
    if (!existsSync(path)) throw new PodctlError(`the archive is missing "${rel}", which its manifest.json names`)
    return path
  }
  const blobs = new Map<string, string>()
  const loaded: ImageRecord[] = []
  for (const entry of entries) {
    const configPath = file(entry.Config)
    const config = readFileSync(configPath)
    const configDigest = `sha256:${sha256Hex(config)}`
    json<OciImageConfig>(config, entry.Config)
    blobs.set(configDigest, configPath)
    const layers: Descriptor[] = []
    for (const rel of entry.Layers ?? []) {
      const path = file(rel)
      const digest = `sha256:${await fileSha256(path)}`
      blobs.set(digest, path)
      const gzip = isGzip(path)
      layers.push({mediaType: gzip ? mediaTypes.ociLayerGzip : mediaTypes.ociLayer, digest, size: statSync(path).size})
    }
    const manifest: OciManifest = {schemaVersion: 2, mediaType: mediaTypes.ociManifest, config: {mediaType: mediaTypes.ociConfig, digest: configDigest, size: config.length}, layers}
    const names = (entry.RepoTags ?? []).map((t) => parseReference(t).name)
    if (names.length === 0) names.push(parseReference(`localhost/${configDigest.slice(7, 19)}:latest`).name)
    loaded.push(
      await store.importImage(Buffer.from(JSON.stringify(manifest)), (digest) => blobs.get(digest) ?? join(dir, 'missing'), names, signal),
    )
  }
  return loaded
}

/** Whether a file starts with gzip's magic: two bytes read, not the layer. */
function isGzip(path: string): boolean {
  const fd = openSync(path, 'r')
  try {
    const head = Buffer.alloc(2)
    readSync(fd, head, 0, 2, 0)
    return head[0] === 0x1f && head[1] === 0x8b
  } finally {
    closeSync(fd)
  }
}

async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

function json<T>(data: Buffer, what: string): T {
  try {
    return JSON.parse(data.toString()) as T
  } catch {
    throw new PodctlError(`${what} in the archive is not valid JSON`)
  }
}

// ---- saving -----------------------------------------------------------------

/** Write the images as one oci-archive at `out` (a temporary file renamed into place). */
export async function saveArchive(store: ImageStore, refs: string[], out: string): Promise<void> {
  if (refs.length === 0) throw usageError('no image given')
  const images = refs.map((ref) => {
    const image = store.status(ref)
    if (!image) throw new PodctlError(`no such image "${ref}"`, {exitCode: 3, hint: 'list images with: podctl images'})
    return image
  })
  const tmp = `${out}.${process.pid}.${randomBytes(3).toString('hex')}.tmp`
  const tar = new TarWriter(createWriteStream(tmp, {flags: 'wx', mode: 0o644}))
  try {
    await tar.file('oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}'))
    const written = new Set<string>()
    const manifests: Descriptor[] = []
    await tar.dir('blobs/')
    await tar.dir('blobs/sha256/')
    for (const image of images) {
      const manifestBody = readFileSync(store.blobPath(image.manifestDigest))
      const manifest = JSON.parse(manifestBody.toString()) as OciManifest
      for (const desc of [manifest.config, ...manifest.layers, {digest: image.manifestDigest}]) {
        if (written.has(desc.digest)) continue
        written.add(desc.digest)
        await tar.stream(`blobs/sha256/${desc.digest.slice(7)}`, store.blobPath(desc.digest))
      }
      for (const name of image.repoTags.length > 0 ? image.repoTags : [image.id]) {
        manifests.push({
          mediaType: manifest.mediaType ?? mediaTypes.ociManifest,
          digest: image.manifestDigest,
          size: manifestBody.length,
          annotations: {[containerdName]: name, [refNameAnnotation]: name.includes(':') ? name.slice(name.lastIndexOf(':') + 1) : name},
        })
      }
    }
    await tar.file('index.json', Buffer.from(JSON.stringify({schemaVersion: 2, mediaType: mediaTypes.ociIndex, manifests})))
    await tar.end()
    renameSync(tmp, out)
  } catch (err) {
    tar.destroy()
    await rm(tmp, {force: true})
    throw wrap(`saving to "${out}"`, err)
  }
}

/** A ustar writer: enough for an OCI layout (short paths, regular files and directories). */
class TarWriter {
  constructor(private readonly out: NodeJS.WritableStream & {destroy(): void}) {}

  private write(data: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.out.write(data)) resolve()
      else this.out.once('drain', resolve)
      this.out.once('error', reject)
    })
  }

  private header(path: string, size: number, type: '0' | '5', mode: number): Buffer {
    if (Buffer.byteLength(path) > 100) throw new Error(`tar path too long: ${path}`)
    const h = Buffer.alloc(512)
    const put = (text: string, offset: number, length: number) => h.write(text, offset, length, 'latin1')
    const octal = (n: number, length: number) => n.toString(8).padStart(length - 1, '0')
    put(path, 0, 100)
    put(octal(mode, 8), 100, 8)
    put(octal(0, 8), 108, 8)
    put(octal(0, 8), 116, 8)
    put(octal(size, 12), 124, 12)
    put(octal(0, 12), 136, 12)
    put('        ', 148, 8)
    put(type, 156, 1)
    put('ustar\u000000', 257, 8)
    let sum = 0
    for (const b of h) sum += b
    put(`${octal(sum, 7)}\u0000`, 148, 8)
    return h
  }

  private pad(size: number): Promise<void> {
    const rest = (512 - (size % 512)) % 512
    return rest > 0 ? this.write(Buffer.alloc(rest)) : Promise.resolve()
  }

  async dir(path: string): Promise<void> {
    await this.write(this.header(path, 0, '5', 0o755))
  }

  async file(path: string, data: Buffer): Promise<void> {
    await this.write(this.header(path, data.length, '0', 0o644))
    await this.write(data)
    await this.pad(data.length)
  }

  async stream(path: string, source: string): Promise<void> {
    const size = (await stat(source)).size
    await this.write(this.header(path, size, '0', 0o644))
    let written = 0
    for await (const chunk of createReadStream(source)) {
      written += (chunk as Buffer).length
      await this.write(chunk as Buffer)
    }
    if (written !== size) throw new Error(`${source} changed while it was saved`)
    await this.pad(size)
  }

  async end(): Promise<void> {
    await this.write(Buffer.alloc(1024))
    await new Promise<void>((resolve, reject) => {
      this.out.once('error', reject)
      this.out.end(() => resolve())
    })
  }

  destroy(): void {
    this.out.destroy()
  }
}
