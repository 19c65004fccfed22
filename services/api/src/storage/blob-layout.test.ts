import path from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createBlobLayout } from './blob-layout.ts'
import { InvalidHashError } from './errors.ts'

const layout = createBlobLayout('/srv/imagegate/blobs')
const sha = '0123456789abcdef'.repeat(4)

const isInside = (child: string, parent: string) => {
  const relative = path.relative(parent, child)
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative)
}

/** Strings shaped like the attacks: traversal, encodings, separators, NUL, near-misses. */
const hostileString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.stringMatching(/^[0-9a-fA-F./%\\\0]{60,68}$/),
  fc
    .array(fc.constantFrom('..', '%2e%2e', '%2f', '/', '\\', '\0', 'ab', 'cd', 'ef01', '.'), {
      maxLength: 40,
    })
    .map((parts) => parts.join('')),
  fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 60, maxLength: 68 }),
)

describe('createBlobLayout', () => {
  it('shards a digest two levels deep under sha256/', () => {
    expect(layout.blobPath(sha)).toBe(
      path.join('/srv/imagegate/blobs', 'sha256', '01', '23', sha.slice(4)),
    )
    expect(layout.hashFromShardNames('01', '23', sha.slice(4))).toBe(sha)
  })

  it('never resolves a path outside the blobs directory, for 10,000 random strings', () => {
    fc.assert(
      fc.property(hostileString, (candidate) => {
        let resolved: string
        try {
          resolved = layout.blobPath(candidate)
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidHashError)
          return
        }
        expect(candidate).toMatch(/^[0-9a-f]{64}$/)
        expect(isInside(path.resolve(resolved), layout.blobsDir)).toBe(true)
      }),
      { numRuns: 10_000 },
    )
  })

  it('does not take strays found on disk for blobs', () => {
    expect(layout.hashFromShardNames('01', '23', `${sha.slice(4)}.part`)).toBeUndefined()
    expect(layout.hashFromShardNames('0', '123', sha.slice(4))).toBeUndefined()
    expect(layout.hashFromShardNames('01', '23', sha.slice(4).toUpperCase())).toBeUndefined()
  })
})
