import { describe, expect, it } from 'vitest'
import { parseCatalog } from './catalog.ts'
import builtIn from './default-models.json' with { type: 'json' }
import { usesStrictContent } from './model-entry.ts'

const models = parseCatalog(builtIn, 'default-models.json')
const entry = (id: string) => {
  const found = models.find((model) => model.id === id)
  if (!found) {
    throw new Error(`no ${id}`)
  }
  return found
}

describe('edit and refinement settings of the catalog', () => {
  it('applies the strict content rules to Gemini models unless their entry says otherwise', () => {
    expect(usesStrictContent(entry('gemini-2.5-flash-image'))).toBe(true)
    expect(usesStrictContent(entry('gpt-image-1'))).toBe(false)
    expect(usesStrictContent(entry('local-sketch'))).toBe(false)
    const [relaxed] = parseCatalog(
      { models: [{ ...builtIn.models[4], id: 'gemini-relaxed', strictContent: false }] },
      'test',
    )
    expect(relaxed && usesStrictContent(relaxed)).toBe(false)
    const [strict] = parseCatalog(
      { models: [{ ...builtIn.models[1], id: 'gpt-strict', strictContent: true }] },
      'test',
    )
    expect(strict && usesStrictContent(strict)).toBe(true)
  })

  it('defaults to editing with up to 16 images and 10 turns, and dall-e-3 cannot edit', () => {
    expect(entry('gpt-image-1')).toMatchObject({ edits: true, maxInputImages: 16, maxTurns: 10 })
    expect(entry('dall-e-3')).toMatchObject({ edits: false, maxInputImages: 0 })
  })

  it('refuses a chain limit or an input count out of range', () => {
    expect(() =>
      parseCatalog({ models: [{ ...builtIn.models[0], maxTurns: 0 }] }, 'bad.json'),
    ).toThrow(/maxTurns/)
    expect(() =>
      parseCatalog({ models: [{ ...builtIn.models[0], maxInputImages: 17 }] }, 'bad.json'),
    ).toThrow(/maxInputImages/)
  })
})
