import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { canonicalJson, requestFingerprint } from './fingerprint.ts'

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null }, e: undefined })).toBe(
      '{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}',
    )
    expect(canonicalJson([undefined, 'x'])).toBe('[null,"x"]')
  })

  it('is what JSON.parse reads back, whatever the key order', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value)
        expect(canonicalJson(JSON.parse(text))).toBe(text)
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)))
      }),
    )
  })

  it('refuses values JSON cannot carry', () => {
    expect(() => canonicalJson(Number.NaN)).toThrow(TypeError)
    expect(() => canonicalJson(1n)).toThrow(TypeError)
    expect(() => canonicalJson(() => 1)).toThrow(TypeError)
  })
})

describe('requestFingerprint', () => {
  const base = { method: 'POST', route: '/v1/images/generations' }

  it('ignores key order, whitespace and method case', () => {
    const a = requestFingerprint({ ...base, body: JSON.parse('{"prompt":"cat","n":1}') })
    const b = requestFingerprint({
      method: 'post',
      route: base.route,
      body: JSON.parse('{ "n": 1,\n "prompt": "cat" }'),
    })
    expect(a).toBe(b)
    expect(a).toMatch(/^[0-9a-f]{64}$/)
  })

  it('changes with the body, the route or the method', () => {
    const reference = requestFingerprint({ ...base, body: { prompt: 'cat' } })
    expect(requestFingerprint({ ...base, body: { prompt: 'dog' } })).not.toBe(reference)
    expect(
      requestFingerprint({ ...base, route: '/v1/images/edits', body: { prompt: 'cat' } }),
    ).not.toBe(reference)
    expect(requestFingerprint({ ...base, method: 'PUT', body: { prompt: 'cat' } })).not.toBe(
      reference,
    )
  })

  it('keeps digests and JSON bodies apart', () => {
    expect(requestFingerprint({ ...base, bodyDigest: '"x"' })).not.toBe(
      requestFingerprint({ ...base, body: 'x' }),
    )
    expect(requestFingerprint({ ...base, bodyDigest: 'ab' })).toBe(
      requestFingerprint({ ...base, bodyDigest: 'ab' }),
    )
  })
})
