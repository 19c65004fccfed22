import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createSchemaArbitraries, type Schema } from './schema-arbitrary.ts'
import { loadSpecValidator } from './spec-validator.ts'

const validator = loadSpecValidator()
const components = validator.spec.components.schemas as Record<string, Schema>
const resolve = (ref: string) => components[ref.replace('#/components/schemas/', '')] as Schema
const arbitraries = createSchemaArbitraries(resolve)

type Operation = {
  parameters?: { schema: Schema; in: string; name: string }[]
  requestBody?: { content: Record<string, { schema: Schema }> }
}

/** Every schema a client sends: request bodies and parameters of every operation. */
function requestSchemas(): [string, Schema][] {
  const found: [string, Schema][] = []
  for (const [path, item] of Object.entries(validator.spec.paths)) {
    for (const [method, operation] of Object.entries(item) as [string, Operation][]) {
      for (const parameter of operation.parameters ?? []) {
        found.push([`${method} ${path} ${parameter.in} ${parameter.name}`, parameter.schema])
      }
      for (const [type, media] of Object.entries(operation.requestBody?.content ?? {})) {
        found.push([`${method} ${path} body ${type}`, media.schema])
      }
    }
  }
  return found
}

const sample = <T>(arbitrary: fc.Arbitrary<T>, seed: number) =>
  fc.sample(arbitrary, { numRuns: 60, seed })

describe('schema arbitraries over the committed document', () => {
  const schemas = requestSchemas()

  it('finds the request schemas of the document', () => {
    expect(schemas.length).toBeGreaterThan(40)
  })

  it.each(schemas)('%s: valid and boundary values validate, invalid ones do not', (_, schema) => {
    for (const value of sample(arbitraries.valid(schema), 1)) {
      expect(validator.schemaProblems(schema, value), JSON.stringify(value)).toEqual([])
    }
    for (const value of [
      ...arbitraries.boundaryValues(schema),
      ...arbitraries.hostileValues(schema),
    ]) {
      expect(validator.schemaProblems(schema, value), JSON.stringify(value)).toEqual([])
    }
    const schemaTyped = arbitraries.deref(schema).type !== undefined
    if (schemaTyped) {
      for (const value of sample(arbitraries.invalid(schema), 2)) {
        expect(
          validator.schemaProblems(schema, value),
          JSON.stringify(value)?.slice(0, 200),
        ).not.toEqual([])
      }
    }
  })

  it('labels cases truthfully', () => {
    const schema = components.CreditGrant as Schema
    const kinds = new Set<string>()
    for (const { kind, value } of fc.sample(arbitraries.cases(schema), { numRuns: 200, seed: 3 })) {
      kinds.add(kind)
      const problems = validator.schemaProblems(schema, value)
      if (kind === 'invalid') {
        expect(problems, JSON.stringify(value)).not.toEqual([])
      } else {
        expect(problems, JSON.stringify(value)).toEqual([])
      }
    }
    expect(kinds).toEqual(new Set(['valid', 'boundary', 'invalid']))
    const labels = sample(arbitraries.cases(components.ImageGenerationRequest as Schema), 4)
    expect(labels.some(({ kind }) => kind === 'hostile')).toBe(true)
  })

  it('produces the edges of ranges, lengths and units', () => {
    expect(arbitraries.boundaryValues({ type: 'integer', minimum: 1, maximum: 10 })).toEqual([
      1, 2, 10, 9,
    ])
    expect(
      arbitraries.boundaryValues({ type: 'number', minimum: 0.001, multipleOf: 0.001 }),
    ).toEqual([0.001, 0.002])
    expect(arbitraries.boundaryValues({ type: 'string', minLength: 1, maxLength: 3 })).toEqual([
      'x',
      'yyy',
      '\u00e9\u00e9\u00e9',
    ])
  })

  it('refuses a keyword it does not know, rather than fuzzing past it', () => {
    expect(() => arbitraries.valid({ type: 'string', contentEncoding: 'base64' })).toThrow(
      /contentEncoding/,
    )
  })
})
