// CRI endpoints as crictl and the kubelet write them: unix:///path/to.sock.
// A bare absolute path is accepted too, as crictl does (it warns; podctl
// does not need to). Shared by `podctl serve --listen` and the
// --runtime-endpoint client; imports nothing heavy.

import {usageError} from '../runtime/errors.js'

/** sun_path is 108 bytes with its terminating NUL. */
const maxSocketPath = 107

/** The socket path of a unix endpoint; anything else is a usage error naming `what`. */
export function unixSocketPath(endpoint: string, what: string): string {
  const path = endpoint.startsWith('unix://') ? endpoint.slice('unix://'.length) : endpoint.startsWith('/') ? endpoint : undefined
  if (path === undefined) {
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(endpoint)?.[1]
    throw usageError(
      scheme ? `${what}: "${endpoint}": only unix:// endpoints are supported, not ${scheme}://` : `${what}: "${endpoint}" is not an endpoint`,
      'give a unix socket, e.g. unix:///run/podctl/cri.sock',
    )
  }
  if (!path.startsWith('/')) throw usageError(`${what}: "${endpoint}": the socket path must be absolute (unix:///path/to.sock)`)
  if (Buffer.byteLength(path) > maxSocketPath) throw usageError(`${what}: "${path}" is longer than ${maxSocketPath} bytes, the limit of a unix socket path`)
  return path
}

/** The gRPC target for a socket path. */
export const unixTarget = (path: string): string => `unix://${path}`
