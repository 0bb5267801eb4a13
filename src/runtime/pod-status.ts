// The CRI PodSandboxStatus of a pod as the listing sees it (inspectp and
// PodSandboxStatus): the record's config and network, the derived state.

import {enumName} from '../cri/schema.js'
import {NamespaceMode, type PodSandboxStatus} from '../cri/types.js'
import {metadataOf, type PodView} from './listing.js'

function nsModeName(mode: number | undefined): string {
  return enumName('NamespaceMode', mode ?? NamespaceMode.POD)
}

export function toPodSandboxStatus(v: PodView): PodSandboxStatus {
  const {record} = v
  const ns = record.config.linux?.security_context?.namespace_options ?? {}
  // containerd: no IP for a host-network pod or once the network is torn down.
  const ip = record.network?.added ? (record.network.ip ?? '') : ''
  return {
    id: record.id,
    metadata: metadataOf(record),
    state: v.state,
    createdAt: record.createdAt,
    network: {additionalIps: (record.network?.added ? (record.network.additionalIps ?? []) : []).map((a) => ({ip: a})), ip},
    linux: {
      namespaces: {
        options: {ipc: nsModeName(ns.ipc), network: nsModeName(ns.network), pid: nsModeName(ns.pid), targetId: ns.target_id ?? '', usernsOptions: null},
      },
    },
    labels: record.config.labels ?? {},
    annotations: record.config.annotations ?? {},
    runtimeHandler: record.runtimeHandler,
  }
}
