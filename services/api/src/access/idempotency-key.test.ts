import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseIdempotencyKey } from './idempotency-key.ts'

describe('parseIdempotencyKey (I7)', () => {
  it.each([
    ['8e03978e-40d5-43e8-bc93-6894a57f9324', '8e03978e-40d5-43e8-bc93-6894a57f9324'],
    ['"8e03978e-40d5-43e8-bc93-6894a57f9324"', '8e03978e-40d5-43e8-bc93-6894a57f9324'],
    ['  abc\t', 'abc'],
    ['"abc"', 'abc'],
    ['"a b"', 'a b'],
    ['"a\\"b"', 'a"b'],
    ['"a\\\\b"', 'a\\b'],
    ['a"b', 'a"b'],
    ['x'.repeat(255), 'x'.repeat(255)],
    [`"${'x'.repeat(255)}"`, 'x'.repeat(255)],
  ])('accepts %j as %j', (header, key) => {
    expect(parseIdempotencyKey(header)).toEqual({ ok: true, key })
  })

  it.each([
    ['', 'empty'],
    ['   ', 'empty'],
    ['""', 'empty'],
    ['x'.repeat(256), 'too_long'],
    [`"${'x'.repeat(256)}"`, 'too_long'],
    ['abc\u0000', 'invalid_characters'],
    ['ab\ncd', 'invalid_characters'],
    ['a\u007fb', 'invalid_characters'],
    ['clé', 'invalid_characters'],
    ['"abc', 'malformed_string'],
    ['"', 'malformed_string'],
    ['"a"b"', 'malformed_string'],
    ['"a\\nb"', 'malformed_string'],
    ['"abc\\"', 'malformed_string'],
  ])('refuses %j (%s)', (header, problem) => {
    const parsed = parseIdempotencyKey(header)
    expect(parsed).toMatchObject({ ok: false, problem })
    expect(parsed.ok === false && parsed.message).toMatch(/Idempotency-Key/)
  })

  it('reads the quoted and the bare form of any plain key as the same key', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9_\-.:]{1,255}$/), (key) => {
        expect(parseIdempotencyKey(key)).toEqual({ ok: true, key })
        expect(parseIdempotencyKey(`"${key}"`)).toEqual({ ok: true, key })
      }),
    )
  })

  it('never throws, whatever the header', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (header) => {
        const parsed = parseIdempotencyKey(header)
        if (parsed.ok) {
          expect(parsed.key.length).toBeGreaterThan(0)
          expect(parsed.key.length).toBeLessThanOrEqual(255)
          expect(parsed.key).toMatch(/^[\x20-\x7e]+$/)
        }
      }),
      { numRuns: 2000 },
    )
  })
})
