import { randomUUID } from 'node:crypto'
import { CopyObjectCommand, DeleteObjectCommand } from '@aws-sdk/client-s3'
import { isS3NotFound } from './s3-client.ts'
import { headObject, type S3StoreContext, send } from './s3-store-context.ts'

/**
 * Moves a blob's object to `<prefix>quarantine/` (kept for inspection, never served): a
 * server-side copy, then a delete of the original. S3 has no rename. The caller holds the
 * digest's lock. With `onlyIfEtag`, an object that was already replaced (say by a fresh upload
 * after GC) is left alone: only the version that failed verification moves. Returns the
 * quarantined copy's s3:// location, undefined when there was nothing to move.
 */
export async function quarantineObject(
  context: S3StoreContext,
  sha256: string,
  onlyIfEtag?: string,
): Promise<string | undefined> {
  const { keys, client } = context
  const key = keys.blobKey(sha256)
  const current = await headObject(context, key)
  if (current === undefined || (onlyIfEtag !== undefined && current.etag !== onlyIfEtag)) {
    return undefined
  }
  const target = keys.quarantineKey(sha256, context.clock.now().getTime(), randomUUID().slice(0, 8))
  try {
    await send(context, (options) =>
      client.send(
        new CopyObjectCommand({
          Bucket: keys.bucket,
          Key: target,
          CopySource: keys.copySource(key),
          CopySourceIfMatch: current.etag,
        }),
        options,
      ),
    )
  } catch (error) {
    if (isS3NotFound(error)) {
      return undefined
    }
    throw error
  }
  // Between the HEAD and this delete another instance could put good bytes under the key; the
  // delete would take them too. Within a process the digest's lock rules that out; across
  // instances, the shared pins that also guard GC (a later step) will.
  await send(context, (options) =>
    client.send(new DeleteObjectCommand({ Bucket: keys.bucket, Key: key }), options),
  )
  context.verified.forget(sha256)
  return keys.uri(target)
}
