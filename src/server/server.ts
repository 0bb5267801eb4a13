// The gRPC server of `podctl serve`: RuntimeService and ImageService on a
// unix socket, root-owned and 0660 as containerd's. The process holds a lock
// named after the socket path for as long as it serves, so a second server
// on the same path is refused at once, and the socket file a killed server
// left behind is known to be stale and is replaced.

import {chown, lstat, mkdir, unlink} from 'node:fs/promises'
import {connect, createServer, type Server as NetServer} from 'node:net'
import {dirname} from 'node:path'

import {Server, ServerCredentials} from '@grpc/grpc-js'

import {imageServiceDefinition, runtimeServiceDefinition} from '../cri/proto.js'
import {unixSocketPath} from '../cri/endpoint.js'
import {errnoOf, messageOf, PodctlError, prerequisiteError} from '../runtime/errors.js'
import {lockName, tryLock} from '../runtime/lock.js'
import type {Settings} from '../runtime/settings.js'
import {withValidAuthority} from './authority.js'
import {type Log, ServerContext} from './context.js'
import {imageServiceHandlers} from './image-service.js'
import {runtimeServiceHandlers} from './runtime-service.js'
import {streamingBackend} from './streaming/handlers.js'
import {StreamingServer} from './streaming/server.js'

export interface ServeOptions {
  settings: Settings
  /** unix:///path/to.sock */
  listen: string
  log: Log
}

export interface RunningServer {
  socketPath: string
  /** where the URLs of Exec, Attach and PortForward point */
  streamingUrl: string
  context: ServerContext
  /** Stop accepting calls, wait for the ones in flight, remove the socket. */
  shutdown(): Promise<void>
}

/**
 * The kubelet's own limit for CRI messages (16 MiB), both ways: grpc-js takes
 * 4 MiB in and any size out by default. A request beyond it is refused with
 * RESOURCE_EXHAUSTED before it is decoded; an answer beyond it would fail at
 * every client anyway, so max-pods keeps ListPodSandbox under it.
 */
const maxMessageBytes = 16 * 1024 * 1024

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const socketPath = unixSocketPath(options.listen, '--listen')
  const context = new ServerContext(options.settings, options.log)
  context.store.init()

  const lock = await tryLock(lockName(socketPath, 'serve'))
  if (!lock) throw new PodctlError(`another podctl serve is listening on "${socketPath}"`, {hint: 'stop it first, or give another --listen'})
  let streaming: StreamingServer
  try {
    streaming = await StreamingServer.start({listen: options.settings.streamListen, baseUrl: options.settings.streamBaseUrl, backend: streamingBackend(context), log: options.log})
  } catch (err) {
    await lock.release()
    throw err
  }
  const server = new Server({'grpc.max_receive_message_length': maxMessageBytes, 'grpc.max_send_message_length': maxMessageBytes})
  server.addService(runtimeServiceDefinition(), runtimeServiceHandlers(context, streaming))
  server.addService(imageServiceDefinition(), imageServiceHandlers(context))
  // podctl owns the listening socket and hands grpc-js each connection through
  // the authority filter (see authority.ts): clients that send the socket path
  // as :authority, as crictl and the kubelet do, are served too.
  const injector = server.createConnectionInjector(ServerCredentials.createInsecure())
  const listener = createServer((socket) => injector.injectConnection(withValidAuthority(socket)))
  try {
    await removeStaleSocket(socketPath)
    await mkdir(dirname(socketPath), {recursive: true, mode: 0o755})
    await listenOwnerOnly(listener, socketPath)
  } catch (err) {
    listener.close()
    server.forceShutdown()
    await streaming.close()
    await lock.release()
    throw err
  }
  return {
    socketPath,
    streamingUrl: streaming.baseUrl,
    context,
    shutdown: async () => {
      const closed = new Promise<void>((resolve) => listener.close(() => resolve()))
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()))
      await closed
      await streaming.close()
      await unlink(socketPath).catch(() => undefined)
      await lock.release()
    },
  }
}

/**
 * A socket file at the path is stale: this process holds the path's lock, so
 * no podctl serve owns it. Still, one that answers belongs to someone else
 * (containerd, say) and is left alone; anything but a socket is never removed.
 */
async function removeStaleSocket(path: string): Promise<void> {
  let st
  try {
    st = await lstat(path)
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return
    throw err
  }
  if (!st.isSocket()) throw new PodctlError(`"${path}" exists and is not a socket`, {hint: 'remove it, or give another --listen'})
  if (await answers(path)) throw new PodctlError(`another server is listening on "${path}"`, {hint: 'stop it first, or give another --listen'})
  await unlink(path)
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path)
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

/** Listen with a umask that makes the socket 0660 from its first instant, owned by root:root. */
async function listenOwnerOnly(listener: NetServer, socketPath: string): Promise<void> {
  const previous = process.umask(0o117)
  try {
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject)
      listener.listen(socketPath, () => {
        listener.off('error', reject)
        resolve()
      })
    })
  } catch (err) {
    throw errnoOf(err) === 'EACCES' || /EACCES/.test(messageOf(err))
      ? prerequisiteError(`cannot listen on "${socketPath}": permission denied`, 'run podctl serve as root')
      : new PodctlError(`cannot listen on "${socketPath}": ${messageOf(err)}`, {cause: err})
  } finally {
    process.umask(previous)
  }
  if (process.getuid?.() === 0) await chown(socketPath, 0, 0)
}
