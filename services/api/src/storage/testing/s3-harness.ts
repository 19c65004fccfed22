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
import { afterAll, beforeAll } from 'vitest'
import { type S3TestServer, startS3TestServer } from '../../testing/s3-server.ts'
import { createS3BlobStore, type S3BlobStoreOptions } from '../s3-blob-store.ts'
import { createS3Client } from '../s3-client.ts'
import { type BlobStoreHarness, GC_GRACE_MS } from './blob-store-harness.ts'

export type S3TestContext = { readonly server: S3TestServer; readonly client: S3Client }

/**
 * An s3rver of the test file's own and a path-style client on it, started before its tests
 * and stopped after them. Read `server` and `client` inside tests and hooks only.
 */
export function useS3TestServer(): S3TestContext {
  let server: S3TestServer | undefined
  let client: S3Client | undefined
  beforeAll(async () => {
    server = await startS3TestServer({ lifetimeMs: 5 * 60_000 })
    client = createS3Client({
      endpoint: server.endpoint,
      region: server.region,
      forcePathStyle: true,
      credentials: server.credentials,
    })
  }, 30_000)
  afterAll(async () => {
    client?.destroy()
    await server?.stop()
  })
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) {
      throw new Error('the S3 test server is not started yet (read it inside a test or hook)')
    }
    return value
  }
  return {
    get server() {
      return started(server)
    },
    get client() {
      return started(client)
    },
  }
}

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
    // Every put looks first, as the contract's cases about stored bytes expect; the puts that
    // write without looking (the default below 8 MiB) have cases of their own.
    lookBeforePutBytes: 0,
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
