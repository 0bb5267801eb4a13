// The CRI v1 ContainerConfig and its parts, as data (see ./schema.ts): field
// names and numbers as k8s.io/cri-api's api.proto. Kept apart from the pod
// messages so that each table stays one screen; schema.ts merges them.

import {enm, f, list, type MessageDef, msg, stringMap} from './schema-dsl.js'

export const containerEnums: Record<string, Record<string, number>> = {
  MountPropagation: {PROPAGATION_PRIVATE: 0, PROPAGATION_HOST_TO_CONTAINER: 1, PROPAGATION_BIDIRECTIONAL: 2},
}

export const containerMessages: MessageDef[] = [
  {
    name: 'ContainerConfig',
    fields: [
      f('metadata', 1, msg('ContainerMetadata')),
      f('image', 2, msg('ImageSpec')),
      f('command', 3, 'string', list),
      f('args', 4, 'string', list),
      f('working_dir', 5, 'string'),
      f('envs', 6, msg('KeyValue'), list),
      f('mounts', 7, msg('Mount'), list),
      f('devices', 8, msg('Device'), list),
      f('labels', 9, 'string', stringMap),
      f('annotations', 10, 'string', stringMap),
      f('log_path', 11, 'string'),
      f('stdin', 12, 'bool'),
      f('stdin_once', 13, 'bool'),
      f('tty', 14, 'bool'),
      f('linux', 15, msg('LinuxContainerConfig')),
      f('windows', 16, msg('WindowsContainerConfig')),
    ],
  },
  {name: 'ContainerMetadata', fields: [f('name', 1, 'string'), f('attempt', 2, 'uint32')]},
  {name: 'ImageSpec', fields: [f('image', 1, 'string'), f('annotations', 2, 'string', stringMap), f('user_specified_image', 18, 'string'), f('runtime_handler', 19, 'string')]},
  {name: 'KeyValue', fields: [f('key', 1, 'string'), f('value', 2, 'string')]},
  {
    name: 'Mount',
    fields: [
      f('container_path', 1, 'string'),
      f('host_path', 2, 'string'),
      f('readonly', 3, 'bool'),
      f('selinux_relabel', 4, 'bool'),
      f('propagation', 5, enm('MountPropagation')),
      f('uidMappings', 6, msg('IDMapping'), list),
      f('gidMappings', 7, msg('IDMapping'), list),
      f('recursive_read_only', 8, 'bool'),
      f('image', 9, msg('ImageSpec')),
      f('image_sub_path', 10, 'string'),
    ],
  },
  {name: 'Device', fields: [f('container_path', 1, 'string'), f('host_path', 2, 'string'), f('permissions', 3, 'string')]},
  {
    name: 'LinuxContainerConfig',
    fields: [f('resources', 1, msg('LinuxContainerResources')), f('security_context', 2, msg('LinuxContainerSecurityContext'))],
  },
  {
    name: 'LinuxContainerSecurityContext',
    fields: [
      f('capabilities', 1, msg('Capability')),
      f('privileged', 2, 'bool'),
      f('namespace_options', 3, msg('NamespaceOption')),
      f('selinux_options', 4, msg('SELinuxOption')),
      f('run_as_user', 5, msg('Int64Value')),
      f('run_as_username', 6, 'string'),
      f('readonly_rootfs', 7, 'bool'),
      f('supplemental_groups', 8, 'int64', list),
      f('apparmor_profile', 9, 'string'),
      f('seccomp_profile_path', 10, 'string'),
      f('no_new_privs', 11, 'bool'),
      f('run_as_group', 12, msg('Int64Value')),
      f('masked_paths', 13, 'string', list),
      f('readonly_paths', 14, 'string', list),
      f('seccomp', 15, msg('SecurityProfile')),
      f('apparmor', 16, msg('SecurityProfile')),
      f('supplemental_groups_policy', 17, enm('SupplementalGroupsPolicy')),
    ],
  },
  {
    name: 'Capability',
    fields: [f('add_capabilities', 1, 'string', list), f('drop_capabilities', 2, 'string', list), f('add_ambient_capabilities', 3, 'string', list)],
  },
  {name: 'WindowsContainerConfig', fields: [f('resources', 1, msg('WindowsContainerResources')), f('security_context', 2, msg('WindowsContainerSecurityContext'))]},
  {
    name: 'WindowsContainerResources',
    fields: [f('cpu_shares', 1, 'int64'), f('cpu_count', 2, 'int64'), f('cpu_maximum', 3, 'int64'), f('memory_limit_in_bytes', 4, 'int64'), f('rootfs_size_in_bytes', 5, 'int64')],
  },
  {name: 'WindowsContainerSecurityContext', fields: [f('run_as_username', 1, 'string'), f('credential_spec', 2, 'string'), f('host_process', 3, 'bool')]},
]
