import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { InvalidRequestError } from './app-error.ts'
import { invalidRequestFromIssues } from './zod-issues.ts'

const Fields = z.strictObject({ n: z.coerce.number().int().max(4), size: z.string().optional() })

function issuesOf(schema: z.ZodType, value: unknown) {
  const parsed = schema.safeParse(value)
  if (parsed.success) {
    throw new Error('expected a failure')
  }
  return parsed.error.issues
}

describe('invalidRequestFromIssues', () => {
  it('names the first issue, counts the rest, and lists them all', () => {
    const err = invalidRequestFromIssues(issuesOf(Fields, { n: 9, size: 3 }))
    expect(err).toBeInstanceOf(InvalidRequestError)
    expect(err.message).toMatch(/^n: .+ \(and 1 more\)$/)
    expect(err.param).toBe('n')
    expect(err.details?.issues?.map((issue) => issue.path)).toEqual(['n', 'size'])
  })

  it('has no param for an issue of the whole value', () => {
    const issues = issuesOf(z.string(), 3)
    const err = invalidRequestFromIssues(issues)
    expect(err.param).toBeUndefined()
    expect(err.message).toBe(issues[0]?.message)
  })

  it('names an unknown field as the param when the caller words it', () => {
    const err = invalidRequestFromIssues(issuesOf(Fields, { n: 1, colour: 'red' }), {
      unknownField: (name) => `Unknown field '${name}'`,
    })
    expect(err.message).toBe("Unknown field 'colour'")
    expect(err.param).toBe('colour')
  })

  it('reads paths from the field a nested value came in', () => {
    const Labels = z.array(z.string().max(3))
    const err = invalidRequestFromIssues(issuesOf(Labels, ['ok', 'too long']), {
      at: 'image_labels',
    })
    expect(err.param).toBe('image_labels')
    expect(err.message).toMatch(/^image_labels\.1: /)
  })
})
