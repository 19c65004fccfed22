import {
  CopyObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import type { Clock } from '../ids.ts'
import type { HashCounter } from './fs-store-context.ts'
import type { KeyedLock } from './keyed-lock.ts'
import { isS3NotFound } from './s3-client.ts'
import type { S3KeyLayout } from './s3-keys.ts'
import type { SpoolBody } from './spool.ts'
import type { VerifiedEtags } from './verified-etags.ts'

/** The state the S3 store's operations share; one per store instance. */
export type S3StoreContext = {
  client: S3Client
  keys: S3KeyLayout
  clock: Clock
  /** Held per digest around publish, GC's final check + delete, delete and quarantine. */
  withLock: KeyedLock
  /** Digests a put in this process is writing or about to publish; GC never deletes these. */
  writing: HashCounter
  verified: VerifiedEtags
  /** Blobs up to this size are read into memory; larger ones are streamed. */
  streamThresholdBytes: number
  /** Puts of at least this size look for the object first (HEAD); smaller ones just write. */
  lookBeforePutBytes: number
  /** Puts up to this size are hashed in memory; larger ones are spooled to `spoolDir`. */
  spoolMemoryBytes: number
  spoolDir: string
  /** Multipart part size for spooled puts (lib-storage; at least 5 MiB, S3's minimum). */
  partSizeBytes: number
  /** Parts of one put in flight at once. */
  partQueueSize: number
  /** Bounds each S3 call, its retries included, up to the answer's headers (see `send`). */
  deadlineMs: number
}

/**
 * Runs one SDK call, all its attempts included, under the store's deadline: past it the call
 * is aborted (a body still being sent with it too) and fails as unavailable. Once the answer's
 * headers are in, the timer stops: a body being read is bounded by the client's idle timeout
 * instead, so a large download is not cut short for being large.
 */
export async function send<T>(
  context: Pick<S3StoreContext, 'deadlineMs'>,
  call: (options: { abortSignal: AbortSignal }) => Promise<T>,
): Promise<T> {
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), context.deadlineMs)
  try {
    return await call({ abortSignal: controller.signal })
  } finally {
    clearTimeout(timer)
  }
}

/**
 * User metadata stamped on every write and refresh with the store's clock. It is how a refresh
 * is seen on stores where copying an object onto itself rewrites only its metadata and leaves
 * LastModified alone (s3rver does; AWS moves both): an object's age is the later of the two.
 */
export const STORED_AT_METADATA = 'stored-at'

export type ObjectFacts = { sizeBytes: number; etag: string; modifiedAt: Date }

/** HEAD of a blob's object; undefined when there is none. */
export async function headObject(
  context: S3StoreContext,
  key: string,
): Promise<ObjectFacts | undefined> {
  try {
    const head = await send(context, (options) =>
      context.client.send(
        new HeadObjectCommand({ Bucket: context.keys.bucket, Key: key }),
        options,
      ),
    )
    const lastModified = head.LastModified?.getTime() ?? 0
    const stamped = Date.parse(head.Metadata?.[STORED_AT_METADATA] ?? '')
    return {
      sizeBytes: head.ContentLength ?? 0,
      etag: head.ETag ?? '',
      modifiedAt: new Date(Number.isNaN(stamped) ? lastModified : Math.max(lastModified, stamped)),
    }
  } catch (error) {
    if (isS3NotFound(error)) {
      return undefined
    }
    throw error
  }
}

const objectHeaders = (context: S3StoreContext) => ({
  ContentType: 'application/octet-stream',
  Metadata: { [STORED_AT_METADATA]: context.clock.now().toISOString() },
})

/** Writes verified bytes under a key: one PUT from memory, or a multipart upload from the spool. */
export async function writeObject(
  context: S3StoreContext,
  key: string,
  sizeBytes: number,
  body: SpoolBody,
): Promise<void> {
  const target = { Bucket: context.keys.bucket, Key: key, ...objectHeaders(context) }
  if (body.kind === 'bytes') {
    await send(context, (options) =>
      context.client.send(
        new PutObjectCommand({ ...target, Body: body.bytes, ContentLength: sizeBytes }),
        options,
      ),
    )
    return
  }
  // The spool file stays open (and owned by the caller): the stream must not close it.
  const stream = body.handle.createReadStream({ start: 0, autoClose: false, emitClose: false })
  try {
    await new Upload({
      client: context.client,
      // Known up front: lib-storage plans the parts from it (and cannot tell a file stream's end).
      params: { ...target, Body: stream, ContentLength: sizeBytes },
      partSize: context.partSizeBytes,
      queueSize: context.partQueueSize,
      leavePartsOnError: false,
    }).done()
  } finally {
    stream.destroy()
  }
}

/**
 * Makes an existing object count as new for GC: S3 has no "touch", so the object is copied
 * onto itself with fresh metadata, server-side (no bytes travel). Throws NotFound if it has
 * gone meanwhile.
 */
export async function refreshObject(context: S3StoreContext, key: string): Promise<void> {
  await send(context, (options) =>
    context.client.send(
      new CopyObjectCommand({
        Bucket: context.keys.bucket,
        Key: key,
        CopySource: context.keys.copySource(key),
        MetadataDirective: 'REPLACE',
        ...objectHeaders(context),
      }),
      options,
    ),
  )
}
