// What CNI ADD and DEL are told about a pod: its container ID, netns and
// interface, the CNI_ARGS pairs a kubelet's runtime sets, and the capability
// args (runtimeConfig) offered to every plugin, each taking the ones its
// conflist entry declares. A new capability arg is one more key here.

import {podCgroupsPath, recordCgroupParent} from './cgroups.js'
import type {Attachment} from './cni.js'
import {cniPortMappings} from './ports.js'
import type {PodRecord} from './store.js'

/** The attachment of a pod; on DEL with its netns already gone, netns is "" (CNI spec). */
export function podAttachment(record: PodRecord, netnsGone = false): Attachment {
  const md = record.config.metadata
  const portMappings = cniPortMappings(record.config)
  const dns = record.config.dns_config
  return {
    containerId: record.id,
    netns: netnsGone ? '' : (record.netnsPath ?? ''),
    ifName: 'eth0',
    args: {
      IgnoreUnknown: '1',
      K8S_POD_NAMESPACE: md.namespace,
      K8S_POD_NAME: md.name,
      K8S_POD_INFRA_CONTAINER_ID: record.id,
      K8S_POD_UID: md.uid,
    },
    capabilityArgs: {
      portMappings: portMappings.length > 0 ? portMappings : undefined,
      dns: dns ? {servers: dns.servers ?? [], searches: dns.searches ?? [], options: dns.options ?? []} : undefined,
      cgroupPath: podCgroupsPath(recordCgroupParent(record), record.id),
      'io.kubernetes.cri.pod-annotations': record.config.annotations ?? {},
    },
  }
}
