import { describe, expect, it } from 'vitest'
import { InvalidHashError } from './errors.ts'
import { createS3KeyLayout, normalizePrefix } from './s3-keys.ts'

const sha256 = 'ab'.repeat(32)

describe('createS3KeyLayout', () => {
  it('puts blobs and quarantined copies under the prefix, and reads digests back from keys', () => {
    const keys = createS3KeyLayout('media', 'tenants/one')
    expect(keys.blobKey(sha256)).toBe(`tenants/one/sha256/${sha256}`)
    expect(keys.quarantineKey(sha256, 5, 'n')).toBe(`tenants/one/quarantine/${sha256}.5.n`)
    expect(keys.hashFromKey(`tenants/one/sha256/${sha256}`)).toBe(sha256)
    expect(keys.uri(keys.blobKey(sha256))).toBe(`s3://media/tenants/one/sha256/${sha256}`)
    for (const stray of [`tenants/one/sha256/${sha256}x`, `other/sha256/${sha256}`, 'x']) {
      expect(keys.hashFromKey(stray)).toBeUndefined()
    }
  })

  it('never builds a key from anything but a digest', () => {
    const keys = createS3KeyLayout('media')
    expect(() => keys.blobKey('../x')).toThrow(InvalidHashError)
    expect(keys.blobKey(sha256)).toBe(`sha256/${sha256}`)
  })

  it('URL-encodes the copy source segment by segment', () => {
    const keys = createS3KeyLayout('media', "it's(1)")
    expect(keys.copySource(keys.blobKey(sha256))).toBe(`media/it's(1)/sha256/${sha256}`)
    expect(createS3KeyLayout('media', 'a!b').copySource('a!b/k')).toBe('media/a!b/k')
  })
})

describe('normalizePrefix', () => {
  it.each([
    [undefined, ''],
    ['', ''],
    ['a', 'a/'],
    ['a/b/', 'a/b/'],
  ])('accepts %j as %j', (prefix, normalized) => {
    expect(normalizePrefix(prefix)).toBe(normalized)
  })

  it.each(['/a', 'a//b', '../a', 'a/./b', 'a b', 'a\\b', 'ä'])('rejects %j', (prefix) => {
    expect(() => normalizePrefix(prefix)).toThrow(/S3 prefix/)
  })
})
