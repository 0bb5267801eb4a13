// Loads ./api.proto, the CRI v1 schema that `podctl serve` and the
// --runtime-endpoint client share. Only the server and the client import this
// module (lazily): grpc and protobufjs cost ~100 ms to load, which a plain
// `podctl pods` must not pay.
//
// One set of options for both directions, chosen so that the decoded objects
// are already in the shapes podctl uses elsewhere: lowerCamelCase field names
// and enum names as protojson prints them (what `podctl inspectp` shows),
// 64-bit integers as decimal strings (nanosecond timestamps do not fit in a
// double), and unset fields left out, so that a PodSandboxConfig received over
// gRPC holds what the caller sent and no more, like one read from a file.

import {existsSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

import type {ServiceDefinition} from '@grpc/grpc-js'
import {loadSync, type Options, type PackageDefinition} from '@grpc/proto-loader'

export const protoOptions: Options = {keepCase: false, longs: String, enums: String, defaults: false, oneofs: true}

/** The gRPC package of the CRI. */
export const criPackage = 'runtime.v1'

/**
 * Where api.proto is: beside this module's source. The compiled module runs
 * from dist/src/cri/, so that is two levels further up; package.json ships
 * src/cri/api.proto for the same reason.
 */
export function protoPath(): string {
  const candidates = [new URL('../../../src/cri/api.proto', import.meta.url), new URL('./api.proto', import.meta.url)].map((u) => fileURLToPath(u))
  const found = candidates.find((p) => existsSync(p))
  if (!found) throw new Error(`the CRI schema is missing: none of ${candidates.join(', ')} exists`)
  return found
}

let loaded: PackageDefinition | undefined

/** The package definition, parsed once per process. */
export function criDefinition(): PackageDefinition {
  loaded ??= loadSync(protoPath(), protoOptions)
  return loaded
}

export function runtimeServiceDefinition(): ServiceDefinition {
  return criDefinition()[`${criPackage}.RuntimeService`] as ServiceDefinition
}

export function imageServiceDefinition(): ServiceDefinition {
  return criDefinition()[`${criPackage}.ImageService`] as ServiceDefinition
}

// ---------------------------------------------------------------------------
// The decoded messages podctl reads, as the options above give them: every
// field optional (proto3 leaves defaults off the wire), enums as names, int64
// as strings.
// ---------------------------------------------------------------------------

export interface WireMetadata {
  name?: string
  uid?: string
  namespace?: string
  attempt?: number
}

export interface WirePodSandbox {
  id?: string
  metadata?: WireMetadata
  state?: string
  createdAt?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
  runtimeHandler?: string
}

export interface WireNamespaceOption {
  network?: string
  pid?: string
  ipc?: string
  targetId?: string
  usernsOptions?: Record<string, unknown>
}

export interface WirePodSandboxStatus extends WirePodSandbox {
  network?: {ip?: string; additionalIps?: {ip?: string}[]}
  linux?: {namespaces?: {options?: WireNamespaceOption}}
}

export interface WirePodSandboxStatusResponse {
  status?: WirePodSandboxStatus
  info?: Record<string, string>
}

export interface WireUInt64 {
  value?: string
}

export interface WireCpuUsage {
  timestamp?: string
  usageCoreNanoSeconds?: WireUInt64
  usageNanoCores?: WireUInt64
}

export interface WireMemoryUsage {
  timestamp?: string
  workingSetBytes?: WireUInt64
  availableBytes?: WireUInt64
  usageBytes?: WireUInt64
  rssBytes?: WireUInt64
  pageFaults?: WireUInt64
  majorPageFaults?: WireUInt64
}

export interface WireNetworkInterfaceUsage {
  name?: string
  rxBytes?: WireUInt64
  rxErrors?: WireUInt64
  txBytes?: WireUInt64
  txErrors?: WireUInt64
}

export interface WireNetworkUsage {
  timestamp?: string
  defaultInterface?: WireNetworkInterfaceUsage
  interfaces?: WireNetworkInterfaceUsage[]
}

export interface WireContainerStats {
  attributes?: {id?: string; metadata?: {name?: string; attempt?: number}; labels?: Record<string, string>; annotations?: Record<string, string>}
  cpu?: WireCpuUsage
  memory?: WireMemoryUsage
  writableLayer?: Record<string, unknown>
  swap?: Record<string, unknown>
}

export interface WirePodSandboxStats {
  attributes?: {id?: string; metadata?: WireMetadata; labels?: Record<string, string>; annotations?: Record<string, string>}
  linux?: {
    cpu?: WireCpuUsage
    memory?: WireMemoryUsage
    network?: WireNetworkUsage
    process?: {timestamp?: string; processCount?: WireUInt64}
    containers?: WireContainerStats[]
  }
}
