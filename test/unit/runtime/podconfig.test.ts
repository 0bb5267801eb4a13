import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, test} from 'node:test'

import {parsePodSandboxConfig, readPodSandboxConfig} from '../../../src/runtime/podconfig.js'
import {podctlError, tempDir} from '../helpers.js'

const usage = 2
const md = {name: 'web', namespace: 'default', uid: 'u1', attempt: 0}
/** A valid pod config with `extra` merged at the top level, as JSON text. */
const pod = (extra: Record<string, unknown> = {}) => JSON.stringify({metadata: md, ...extra})
const sc = (securityContext: Record<string, unknown>) => pod({linux: {security_context: securityContext}})
const nsOpts = (options: Record<string, unknown>) => sc({namespace_options: options})
const parse = (text: string) => parsePodSandboxConfig(text, 'pod.yaml')

describe('parsePodSandboxConfig: accepted input', () => {
  const crictlYaml = `
metadata:
  name: nginx-sandbox
  namespace: default
  attempt: 1
  uid: hdishd83djaidwnduwk28bcsb
log_directory: /tmp
hostname: nginx
dns_config:
  servers: [10.96.0.10]
  searches: [default.svc.cluster.local, svc.cluster.local]
  options: ["ndots:5"]
port_mappings:
  - protocol: TCP
    container_port: 80
    host_port: 8080
    host_ip: 127.0.0.1
labels: {app: nginx}
annotations: {owner: ops}
linux:
  cgroup_parent: /podctl-test
  sysctls: {net.ipv4.ip_forward: "1"}
  security_context:
    namespace_options: {network: POD, pid: CONTAINER, ipc: POD}
    run_as_user: {value: 1000}
    run_as_group: {value: 1000}
    supplemental_groups: [5, 6]
    seccomp: {profile_type: RuntimeDefault}
  resources: {cpu_shares: 512, memory_limit_in_bytes: "134217728"}
`
  const expected = {
    metadata: {name: 'nginx-sandbox', namespace: 'default', attempt: 1, uid: 'hdishd83djaidwnduwk28bcsb'},
    log_directory: '/tmp',
    hostname: 'nginx',
    dns_config: {servers: ['10.96.0.10'], searches: ['default.svc.cluster.local', 'svc.cluster.local'], options: ['ndots:5']},
    port_mappings: [{protocol: 0, container_port: 80, host_port: 8080, host_ip: '127.0.0.1'}],
    labels: {app: 'nginx'},
    annotations: {owner: 'ops'},
    linux: {
      cgroup_parent: '/podctl-test',
      sysctls: {'net.ipv4.ip_forward': '1'},
      security_context: {
        namespace_options: {network: 0, pid: 1, ipc: 0},
        run_as_user: {value: 1000},
        run_as_group: {value: 1000},
        supplemental_groups: [5, 6],
        seccomp: {profile_type: 0},
      },
      resources: {cpu_shares: 512, memory_limit_in_bytes: 134217728},
    },
  }

  test('crictl snake_case YAML decodes to the proto names, enums as numbers', () => {
    assert.deepEqual(parse(crictlYaml), {config: expected, warnings: []})
  })

  test('lowerCamelCase JSON (protojson) decodes to the same config', () => {
    const camel = {
      metadata: {name: 'nginx-sandbox', namespace: 'default', attempt: 1, uid: 'hdishd83djaidwnduwk28bcsb'},
      logDirectory: '/tmp',
      hostname: 'nginx',
      dnsConfig: {servers: ['10.96.0.10'], searches: ['default.svc.cluster.local', 'svc.cluster.local'], options: ['ndots:5']},
      portMappings: [{protocol: 'TCP', containerPort: 80, hostPort: 8080, hostIp: '127.0.0.1'}],
      labels: {app: 'nginx'},
      annotations: {owner: 'ops'},
      linux: {
        cgroupParent: '/podctl-test',
        sysctls: {'net.ipv4.ip_forward': '1'},
        securityContext: {
          namespaceOptions: {network: 'POD', pid: 'CONTAINER', ipc: 'POD'},
          runAsUser: {value: '1000'},
          runAsGroup: 1000,
          supplementalGroups: ['5', 6],
          seccomp: {profileType: 'RuntimeDefault'},
        },
        resources: {cpuShares: '512', memoryLimitInBytes: 134217728},
      },
    }
    assert.deepEqual(parse(JSON.stringify(camel)), {config: expected, warnings: []})
  })

  const enumCases: [string, unknown, number][] = [
    ['NODE', 'NODE', 2],
    ['node', 'node', 2],
    ['Node', 'Node', 2],
    ['number 2', 2, 2],
    ['string "2"', '2', 2],
    ['POD', 'pod', 0],
    ['number 0', 0, 0],
  ]
  for (const [label, value, want] of enumCases) {
    test(`NamespaceMode ${label} -> ${want}`, () => {
      assert.equal(parse(nsOpts({network: value})).config.linux?.security_context?.namespace_options?.network, want)
    })
  }

  const protocolCases: [unknown, number][] = [
    ['TCP', 0],
    ['udp', 1],
    ['Sctp', 2],
    [1, 1],
  ]
  for (const [value, want] of protocolCases) {
    test(`Protocol ${JSON.stringify(value)} -> ${want}`, () => {
      assert.equal(parse(pod({port_mappings: [{container_port: 53, protocol: value}]})).config.port_mappings?.[0].protocol, want)
    })
  }

  const profileCases: [unknown, number][] = [
    ['runtimedefault', 0],
    ['Unconfined', 1],
    ['LOCALHOST', 2],
  ]
  for (const [value, want] of profileCases) {
    test(`ProfileType ${JSON.stringify(value)} -> ${want}`, () => {
      assert.equal(parse(sc({seccomp: {profile_type: value, localhost_ref: '/p.json'}})).config.linux?.security_context?.seccomp?.profile_type, want)
    })
  }

  test('a missing uid gets a random UUID; a given one is kept', () => {
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
    const a = parse('metadata: {name: web, namespace: default}').config.metadata.uid
    const b = parse('metadata: {name: web, namespace: default, uid: ""}').config.metadata.uid
    assert.match(a, uuid)
    assert.match(b, uuid)
    assert.notEqual(a, b)
    assert.equal(parse(pod()).config.metadata.uid, 'u1')
  })

  const attemptCases: [string, string, number][] = [
    ['missing', 'metadata: {name: web, namespace: default}', 0],
    ['null', 'metadata: {name: web, namespace: default, attempt: null}', 0],
    ['given', 'metadata: {name: web, namespace: default, attempt: 3}', 3],
    ['a protojson string', '{"metadata": {"name": "web", "namespace": "default", "attempt": "4"}}', 4],
  ]
  for (const [label, text, want] of attemptCases) {
    test(`attempt ${label} -> ${want}`, () => assert.equal(parse(text).config.metadata.attempt, want))
  }

  const acceptedEdges: [string, string, (c: ReturnType<typeof parse>['config']) => void][] = [
    ['run_as_user as a bare number', sc({run_as_user: 0}), (c) => assert.deepEqual(c.linux?.security_context?.run_as_user, {value: 0})],
    ['run_as_group with run_as_user 0', sc({run_as_user: {value: 0}, run_as_group: {value: 0}}), (c) => assert.deepEqual(c.linux?.security_context?.run_as_group, {value: 0})],
    ['userns_options with mode NODE', nsOpts({userns_options: {mode: 'NODE'}}), (c) => assert.equal(c.linux?.security_context?.namespace_options?.userns_options?.mode, 2)],
    ['empty selinux_options', sc({selinux_options: {user: '', role: ''}}), (c) => assert.ok(c.linux?.security_context?.selinux_options)],
    ['six searches', pod({dns_config: {searches: ['a', 'b', 'c', 'd', 'e', 'f']}}), (c) => assert.equal(c.dns_config?.searches?.length, 6)],
    ['host_port 0 and an IPv6 host_ip', pod({port_mappings: [{container_port: 1, host_port: 0, host_ip: '::1'}]}), (c) => assert.equal(c.port_mappings?.[0].host_ip, '::1')],
    ['container_port 65535', pod({port_mappings: [{container_port: 65535, host_port: 65535}]}), (c) => assert.equal(c.port_mappings?.[0].container_port, 65535)],
    ['null values are absent', pod({hostname: null, labels: null}), (c) => assert.deepEqual(Object.keys(c), ['metadata'])],
    ['an empty hostname', pod({hostname: ''}), (c) => assert.equal(c.hostname, '')],
    ['a 253-character name', JSON.stringify({metadata: {...md, name: 'a'.repeat(253)}}), (c) => assert.equal(c.metadata.name.length, 253)],
    ['an IPv6 DNS server', pod({dns_config: {servers: ['2001:4860:4860::8888']}}), (c) => assert.deepEqual(c.dns_config?.servers, ['2001:4860:4860::8888'])],
  ]
  for (const [label, text, check] of acceptedEdges) {
    test(`accepts ${label}`, () => check(parse(text).config))
  }
})

describe('parsePodSandboxConfig: unknown keys warn with did-you-mean', () => {
  const cases: {label: string; text: string; key: string; suggestion?: string; todo?: string}[] = [
    {label: 'a nested singular', text: pod({linux: {sysctl: {a: '1'}}}), key: 'linux.sysctl', suggestion: 'sysctls'},
    {label: 'a typo', text: JSON.stringify({metadata: {...md, nmae: 'x'}}), key: 'metadata.nmae', suggestion: 'name'},
    {label: 'a capitalised key', text: pod({Hostname: 'h'}), key: 'Hostname', suggestion: 'hostname'},
    {label: 'a lowercased camel key', text: pod({portmappings: []}), key: 'portmappings', suggestion: 'port_mappings'},
    {label: 'kebab-case', text: pod({'dns-config': {}}), key: 'dns-config', suggestion: 'dns_config'},
    {label: 'deep in a list', text: pod({port_mappings: [{container_port: 1, hostPorts: 2}]}), key: 'port_mappings[0].hostPorts', suggestion: 'host_port'},
    {
      label: 'an abbreviation',
      text: pod({log_dir: '/x'}),
      key: 'log_dir',
      suggestion: 'log_directory',
    },
    {label: 'an unrelated key', text: pod({colour: 'blue'}), key: 'colour'},
  ]
  for (const {label, text, key, suggestion, todo} of cases) {
    test(`${label}: "${key}"`, {todo}, () => {
      const {warnings} = parse(text)
      assert.equal(warnings.length, 1)
      assert.ok(warnings[0].startsWith('pod config "pod.yaml": '), warnings[0])
      assert.ok(warnings[0].includes(`unknown key "${key}" ignored`), warnings[0])
      if (suggestion) assert.ok(warnings[0].endsWith(`(did you mean "${suggestion}"?)`), warnings[0])
      else assert.ok(!warnings[0].includes('did you mean'), warnings[0])
    })
  }

  test('the unknown key is dropped, the rest kept', () => {
    const {config} = parse(pod({linux: {sysctl: {a: '1'}, sysctls: {b: '2'}}}))
    assert.deepEqual(config.linux, {sysctls: {b: '2'}})
  })

  test('logDirectory is a known camelCase key, not a warning', () => {
    assert.deepEqual(parse(pod({logDirectory: '/var/log/pods/x'})), {
      config: {metadata: md, log_directory: '/var/log/pods/x'},
      warnings: [],
    })
  })
})

describe('parsePodSandboxConfig: malformed input is a one-line usage error naming the field', () => {
  const sixPlusOne = ['a', 'b', 'c', 'd', 'e', 'f', 'g']
  const cases: {label: string; text: string; needle: string; todo?: string}[] = [
    // documents
    {label: 'invalid JSON', text: '{"metadata": ', needle: 'is not valid JSON'},
    {label: 'JSON with a trailing comma', text: '{"metadata": {},}', needle: 'is not valid JSON'},
    {label: 'invalid YAML', text: 'metadata: [unclosed', needle: 'is not valid YAML'},
    {label: 'YAML indented with tabs', text: 'metadata:\n\tname: x\n', needle: 'is not valid YAML'},
    {label: 'a YAML alias bomb', text: 'a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n', needle: 'is not valid YAML'},
    {label: 'an empty document', text: '', needle: 'pod config "pod.yaml" is empty'},
    {label: 'a blank document', text: ' \n\t\n', needle: 'is empty'},
    {label: 'a YAML list at top level', text: '- metadata: {}\n', needle: '(top level): must be an object, got a list'},
    {label: 'a JSON list at top level', text: '[{"metadata": {}}]', needle: '(top level): must be an object, got a list'},
    {label: 'a scalar document', text: 'hello', needle: '(top level): must be an object'},
    {label: 'a YAML null document', text: '~\n', needle: 'pod config "pod.yaml"'},
    {label: 'a comment-only document', text: '# nothing here\n', needle: 'pod config "pod.yaml"'},
    {label: 'a duplicate YAML key', text: 'metadata:\n  name: a\n  name: b\n  namespace: c\n', needle: 'name'},
    {label: 'a key as snake and camel', text: pod({port_mappings: [], portMappings: []}), needle: 'portMappings: given twice (as "port_mappings" and "portMappings")'},
    {label: 'a nested key as snake and camel', text: 'metadata: {name: x, namespace: y}\nlinux:\n  security_context:\n    run_as_user: 5\n    runAsUser: 6\n', needle: 'linux.security_context.runAsUser: given twice'},
    // metadata
    {label: 'no metadata', text: '{"hostname": "h"}', needle: 'metadata is not set'},
    {label: 'null metadata', text: '{"metadata": null}', needle: 'metadata is not set'},
    {label: 'metadata a string', text: 'metadata: web', needle: 'metadata: must be an object, got the string "web"'},
    {label: 'empty metadata', text: 'metadata: {}', needle: 'metadata.name is not set'},
    {label: 'an empty name', text: 'metadata: {name: "", namespace: x}', needle: 'metadata.name is not set'},
    {label: 'no namespace', text: 'metadata: {name: web}', needle: 'metadata.namespace is not set'},
    {label: 'a numeric name', text: 'metadata: {name: 5, namespace: x}', needle: 'metadata.name: must be a string, got number 5'},
    {label: "a name with '/'", text: 'metadata: {name: a/b, namespace: x}', needle: 'metadata.name contains "/"'},
    {label: "a name '..'", text: 'metadata: {name: "..", namespace: x}', needle: 'metadata.name may not be ".."'},
    {label: "a namespace '.'", text: 'metadata: {name: a, namespace: "."}', needle: 'metadata.namespace may not be "."'},
    {label: 'a name with NUL', text: JSON.stringify({metadata: {name: 'a\u0000b', namespace: 'x'}}), needle: 'metadata.name contains "\\u0000"'},
    {label: 'a name with a space', text: 'metadata: {name: "a b", namespace: x}', needle: 'metadata.name contains " "'},
    {label: 'a name with a newline', text: JSON.stringify({metadata: {name: 'a\nb', namespace: 'x'}}), needle: 'metadata.name contains "\\n"'},
    {label: 'a namespace with a tab', text: JSON.stringify({metadata: {name: 'a', namespace: 'x\ty'}}), needle: 'metadata.namespace contains "\\t"'},
    {label: 'a 1 MiB name', text: JSON.stringify({metadata: {name: 'n'.repeat(1 << 20), namespace: 'x'}}), needle: 'metadata.name is 1048576 characters long; the limit is 253'},
    {label: "a uid with '/'", text: 'metadata: {name: a, namespace: x, uid: ../../etc}', needle: 'metadata.uid contains "/"'},
    {label: 'a negative attempt', text: 'metadata: {name: a, namespace: x, attempt: -1}', needle: 'metadata.attempt: -1 is out of range for uint32'},
    {label: 'a word attempt', text: 'metadata: {name: a, namespace: x, attempt: first}', needle: 'metadata.attempt: must be an integer, got the string "first"'},
    {label: 'a fractional attempt', text: 'metadata: {name: a, namespace: x, attempt: 1.5}', needle: 'metadata.attempt: must be an integer'},
    // port mappings
    {label: 'a negative host_port', text: pod({port_mappings: [{container_port: 80, host_port: -1}]}), needle: 'port_mappings[0].host_port: -1 is not a port'},
    {label: 'host_port 65536', text: pod({port_mappings: [{container_port: 80, host_port: 65536}]}), needle: 'port_mappings[0].host_port: 65536 is not a port'},
    {label: 'container_port 0', text: pod({port_mappings: [{container_port: 0, host_port: 80}]}), needle: 'port_mappings[0].container_port: 0 is not a port'},
    {label: 'no container_port', text: pod({port_mappings: [{host_port: 80}]}), needle: 'port_mappings[0].container_port'},
    {label: 'container_port 70000 in the second mapping', text: pod({port_mappings: [{container_port: 80}, {container_port: 70000}]}), needle: 'port_mappings[1].container_port: 70000'},
    {label: 'a named container_port', text: pod({port_mappings: [{container_port: 'http'}]}), needle: 'port_mappings[0].container_port: must be an integer'},
    {label: 'an int32-overflowing host_port', text: pod({port_mappings: [{container_port: 1, host_port: 2 ** 31}]}), needle: 'port_mappings[0].host_port: 2147483648 is out of range for int32'},
    {label: 'port_mappings an object', text: pod({port_mappings: {container_port: 80}}), needle: 'port_mappings: must be a list, got an object'},
    {label: 'a bad host_ip', text: pod({port_mappings: [{container_port: 80, host_ip: '300.1.1.1'}]}), needle: 'port_mappings[0].host_ip: "300.1.1.1" is not an IP address'},
    {label: 'a host_ip with a newline', text: pod({port_mappings: [{container_port: 80, host_ip: '1.2.3.4\n'}]}), needle: 'port_mappings[0].host_ip'},
    {label: 'an unknown protocol name', text: pod({port_mappings: [{container_port: 80, protocol: 'icmp'}]}), needle: 'port_mappings[0].protocol: the string "icmp" is not a valid Protocol; use one of TCP, UDP, SCTP'},
    {label: 'an unknown protocol number', text: pod({port_mappings: [{container_port: 80, protocol: 9}]}), needle: 'port_mappings[0].protocol: 9 is not a valid Protocol'},
    {label: 'a boolean protocol', text: pod({port_mappings: [{container_port: 80, protocol: true}]}), needle: 'port_mappings[0].protocol'},
    // dns
    {label: 'a host name as DNS server', text: pod({dns_config: {servers: ['8.8.8.8', 'dns.google']}}), needle: 'dns_config.servers[1]: "dns.google" is not an IP address'},
    {label: 'servers a string', text: pod({dns_config: {servers: '8.8.8.8'}}), needle: 'dns_config.servers: must be a list'},
    {label: 'a DNS server with a newline', text: pod({dns_config: {servers: ['1.2.3.4\nnameserver 6.6.6.6']}}), needle: 'dns_config.servers[0]'},
    {label: 'seven searches', text: pod({dns_config: {searches: sixPlusOne}}), needle: 'dns_config.searches has 7 domains; at most 6'},
    {label: 'a search with a space', text: pod({dns_config: {searches: ['a b']}}), needle: 'dns_config.searches[0]: "a b" is not a domain name'},
    {label: 'an option with a space', text: pod({dns_config: {options: ['ndots:5 rotate']}}), needle: 'dns_config.options[0]'},
    // top-level strings and maps
    {label: 'a hostname with an underscore', text: pod({hostname: 'bad_host'}), needle: 'hostname: "bad_host" is not a valid host name'},
    {label: 'a 64-character hostname', text: pod({hostname: 'h'.repeat(64)}), needle: 'hostname:'},
    {label: 'a hostname with a newline', text: pod({hostname: 'a\nb'}), needle: 'hostname:'},
    {label: 'a relative log_directory', text: pod({log_directory: 'logs'}), needle: 'log_directory: "logs" must be an absolute path'},
    {label: 'a numeric label value', text: pod({labels: {tier: 1}}), needle: 'labels.tier: must be a string, got number 1 (quote it)'},
    {label: 'labels a list', text: pod({labels: ['a=b']}), needle: 'labels: must be a map of strings, got a list'},
    {label: 'a boolean annotation', text: pod({annotations: {k: true}}), needle: 'annotations.k: must be a string'},
    // linux
    {label: 'linux a list', text: pod({linux: []}), needle: 'linux: must be an object, got a list'},
    {label: 'a numeric sysctl', text: pod({linux: {sysctls: {'net.core.somaxconn': 1024}}}), needle: 'linux.sysctls.net.core.somaxconn: must be a string'},
    {label: 'privileged "yes"', text: sc({privileged: 'yes'}), needle: 'linux.security_context.privileged: must be true or false'},
    {label: 'run_as_user a name', text: sc({run_as_user: 'root'}), needle: 'linux.security_context.run_as_user.value: must be an integer'},
    {label: 'run_as_group without run_as_user', text: sc({run_as_group: {value: 1000}}), needle: 'linux.security_context.run_as_group is set without run_as_user'},
    {label: 'a word in supplemental_groups', text: sc({supplemental_groups: [1, 'wheel']}), needle: 'linux.security_context.supplemental_groups[1]: must be an integer'},
    {label: 'network TARGET', text: nsOpts({network: 'TARGET'}), needle: 'linux.security_context.namespace_options.network: TARGET is not supported'},
    {label: 'pid TARGET', text: nsOpts({pid: 3}), needle: 'linux.security_context.namespace_options.pid: TARGET is not supported'},
    {label: 'ipc CONTAINER', text: nsOpts({ipc: 'CONTAINER'}), needle: 'linux.security_context.namespace_options.ipc: CONTAINER is not supported'},
    {label: 'network CONTAINER', text: nsOpts({network: 1}), needle: 'linux.security_context.namespace_options.network: CONTAINER'},
    {label: 'an unknown namespace mode name', text: nsOpts({network: 'HOST'}), needle: 'linux.security_context.namespace_options.network: the string "HOST" is not a valid NamespaceMode'},
    {label: 'an unknown namespace mode number', text: nsOpts({network: 7}), needle: 'linux.security_context.namespace_options.network: 7 is not a valid NamespaceMode'},
    {label: 'target_id', text: nsOpts({target_id: 'abc'}), needle: 'linux.security_context.namespace_options.target_id is not supported'},
    {label: 'userns POD', text: nsOpts({userns_options: {mode: 'POD'}}), needle: 'linux.security_context.namespace_options.userns_options: user namespaces are not supported'},
    {label: 'userns with mappings and no mode', text: nsOpts({userns_options: {uids: [{host_id: 100000, container_id: 0, length: 65536}]}}), needle: 'namespace_options.userns_options'},
    {label: 'a negative userns host_id', text: nsOpts({userns_options: {uids: [{host_id: -1}]}}), needle: 'linux.security_context.namespace_options.userns_options.uids[0].host_id'},
    {label: 'selinux_options', text: sc({selinux_options: {type: 'spc_t'}}), needle: 'linux.security_context.selinux_options: SELinux labels are not supported'},
    {label: 'AppArmor Localhost', text: sc({apparmor: {profile_type: 'Localhost', localhost_ref: 'p'}}), needle: 'linux.security_context.apparmor'},
    {label: 'an unknown seccomp profile type', text: sc({seccomp: {profile_type: 'Custom'}}), needle: 'linux.security_context.seccomp.profile_type'},
    {label: 'a memory limit past 2^53', text: pod({linux: {resources: {memory_limit_in_bytes: 1e20}}}), needle: 'linux.resources.memory_limit_in_bytes: 100000000000000000000 is out of range'},
    {label: 'cpu_shares "1k"', text: pod({linux: {overhead: {cpu_shares: '1k'}}}), needle: 'linux.overhead.cpu_shares: must be an integer, got the string "1k"'},
    {label: 'a negative hugepage limit', text: pod({linux: {resources: {hugepage_limits: [{page_size: '2MB', limit: -1}]}}}), needle: 'linux.resources.hugepage_limits[0].limit'},
    {label: 'an invalid cgroup_parent slice', text: pod({linux: {cgroup_parent: 'a--b.slice'}}), needle: 'linux.cgroup_parent'},
    // windows
    {label: 'a windows section', text: pod({windows: {security_context: {host_process: true}}}), needle: 'windows: Windows pod settings are not supported on Linux'},
    {label: 'windows a string', text: pod({windows: 'yes'}), needle: 'windows: must be an object'},
  ]
  for (const {label, text, needle, todo} of cases) {
    test(label, {todo}, () => {
      assert.throws(() => parse(text), podctlError(usage, needle))
    })
  }
  test('every error names the source', () => {
    assert.throws(() => parsePodSandboxConfig('metadata: {}', '/etc/pods/a.yaml'), podctlError(usage, 'pod config "/etc/pods/a.yaml": metadata.name'))
  })
})

describe('readPodSandboxConfig', () => {
  const dir = tempDir()
  const file = (name: string, content: string | Buffer) => {
    const path = join(dir, name)
    writeFileSync(path, content)
    return path
  }

  test('reads a regular YAML file', async () => {
    const path = file('ok.yaml', 'metadata: {name: web, namespace: default, uid: u}\n')
    assert.deepEqual(await readPodSandboxConfig(path), {config: {metadata: {name: 'web', namespace: 'default', uid: 'u', attempt: 0}}, warnings: []})
  })

  const bad: [string, () => string, string][] = [
    ['a directory', () => (mkdirSync(join(dir, 'd')), join(dir, 'd')), 'is a directory, not a file'],
    ['a FIFO with no writer', () => (execFileSync('mkfifo', [join(dir, 'fifo')]), join(dir, 'fifo')), 'is not a regular file'],
    ['/dev/zero', () => '/dev/zero', 'pod config "/dev/zero" is not a regular file'],
    ['a file with NUL bytes', () => file('nul.yaml', Buffer.from('metadata:\0\n')), 'contains NUL bytes'],
    ['a missing file', () => join(dir, 'missing.yaml'), 'not found'],
    ['a file over 1 MiB', () => file('big.yaml', `# ${'x'.repeat(1 << 20)}\n`), 'the limit is 1048576 (1 MiB)'],
    ['an invalid document', () => file('bad.json', '{"metadata": '), 'is not valid JSON'],
  ]
  for (const [label, make, needle] of bad) {
    test(`refuses ${label}`, {timeout: 5000}, async () => {
      const path = make()
      await assert.rejects(readPodSandboxConfig(path), podctlError(usage, path, needle))
    })
  }
})
