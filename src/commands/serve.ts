import {Flags} from '../cli/oclif.js'

import {BaseCommand, exitStatusHelp} from '../base-command.js'
import {ExitCode, prerequisiteError} from '../runtime/errors.js'

export default class Serve extends BaseCommand<typeof Serve> {
  static override summary = 'Serve the CRI v1 gRPC API on a unix socket, for a kubelet or crictl'
  static override description = `Runs in the foreground and answers runtime.v1.RuntimeService and runtime.v1.ImageService on a unix socket (root-owned, mode 0660), so that anything that speaks CRI v1 drives podctl's pods: crictl, a kubelet (--container-runtime-endpoint), or podctl itself with --runtime-endpoint. It shares the state directory and its locks with the CLI: pods made by either are seen by both.

Served, by the same code as the CLI's verbs: Version; the pod RPCs (RunPodSandbox, StopPodSandbox, RemovePodSandbox, PodSandboxStatus with verbose info as {"info": JSON} as containerd, ListPodSandbox filtered by ID or unique prefix, state and labels, PodSandboxStats and ListPodSandboxStats); the container RPCs (CreateContainer, StartContainer, StopContainer, RemoveContainer, ListContainers, ContainerStatus, ReopenContainerLog, UpdateContainerResources of the CPU and memory limits, ExecSync with stdout and stderr of up to 8 MiB each (together within the 16 MiB message a kubelet takes) and a timeout that kills the command, ContainerStats and ListContainerStats); Exec, Attach and PortForward (below); Status (RuntimeReady, NetworkReady), RuntimeConfig (cgroupfs driver), UpdateRuntimeConfig; and the image service (PullImage, ListImages, ImageStatus, RemoveImage, ImageFsInfo). CPU rates (usageNanoCores) are over the time since the previous call's sample. RPCs of CRIs newer than 1.26 (events, metrics, checkpoints, streaming lists, pod resource updates) answer UNIMPLEMENTED with the reason.

Exec, Attach and PortForward return a URL on the streaming server that serve runs beside the socket (the stream-listen setting: 127.0.0.1 on a free port unless set; stream-base-url for a proxy in front of it), good for one use within a minute. It speaks SPDY/3.1 with the v4.channel.k8s.io (down to channel.k8s.io) and portforward.k8s.io subprotocols, as kubelet's streaming server: crictl exec, attach and port-forward and a kubelet's proxy use it unchanged. An exec runs as podctl exec runs it (runc exec of the container's process spec), on a terminal of its own for -t (a python3 relay whose size follows the client's); its exit code goes back on the error stream. An attach joins the container's monitor (conmon), as podctl attach. Each forwarded connection is made to localhost:<port> inside the pod's network namespace (IPv4, then IPv6); a port nothing listens on is reported on the stream's error channel.

Status codes are containerd's: NotFound for the status of an unknown pod, OK for stopping or removing one (the CRI makes both idempotent), InvalidArgument for a bad pod config, AlreadyExists while another pod holds the name. A call ends (and a RunPodSandbox rolls back) when its client cancels it or its deadline passes, or after --timeout.

Logs go to stderr: one line per call that changes something, every call with --debug. SIGTERM or SIGINT closes the socket and waits for the calls in flight; a second one cancels them (they roll back); pods keep running either way. A socket left by a killed server is replaced; one a live server answers on is not.

As a systemd unit, /etc/systemd/system/podctl.service:

  [Unit]
  Description=podctl CRI server
  After=network-online.target

  [Service]
  ExecStart=/usr/local/bin/podctl serve
  KillMode=process
  Restart=always

  [Install]
  WantedBy=multi-user.target

KillMode=process: stopping the service must not kill the pods, which run in cgroups of their own.

EXIT STATUS
${exitStatusHelp}`

  static override examples = [
    {description: 'Serve on the default socket, <run-root>/cri.sock', command: '<%= config.bin %> <%= command.id %>'},
    {description: 'List its pods with crictl', command: 'crictl --runtime-endpoint unix:///run/podctl/cri.sock pods'},
    {description: 'Point a kubelet at it', command: 'kubelet --container-runtime-endpoint=unix:///run/podctl/cri.sock --cgroup-driver=cgroupfs ...'},
    {description: 'Make podctl itself a client of it (every pod verb takes the flag)', command: '<%= config.bin %> pods --runtime-endpoint unix:///run/podctl/cri.sock'},
    {description: 'Serve on another socket, logging every call', command: '<%= config.bin %> <%= command.id %> --listen unix:///run/podctl/test.sock --debug'},
  ]

  static override flags = {
    listen: Flags.string({char: 'l', env: 'PODCTL_LISTEN', description: 'the unix socket to serve on [default: unix://<run-root>/cri.sock]'}),
  }

  async run(): Promise<void> {
    if (process.getuid?.() !== 0) {
      throw prerequisiteError('podctl serve must run as root: it creates network namespaces and runs the OCI runtime', 'run it with sudo, or as root')
    }
    // Loaded here only: no other verb pays for grpc.
    const [{startServer}, {stderrLog}] = await Promise.all([import('../server/server.js'), import('../server/context.js')])
    const log = stderrLog(this.settings.debug)
    const listen = this.flags.listen ?? `unix://${this.settings.runRoot}/cri.sock`
    const server = await startServer({settings: this.settings, listen, log})
    log.info(`podctl serve: listening on unix://${server.socketPath}, streaming on ${server.streamingUrl} (state ${this.settings.root}, run root ${this.settings.runRoot})`)

    await new Promise<void>((resolve) => {
      let signals = 0
      const onSignal = (signal: NodeJS.Signals) => {
        signals++
        if (signals === 1) {
          const inFlight = server.context.callsInFlight
          log.info(`${signal}: closing the socket; pods keep running${inFlight > 0 ? `; waiting for ${inFlight} calls in flight (${signal} again cancels them)` : ''}`)
          server.shutdown().then(resolve, (err: unknown) => {
            log.warn(`shutdown: ${String(err)}`)
            resolve()
          })
        } else if (signals === 2) {
          log.info(`${signal}: cancelling the calls in flight; each rolls back what it made`)
          server.context.cancelAll(`podctl serve is shutting down (${signal})`)
        } else {
          process.exit(ExitCode.interrupted)
        }
      }
      process.on('SIGTERM', onSignal)
      process.on('SIGINT', onSignal)
    })
    log.info('podctl serve: stopped')
  }
}
