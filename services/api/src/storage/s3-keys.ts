import { assertSha256Hex, isSha256Hex } from './blob-hash.ts'

/**
 * Where things live in the bucket, under an optional prefix (several deployments, or other
 * data, can share a bucket): `<prefix>sha256/<64 hex>` for blobs and
 * `<prefix>quarantine/<hex>.<ms>.<random>` for quarantined ones. No sharding as on disk: an
 * object store has no directories to grow, and the hash already spreads the keys evenly.
 */
export type S3KeyLayout = {
  bucket: string
  prefix: string
  blobsPrefix: string
  quarantinePrefix: string
  blobKey(sha256: string): string
  /** Inverse of blobKey for keys found by listing; undefined for anything else. */
  hashFromKey(key: string): string | undefined
  quarantineKey(sha256: string, stampMs: number, nonce: string): string
  /** How a key is reported to callers (PutResult.path, quarantine locations). */
  uri(key: string): string
  /** The `CopySource` of CopyObject: bucket and key, each path segment URL-encoded. */
  copySource(key: string): string
}

/** Segments of S3's "safe" characters, each followed by a slash: no `..`, no leading slash. */
const PREFIX = /^(?:(?!\.{1,2}\/)[A-Za-z0-9!_.*'()-]+\/)*$/

export function normalizePrefix(prefix: string | undefined): string {
  const withSlash = prefix && !prefix.endsWith('/') ? `${prefix}/` : (prefix ?? '')
  if (!PREFIX.test(withSlash)) {
    throw new Error(
      `S3 prefix ${JSON.stringify(prefix)} must be path segments of letters, digits and !_.*'()- separated by "/"`,
    )
  }
  return withSlash
}

export function createS3KeyLayout(bucket: string, prefix?: string): S3KeyLayout {
  const normalized = normalizePrefix(prefix)
  const blobsPrefix = `${normalized}sha256/`
  const quarantinePrefix = `${normalized}quarantine/`
  return {
    bucket,
    prefix: normalized,
    blobsPrefix,
    quarantinePrefix,
    blobKey(sha256) {
      assertSha256Hex(sha256)
      return `${blobsPrefix}${sha256}`
    },
    hashFromKey(key) {
      if (!key.startsWith(blobsPrefix)) {
        return undefined
      }
      const rest = key.slice(blobsPrefix.length)
      return isSha256Hex(rest) ? rest : undefined
    },
    quarantineKey(sha256, stampMs, nonce) {
      assertSha256Hex(sha256)
      return `${quarantinePrefix}${sha256}.${stampMs}.${nonce}`
    },
    uri(key) {
      return `s3://${bucket}/${key}`
    },
    copySource(key) {
      return [bucket, ...key.split('/')].map(encodeURIComponent).join('/')
    },
  }
}
