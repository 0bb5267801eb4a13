// The pause-image setting: pods run their pause process from an image in the
// store, pulled on first use, as containerd does with sandbox_image. The
// image's layers are merged once per image into a plain read-only rootfs
// under <root>/pause-images/<image ID> (through a read-only overlay mount
// held only while it is copied, so that whiteouts and opaque directories
// mean what the kernel says they mean), shared by every pod as the built-in
// catatonit rootfs is. A pause image is small; nothing is copied per pod, and
// no mount outlives the build.

import {existsSync} from 'node:fs'
import {mkdir, readdir, rename, rm, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

import {PodctlError, wrap} from './errors.js'
import {run} from './exec.js'
import type {CallContext} from './context.js'

export interface PauseImage {
  rootfs: string
  /** the image's Entrypoint and Cmd */
  args: string[]
  /** 'sha256:<config digest>' */
  imageId: string
  /** the image's first tag, else the setting as written */
  name: string
}

/** Mount targets the pause spec binds onto, made in the rootfs when the image lacks them (the rootfs is read-only at run time). */
const mountDirs = ['proc', 'dev', 'sys', 'etc']
const mountFiles = ['etc/hostname', 'etc/hosts', 'etc/resolv.conf']

/** Builds in progress in this process: concurrent RunPodSandbox calls of podctl serve share one. */
const building = new Map<string, Promise<void>>()

export async function pauseImageRootfs(rt: CallContext, ref: string): Promise<PauseImage> {
  const {ImageStore} = await import('../images/store.js')
  const store = new ImageStore(rt.settings)
  let image = store.status(ref)
  if (!image) {
    rt.ctx.log(`pause image "${ref}" is not in the store: pulling it`)
    try {
      image = await store.pull(ref, {signal: rt.ctx.signal, log: rt.ctx.log})
    } catch (err) {
      throw wrap(`pulling the pause image "${ref}" (the pause-image setting)`, err)
    }
  }
  const args = [...(image.config.config?.Entrypoint ?? []), ...(image.config.config?.Cmd ?? [])]
  if (args.length === 0) {
    throw new PodctlError(`the pause image "${ref}" has neither an Entrypoint nor a Cmd: there is no pause process to run`, {
      hint: 'set pause-image to an image that runs one (e.g. registry.k8s.io/pause:3.9), or unset it for the built-in catatonit rootfs',
    })
  }
  const {lowerDirs} = store.rootfs(image.id)
  const dir = join(rt.settings.root, 'pause-images', image.id.slice('sha256:'.length))
  let build = building.get(dir)
  if (!build) {
    build = buildRootfs(rt, dir, lowerDirs).finally(() => building.delete(dir))
    building.set(dir, build)
  }
  await build
  return {rootfs: join(dir, 'rootfs'), args, imageId: image.id, name: image.repoTags[0] ?? ref}
}

async function buildRootfs(rt: CallContext, dir: string, lowerDirs: string[]): Promise<void> {
  if (existsSync(join(dir, 'built'))) return
  await mkdir(dir, {recursive: true, mode: 0o711})
  // What a killed build left: its mount first, then its files.
  for (const name of await readdir(dir)) {
    if (name.startsWith('mnt.')) await run(rt.ctx, 'umount', [join(dir, name)]).catch(() => undefined)
    if (name.startsWith('mnt.') || name.startsWith('rootfs.') || name.startsWith('empty.')) await rm(join(dir, name), {recursive: true, force: true})
  }
  const tag = `${process.pid}.${Math.random().toString(16).slice(2, 8)}`
  const mnt = join(dir, `mnt.${tag}`)
  const empty = join(dir, `empty.${tag}`)
  const tmp = join(dir, `rootfs.${tag}`)
  await Promise.all([mkdir(mnt), mkdir(empty)])
  try {
    // An overlay of lower layers only is read-only, and needs two of them: the empty dir is the second for a one-layer image.
    const mounted = await run(rt.ctx, 'mount', ['-t', 'overlay', 'overlay', '-o', `ro,lowerdir=${[...lowerDirs, empty].join(':')}`, mnt])
    if (mounted.exitCode !== 0) throw new PodctlError(`cannot mount the pause image's layers: ${mounted.stderr || `mount exited ${mounted.exitCode}`}`, {hint: 'podctl needs overlayfs (modprobe overlay)'})
    try {
      const copied = await run(rt.ctx, 'cp', ['-a', `${mnt}/.`, tmp])
      if (copied.exitCode !== 0) throw new PodctlError(`cannot copy the pause image's layers: ${copied.stderr}`)
    } finally {
      await run(rt.ctx, 'umount', [mnt])
    }
    for (const d of mountDirs) await mkdir(join(tmp, d), {recursive: true, mode: 0o755})
    for (const f of mountFiles) if (!existsSync(join(tmp, f))) await writeFile(join(tmp, f), '', {mode: 0o644})
    await rename(tmp, join(dir, 'rootfs')).catch(async (err: NodeJS.ErrnoException) => {
      // Another podctl built it first.
      if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err
    })
    await writeFile(join(dir, 'built'), `${lowerDirs.join('\n')}\n`)
  } finally {
    await Promise.all([rm(mnt, {recursive: true, force: true}), rm(empty, {recursive: true, force: true}), rm(tmp, {recursive: true, force: true})])
  }
}
