import { afterEach, describe, expect, it } from 'vitest'
import builtIn from '../../catalog/default-models.json' with { type: 'json' }
import { writeCatalogFile } from '../../testing/catalog-file.ts'
import { createTestApp, type TestApp } from '../../testing/test-app.ts'

const availability = async (t: TestApp) => {
  const { data } = await t.client.GET('/v1/models')
  return Object.fromEntries((data?.data ?? []).map((model) => [model.id, model.available]))
}

describe('GET /v1/models', () => {
  let t: TestApp
  const cleanups: (() => void)[] = []
  afterEach(async () => {
    await t.close()
    for (const cleanup of cleanups.splice(0)) {
      cleanup()
    }
  })

  it('lists the whole catalog in the OpenAI list shape, with capabilities and prices', async () => {
    t = await createTestApp()
    const { data } = await t.client.GET('/v1/models')
    expect(data?.object).toBe('list')
    expect(data?.data.map((model) => model.id)).toEqual(builtIn.models.map((model) => model.id))
    const sketch = data?.data.find((model) => model.id === 'local-sketch')
    expect(sketch).toMatchObject({
      object: 'model',
      owned_by: 'imagegate',
      provider: 'local',
      available: true,
      capabilities: {
        default_size: '1024x1024',
        max_n: 10,
        parameters: ['seed', 'output_format', 'output_compression'],
      },
      pricing: { unit: 'usd_cents_per_image' },
    })
    const gptImage = data?.data.find((model) => model.id === 'gpt-image-1')
    expect(gptImage).toMatchObject({
      owned_by: 'openai',
      provider: 'openai',
      capabilities: {
        sizes: ['1024x1024', '1536x1024', '1024x1536'],
        qualities: ['low', 'medium', 'high', 'auto'],
        max_n: 10,
      },
      pricing: { per_image: { '1024x1024': { low: 1.1, medium: 4.2, high: 16.7, auto: 16.7 } } },
    })
    expect(
      data?.data.find((model) => model.id === 'gemini-3-pro-image-preview')?.capabilities
        .parameters,
    ).toContain('grounding')
  })

  it('says which models take input images, how many, and how long a refinement chain may be', async () => {
    t = await createTestApp()
    const { data } = await t.client.GET('/v1/models')
    const capabilities = Object.fromEntries(
      (data?.data ?? []).map((model) => [
        model.id,
        [model.capabilities.edits, model.capabilities.max_input_images],
      ]),
    )
    expect(capabilities).toMatchObject({
      'local-sketch': [true, 16],
      'gpt-image-1': [true, 16],
      'dall-e-3': [false, 0],
      'gemini-2.5-flash-image': [true, 3],
      'gemini-3-pro-image-preview': [true, 14],
    })
    expect(
      data?.data.find((model) => model.id === 'gemini-2.5-flash-image')?.capabilities.max_turns,
    ).toBe(10)
  })

  it('marks only the models of configured providers as available', async () => {
    t = await createTestApp()
    expect(await availability(t)).toEqual({
      'local-sketch': true,
      'gpt-image-1': false,
      'gpt-image-1-mini': false,
      'dall-e-3': false,
      'gemini-2.5-flash-image': false,
      'gemini-3-pro-image-preview': false,
    })
    await t.close()

    t = await createTestApp({ env: { IMAGEGATE_OPENAI_API_KEY: 'sk-test' } })
    const withOpenAI = await availability(t)
    expect(withOpenAI['gpt-image-1']).toBe(true)
    expect(withOpenAI['dall-e-3']).toBe(true)
    expect(withOpenAI['gemini-2.5-flash-image']).toBe(false)
  })

  it('marks every model available in mock mode', async () => {
    t = await createTestApp({ env: { IMAGEGATE_MOCK_IMAGES: 'true' } })
    expect(Object.values(await availability(t)).every(Boolean)).toBe(true)
  })

  it('serves the catalog of IMAGEGATE_MODELS_FILE instead of the built-in one', async () => {
    const sketch = builtIn.models.find((model) => model.id === 'local-sketch')
    const catalog = writeCatalogFile([{ ...sketch, id: 'house-sketch', maxN: 2 }])
    cleanups.push(catalog.remove)
    t = await createTestApp({ env: { IMAGEGATE_MODELS_FILE: catalog.file } })
    const { data } = await t.client.GET('/v1/models')
    expect(data?.data.map((model) => [model.id, model.capabilities.max_n])).toEqual([
      ['house-sketch', 2],
    ])
    // With the only model local, it is the default.
    const generated = await t.client.POST('/v1/images/generations', {
      body: { prompt: 'default of a custom catalog', size: '256x256', n: 3 },
    })
    expect(generated.data?.model).toBe('house-sketch')
    expect(generated.data?.data).toHaveLength(2)
    expect(generated.data?.warnings).toEqual([
      'n=3 capped to 2, the most house-sketch returns per request',
    ])
  })
})
