// The pause rootfs: built once from the host's static catatonit, as podman
// does offline. It is shared, read-only, by every pod of a state root.

import {constants, existsSync} from 'node:fs'
import {access, copyFile, mkdir, open, readFile, rename, rm, writeFile} from 'node:fs/promises'
import {delimiter, join} from 'node:path'

import {prerequisiteError} from './errors.js'

/** The pause process: catatonit as a pause container (`-P`: wait for signals only). */
export const pauseArgs = ['/catatonit', '-P']

const searchDirs = ['/usr/bin', '/usr/libexec/podman', '/usr/local/bin', '/usr/sbin']

/** Builds in progress in this process: concurrent RunPodSandbox calls of `podctl serve` share one. */
const building = new Map<string, Promise<string>>()

/** The ready rootfs under `pauseDir`, building it on first use. */
export function ensurePauseRootfs(pauseDir: string): Promise<string> {
  let build = building.get(pauseDir)
  if (!build) {
    build = buildPauseRootfs(pauseDir).finally(() => building.delete(pauseDir))
    building.set(pauseDir, build)
  }
  return build
}

async function buildPauseRootfs(pauseDir: string): Promise<string> {
  const rootfs = join(pauseDir, 'rootfs')
  const marker = join(pauseDir, 'built')
  // Synchronously, the one check of every runp: see writeFileAtomic in store.ts.
  if (existsSync(marker)) return rootfs
  const catatonit = await findCatatonit()
  await mkdir(pauseDir, {recursive: true, mode: 0o711})
  // Build beside, then rename: concurrent first runs each build their own
  // copy and one rename wins; a crash mid-build leaves only a temp dir.
  const tmp = join(pauseDir, `rootfs.${process.pid}.tmp`)
  await rm(tmp, {recursive: true, force: true})
  for (const dir of ['proc', 'dev', 'sys', 'etc']) await mkdir(join(tmp, dir), {recursive: true, mode: 0o755})
  for (const file of ['hostname', 'hosts', 'resolv.conf']) await writeFile(join(tmp, 'etc', file), '', {mode: 0o644})
  await copyFile(catatonit, join(tmp, 'catatonit'))
  const handle = await open(join(tmp, 'catatonit'), constants.O_RDONLY)
  await handle.chmod(0o755)
  await handle.close()
  try {
    await rename(tmp, rootfs)
  } catch {
    // another podctl built it first
    await rm(tmp, {recursive: true, force: true})
  }
  await writeFile(marker, `${catatonit}\n`)
  return rootfs
}

export interface PauseStatus {
  rootfs: string
  /** built already; otherwise runp builds it from `catatonit` */
  built: boolean
  /** the catatonit it was, or would be, built from */
  catatonit: string
}

/**
 * Whether the pause rootfs is built, or can be; looks only. A rootfs that
 * cannot be built throws the prerequisite error runp would.
 */
export async function pauseStatus(pauseDir: string): Promise<PauseStatus> {
  const rootfs = join(pauseDir, 'rootfs')
  const built = await readFile(join(pauseDir, 'built'), 'utf8').then((t) => t.trim(), () => undefined)
  if (built !== undefined) return {rootfs, built: true, catatonit: built}
  return {rootfs, built: false, catatonit: await findCatatonit()}
}

async function findCatatonit(): Promise<string> {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...searchDirs]
  for (const dir of dirs) {
    const path = join(dir, 'catatonit')
    try {
      await access(path, constants.X_OK)
    } catch {
      continue
    }
    if (await isDynamicElf(path)) {
      throw prerequisiteError(`catatonit at ${path} is dynamically linked; the pause rootfs needs a static one`, 'install the static build (Debian/Ubuntu: apt-get install catatonit)')
    }
    return path
  }
  throw prerequisiteError('catatonit not found: podctl builds the pause rootfs from it', 'install it (Debian/Ubuntu: apt-get install catatonit)')
}

/** An ELF file with a PT_INTERP program header needs a dynamic loader. */
export async function isDynamicElf(path: string): Promise<boolean> {
  const buf = await readFile(path)
  if (buf.length < 64 || buf.readUInt32BE(0) !== 0x7f454c46) return false
  const is64 = buf[4] === 2
  const le = buf[5] === 1
  const u16 = (o: number) => (le ? buf.readUInt16LE(o) : buf.readUInt16BE(o))
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o))
  const phoff = is64 ? Number(le ? buf.readBigUInt64LE(32) : buf.readBigUInt64BE(32)) : u32(28)
  const phentsize = u16(is64 ? 54 : 42)
  const phnum = u16(is64 ? 56 : 44)
  for (let i = 0; i < phnum; i++) {
    const off = phoff + i * phentsize
    if (off + 4 > buf.length) break
    if (u32(off) === 3) return true
  }
  return false
}
