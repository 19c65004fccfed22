import { randomUUID } from 'node:crypto'
import { CopyObjectCommand, DeleteObjectCommand } from '@aws-sdk/client-s3'
import { isS3NotFound, s3StatusOf } from './s3-client.ts'
import { headObject, type S3StoreContext, send } from './s3-store-context.ts'

export type QuarantineObjectOptions = {
  /**
   * Moves the object only while it is this version: one that was already replaced (say by a
   * fresh upload after GC) is left alone, so only the version that failed verification moves.
   */
  onlyIfEtag?: string
  /**
   * Copies the object aside and leaves the original: for a put that writes good bytes over it
   * next, so nothing here deletes by key.
   */
  keepOriginal?: boolean
}

/**
 * Moves a blob's object to `<prefix>quarantine/` (kept for inspection, never served): a
 * server-side copy, then a delete of the original. S3 has no rename. The caller holds the
 * digest's lock. Returns the quarantined copy's s3:// location, undefined when there was
 * nothing to move.
 *
 * The delete is by key: whatever the key names when it arrives goes. Between the first HEAD and
 * that delete a put on another instance can store good bytes under the key (it found the corrupt
 * object and wrote over it, or found none after a GC), and the digest's lock does not reach
 * across instances. Two things keep those bytes. A caller that can delete (a read that found
 * the object corrupt, an explicit quarantine) runs this inside `guardDelete`
 * (BlobPins.unlessPinned): it runs only while no request anywhere has pinned the digest, and
 * holds back new pins until it is done, so an upload (which pins before it puts) either stops
 * the quarantine or puts after the delete. And right before the delete the object is looked at
 * again: a different ETag means another version was written since (by a put that pins only
 * after it stored, which learns of the overwrite from PutResult.replaced and looks again once
 * pinned), and that version is left in place. A conditional delete (`If-Match`) would say the
 * same in one request, but several S3-compatible servers ignore it, as they ignore conditional
 * writes.
 */
export async function quarantineObject(
  context: S3StoreContext,
  sha256: string,
  options: QuarantineObjectOptions = {},
): Promise<string | undefined> {
  const { keys, client } = context
  const key = keys.blobKey(sha256)
  const current = await headObject(context, key)
  if (
    current === undefined ||
    (options.onlyIfEtag !== undefined && current.etag !== options.onlyIfEtag)
  ) {
    return undefined
  }
  const target = keys.quarantineKey(sha256, context.clock.now().getTime(), randomUUID().slice(0, 8))
  try {
    await send(context, (sendOptions) =>
      client.send(
        new CopyObjectCommand({
          Bucket: keys.bucket,
          Key: target,
          CopySource: keys.copySource(key),
          CopySourceIfMatch: current.etag,
        }),
        sendOptions,
      ),
    )
  } catch (error) {
    // Gone, or replaced by another version (412 from stores that honour CopySourceIfMatch).
    if (isS3NotFound(error) || s3StatusOf(error) === 412) {
      return undefined
    }
    throw error
  }
  context.verified.forget(sha256)
  if (options.keepOriginal === true) {
    return keys.uri(target)
  }
  const now = await headObject(context, key)
  if (now?.etag === current.etag) {
    await send(context, (sendOptions) =>
      client.send(new DeleteObjectCommand({ Bucket: keys.bucket, Key: key }), sendOptions),
    )
  }
  return keys.uri(target)
}
