import type { ByteSource, PutOptions, PutResult } from './blob-store.ts'
import { createEdgeBytes } from './edge-bytes.ts'
import { DigestMismatchError } from './errors.ts'
import { checkedDigestOf, checkPutOptions } from './put-options.ts'
import { isS3NotFound } from './s3-client.ts'
import { quarantineObject } from './s3-quarantine.ts'
import { headObject, refreshObject, type S3StoreContext, writeObject } from './s3-store-context.ts'
import { type SpoolBody, type SpooledContent, spoolSource } from './spool.ts'

/**
 * Puts verified bytes under their digest, under the digest's lock, and says whether it wrote
 * them or found them stored, and whether it wrote over other bytes it found. Bodies of at
 * least `lookBeforePutBytes` are looked for first: an object of the right size is kept and
 * refreshed (GC then treats it as new); one of the wrong size is corrupt: it is copied to
 * quarantine and these bytes are written over it (no delete: the write replaces it, and a
 * delete by key could take another instance's good bytes). Smaller bodies are written without
 * a look: the HEAD would cost a round trip on every new blob to spare, for stored ones, a PUT
 * that costs about what the refreshing copy costs. Rewriting a stored object with the same,
 * hash-checked bytes changes nothing but its age (which is what a refresh does); a corrupt
 * object under the key is replaced by good bytes without a quarantined copy, and the put does
 * not know it did (`replaced` stays false: a caller that needs to know pins first, see
 * PutOptions.beforeWrite).
 *
 * Two instances putting the same new bytes at once may both write them, and both report
 * `created`: the two writes carry identical, hash-checked bytes, so the object is right
 * whichever lands last. This does not rely on conditional writes (`If-None-Match: *`), which
 * several S3-compatible servers ignore.
 */
async function publish(
  context: S3StoreContext,
  sha256: string,
  sizeBytes: number,
  body: SpoolBody,
): Promise<Published> {
  const key = context.keys.blobKey(sha256)
  if (sizeBytes < context.lookBeforePutBytes) {
    await writeObject(context, key, sizeBytes, body)
    context.verified.forget(sha256)
    return { created: true, replaced: false }
  }
  const existing = await headObject(context, key)
  let replaced = false
  if (existing?.sizeBytes === sizeBytes) {
    try {
      await refreshObject(context, key)
      return { created: false, replaced }
    } catch (error) {
      // Deleted since the HEAD (GC on another instance): write it again.
      if (!isS3NotFound(error)) {
        throw error
      }
    }
  } else if (existing !== undefined) {
    await quarantineObject(context, sha256, { onlyIfEtag: existing.etag, keepOriginal: true })
    replaced = true
  }
  await writeObject(context, key, sizeBytes, body)
  // A new version: whatever was verified before is void until it is read and hashed again.
  context.verified.forget(sha256)
  return { created: true, replaced }
}

type Published = { created: boolean; replaced: boolean }

/** Publishes under the lock while the digests stay protected from this process's GC. */
async function publishProtected(
  context: S3StoreContext,
  protectedHashes: string[],
  content: Pick<SpooledContent, 'sha256' | 'sizeBytes' | 'body'>,
): Promise<Published> {
  if (!protectedHashes.includes(content.sha256)) {
    context.writing.add(content.sha256)
    protectedHashes.push(content.sha256)
  }
  return context.withLock(content.sha256, () =>
    publish(context, content.sha256, content.sizeBytes, content.body),
  )
}

/**
 * The write protocol on an object store: the source is read to its end into memory or a
 * nameless local temp file while it is hashed and counted (spool.ts), the digest is checked,
 * and only then is anything sent, straight to the final key. So a key never names bytes that
 * were not proven to be its content, and a digest mismatch, an oversized body or a failing
 * source leaves nothing behind in the bucket (the local file vanishes when closed, even after a
 * crash). Streaming to a temp object and copying it would cost a second full write on the
 * server and a temp object to clean up after a crash; the local spool costs local disk for
 * bodies past `spoolMemoryBytes` only.
 */
export async function putS3Blob(
  context: S3StoreContext,
  source: ByteSource,
  options: PutOptions,
): Promise<PutResult> {
  checkPutOptions(options)
  const { expectedSha256 } = options
  const protectedHashes: string[] = []
  if (expectedSha256 !== undefined) {
    context.writing.add(expectedSha256)
    protectedHashes.push(expectedSha256)
  }
  let spooled: SpooledContent | undefined
  try {
    spooled = await spoolSource(source, {
      maxBytes: options.maxBytes,
      memoryBytes: context.spoolMemoryBytes,
      directory: context.spoolDir,
    })
    if (expectedSha256 !== undefined && spooled.sha256 !== expectedSha256) {
      throw new DigestMismatchError(expectedSha256, spooled.sha256)
    }
    await options.beforeWrite?.(spooled.sha256)
    const { created, replaced } = await publishProtected(context, protectedHashes, spooled)
    return {
      sha256: spooled.sha256,
      sizeBytes: spooled.sizeBytes,
      path: context.keys.uri(context.keys.blobKey(spooled.sha256)),
      created,
      head: spooled.head,
      tail: spooled.tail,
      ...(replaced ? { replaced } : {}),
    }
  } finally {
    await spooled?.close()
    for (const sha256 of protectedHashes) {
      context.writing.remove(sha256)
    }
  }
}

/** `putS3Blob` for bytes already in memory: hashed where they are, nothing spooled. */
export async function putS3BlobBytes(
  context: S3StoreContext,
  bytes: Uint8Array,
  options: PutOptions,
): Promise<PutResult> {
  const sha256 = checkedDigestOf(bytes, options)
  const protectedHashes: string[] = []
  try {
    await options.beforeWrite?.(sha256)
    const body: SpoolBody = { kind: 'bytes', bytes }
    const { created, replaced } = await publishProtected(context, protectedHashes, {
      sha256,
      sizeBytes: bytes.byteLength,
      body,
    })
    const edges = createEdgeBytes()
    edges.add(bytes)
    return {
      sha256,
      sizeBytes: bytes.byteLength,
      path: context.keys.uri(context.keys.blobKey(sha256)),
      created,
      head: edges.head(),
      tail: edges.tail(),
      ...(replaced ? { replaced } : {}),
    }
  } finally {
    for (const hash of protectedHashes) {
      context.writing.remove(hash)
    }
  }
}
