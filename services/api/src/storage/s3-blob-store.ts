import { tmpdir } from 'node:os'
import { DeleteObjectCommand, HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3'
import { type Clock, systemClock } from '../ids.ts'
import { assertSha256Hex } from './blob-hash.ts'
import { type BlobStat, type BlobStore, runUnguarded } from './blob-store.ts'
import { BlobStoreUnavailableError } from './errors.ts'
import { createHashCounter } from './fs-store-context.ts'
import { createKeyedLock } from './keyed-lock.ts'
import { explainS3Failure, isS3Unavailable } from './s3-client.ts'
import { collectS3Garbage, listS3BlobHashes, sweepS3TempFiles } from './s3-gc.ts'
import { createS3KeyLayout } from './s3-keys.ts'
import { putS3Blob, putS3BlobBytes } from './s3-put.ts'
import { quarantineObject } from './s3-quarantine.ts'
import { openVerifiedS3Blob } from './s3-read.ts'
import { headObject, type S3StoreContext, send } from './s3-store-context.ts'
import { createVerifiedEtags } from './verified-etags.ts'

const MiB = 1024 * 1024

export type S3BlobStoreOptions = {
  /** From createS3Client (s3-client.ts): endpoint, region, path style and checksum settings. */
  client: S3Client
  bucket: string
  /** Keys go under this prefix (`a/b/` or `a/b`); default the bucket's root. */
  prefix?: string
  /** Stamps writes and refreshes, and is GC's default "now". */
  clock?: Clock
  /** Blobs up to this size are returned as bytes, larger ones as a stream. Default 8 MiB. */
  streamThresholdBytes?: number
  /** Puts up to this size are hashed in memory before upload; larger ones spool. Default 8 MiB. */
  spoolMemoryBytes?: number
  /**
   * Puts of at least this many bytes look for the object first (a HEAD), and refresh a stored
   * one instead of sending it again; smaller ones are written without looking (see s3-put.ts).
   * Default 8 MiB, the largest body sent in one PUT by default. 0: every put looks first.
   */
  lookBeforePutBytes?: number
  /** Local directory for spool files (nameless while in use). Default the OS temp directory. */
  spoolDir?: string
  /** How many verified object versions to remember (see verified-etags.ts). 0 disables. */
  verificationCacheEntries?: number
  /** Multipart part size for large puts; at least 5 MiB. Default 8 MiB. */
  partSizeBytes?: number
  /** Parts of one large put uploaded at once. Default 4. */
  partQueueSize?: number
  /**
   * How long one S3 call may take up to its answer's headers, retries included, before it is
   * aborted and the operation fails with BlobStoreUnavailableError. Default 30 s: a single PUT
   * carries up to `spoolMemoryBytes`.
   */
  deadlineMs?: number
}

/** An S3 failure in the store's terms: unreachable and late stores become one error. */
function translated(error: unknown): unknown {
  return isS3Unavailable(error) ? new BlobStoreUnavailableError({ cause: error }) : error
}

function guarded<A extends unknown[], R>(operation: (...args: A) => Promise<R>) {
  return async (...args: A): Promise<R> => {
    try {
      return await operation(...args)
    } catch (error) {
      throw translated(error)
    }
  }
}

/**
 * The content-addressed store on an S3-compatible object store (AWS S3, MinIO, Ceph RGW,
 * Cloudflare R2, …): `<prefix>sha256/<hex>`. Several instances can share one bucket and prefix;
 * the locks and in-flight sets in this object order the operations of one instance, and what
 * crosses instances is explained where it matters (s3-put.ts, s3-gc.ts, s3-quarantine.ts).
 *
 * Quarantine is a server-side copy to `<prefix>quarantine/` and a delete (S3 has no rename);
 * `sweepTempFiles` aborts stale multipart uploads and removes stray spool files, since nothing
 * unverified is ever written to the bucket. Locations (`path`, quarantine) are s3:// URIs.
 *
 * A store that cannot be reached, answers 5xx or misses the deadline fails the operation with
 * BlobStoreUnavailableError, whatever the operation.
 */
export function createS3BlobStore(options: S3BlobStoreOptions): BlobStore {
  const keys = createS3KeyLayout(options.bucket, options.prefix)
  const partSizeBytes = options.partSizeBytes ?? 8 * MiB
  if (partSizeBytes < 5 * MiB) {
    throw new RangeError('S3 multipart parts must be at least 5 MiB')
  }
  const context: S3StoreContext = {
    client: options.client,
    keys,
    clock: options.clock ?? systemClock,
    withLock: createKeyedLock(),
    writing: createHashCounter(),
    verified: createVerifiedEtags(options.verificationCacheEntries ?? 50_000),
    streamThresholdBytes: options.streamThresholdBytes ?? 8 * MiB,
    spoolMemoryBytes: options.spoolMemoryBytes ?? 8 * MiB,
    lookBeforePutBytes: options.lookBeforePutBytes ?? 8 * MiB,
    spoolDir: options.spoolDir ?? tmpdir(),
    partSizeBytes,
    partQueueSize: options.partQueueSize ?? 4,
    deadlineMs: options.deadlineMs ?? 30_000,
  }

  const statBlob = async (sha256: string): Promise<BlobStat | undefined> => {
    const key = keys.blobKey(sha256)
    const facts = await headObject(context, key)
    return (
      facts && {
        sha256,
        sizeBytes: facts.sizeBytes,
        modifiedAt: facts.modifiedAt,
        path: keys.uri(key),
      }
    )
  }

  return {
    put: guarded((source, putOptions) => putS3Blob(context, source, putOptions)),
    putBytes: guarded((bytes, putOptions) => putS3BlobBytes(context, bytes, putOptions)),
    openVerified: guarded((sha256, openOptions) =>
      openVerifiedS3Blob(context, sha256, openOptions),
    ),
    stat: guarded(statBlob),
    has: guarded(async (sha256) => (await statBlob(sha256)) !== undefined),
    delete: guarded(async (sha256) => {
      assertSha256Hex(sha256)
      return context.withLock(sha256, async () => {
        context.verified.forget(sha256)
        const key = keys.blobKey(sha256)
        // DELETE answers 204 whether or not the key existed; the HEAD tells which.
        if ((await headObject(context, key)) === undefined) {
          return false
        }
        await send(context, (sendOptions) =>
          context.client.send(
            new DeleteObjectCommand({ Bucket: keys.bucket, Key: key }),
            sendOptions,
          ),
        )
        return true
      })
    }),
    async *listHashes() {
      try {
        yield* listS3BlobHashes(context)
      } catch (error) {
        throw translated(error)
      }
    },
    quarantine: guarded(async (sha256, quarantineOptions = {}) => {
      assertSha256Hex(sha256)
      const guardDelete = quarantineOptions.guardDelete ?? runUnguarded
      return guardDelete(sha256, () =>
        context.withLock(sha256, () => quarantineObject(context, sha256)),
      )
    }),
    sweepTempFiles: guarded((olderThanMs) => sweepS3TempFiles(context, olderThanMs)),
    collectGarbage: guarded((gcOptions) => collectS3Garbage(context, gcOptions)),
    /** A HEAD of the bucket: reachable, the credentials accepted, the bucket there. */
    async probe() {
      try {
        await send(context, (sendOptions) =>
          context.client.send(new HeadBucketCommand({ Bucket: keys.bucket }), sendOptions),
        )
      } catch (error) {
        throw new Error(`The object store ${explainS3Failure(error, keys.bucket)}`, {
          cause: error,
        })
      }
    },
  }
}
