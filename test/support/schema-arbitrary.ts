import fc from 'fast-check'

/**
 * fast-check arbitraries from the JSON Schema (2020-12, as OpenAPI 3.1 uses it) of the committed
 * document: valid values, boundary values (still valid, at the edges) and invalid values (wrong
 * type, out of range, oversize, off-pattern, extra or missing fields). It covers the keywords the
 * document uses, not all of JSON Schema; an unknown keyword is refused rather than ignored, so a
 * new kind of schema cannot go unfuzzed quietly.
 */
export type Schema = { [key: string]: unknown }
export type Resolve = (ref: string) => Schema
/**
 * `hostile` values are valid under the schema but unkind to a server: oversize strings where no
 * maximum is set, control characters, numbers at the ends of the double range.
 */
export type Case = { kind: 'valid' | 'boundary' | 'invalid' | 'hostile'; value: unknown }

const KNOWN = new Set([
  ...['type', 'enum', 'const', 'format', 'minLength', 'maxLength', 'pattern', 'minimum'],
  ...['maximum', 'multipleOf', 'items', 'minItems', 'maxItems', 'properties', 'required'],
  ...['additionalProperties', 'oneOf', 'anyOf', 'allOf', 'discriminator', '$ref', 'default'],
  ...['description', 'example', 'examples', 'title', 'nullable'],
])

/** How long a generated string gets when the schema sets no smaller maximum. */
const TYPICAL_LENGTH = 24
/** An oversize string for fields that set no maximum. */
const OVERSIZE = 70_000

/**
 * Values known to exist on the server under test, by property name (a model id, an asset id):
 * valid cases draw them as often as generated ones, so valid requests get past lookups.
 */
export type Hints = Record<string, fc.Arbitrary<unknown>>

export function createSchemaArbitraries(resolve: Resolve, hints: Hints = {}) {
  function deref(schema: Schema): Schema {
    let current = schema
    while (typeof current.$ref === 'string') {
      current = resolve(current.$ref)
    }
    for (const key of Object.keys(current)) {
      if (!KNOWN.has(key)) {
        throw new Error(`schema-arbitrary does not know the keyword "${key}"`)
      }
    }
    if (Array.isArray(current.allOf)) {
      return mergeAll((current.allOf as Schema[]).map(deref))
    }
    return current
  }

  function types(schema: Schema): string[] {
    if (Array.isArray(schema.type)) {
      return schema.type as string[]
    }
    if (typeof schema.type === 'string') {
      return [schema.type]
    }
    if (schema.properties) {
      return ['object']
    }
    return []
  }

  function valid(input: Schema, depth = 0): fc.Arbitrary<unknown> {
    const schema = deref(input)
    if ('const' in schema) {
      return fc.constant(schema.const)
    }
    if (Array.isArray(schema.enum)) {
      return fc.constantFrom(...(schema.enum as unknown[]))
    }
    const branches = (schema.oneOf ?? schema.anyOf) as Schema[] | undefined
    if (branches) {
      return fc.oneof(...branches.map((branch) => valid(branch, depth + 1)))
    }
    const options = types(schema)
    if (options.length === 0) {
      return fc.jsonValue({ maxDepth: 2 })
    }
    return fc.oneof(...options.map((type) => validOfType(schema, type, depth)))
  }

  function validOfType(schema: Schema, type: string, depth: number): fc.Arbitrary<unknown> {
    switch (type) {
      case 'null':
        return fc.constant(null)
      case 'boolean':
        return fc.boolean()
      case 'integer':
      case 'number':
        return numbers(schema, type === 'integer')
      case 'string':
        return strings(schema)
      case 'array': {
        const maxLength = Math.min(Number(schema.maxItems ?? 3), 3)
        const minLength = Math.min(Number(schema.minItems ?? 0), maxLength)
        return fc.array(valid(schema.items as Schema, depth + 1), { minLength, maxLength })
      }
      case 'object':
        return objects(schema, depth)
      default:
        throw new Error(`schema-arbitrary does not know the type "${type}"`)
    }
  }

  function numbers(schema: Schema, integer: boolean): fc.Arbitrary<number> {
    const step = typeof schema.multipleOf === 'number' ? schema.multipleOf : integer ? 1 : 0
    const min = typeof schema.minimum === 'number' ? schema.minimum : -1e9
    const max = typeof schema.maximum === 'number' ? schema.maximum : 1e9
    if (step > 0) {
      const decimals = decimalsOf(step)
      // A validator divides by the step in floating point: far from zero the quotient of a
      // decimal is no longer whole (999999999.999 / 0.001), so valid values stay nearer zero.
      const units = Math.min(Math.floor(max / step), Math.ceil(min / step) + 1e9)
      return fc
        .integer({ min: Math.ceil(min / step), max: units })
        .map((count) => Number((count * step).toFixed(decimals)))
        .filter((value) => wholeMultiple(value, step))
    }
    return fc.double({ min, max, noNaN: true, noDefaultInfinity: true })
  }

  function strings(schema: Schema): fc.Arbitrary<string> {
    const minLength = Number(schema.minLength ?? 0)
    const maxLength = Number(schema.maxLength ?? Number.POSITIVE_INFINITY)
    const fits = (text: string) => {
      const length = [...text].length
      return length >= minLength && length <= maxLength
    }
    if (schema.format === 'date-time') {
      return fc
        .date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
        .map((date) => date.toISOString())
    }
    if (schema.format === 'uri') {
      return fc.webUrl()
    }
    if (typeof schema.pattern === 'string') {
      return fc.stringMatching(new RegExp(schema.pattern, 'u')).filter(fits)
    }
    const typical = Math.max(minLength, Math.min(maxLength, TYPICAL_LENGTH))
    return fc.string({ minLength, maxLength: typical, unit: 'grapheme' })
  }

  function objects(schema: Schema, depth: number): fc.Arbitrary<Record<string, unknown>> {
    const properties = (schema.properties ?? {}) as Record<string, Schema>
    const required = (schema.required ?? []) as string[]
    const record = Object.fromEntries(
      Object.entries(properties).map(([name, property]) => {
        const generated = valid(property, depth + 1)
        const hint = hints[name]
        return [name, hint ? fc.oneof({ weight: 3, arbitrary: hint }, generated) : generated]
      }),
    )
    const some = fc.record(record, { requiredKeys: required })
    // Each optional field is there half the time; a request with all of them rarely gets past
    // the rules between fields (grounding on a model without it, two parents), so a third of
    // the objects carry only the required fields.
    const lean = Object.fromEntries(
      Object.entries(record).filter(([name]) => required.includes(name)),
    )
    return fc.oneof(
      { weight: 2, arbitrary: some },
      { weight: 1, arbitrary: fc.record(lean) },
    ) as fc.Arbitrary<Record<string, unknown>>
  }

  /** Valid values at the edges: min and max of numbers, lengths and item counts. */
  function boundaryValues(input: Schema): unknown[] {
    const schema = deref(input)
    if ('const' in schema || Array.isArray(schema.enum) || schema.oneOf || schema.anyOf) {
      return []
    }
    const values: unknown[] = []
    for (const type of types(schema)) {
      if (type === 'integer' || type === 'number') {
        const step = typeof schema.multipleOf === 'number' ? schema.multipleOf : 0
        for (const bound of [schema.minimum, schema.maximum]) {
          if (typeof bound === 'number') {
            values.push(bound)
            const inward = bound === schema.minimum ? 1 : -1
            const inside = step
              ? Number((bound + inward * step).toFixed(decimalsOf(step)))
              : bound + inward
            values.push(wholeMultiple(inside, step) ? inside : bound + inward)
          }
        }
        if (schema.minimum === undefined) {
          values.push(type === 'integer' ? -(2 ** 53 - 1) : -1.7e308)
        }
      } else if (type === 'string' && schema.pattern === undefined && !schema.format) {
        const min = Number(schema.minLength ?? 0)
        values.push('x'.repeat(min))
        if (typeof schema.maxLength === 'number') {
          values.push('y'.repeat(schema.maxLength), '\u00e9'.repeat(schema.maxLength))
        }
      } else if (type === 'array' && typeof schema.maxItems === 'number') {
        values.push(fc.sample(valid(schema.items as Schema), { numRuns: schema.maxItems, seed: 1 }))
      } else if (type === 'null') {
        values.push(null)
      }
    }
    return values
  }

  function hostileValues(input: Schema): unknown[] {
    const schema = deref(input)
    if ('const' in schema || Array.isArray(schema.enum) || schema.oneOf || schema.anyOf) {
      return []
    }
    const kinds = types(schema)
    const values: unknown[] = []
    const free = schema.pattern === undefined && schema.format === undefined
    if (kinds.includes('string') && free && schema.maxLength === undefined) {
      values.push('w'.repeat(OVERSIZE), '\u0000\u001f\u007f', '%2e%2e%2f%00', "' OR 1=1 --")
    }
    if (kinds.includes('string') && free && Number(schema.maxLength ?? 8) >= 8) {
      values.push('\u{1F469}\u200D\u{1F469}\u200D\u{1F467}', '\u202Eevil', '\uFEFF\t\r\n')
    }
    if (kinds.includes('number') && schema.maximum === undefined) {
      values.push(1.7976931348623157e308, 5e-324)
    }
    if (kinds.includes('integer') && schema.maximum === undefined) {
      values.push(Number.MAX_SAFE_INTEGER)
    }
    const minLength = Number(schema.minLength ?? 0)
    return values.filter((value) => typeof value !== 'string' || [...value].length >= minLength)
  }

  function invalidValues(input: Schema): fc.Arbitrary<unknown> {
    const schema = deref(input)
    const options: fc.Arbitrary<unknown>[] = [wrongType(schema)]
    const kinds = types(schema)
    if (Array.isArray(schema.enum)) {
      options.push(fc.constantFrom('not-in-enum', String(schema.enum[0]).toUpperCase(), ''))
    }
    if (kinds.includes('integer') || kinds.includes('number')) {
      const outside: number[] = []
      if (typeof schema.minimum === 'number') {
        outside.push(schema.minimum - 1, schema.minimum - 1e-7, -1e308)
      }
      if (typeof schema.maximum === 'number') {
        outside.push(schema.maximum + 1, schema.maximum + 1e-7, 1e308)
      }
      if (kinds.includes('integer')) {
        outside.push(1.5, -0.5)
      }
      if (typeof schema.multipleOf === 'number') {
        outside.push(
          schema.multipleOf / 10,
          1e-10,
          Number(schema.minimum ?? 0) + schema.multipleOf / 3,
        )
      }
      if (outside.length > 0) {
        options.push(fc.constantFrom(...outside))
      }
    }
    if (kinds.includes('string') && !Array.isArray(schema.enum)) {
      const lengths: string[] = []
      if (typeof schema.minLength === 'number' && schema.minLength > 0) {
        lengths.push('z'.repeat(schema.minLength - 1))
      }
      if (typeof schema.maxLength === 'number') {
        lengths.push('w'.repeat(schema.maxLength + 1), 'w'.repeat(schema.maxLength * 4 + 1))
      }
      if (lengths.length > 0) {
        options.push(fc.constantFrom(...lengths))
      }
      if (typeof schema.pattern === 'string' || schema.format === 'date-time') {
        options.push(strings(schema).map((text) => `~${text}\u0000`))
        options.push(fc.constantFrom('../../etc/passwd', '%00', ' ', '2026-13-45T99:99:99Z'))
      }
    }
    if (kinds.includes('array')) {
      const items = schema.items as Schema
      options.push(fc.array(invalidValues(items), { minLength: 1, maxLength: 2 }))
      if (typeof schema.maxItems === 'number') {
        options.push(
          fc.constant(fc.sample(valid(items), { numRuns: schema.maxItems + 1, seed: 2 })),
        )
      }
      if (typeof schema.minItems === 'number' && schema.minItems > 0) {
        options.push(fc.constant([]))
      }
    }
    if (kinds.includes('object')) {
      options.push(invalidObjects(schema))
    }
    return fc.oneof(...options)
  }

  function invalidObjects(schema: Schema): fc.Arbitrary<unknown> {
    const properties = (schema.properties ?? {}) as Record<string, Schema>
    const required = (schema.required ?? []) as string[]
    const names = Object.keys(properties)
    const mutations: fc.Arbitrary<unknown>[] = []
    if (names.length > 0) {
      mutations.push(
        fc
          .constantFrom(...names)
          .chain((name) =>
            fc
              .tuple(objects(schema, 1), invalidValues(properties[name] as Schema))
              .map(([value, bad]) => ({ ...value, [name]: bad })),
          ),
      )
    }
    if (required.length > 0) {
      mutations.push(
        fc.tuple(objects(schema, 1), fc.constantFrom(...required)).map(([value, name]) => {
          const { [name]: _missing, ...rest } = value
          return rest
        }),
      )
    }
    if (schema.additionalProperties === false) {
      mutations.push(objects(schema, 1).map((value) => ({ ...value, unexpectedField: 1 })))
    }
    return fc.oneof(...(mutations.length > 0 ? mutations : [fc.constant(null)]))
  }

  function wrongType(schema: Schema): fc.Arbitrary<unknown> {
    const kinds = new Set(types(schema))
    const candidates: [string, unknown][] = [
      ['null', null],
      ['boolean', true],
      ['integer', 7],
      ['number', 2.5],
      ['string', 'text'],
      ['array', [1, 'two']],
      ['object', { nested: { deeper: [] } }],
    ]
    const wrong = candidates
      .filter(([type]) => !kinds.has(type) && !(type === 'integer' && kinds.has('number')))
      .map(([, value]) => value)
    // A schema without a type accepts every type: null stands in, and is then no invalid value.
    return fc.constantFrom(...(wrong.length > 0 ? wrong : [null]))
  }

  /**
   * Valid, boundary and invalid values of one schema, labelled. An object's boundary cases set
   * one property to one of its boundary values; extra fields are added where the schema allows
   * them too, since a server must ignore or refuse them, never fail on them.
   */
  function cases(input: Schema): fc.Arbitrary<Case> {
    const schema = deref(input)
    const label = (kind: Case['kind']) => (value: unknown) => ({ kind, value })
    // Valid cases weigh most: they are the ones that reach past validation into the handlers.
    const options: fc.WeightedArbitrary<Case>[] = [
      { weight: 4, arbitrary: valid(schema).map(label('valid')) },
      { weight: 2, arbitrary: invalidValues(schema).map(label('invalid')) },
    ]
    const edges = boundaryValues(schema)
    if (edges.length > 0) {
      options.push({ weight: 1, arbitrary: fc.constantFrom(...edges).map(label('boundary')) })
    }
    const hostile = hostileValues(schema)
    if (hostile.length > 0) {
      options.push({ weight: 1, arbitrary: fc.constantFrom(...hostile).map(label('hostile')) })
    }
    if (types(schema).includes('object')) {
      const properties = (schema.properties ?? {}) as Record<string, Schema>
      const withEdges = Object.entries(properties)
        .map(([name, property]) => [name, boundaryValues(property)] as const)
        .filter(([, values]) => values.length > 0)
      const withHostile = Object.entries(properties)
        .map(([name, property]) => [name, hostileValues(property)] as const)
        .filter(([, values]) => values.length > 0)
      if (withHostile.length > 0) {
        options.push({
          weight: 1,
          arbitrary: fc
            .tuple(objects(schema, 0), fc.constantFrom(...withHostile))
            .chain(([value, [name, values]]) =>
              fc.constantFrom(...values).map((nasty) => ({ ...value, [name]: nasty })),
            )
            .map(label('hostile')),
        })
      }
      if (withEdges.length > 0) {
        options.push({
          weight: 1,
          arbitrary: fc
            .tuple(objects(schema, 0), fc.constantFrom(...withEdges))
            .chain(([value, [name, values]]) =>
              fc.constantFrom(...values).map((edge) => ({ ...value, [name]: edge })),
            )
            .map(label('boundary')),
        })
      }
      if (schema.additionalProperties !== false) {
        options.push({
          weight: 1,
          arbitrary: objects(schema, 0).map((value) => ({
            kind: 'valid' as const,
            value: { ...value, extra: 'x' },
          })),
        })
      }
    }
    return fc.oneof(...options)
  }

  return { valid, boundaryValues, hostileValues, invalid: invalidValues, cases, deref }
}

function mergeAll(parts: Schema[]): Schema {
  const merged: Schema = { type: 'object', properties: {}, required: [] }
  for (const part of parts) {
    Object.assign(merged.properties as Schema, part.properties)
    ;(merged.required as string[]).push(...((part.required as string[] | undefined) ?? []))
  }
  return merged
}

function wholeMultiple(value: number, step: number): boolean {
  if (!step) {
    return true
  }
  const quotient = value / step
  return Math.abs(Math.round(quotient) - quotient) <= 1e-9
}

function decimalsOf(step: number): number {
  const text = String(step)
  return text.includes('e-') ? Number(text.split('e-')[1]) : (text.split('.')[1]?.length ?? 0)
}
