import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { assertSha256Hex, EMPTY_SHA256, isSha256Hex } from './blob-hash.ts'
import { InvalidHashError } from './errors.ts'

const valid = 'a'.repeat(64)

describe('isSha256Hex', () => {
  it('accepts 64 lowercase hex characters, the empty-input digest included', () => {
    expect(isSha256Hex(valid)).toBe(true)
    expect(isSha256Hex(EMPTY_SHA256)).toBe(true)
    expect(EMPTY_SHA256).toBe(createHash('sha256').update(new Uint8Array(0)).digest('hex'))
  })

  it.each([
    ['63 characters', 'a'.repeat(63)],
    ['65 characters', 'a'.repeat(65)],
    ['uppercase', 'A'.repeat(64)],
    ['non-hex', 'g'.repeat(64)],
    ['a traversal', `../${'a'.repeat(61)}`],
    ['percent-encoded dots', `%2e%2e${'a'.repeat(58)}`],
    ['a NUL byte', `${'a'.repeat(63)}\0`],
    ['a trailing newline', `${valid}\n`],
    ['base64', Buffer.from(valid, 'hex').toString('base64')],
    ['empty', ''],
  ])('rejects %s', (_label, value) => {
    expect(isSha256Hex(value)).toBe(false)
    expect(() => assertSha256Hex(value)).toThrow(InvalidHashError)
  })

  it('rejects values that are not strings', () => {
    expect(isSha256Hex(undefined)).toBe(false)
    expect(isSha256Hex(42)).toBe(false)
  })
})
