// src/cri/api.proto against the published CRI v1 API, field by field. On the
// wire only field numbers and types count: a wrong number is not an error
// anywhere, it silently puts a value in the wrong field. So every message
// podctl declares with fields is compared with the table below, transcribed
// by hand from k8s.io/cri-api pkg/apis/runtime/v1/api.proto (the copy in
// kubernetes/kubernetes staging/src/k8s.io/cri-api, 2025), in its own syntax
// so that it can be checked against that file line by line.
//
// The pod config table the CLI parses with (src/cri/schema.ts) is checked
// against the proto too: the CLI and the server read one schema.

import assert from 'node:assert/strict'
import {describe, test} from 'node:test'

import protobuf from 'protobufjs'

import {protoPath} from '../../../src/cri/proto.js'
import {enums as cliEnums, messages as cliMessages} from '../../../src/cri/schema.js'

/** message → its fields as published: "[repeated] type name = number". */
const published: Record<string, string[]> = {
  VersionRequest: ['string version = 1'],
  VersionResponse: ['string version = 1', 'string runtime_name = 2', 'string runtime_version = 3', 'string runtime_api_version = 4'],

  DNSConfig: ['repeated string servers = 1', 'repeated string searches = 2', 'repeated string options = 3'],
  PortMapping: ['Protocol protocol = 1', 'int32 container_port = 2', 'int32 host_port = 3', 'string host_ip = 4'],
  IDMapping: ['uint32 host_id = 1', 'uint32 container_id = 2', 'uint32 length = 3'],
  UserNamespace: ['NamespaceMode mode = 1', 'repeated IDMapping uids = 2', 'repeated IDMapping gids = 3'],
  NamespaceOption: ['NamespaceMode network = 1', 'NamespaceMode pid = 2', 'NamespaceMode ipc = 3', 'string target_id = 4', 'UserNamespace userns_options = 5'],
  Int64Value: ['int64 value = 1'],
  LinuxSandboxSecurityContext: [
    'NamespaceOption namespace_options = 1',
    'SELinuxOption selinux_options = 2',
    'Int64Value run_as_user = 3',
    'Int64Value run_as_group = 8',
    'bool readonly_rootfs = 4',
    'repeated int64 supplemental_groups = 5',
    'SupplementalGroupsPolicy supplemental_groups_policy = 11',
    'bool privileged = 6',
    'SecurityProfile seccomp = 9',
    'SecurityProfile apparmor = 10',
    'string seccomp_profile_path = 7',
  ],
  SecurityProfile: ['ProfileType profile_type = 1', 'string localhost_ref = 2'],
  LinuxPodSandboxConfig: [
    'string cgroup_parent = 1',
    'LinuxSandboxSecurityContext security_context = 2',
    'map<string,string> sysctls = 3',
    'LinuxContainerResources overhead = 4',
    'LinuxContainerResources resources = 5',
  ],
  KeyValue: ['string key = 1', 'string value = 2'],
  Mount: [
    'string container_path = 1',
    'string host_path = 2',
    'bool readonly = 3',
    'bool selinux_relabel = 4',
    'MountPropagation propagation = 5',
    'repeated IDMapping uidMappings = 6',
    'repeated IDMapping gidMappings = 7',
    'bool recursive_read_only = 8',
    'ImageSpec image = 9',
    'string image_sub_path = 10',
  ],
  Device: ['string container_path = 1', 'string host_path = 2', 'string permissions = 3'],
  Capability: ['repeated string add_capabilities = 1', 'repeated string drop_capabilities = 2', 'repeated string add_ambient_capabilities = 3'],
  LinuxContainerSecurityContext: [
    'Capability capabilities = 1',
    'bool privileged = 2',
    'NamespaceOption namespace_options = 3',
    'SELinuxOption selinux_options = 4',
    'Int64Value run_as_user = 5',
    'Int64Value run_as_group = 12',
    'string run_as_username = 6',
    'bool readonly_rootfs = 7',
    'repeated int64 supplemental_groups = 8',
    'SupplementalGroupsPolicy supplemental_groups_policy = 17',
    'string apparmor_profile = 9',
    'string seccomp_profile_path = 10',
    'bool no_new_privs = 11',
    'repeated string masked_paths = 13',
    'repeated string readonly_paths = 14',
    'SecurityProfile seccomp = 15',
    'SecurityProfile apparmor = 16',
  ],
  LinuxContainerConfig: ['LinuxContainerResources resources = 1', 'LinuxContainerSecurityContext security_context = 2'],
  WindowsContainerResources: ['int64 cpu_shares = 1', 'int64 cpu_count = 2', 'int64 cpu_maximum = 3', 'int64 memory_limit_in_bytes = 4', 'int64 rootfs_size_in_bytes = 5'],
  WindowsContainerSecurityContext: ['string run_as_username = 1', 'string credential_spec = 2', 'bool host_process = 3'],
  WindowsContainerConfig: ['WindowsContainerResources resources = 1', 'WindowsContainerSecurityContext security_context = 2'],
  ContainerConfig: [
    'ContainerMetadata metadata = 1',
    'ImageSpec image = 2',
    'repeated string command = 3',
    'repeated string args = 4',
    'string working_dir = 5',
    'repeated KeyValue envs = 6',
    'repeated Mount mounts = 7',
    'repeated Device devices = 8',
    'map<string,string> labels = 9',
    'map<string,string> annotations = 10',
    'string log_path = 11',
    'bool stdin = 12',
    'bool stdin_once = 13',
    'bool tty = 14',
    'LinuxContainerConfig linux = 15',
    'WindowsContainerConfig windows = 16',
  ],
  PodSandboxMetadata: ['string name = 1', 'string uid = 2', 'string namespace = 3', 'uint32 attempt = 4'],
  PodSandboxConfig: [
    'PodSandboxMetadata metadata = 1',
    'string hostname = 2',
    'string log_directory = 3',
    'DNSConfig dns_config = 4',
    'repeated PortMapping port_mappings = 5',
    'map<string,string> labels = 6',
    'map<string,string> annotations = 7',
    'LinuxPodSandboxConfig linux = 8',
    'WindowsPodSandboxConfig windows = 9',
  ],
  LinuxContainerResources: [
    'int64 cpu_period = 1',
    'int64 cpu_quota = 2',
    'int64 cpu_shares = 3',
    'int64 memory_limit_in_bytes = 4',
    'int64 oom_score_adj = 5',
    'string cpuset_cpus = 6',
    'string cpuset_mems = 7',
    'repeated HugepageLimit hugepage_limits = 8',
    'map<string,string> unified = 9',
    'int64 memory_swap_limit_in_bytes = 10',
  ],
  HugepageLimit: ['string page_size = 1', 'uint64 limit = 2'],
  SELinuxOption: ['string user = 1', 'string role = 2', 'string type = 3', 'string level = 4'],
  WindowsNamespaceOption: ['NamespaceMode network = 1'],
  WindowsSandboxSecurityContext: ['string run_as_username = 1', 'string credential_spec = 2', 'bool host_process = 3', 'WindowsNamespaceOption namespace_options = 4'],
  WindowsPodSandboxConfig: ['WindowsSandboxSecurityContext security_context = 1'],

  RunPodSandboxRequest: ['PodSandboxConfig config = 1', 'string runtime_handler = 2'],
  RunPodSandboxResponse: ['string pod_sandbox_id = 1'],
  StopPodSandboxRequest: ['string pod_sandbox_id = 1'],
  RemovePodSandboxRequest: ['string pod_sandbox_id = 1'],
  PodSandboxStatusRequest: ['string pod_sandbox_id = 1', 'bool verbose = 2'],
  PodIP: ['string ip = 1'],
  PodSandboxNetworkStatus: ['string ip = 1', 'repeated PodIP additional_ips = 2'],
  Namespace: ['NamespaceOption options = 2'],
  LinuxPodSandboxStatus: ['Namespace namespaces = 1'],
  PodSandboxStatus: [
    'string id = 1',
    'PodSandboxMetadata metadata = 2',
    'PodSandboxState state = 3',
    'int64 created_at = 4',
    'PodSandboxNetworkStatus network = 5',
    'LinuxPodSandboxStatus linux = 6',
    'map<string,string> labels = 7',
    'map<string,string> annotations = 8',
    'string runtime_handler = 9',
  ],
  PodSandboxStatusResponse: ['PodSandboxStatus status = 1', 'map<string,string> info = 2', 'repeated ContainerStatus containers_statuses = 3', 'int64 timestamp = 4'],
  PodSandboxStateValue: ['PodSandboxState state = 1'],
  PodSandboxFilter: ['string id = 1', 'PodSandboxStateValue state = 2', 'map<string,string> label_selector = 3'],
  ListPodSandboxRequest: ['PodSandboxFilter filter = 1'],
  PodSandbox: [
    'string id = 1',
    'PodSandboxMetadata metadata = 2',
    'PodSandboxState state = 3',
    'int64 created_at = 4',
    'map<string,string> labels = 5',
    'map<string,string> annotations = 6',
    'string runtime_handler = 7',
  ],
  ListPodSandboxResponse: ['repeated PodSandbox items = 1'],

  PodSandboxStatsRequest: ['string pod_sandbox_id = 1'],
  PodSandboxStatsResponse: ['PodSandboxStats stats = 1'],
  PodSandboxStatsFilter: ['string id = 1', 'map<string,string> label_selector = 2'],
  ListPodSandboxStatsRequest: ['PodSandboxStatsFilter filter = 1'],
  ListPodSandboxStatsResponse: ['repeated PodSandboxStats stats = 1'],
  PodSandboxAttributes: ['string id = 1', 'PodSandboxMetadata metadata = 2', 'map<string,string> labels = 3', 'map<string,string> annotations = 4'],
  PodSandboxStats: ['PodSandboxAttributes attributes = 1', 'LinuxPodSandboxStats linux = 2', 'WindowsPodSandboxStats windows = 3'],
  LinuxPodSandboxStats: ['CpuUsage cpu = 1', 'MemoryUsage memory = 2', 'NetworkUsage network = 3', 'ProcessUsage process = 4', 'repeated ContainerStats containers = 5'],
  NetworkUsage: ['int64 timestamp = 1', 'NetworkInterfaceUsage default_interface = 2', 'repeated NetworkInterfaceUsage interfaces = 3'],
  NetworkInterfaceUsage: ['string name = 1', 'UInt64Value rx_bytes = 2', 'UInt64Value rx_errors = 3', 'UInt64Value tx_bytes = 4', 'UInt64Value tx_errors = 5'],
  ProcessUsage: ['int64 timestamp = 1', 'UInt64Value process_count = 2'],
  UInt64Value: ['uint64 value = 1'],
  CpuUsage: ['int64 timestamp = 1', 'UInt64Value usage_core_nano_seconds = 2', 'UInt64Value usage_nano_cores = 3'],
  MemoryUsage: [
    'int64 timestamp = 1',
    'UInt64Value working_set_bytes = 2',
    'UInt64Value available_bytes = 3',
    'UInt64Value usage_bytes = 4',
    'UInt64Value rss_bytes = 5',
    'UInt64Value page_faults = 6',
    'UInt64Value major_page_faults = 7',
  ],
  ContainerStats: ['ContainerAttributes attributes = 1', 'CpuUsage cpu = 2', 'MemoryUsage memory = 3', 'FilesystemUsage writable_layer = 4', 'SwapUsage swap = 5'],
  ContainerAttributes: ['string id = 1', 'ContainerMetadata metadata = 2', 'map<string,string> labels = 3', 'map<string,string> annotations = 4'],

  StartContainerRequest: ['string container_id = 1'],
  StopContainerRequest: ['string container_id = 1', 'int64 timeout = 2'],
  RemoveContainerRequest: ['string container_id = 1'],
  ContainerStateValue: ['ContainerState state = 1'],
  ContainerFilter: ['string id = 1', 'ContainerStateValue state = 2', 'string pod_sandbox_id = 3', 'map<string,string> label_selector = 4'],
  ListContainersRequest: ['ContainerFilter filter = 1'],
  // Published: also string image_id = 10, newer than kubelet 1.26.
  Container: [
    'string id = 1',
    'string pod_sandbox_id = 2',
    'ContainerMetadata metadata = 3',
    'ImageSpec image = 4',
    'string image_ref = 5',
    'ContainerState state = 6',
    'int64 created_at = 7',
    'map<string,string> labels = 8',
    'map<string,string> annotations = 9',
  ],
  ListContainersResponse: ['repeated Container containers = 1'],
  CreateContainerRequest: ['string pod_sandbox_id = 1', 'ContainerConfig config = 2', 'PodSandboxConfig sandbox_config = 3'],
  CreateContainerResponse: ['string container_id = 1'],
  ContainerStatusRequest: ['string container_id = 1', 'bool verbose = 2'],
  // Published: also image_id = 17, user = 18, stop_signal = 19, newer than kubelet 1.26.
  ContainerStatus: [
    'string id = 1',
    'ContainerMetadata metadata = 2',
    'ContainerState state = 3',
    'int64 created_at = 4',
    'int64 started_at = 5',
    'int64 finished_at = 6',
    'int32 exit_code = 7',
    'ImageSpec image = 8',
    'string image_ref = 9',
    'string reason = 10',
    'string message = 11',
    'map<string,string> labels = 12',
    'map<string,string> annotations = 13',
    'repeated Mount mounts = 14',
    'string log_path = 15',
    'ContainerResources resources = 16',
  ],
  ContainerResources: ['LinuxContainerResources linux = 1', 'WindowsContainerResources windows = 2'],
  UpdateContainerResourcesRequest: [
    'string container_id = 1',
    'LinuxContainerResources linux = 2',
    'WindowsContainerResources windows = 3',
    'map<string,string> annotations = 4',
  ],
  ContainerStatusResponse: ['ContainerStatus status = 1', 'map<string,string> info = 2'],
  ReopenContainerLogRequest: ['string container_id = 1'],
  ExecSyncRequest: ['string container_id = 1', 'repeated string cmd = 2', 'int64 timeout = 3'],
  ExecSyncResponse: ['bytes stdout = 1', 'bytes stderr = 2', 'int32 exit_code = 3'],
  ContainerStatsRequest: ['string container_id = 1'],
  ContainerStatsResponse: ['ContainerStats stats = 1'],
  ContainerStatsFilter: ['string id = 1', 'string pod_sandbox_id = 2', 'map<string,string> label_selector = 3'],
  ListContainerStatsRequest: ['ContainerStatsFilter filter = 1'],
  ListContainerStatsResponse: ['repeated ContainerStats stats = 1'],
  ContainerMetadata: ['string name = 1', 'uint32 attempt = 2'],
  SwapUsage: ['int64 timestamp = 1', 'UInt64Value swap_available_bytes = 2', 'UInt64Value swap_usage_bytes = 3'],

  StatusRequest: ['bool verbose = 1'],
  RuntimeCondition: ['string type = 1', 'bool status = 2', 'string reason = 3', 'string message = 4'],
  RuntimeStatus: ['repeated RuntimeCondition conditions = 1'],
  RuntimeHandlerFeatures: ['bool recursive_read_only_mounts = 1', 'bool user_namespaces = 2'],
  RuntimeHandler: ['string name = 1', 'RuntimeHandlerFeatures features = 2'],
  RuntimeFeatures: ['bool supplemental_groups_policy = 1'],
  StatusResponse: ['RuntimeStatus status = 1', 'map<string,string> info = 2', 'repeated RuntimeHandler runtime_handlers = 3', 'RuntimeFeatures features = 4'],
  RuntimeConfigResponse: ['LinuxRuntimeConfiguration linux = 1'],
  LinuxRuntimeConfiguration: ['CgroupDriver cgroup_driver = 1'],
  NetworkConfig: ['string pod_cidr = 1'],
  RuntimeConfig: ['NetworkConfig network_config = 1'],
  UpdateRuntimeConfigRequest: ['RuntimeConfig runtime_config = 1'],

  ImageSpec: ['string image = 1', 'map<string,string> annotations = 2', 'string user_specified_image = 18', 'string runtime_handler = 19'],
  ImageFilter: ['ImageSpec image = 1'],
  ListImagesRequest: ['ImageFilter filter = 1'],
  Image: [
    'string id = 1',
    'repeated string repo_tags = 2',
    'repeated string repo_digests = 3',
    'uint64 size = 4',
    'Int64Value uid = 5',
    'string username = 6',
    'ImageSpec spec = 7',
    'bool pinned = 8',
  ],
  ListImagesResponse: ['repeated Image images = 1'],
  FilesystemIdentifier: ['string mountpoint = 1'],
  FilesystemUsage: ['int64 timestamp = 1', 'FilesystemIdentifier fs_id = 2', 'UInt64Value used_bytes = 3', 'UInt64Value inodes_used = 4'],
  ImageFsInfoResponse: ['repeated FilesystemUsage image_filesystems = 1', 'repeated FilesystemUsage container_filesystems = 2'],
  ImageStatusRequest: ['ImageSpec image = 1', 'bool verbose = 2'],
  ImageStatusResponse: ['Image image = 1', 'map<string,string> info = 2'],
  AuthConfig: [
    'string username = 1',
    'string password = 2',
    'string auth = 3',
    'string server_address = 4',
    'string identity_token = 5',
    'string registry_token = 6',
  ],
  PullImageRequest: ['ImageSpec image = 1', 'AuthConfig auth = 2', 'PodSandboxConfig sandbox_config = 3'],
  PullImageResponse: ['string image_ref = 1'],
  RemoveImageRequest: ['ImageSpec image = 1'],

  ExecRequest: ['string container_id = 1', 'repeated string cmd = 2', 'bool tty = 3', 'bool stdin = 4', 'bool stdout = 5', 'bool stderr = 6'],
  ExecResponse: ['string url = 1'],
  AttachRequest: ['string container_id = 1', 'bool stdin = 2', 'bool tty = 3', 'bool stdout = 4', 'bool stderr = 5'],
  AttachResponse: ['string url = 1'],
  PortForwardRequest: ['string pod_sandbox_id = 1', 'repeated int32 port = 2'],
  PortForwardResponse: ['string url = 1'],
}

const publishedEnums: Record<string, Record<string, number>> = {
  Protocol: {TCP: 0, UDP: 1, SCTP: 2},
  NamespaceMode: {POD: 0, CONTAINER: 1, NODE: 2, TARGET: 3},
  SupplementalGroupsPolicy: {Merge: 0, Strict: 1},
  'SecurityProfile.ProfileType': {RuntimeDefault: 0, Unconfined: 1, Localhost: 2},
  PodSandboxState: {SANDBOX_READY: 0, SANDBOX_NOTREADY: 1},
  CgroupDriver: {SYSTEMD: 0, CGROUPFS: 1},
  ContainerState: {CONTAINER_CREATED: 0, CONTAINER_RUNNING: 1, CONTAINER_EXITED: 2, CONTAINER_UNKNOWN: 3},
}

/** Every RPC of the published services (cri-api v1, plus UpdatePodSandboxResources and the KEP-5825 streams). */
const publishedRpcs = {
  RuntimeService: [
    'Version',
    'RunPodSandbox',
    'StopPodSandbox',
    'RemovePodSandbox',
    'PodSandboxStatus',
    'ListPodSandbox',
    'CreateContainer',
    'StartContainer',
    'StopContainer',
    'RemoveContainer',
    'ListContainers',
    'ContainerStatus',
    'UpdateContainerResources',
    'ReopenContainerLog',
    'ExecSync',
    'Exec',
    'Attach',
    'PortForward',
    'ContainerStats',
    'ListContainerStats',
    'PodSandboxStats',
    'ListPodSandboxStats',
    'UpdateRuntimeConfig',
    'Status',
    'CheckpointContainer',
    'GetContainerEvents',
    'ListMetricDescriptors',
    'ListPodSandboxMetrics',
    'RuntimeConfig',
    'UpdatePodSandboxResources',
    'StreamPodSandboxes',
    'StreamContainers',
    'StreamContainerStats',
    'StreamPodSandboxStats',
    'StreamPodSandboxMetrics',
  ],
  ImageService: ['ListImages', 'ImageStatus', 'PullImage', 'RemoveImage', 'ImageFsInfo', 'StreamImages'],
}

/** The RPCs whose requests (GetEventsRequest aside) follow the <Rpc>Request naming and that stream their responses. */
const streaming = new Set(['GetContainerEvents', 'StreamPodSandboxes', 'StreamContainers', 'StreamContainerStats', 'StreamPodSandboxStats', 'StreamPodSandboxMetrics', 'StreamImages'])

// keepCase: the field names exactly as written in the file.
const root = new protobuf.Root().loadSync(protoPath(), {keepCase: true})
const pkg = root.lookup('runtime.v1') as protobuf.Namespace

/** A field of the loaded proto in the table's syntax. */
function describeField(field: protobuf.Field): string {
  if (field instanceof protobuf.MapField) return `map<${field.keyType},${field.type}> ${field.name} = ${field.id}`
  return `${field.repeated ? 'repeated ' : ''}${field.type} ${field.name} = ${field.id}`
}

const allTypes = (ns: protobuf.NamespaceBase): protobuf.Type[] =>
  ns.nestedArray.flatMap((n) => (n instanceof protobuf.Type ? [n, ...allTypes(n)] : n instanceof protobuf.Namespace ? allTypes(n) : []))

describe('api.proto against the published CRI v1 API', () => {
  test('the package is runtime.v1, as the gRPC paths /runtime.v1.RuntimeService/… require', () => {
    assert.ok(root.lookupService('runtime.v1.RuntimeService'))
    assert.ok(root.lookupService('runtime.v1.ImageService'))
  })

  for (const [name, fields] of Object.entries(published)) {
    test(`${name}: names, types and numbers`, () => {
      const type = root.lookupType(`runtime.v1.${name}`)
      assert.deepEqual(type.fieldsArray.map(describeField), fields)
    })
  }

  test('every message declared with fields is in the table (none goes unchecked)', () => {
    const withFields = allTypes(pkg)
      .filter((t) => t.fieldsArray.length > 0)
      .map((t) => t.name)
    assert.deepEqual(withFields.filter((n) => !(n in published)), [])
  })

  for (const [name, values] of Object.entries(publishedEnums)) {
    test(`enum ${name}`, () => {
      assert.deepEqual({...root.lookupEnum(`runtime.v1.${name}`).values}, values)
    })
  }

  for (const [service, rpcs] of Object.entries(publishedRpcs)) {
    test(`${service} lists every RPC, with the published request and response types`, () => {
      const methods = root.lookupService(`runtime.v1.${service}`).methodsArray
      assert.deepEqual(
        methods.map((m) => m.name),
        rpcs,
      )
      for (const m of methods) {
        const request = m.name === 'GetContainerEvents' ? 'GetEventsRequest' : `${m.name}Request`
        const response = m.name === 'GetContainerEvents' ? 'ContainerEventResponse' : `${m.name}Response`
        assert.equal(m.requestType, request, `${m.name} request`)
        assert.equal(m.responseType, response, `${m.name} response`)
        assert.equal(Boolean(m.responseStream), streaming.has(m.name), `${m.name} streams its response`)
        assert.ok(!m.requestStream, `${m.name} takes one request`)
      }
    })
  }
})

describe('the CLI pod config schema (src/cri/schema.ts) is the proto', () => {
  const scalar = new Set(['string', 'bool', 'int32', 'uint32', 'int64', 'uint64'])
  for (const [name, def] of Object.entries(cliMessages)) {
    test(name, () => {
      const type = root.lookupType(`runtime.v1.${name}`)
      const fromProto = type.fieldsArray.map((f) => {
        const resolved = f.resolve().resolvedType
        const kind = scalar.has(f.type) ? f.type : resolved instanceof protobuf.Enum ? `enum ${resolved.name}` : `message ${f.type}`
        return {name: f.name, number: f.id, kind, repeated: f.repeated && !(f instanceof protobuf.MapField), map: f instanceof protobuf.MapField}
      })
      const fromSchema = def.fields.map((f) => ({
        name: f.name,
        number: f.number,
        kind: typeof f.type === 'string' ? f.type : 'enum' in f.type ? `enum ${f.type.enum}` : `message ${f.type.message}`,
        repeated: f.repeated === true,
        map: f.map === true,
      }))
      const byNumber = <T extends {number: number}>(list: T[]) => [...list].sort((a, b) => a.number - b.number)
      assert.deepEqual(byNumber(fromSchema), byNumber(fromProto))
    })
  }

  test('enums', () => {
    for (const [name, values] of Object.entries(cliEnums)) {
      const inProto = name === 'ProfileType' ? 'SecurityProfile.ProfileType' : name
      assert.deepEqual(values, {...root.lookupEnum(`runtime.v1.${inProto}`).values}, name)
    }
  })
})
