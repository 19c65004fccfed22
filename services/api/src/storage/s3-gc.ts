import { readdir, rm, stat } from 'node:fs/promises'
import path from 'node:path'
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
} from '@aws-sdk/client-s3'
import {
  type GarbageCollectionOptions,
  type GarbageCollectionResult,
  runUnguarded,
} from './blob-store.ts'
import { hasErrorCode } from './errno.ts'
import { s3StatusOf } from './s3-client.ts'
import { headObject, type S3StoreContext, send } from './s3-store-context.ts'
import { SPOOL_FILE_PREFIX } from './spool.ts'

/** Every object under a prefix with its LastModified, page by page. */
async function* listObjects(
  context: S3StoreContext,
  prefix: string,
): AsyncGenerator<{ key: string; lastModified: Date }> {
  let continuationToken: string | undefined
  do {
    const page = await send(context, (options) =>
      context.client.send(
        new ListObjectsV2Command({
          Bucket: context.keys.bucket,
          Prefix: prefix,
          ...(continuationToken === undefined ? {} : { ContinuationToken: continuationToken }),
        }),
        options,
      ),
    )
    for (const object of page.Contents ?? []) {
      if (object.Key !== undefined) {
        yield { key: object.Key, lastModified: object.LastModified ?? new Date(0) }
      }
    }
    continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined
  } while (continuationToken !== undefined)
}

/** Every well-formed blob key under `<prefix>sha256/`; anything else found there is ignored. */
export async function* listS3BlobHashes(context: S3StoreContext): AsyncGenerator<string> {
  for await (const { key } of listObjects(context, context.keys.blobsPrefix)) {
    const sha256 = context.keys.hashFromKey(key)
    if (sha256 !== undefined) {
      yield sha256
    }
  }
}

/**
 * Mark-and-sweep against the caller's references, as on disk. The listing's LastModified
 * rules out young objects cheaply; a candidate that is old, unreferenced and not being written
 * by this process is looked at again under the digest's lock right before the delete (HEAD:
 * LastModified and the stored-at stamp), because a put that lands on it meanwhile refreshes it
 * under that same lock.
 *
 * Across instances that lock does not reach: a put on another instance that finds the object
 * and refreshes it between that HEAD and the delete would lose it. Shared pins close that gap
 * through `options.guardDelete` (BlobPins.unlessPinned): a request pins its digest in the
 * database before it looks for the object (or checks the object is still there after pinning),
 * and the final check and the delete run only while the digest is unpinned, under a database
 * lock on the digest that holds new pins back until the delete is done.
 */
export async function collectS3Garbage(
  context: S3StoreContext,
  options: GarbageCollectionOptions,
): Promise<GarbageCollectionResult> {
  const cutoffMs = (options.now ?? context.clock.now()).getTime() - options.graceMs
  const guardDelete = options.guardDelete ?? runUnguarded
  const result: GarbageCollectionResult = { scanned: 0, deleted: [] }
  for await (const { key, lastModified } of listObjects(context, context.keys.blobsPrefix)) {
    const sha256 = context.keys.hashFromKey(key)
    if (sha256 === undefined) {
      continue
    }
    result.scanned += 1
    if (context.writing.has(sha256) || lastModified.getTime() >= cutoffMs) {
      continue
    }
    if (await options.isReferenced(sha256)) {
      continue
    }
    // Shared pins (see above) are checked here, under a lock shared by every instance, taken
    // outside the digest's lock, as a discard takes them: never the other way round.
    const deleted = await guardDelete(sha256, () =>
      context.withLock(sha256, async () => {
        if (context.writing.has(sha256)) {
          return false
        }
        const current = await headObject(context, key)
        if (current === undefined || current.modifiedAt.getTime() >= cutoffMs) {
          return false
        }
        context.verified.forget(sha256)
        await send(context, (options) =>
          context.client.send(
            new DeleteObjectCommand({ Bucket: context.keys.bucket, Key: key }),
            options,
          ),
        )
        return true
      }),
    )
    if (deleted === true) {
      result.deleted.push(sha256)
    }
  }
  return result
}

/** Spool files a crash left in the instant between their creation and their unlink. */
async function sweepSpoolFiles(spoolDir: string, cutoffMs: number): Promise<number> {
  let names: string[]
  try {
    names = await readdir(spoolDir)
  } catch (error) {
    if (hasErrorCode(error, 'ENOENT')) {
      return 0
    }
    throw error
  }
  let removed = 0
  for (const name of names.filter((entry) => entry.startsWith(SPOOL_FILE_PREFIX))) {
    const file = path.join(spoolDir, name)
    const stats = await stat(file).catch(() => undefined)
    if (stats?.isFile() && stats.mtimeMs < cutoffMs) {
      await rm(file, { force: true })
      removed += 1
    }
  }
  return removed
}

/**
 * Multipart uploads of blobs that a crashed put left unfinished: invisible, but stored (and
 * billed) until aborted. Servers that cannot list them (s3rver answers NotImplemented) are
 * skipped; there, a bucket lifecycle rule (AbortIncompleteMultipartUpload) is the remedy.
 */
async function abortStaleUploads(context: S3StoreContext, cutoffMs: number): Promise<number> {
  let aborted = 0
  let keyMarker: string | undefined
  let uploadIdMarker: string | undefined
  do {
    let page: Awaited<ReturnType<typeof listUploads>>
    try {
      page = await listUploads(context, keyMarker, uploadIdMarker)
    } catch (error) {
      if (s3StatusOf(error) === 501 || (error as Error).name === 'NotImplemented') {
        return aborted
      }
      throw error
    }
    for (const upload of page.Uploads ?? []) {
      const sha256 = upload.Key === undefined ? undefined : context.keys.hashFromKey(upload.Key)
      const initiatedMs = upload.Initiated?.getTime() ?? Number.POSITIVE_INFINITY
      if (sha256 === undefined || context.writing.has(sha256) || initiatedMs >= cutoffMs) {
        continue
      }
      await send(context, (options) =>
        context.client.send(
          new AbortMultipartUploadCommand({
            Bucket: context.keys.bucket,
            Key: upload.Key,
            UploadId: upload.UploadId,
          }),
          options,
        ),
      )
      aborted += 1
    }
    keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined
    uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined
  } while (keyMarker !== undefined)
  return aborted
}

function listUploads(context: S3StoreContext, keyMarker?: string, uploadIdMarker?: string) {
  return send(context, (options) =>
    context.client.send(
      new ListMultipartUploadsCommand({
        Bucket: context.keys.bucket,
        Prefix: context.keys.blobsPrefix,
        ...(keyMarker === undefined ? {} : { KeyMarker: keyMarker }),
        ...(uploadIdMarker === undefined ? {} : { UploadIdMarker: uploadIdMarker }),
      }),
      options,
    ),
  )
}

/**
 * What a crashed put leaves behind on this backend, removed when older than `olderThanMs`:
 * unfinished multipart uploads of blob keys, and spool files in the local spool directory
 * (spool files lose their name as soon as they are created, so these are rare). Nothing is ever
 * written to the bucket before it is verified, so there are no temp objects to sweep.
 */
export async function sweepS3TempFiles(
  context: S3StoreContext,
  olderThanMs: number,
): Promise<number> {
  const cutoffMs = context.clock.now().getTime() - olderThanMs
  return (
    (await sweepSpoolFiles(context.spoolDir, cutoffMs)) +
    (await abortStaleUploads(context, cutoffMs))
  )
}
