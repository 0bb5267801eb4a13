// The OCI image-spec and Docker schema 2 documents podctl reads: media
// types of both families, descriptors, manifests, indexes and the config.

export const mediaTypes = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ociLayerNondistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerForeignLayerGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
} as const

export const manifestMediaTypes: string[] = [mediaTypes.ociManifest, mediaTypes.dockerManifest]
export const indexMediaTypes: string[] = [mediaTypes.ociIndex, mediaTypes.dockerList]

export interface Platform {
  architecture: string
  os: string
  variant?: string
  'os.version'?: string
}

export interface Descriptor {
  mediaType: string
  digest: string
  size: number
  annotations?: Record<string, string>
  platform?: Platform
  urls?: string[]
}

export interface OciManifest {
  schemaVersion: 2
  mediaType?: string
  config: Descriptor
  layers: Descriptor[]
  annotations?: Record<string, string>
}

export interface OciIndex {
  schemaVersion: 2
  mediaType?: string
  manifests: Descriptor[]
  annotations?: Record<string, string>
}

export interface OciImageConfig {
  created?: string
  author?: string
  architecture?: string
  os?: string
  variant?: string
  config?: {
    User?: string
    Env?: string[]
    Entrypoint?: string[]
    Cmd?: string[]
    WorkingDir?: string
    ExposedPorts?: Record<string, object>
    Labels?: Record<string, string>
    StopSignal?: string
    Volumes?: Record<string, object>
  }
  rootfs?: {type: string; diff_ids: string[]}
  history?: unknown[]
}

/** The annotation that names an image in an OCI layout's index.json. */
export const refNameAnnotation = 'org.opencontainers.image.ref.name'
