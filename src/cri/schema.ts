// The CRI v1 messages podctl reads from users, as data: field names and
// numbers exactly as k8s.io/cri-api's api.proto (runtime.v1). The pod config
// parser walks this table, so the accepted keys can never drift from the
// types in ./types.ts; a later `runp jsonschema` and the gRPC server read it
// too.

import {containerEnums, containerMessages} from './container-schema.js'
import {enm, f, list, msg, type MessageDef, stringMap} from './schema-dsl.js'

export type {FieldDef, MessageDef, ScalarType} from './schema-dsl.js'

export const enums: Record<string, Record<string, number>> = {
  Protocol: {TCP: 0, UDP: 1, SCTP: 2},
  NamespaceMode: {POD: 0, CONTAINER: 1, NODE: 2, TARGET: 3},
  ProfileType: {RuntimeDefault: 0, Unconfined: 1, Localhost: 2},
  SupplementalGroupsPolicy: {Merge: 0, Strict: 1},
  PodSandboxState: {SANDBOX_READY: 0, SANDBOX_NOTREADY: 1},
  ...containerEnums,
}

export const messages: Record<string, MessageDef> = Object.fromEntries(
  (
    [
      {
        name: 'PodSandboxConfig',
        fields: [
          f('metadata', 1, msg('PodSandboxMetadata')),
          f('hostname', 2, 'string'),
          f('log_directory', 3, 'string'),
          f('dns_config', 4, msg('DNSConfig')),
          f('port_mappings', 5, msg('PortMapping'), list),
          f('labels', 6, 'string', stringMap),
          f('annotations', 7, 'string', stringMap),
          f('linux', 8, msg('LinuxPodSandboxConfig')),
          f('windows', 9, msg('WindowsPodSandboxConfig')),
        ],
      },
      {
        name: 'PodSandboxMetadata',
        fields: [f('name', 1, 'string'), f('uid', 2, 'string'), f('namespace', 3, 'string'), f('attempt', 4, 'uint32')],
      },
      {
        name: 'DNSConfig',
        fields: [f('servers', 1, 'string', list), f('searches', 2, 'string', list), f('options', 3, 'string', list)],
      },
      {
        name: 'PortMapping',
        fields: [
          f('protocol', 1, enm('Protocol')),
          f('container_port', 2, 'int32'),
          f('host_port', 3, 'int32'),
          f('host_ip', 4, 'string'),
        ],
      },
      {
        name: 'LinuxPodSandboxConfig',
        fields: [
          f('cgroup_parent', 1, 'string'),
          f('security_context', 2, msg('LinuxSandboxSecurityContext')),
          f('sysctls', 3, 'string', stringMap),
          f('overhead', 4, msg('LinuxContainerResources')),
          f('resources', 5, msg('LinuxContainerResources')),
        ],
      },
      {
        name: 'LinuxSandboxSecurityContext',
        fields: [
          f('namespace_options', 1, msg('NamespaceOption')),
          f('selinux_options', 2, msg('SELinuxOption')),
          f('run_as_user', 3, msg('Int64Value')),
          f('readonly_rootfs', 4, 'bool'),
          f('supplemental_groups', 5, 'int64', list),
          f('privileged', 6, 'bool'),
          f('seccomp_profile_path', 7, 'string'),
          f('run_as_group', 8, msg('Int64Value')),
          f('seccomp', 9, msg('SecurityProfile')),
          f('apparmor', 10, msg('SecurityProfile')),
          f('supplemental_groups_policy', 11, enm('SupplementalGroupsPolicy')),
        ],
      },
      {
        name: 'NamespaceOption',
        fields: [
          f('network', 1, enm('NamespaceMode')),
          f('pid', 2, enm('NamespaceMode')),
          f('ipc', 3, enm('NamespaceMode')),
          f('target_id', 4, 'string'),
          f('userns_options', 5, msg('UserNamespace')),
        ],
      },
      {
        name: 'UserNamespace',
        fields: [f('mode', 1, enm('NamespaceMode')), f('uids', 2, msg('IDMapping'), list), f('gids', 3, msg('IDMapping'), list)],
      },
      {
        name: 'IDMapping',
        fields: [f('host_id', 1, 'uint32'), f('container_id', 2, 'uint32'), f('length', 3, 'uint32')],
      },
      {name: 'Int64Value', fields: [f('value', 1, 'int64')]},
      {
        name: 'SELinuxOption',
        fields: [f('user', 1, 'string'), f('role', 2, 'string'), f('type', 3, 'string'), f('level', 4, 'string')],
      },
      {
        name: 'SecurityProfile',
        fields: [f('profile_type', 1, enm('ProfileType')), f('localhost_ref', 2, 'string')],
      },
      {
        name: 'LinuxContainerResources',
        fields: [
          f('cpu_period', 1, 'int64'),
          f('cpu_quota', 2, 'int64'),
          f('cpu_shares', 3, 'int64'),
          f('memory_limit_in_bytes', 4, 'int64'),
          f('oom_score_adj', 5, 'int64'),
          f('cpuset_cpus', 6, 'string'),
          f('cpuset_mems', 7, 'string'),
          f('hugepage_limits', 8, msg('HugepageLimit'), list),
          f('unified', 9, 'string', stringMap),
          f('memory_swap_limit_in_bytes', 10, 'int64'),
        ],
      },
      {name: 'HugepageLimit', fields: [f('page_size', 1, 'string'), f('limit', 2, 'uint64')]},
      {name: 'WindowsPodSandboxConfig', fields: [f('security_context', 1, msg('WindowsSandboxSecurityContext'))]},
      {
        name: 'WindowsSandboxSecurityContext',
        fields: [
          f('run_as_username', 1, 'string'),
          f('credential_spec', 2, 'string'),
          f('host_process', 3, 'bool'),
          f('namespace_options', 4, msg('WindowsNamespaceOption')),
        ],
      },
      {name: 'WindowsNamespaceOption', fields: [f('network', 1, enm('NamespaceMode'))]},
      ...containerMessages,
    ] satisfies MessageDef[]
  ).map((m) => [m.name, m]),
)

/** lowerCamelCase of a proto field name, as protojson writes it. */
export function jsonName(protoName: string): string {
  return protoName.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase())
}

/** The enum value's name for a number, as protojson prints it. */
export function enumName(enumType: string, value: number): string {
  const entry = Object.entries(enums[enumType] ?? {}).find(([, v]) => v === value)
  return entry ? entry[0] : String(value)
}
