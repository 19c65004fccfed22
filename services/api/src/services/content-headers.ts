import type { AssetRow } from '../db/schema/index.ts'

const extensions: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/webp': 'webp',
  'image/gif': 'gif',
}

/**
 * The headers every asset answer carries. The content never changes under an id (it is
 * addressed by hash), hence immutable caching; nosniff and a sandbox CSP keep a browser from
 * ever treating stored bytes as active content.
 */
export function contentHeaders(row: AssetRow) {
  const etag = `"${row.contentHash}"`
  const cache = {
    etag,
    'cache-control': 'private, max-age=31536000, immutable',
    'x-content-type-options': 'nosniff',
    'content-security-policy': 'sandbox',
  }
  const ext = extensions[row.mediaType] ?? 'bin'
  return {
    etag,
    cache,
    full: {
      ...cache,
      'content-type': row.mediaType,
      'content-disposition': `inline; filename="generated-${row.contentHash.slice(0, 8)}.${ext}"`,
      'accept-ranges': 'bytes',
    },
  }
}
