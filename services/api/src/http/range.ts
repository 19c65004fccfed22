export type ResolvedRange = { offset: number; length: number }

/**
 * Resolves a `Range` header against a size. Only a single `bytes=` range is honoured; anything
 * else (several ranges, other units, garbage) is ignored and the whole body is served, as
 * RFC 9110 allows. `'unsatisfiable'` means a well-formed range outside the content.
 */
export function resolveRange(
  header: string | undefined,
  size: number,
): ResolvedRange | 'unsatisfiable' | undefined {
  if (!header) {
    return undefined
  }
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  if (!match) {
    return undefined
  }
  const [, startText = '', endText = ''] = match
  if (startText === '' && endText === '') {
    return undefined
  }
  if (startText === '') {
    const suffix = Number(endText)
    if (suffix === 0) {
      return 'unsatisfiable'
    }
    const length = Math.min(suffix, size)
    return size === 0 ? 'unsatisfiable' : { offset: size - length, length }
  }
  const start = Number(startText)
  if (start >= size) {
    return 'unsatisfiable'
  }
  const end = endText === '' ? size - 1 : Math.min(Number(endText), size - 1)
  if (end < start) {
    return undefined
  }
  return { offset: start, length: end - start + 1 }
}

/** Whether an If-None-Match header names this entity tag (weak comparison, `*` included). */
export function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) {
    return false
  }
  // What a client revalidating its copy sends: the tag itself.
  if (header === etag) {
    return true
  }
  for (const part of header.split(',')) {
    const tag = part.trim()
    const strong = tag.startsWith('W/') ? tag.slice(2) : tag
    if (strong === '*' || strong === etag) {
      return true
    }
  }
  return false
}
