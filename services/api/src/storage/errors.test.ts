import { describe, expect, it } from 'vitest'
import {
  BlobCorruptError,
  BlobTooLargeError,
  DigestMismatchError,
  InvalidHashError,
  StorageError,
} from './errors.ts'

describe('storage errors', () => {
  it('carry the facts the API maps into its error body', () => {
    const mismatch = new DigestMismatchError('a'.repeat(64), 'b'.repeat(64))
    expect(mismatch).toMatchObject({ expected: 'a'.repeat(64), actual: 'b'.repeat(64) })
    expect(new BlobTooLargeError(1024).limitBytes).toBe(1024)
    expect(new BlobCorruptError('a'.repeat(64), 'c'.repeat(64), undefined).name).toBe(
      'BlobCorruptError',
    )
  })

  it('share one base class and never echo an invalid digest', () => {
    const invalid = new InvalidHashError()
    expect(invalid).toBeInstanceOf(StorageError)
    expect(invalid.message).not.toContain('..')
  })
})
