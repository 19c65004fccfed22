import { randomUUID } from 'node:crypto'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import {
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { createS3BlobStore, type S3BlobStoreOptions } from '../s3-blob-store.ts'
import { type BlobStoreHarness, GC_GRACE_MS } from './blob-store-harness.ts'

/** Every key under a prefix, relative to it, sorted. */
export async function keysUnder(client: S3Client, bucket: string, prefix: string) {
  const keys: string[] = []
  let token: string | undefined
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    )
    keys.push(...(page.Contents ?? []).map((object) => (object.Key ?? '').slice(prefix.length)))
    token = page.IsTruncated ? page.NextContinuationToken : undefined
  } while (token !== undefined)
  return keys.sort()
}

export type S3Harness = BlobStoreHarness & { prefix: string; spoolDir: string }

/**
 * The S3 store on a test server, under a fresh prefix of the run's bucket, with its own spool
 * directory. Its clock is frozen at the real time it started, since the server stamps
 * LastModified with the real time (to the second): `elapse` waits for the next whole second
 * and then moves the clock a grace period past it, so whatever is written later is younger
 * than GC's cutoff by both LastModified and the store's own stamp.
 */
export async function makeS3Harness(
  client: S3Client,
  bucket: string,
  options: Partial<S3BlobStoreOptions> = {},
): Promise<S3Harness> {
  const prefix = `run-${randomUUID().slice(0, 8)}/`
  const spoolDir = await mkdtemp(path.join(tmpdir(), 'imagegate-spool-test-'))
  let clockMs = Date.now()
  const streamThresholdBytes = 64 * 1024
  const store = createS3BlobStore({
    client,
    bucket,
    prefix,
    clock: { now: () => new Date(clockMs) },
    streamThresholdBytes,
    // Smaller than some of the suite's blobs, so both the in-memory and the spooled paths run.
    spoolMemoryBytes: 32 * 1024,
    spoolDir,
    ...options,
  })
  const storedNames = async () => [
    ...(await keysUnder(client, bucket, prefix)),
    ...(await readdir(spoolDir)).map((name) => `spool/${name}`),
  ]
  return {
    store,
    prefix,
    spoolDir,
    streamThresholdBytes,
    storedNames,
    blobName: (sha256) => `sha256/${sha256}`,
    quarantinedNames: async () =>
      (await storedNames()).filter((name) => name.startsWith('quarantine/')),
    async readQuarantined(location) {
      const inQuarantine = `s3://${bucket}/${prefix}quarantine/`
      if (!location.startsWith(inQuarantine)) {
        throw new Error(`${location} is not in ${inQuarantine}`)
      }
      const key = location.slice(`s3://${bucket}/`.length)
      const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
      return (await object.Body?.transformToByteArray()) ?? new Uint8Array(0)
    },
    async overwrite(sha256, bytes) {
      await client.send(
        new PutObjectCommand({ Bucket: bucket, Key: `${prefix}sha256/${sha256}`, Body: bytes }),
      )
    },
    async elapse() {
      const nextSecond = Math.ceil((Date.now() + 1) / 1000) * 1000
      await new Promise((resolve) => setTimeout(resolve, nextSecond - Date.now() + 20))
      clockMs = nextSecond + GC_GRACE_MS
    },
    dispose: () => rm(spoolDir, { recursive: true, force: true }),
  }
}
