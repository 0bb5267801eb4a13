import {Flags} from '../cli/oclif.js'

import {BaseCommand, exitStatusHelp} from '../base-command.js'
import {messageOf, PodctlError, wrap} from '../runtime/errors.js'
import {findOrphans, removeOrphan} from '../runtime/gc.js'

export default class Gc extends BaseCommand<typeof Gc> {
  static override summary = 'Remove what no pod owns: stray netns, runtime containers, IPs, iptables rules, cgroups'
  static override description = `Finds resources that a crash, a reboot or a hand-removed state directory left without a pod record, and removes them: network namespaces under the run root, runtime containers under podctl's runtime root, IPAM allocations (released with CNI DEL, which also drops their iptables rules), the nat rules and chains CNI plugins keep for a pod (found by the pod ID in their comments and chain names) when DEL could not remove them, stale name reservations, the pod cgroups of those pods, and the lock directories (under /run/podctl-locks) of pods and containers that are gone, once gc holds them: a lock some command holds is never removed. Places that other runtimes share (the IPAM dataDirs of the conf dir's networks, such as host-local's /var/lib/cni/networks, the nat table, the cgroup parent) are searched only for pods with another trace in this root, so nothing of another runtime's is taken.

Of containers it removes those whose record is missing or unreadable (a create killed early, a corrupted file): their monitor, runtime container, cgroup, overlay mount, name reservation and directory, found from the system; a conmon whose container directory is gone; and a pod's /dev/shm mount whose pod is gone. A container whose create, stop or rm is still running is left alone.

In the image store it removes blobs and layer snapshots that no image refers to, and the partial downloads and unpacks of pulls that were killed (a pull in progress is left alone).

Only podctl's own directories are looked at, and only entries named by a pod ID; a pod whose runp is still running is left alone. Pods that still have a record, even a NotReady one, are rmp's business, not gc's.

EXIT STATUS
${exitStatusHelp}`

  static override examples = [
    {description: 'See what would be removed', command: '<%= config.bin %> <%= command.id %> --dry-run'},
    {description: 'Remove it', command: '<%= config.bin %> <%= command.id %>'},
  ]

  static override flags = {
    'dry-run': Flags.boolean({description: 'list what would be removed, remove nothing'}),
  }

  async run(): Promise<void> {
    const rt = this.runtime()
    const orphans = await findOrphans(rt)
    const dryRun = this.flags['dry-run']
    let failed = 0
    for (const o of orphans) {
      const line = o.id ? `${o.kind} ${o.path} (pod ${o.id})` : `${o.kind} ${o.path}`
      if (dryRun) {
        this.out(`Would remove ${line}`)
        continue
      }
      try {
        await removeOrphan(rt, o)
        this.out(`Removed ${line}`)
      } catch (err) {
        failed++
        this.printError(wrap(`removing ${line}`, err instanceof PodctlError ? err : new PodctlError(messageOf(err))))
      }
    }
    // The image store: blobs and layer snapshots no image refers to, and what killed pulls left.
    // Loaded here: the store's http/https cannot be in the start-up snapshot.
    const {ImageStore} = await import('../images/store.js')
    // What containers mount stays, even of an image removed since.
    const {imagesInUse} = await import('../runtime/container-store.js')
    const images = await new ImageStore(rt.settings).gc(imagesInUse(rt.store).snapshots, {dryRun})
    for (const what of images) this.out(`${dryRun ? 'Would remove' : 'Removed'} ${what}`)
    if (orphans.length === 0 && images.length === 0) process.stderr.write('Nothing to remove\n')
    if (failed > 0) throw new PodctlError(`failed to remove ${failed} of ${orphans.length} orphaned resources`)
  }
}
