import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Base64Value, parseJsonBytes, utf8Text } from './json-bytes.ts'

/** A `base64: 'bytes'` result as JSON.parse would give it, each Base64Value checked on the way. */
function asStrings(value: unknown): unknown {
  if (value instanceof Base64Value) {
    const text = value.toString()
    expect(Buffer.from(value.decoded).equals(Buffer.from(text, 'base64'))).toBe(true)
    return text
  }
  if (Array.isArray(value)) {
    return value.map(asStrings)
  }
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, asStrings(item)]))
  }
  return value
}

function outcome(work: () => unknown) {
  try {
    return { value: work() }
  } catch (error) {
    return { error: (error as Error).name }
  }
}

const bigBase64 = fc
  .uint8Array({ minLength: 12_500, maxLength: 20_000 })
  .map((bytes) => Buffer.from(bytes).toString('base64'))
const leaf = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  bigBase64,
  // What the parser's own placeholders look like.
  fc.constant('\u0000imagegate-lifted-0'),
)
const { json } = fc.letrec((tie) => ({
  json: fc.oneof(
    { depthSize: 'small' },
    leaf,
    fc.array(tie('json'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.string(), bigBase64), tie('json'), { maxKeys: 4 }),
  ),
}))

describe('parseJsonBytes', () => {
  it('gives what JSON.parse gives, values and errors, on whole and damaged texts', () => {
    fc.assert(
      fc.property(
        json,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
        fc.option(fc.nat()),
        fc.boolean(),
        (value, damage, cutAt, bom) => {
          let bytes = Buffer.from(JSON.stringify(value, null, damage.length > 0 ? undefined : 1))
          if (bom) {
            bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes])
          }
          for (const [at, byte] of damage) {
            bytes[at % bytes.length] = byte
          }
          if (cutAt !== null) {
            bytes = bytes.subarray(0, cutAt % (bytes.length + 1))
          }
          const expected = outcome(() => JSON.parse(utf8Text(bytes)))
          expect(outcome(() => parseJsonBytes(bytes))).toEqual(expected)
          expect(outcome(() => asStrings(parseJsonBytes(bytes, { base64: 'bytes' })))).toEqual(
            expected,
          )
        },
      ),
      { numRuns: 1000 },
    )
  })

  it('reads an Images answer, escaped slashes and all', () => {
    const b64 = Buffer.alloc(100_000, 0xfb).toString('base64')
    const answer = { created: 1, data: [{ b64_json: b64, revised_prompt: 'a "quoted" café' }] }
    const text = JSON.stringify(answer)
    expect(parseJsonBytes(Buffer.from(text))).toEqual(answer)
    expect(parseJsonBytes(Buffer.from(text.replaceAll('/', '\\/')))).toEqual(answer)
    const lifted = parseJsonBytes(Buffer.from(text), { base64: 'bytes' }) as typeof answer
    const value = lifted.data[0]?.b64_json as unknown as Base64Value
    expect(value).toBeInstanceOf(Base64Value)
    expect(Buffer.from(value.decoded).equals(Buffer.alloc(100_000, 0xfb))).toBe(true)
    expect(Buffer.from(value.ascii).toString('latin1')).toBe(b64)
  })

  it('refuses a raw newline inside a long base64 string, as JSON.parse does', () => {
    const b64 = Buffer.alloc(100_000, 1).toString('base64')
    const text = `{"data":[{"b64_json":"${b64.slice(0, 50_000)}\n${b64.slice(50_000)}"}]}`
    expect(() => parseJsonBytes(Buffer.from(text))).toThrow(SyntaxError)
  })
})
