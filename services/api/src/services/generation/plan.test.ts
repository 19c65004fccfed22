import { describe, expect, it } from 'vitest'
import { parseCatalog } from '../../catalog/catalog.ts'
import builtIn from '../../catalog/default-models.json' with { type: 'json' }
import { AppError } from '../../errors/app-error.ts'
import { nearestSize, planGeneration } from './plan.ts'

const models = parseCatalog(builtIn, 'default-models.json')
const model = (id: string) => {
  const found = models.find((entry) => entry.id === id)
  if (!found) {
    throw new Error(`no ${id}`)
  }
  return found
}
const base = { prompt: 'a cat', n: 1, size: 'auto' as const }

describe('planGeneration', () => {
  it('uses the model default size for auto and prices by size and quality', () => {
    const plan = planGeneration(model('gpt-image-1'), { ...base, quality: 'high' })
    expect(plan).toMatchObject({
      size: '1024x1024',
      quality: 'high',
      unitCostCents: 16.7,
      warnings: [],
    })
  })

  it('maps an unsupported size to the nearest one and says so', () => {
    const plan = planGeneration(model('gpt-image-1'), { ...base, size: '1792x1024' })
    expect(plan.size).toBe('1536x1024')
    expect(plan.warnings).toEqual([
      'size=1792x1024 is not supported by gpt-image-1; used 1536x1024',
    ])
  })

  it('caps n at the model maximum with a warning', () => {
    const plan = planGeneration(model('dall-e-3'), { ...base, n: 9 })
    expect(plan.n).toBe(4)
    expect(plan.warnings[0]).toMatch(/n=9 capped to 4/)
  })

  it('forwards accepted parameters and reports the rest', () => {
    const plan = planGeneration(model('dall-e-3'), {
      ...base,
      style: 'vivid',
      background: 'transparent',
      seed: 7,
    })
    expect(plan.forwarded).toEqual({ style: 'vivid' })
    expect(plan.warnings).toEqual([
      'background=transparent is not supported by dall-e-3; ignored',
      'seed=7 is not supported by dall-e-3; ignored',
    ])
  })

  it('maps a quality the model does not know to its default', () => {
    const plan = planGeneration(model('dall-e-3'), { ...base, quality: 'low' })
    expect(plan.quality).toBe('standard')
    expect(plan.warnings).toEqual(['quality=low is not supported by dall-e-3; used standard'])
  })

  it('refuses grounding on a model whose catalog entry does not allow it', () => {
    expect(() =>
      planGeneration(model('gemini-2.5-flash-image'), { ...base, grounding: true }),
    ).toThrow(AppError)
    expect(
      planGeneration(model('gemini-3-pro-image-preview'), { ...base, grounding: true }).forwarded,
    ).toEqual({
      grounding: true,
    })
  })

  it('refuses a prompt longer than the model accepts', () => {
    expect(() => planGeneration(model('dall-e-3'), { ...base, prompt: 'x'.repeat(4001) })).toThrow(
      /at most 4000/,
    )
  })
})

describe('nearestSize', () => {
  it.each([
    ['1024x1792', ['1024x1024', '1536x1024', '1024x1536'], '1024x1536'],
    ['256x256', ['1024x1024', '1536x1024', '1024x1536'], '1024x1024'],
    ['1536x1024', ['1024x1024', '1792x1024', '1024x1792'], '1792x1024'],
  ] as const)('%s among %j → %s', (requested, supported, expected) => {
    expect(nearestSize(requested, supported)).toBe(expected)
  })
})
