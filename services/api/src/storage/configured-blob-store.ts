import path from 'node:path'
import type { Config } from '../config.ts'
import type { Clock } from '../ids.ts'
import type { BlobStore } from './blob-store.ts'
import { createFsBlobStore } from './fs-blob-store.ts'
import { createS3BlobStore } from './s3-blob-store.ts'
import { createS3Client } from './s3-client.ts'

export type ConfiguredBlobStore = {
  store: BlobStore
  /** How the start-up check names it, e.g. `s3://bucket/prefix/ at http://minio:9000`. */
  description: string
  close(): void
}

/**
 * The blob store IMAGEGATE_BLOB_STORE names: `<data dir>/blobs` on local disk, or a bucket
 * of an S3-compatible store, reached with the AWS SDK's standard credential chain. Large S3
 * puts spool through `<data dir>/spool`, on the instance's own disk. Building it writes
 * nothing, so it can be probed before anything else starts.
 */
export function createConfiguredBlobStore(config: Config, clock: Clock): ConfiguredBlobStore {
  const settings = config.blobStore
  if (settings.kind === 'fs') {
    const root = path.join(config.dataDir, 'blobs')
    return { store: createFsBlobStore({ root, clock }), description: root, close() {} }
  }
  const client = createS3Client({
    region: settings.region,
    endpoint: settings.endpoint,
    forcePathStyle: settings.forcePathStyle,
  })
  const spoolDir = path.join(config.dataDir, 'spool')
  return {
    store: createS3BlobStore({
      client,
      bucket: settings.bucket,
      prefix: settings.prefix,
      clock,
      spoolDir,
    }),
    description: `s3://${settings.bucket}/${settings.prefix} at ${settings.endpoint ?? 'AWS S3'}`,
    close: () => client.destroy(),
  }
}
