import sharp from 'sharp'
import { afterEach, describe, expect, it } from 'vitest'
import builtIn from '../../catalog/default-models.json' with { type: 'json' }
import { createGeminiProvider } from '../../providers/gemini.ts'
import { createOpenAIProvider } from '../../providers/openai.ts'
import { fixture, jsonResponse, recordingFetch } from '../../providers/testing/recording-fetch.ts'
import { writeCatalogFile } from '../../testing/catalog-file.ts'
import { createTestApp, type TestApp } from '../../testing/test-app.ts'
import { answerSettings } from './answer-settings.ts'

const asset = (width: number | null, height: number | null, mediaType = 'image/png') => ({
  asset: { width, height, mediaType },
})

describe('answerSettings', () => {
  it('gives size and output_format from the images, whatever the provider said', () => {
    expect(
      answerSettings({
        images: [asset(1024, 1536), asset(1024, 1536)],
        reported: { size: '1024x1024', outputFormat: 'webp', quality: 'low' },
      }),
    ).toEqual({ size: '1024x1536', output_format: 'png', quality: 'low' })
  })

  it('takes the provider’s size only for an image whose size is not known', () => {
    expect(
      answerSettings({ images: [asset(null, null)], reported: { size: '1024x1024' } }),
    ).toEqual({ size: '1024x1024', output_format: 'png' })
    expect(
      answerSettings({
        images: [asset(512, 512), asset(null, null)],
        reported: { size: '1024x1024' },
      }),
    ).toEqual({ output_format: 'png' })
  })

  it('says nothing of a size or format the images do not share, or a format OpenAI has no name for', () => {
    expect(answerSettings({ images: [asset(256, 256), asset(512, 512, 'image/jpeg')] })).toEqual({})
    expect(answerSettings({ images: [asset(64, 64, 'image/gif')] })).toEqual({ size: '64x64' })
  })

  it('writes usage as OpenAI does, with a details object only when both of its counts are known', () => {
    expect(
      answerSettings({
        images: [],
        usage: {
          inputTokens: 339,
          inputImageTokens: 323,
          inputTextTokens: 16,
          outputTokens: 6240,
          outputImageTokens: 6208,
          totalTokens: 6579,
        },
      }).usage,
    ).toEqual({
      input_tokens: 339,
      input_tokens_details: { image_tokens: 323, text_tokens: 16 },
      output_tokens: 6240,
      total_tokens: 6579,
    })
    expect(answerSettings({ images: [], usage: {} }).usage).toBeUndefined()
  })
})

type Model = (typeof builtIn.models)[number]

/** The built-in catalog with `changes` made to one model. */
function catalogWith(id: string, changes: Partial<Model>) {
  return writeCatalogFile(
    builtIn.models.map((model) => (model.id === id ? { ...model, ...changes } : model)),
  )
}

/** A solid PNG of this size: the size an upstream answer claims is then the size it is. */
async function pngOf(width: number, height: number) {
  const png = await sharp({
    create: { width, height, channels: 3, background: { r: 40, g: 90, b: 160 } },
  })
    .png()
    .toBuffer()
  return png.toString('base64')
}

describe('the OpenAI answer of a route', () => {
  let t: TestApp
  const cleanups: (() => void)[] = []
  afterEach(async () => {
    await t.close()
    for (const cleanup of cleanups.splice(0)) {
      cleanup()
    }
  })

  it('carries what the OpenAI upstream reported, usage summed over the calls n was split over', async () => {
    const catalog = catalogWith('gpt-image-1', { maxNPerCall: 1 })
    cleanups.push(catalog.remove)
    const recorded = fixture('openai-gpt-image-b64.json') as { data: { b64_json: string }[] }
    const answer = { ...recorded, data: [{ b64_json: await pngOf(1024, 1024) }] }
    const upstream = recordingFetch(() => jsonResponse(200, answer))
    t = await createTestApp({
      env: { IMAGEGATE_MODELS_FILE: catalog.file },
      providers: {
        openai: createOpenAIProvider({
          baseUrl: 'https://api.openai.example/v1',
          apiKey: 'sk-test',
          fetch: upstream.fetch,
        }),
      },
    })
    const { data } = await t.client.POST('/v1/images/generations', {
      body: { model: 'gpt-image-1', prompt: 'two lighthouses', n: 2, size: '1024x1024' },
    })
    expect(upstream.calls).toHaveLength(2)
    expect(data?.data).toHaveLength(2)
    expect(data).toMatchObject({
      size: '1024x1024',
      quality: 'medium',
      background: 'opaque',
      output_format: 'png',
      usage: {
        input_tokens: 28,
        input_tokens_details: { image_tokens: 0, text_tokens: 28 },
        output_tokens: 2112,
        total_tokens: 2140,
      },
    })
    expect(data?.usage).not.toHaveProperty('output_tokens_details')

    const record = await t.client.GET('/v1/generations/{id}', {
      params: { path: { id: data?.generation_id ?? '' } },
    })
    expect(record.data?.usage).toEqual({
      inputTokens: 28,
      inputTextTokens: 28,
      inputImageTokens: 0,
      outputTokens: 2112,
      totalTokens: 2140,
    })
  })

  it('carries an edit’s image tokens, and the size of the image it returns over the size claimed', async () => {
    const answer = fixture('openai-gpt-image-edit-b64.json')
    const upstream = recordingFetch(() => jsonResponse(200, answer))
    t = await createTestApp({
      providers: {
        openai: createOpenAIProvider({
          baseUrl: 'https://api.openai.example/v1',
          apiKey: 'sk-test',
          fetch: upstream.fetch,
        }),
      },
    })
    const form = new FormData()
    form.append('model', 'gpt-image-1')
    form.append('prompt', 'a hat for the cat')
    form.append('size', '1024x1536')
    const photo = Buffer.from(await pngOf(32, 48), 'base64')
    form.append('image', new Blob([photo], { type: 'image/png' }), 'cat.png')
    const response = await t.app.request('/v1/images/edits', { method: 'POST', body: form })
    expect(response.status).toBe(200)
    const body = (await response.json()) as Record<string, unknown>
    // The recorded answer's image is 16x16 although it says 1024x1536: the bytes are what is sent.
    expect(body).toMatchObject({
      size: '16x16',
      quality: 'high',
      background: 'transparent',
      output_format: 'png',
      usage: {
        input_tokens: 339,
        input_tokens_details: { image_tokens: 323, text_tokens: 16 },
        output_tokens: 6240,
        output_tokens_details: { image_tokens: 6208, text_tokens: 32 },
        total_tokens: 6579,
      },
    })
  })

  it('gives the size and format of what local-sketch returns, and nothing it cannot know', async () => {
    t = await createTestApp()
    const { data } = await t.client.POST('/v1/images/generations', {
      body: { prompt: 'a paper boat', size: '512x512', output_format: 'webp', n: 2 },
    })
    expect(data?.size).toBe('512x512')
    expect(data?.output_format).toBe('webp')
    for (const field of ['quality', 'background', 'usage']) {
      expect(data).not.toHaveProperty(field)
    }
  })

  it('gives Gemini’s usage as reported, without details it did not split out', async () => {
    const upstream = recordingFetch(() => jsonResponse(200, fixture('gemini-image-success.json')))
    t = await createTestApp({
      providers: {
        gemini: createGeminiProvider({
          baseUrl: 'https://gemini.example/v1beta',
          apiKey: 'gm-test',
          fetch: upstream.fetch,
        }),
      },
    })
    const { data } = await t.client.POST('/v1/images/generations', {
      body: { model: 'gemini-2.5-flash-image', prompt: 'a lighthouse' },
    })
    expect(data).toMatchObject({
      size: '16x9',
      output_format: 'png',
      usage: { input_tokens: 13, output_tokens: 1136 + 242, total_tokens: 1391 },
    })
    expect(data?.usage).not.toHaveProperty('input_tokens_details')
    expect(data).not.toHaveProperty('quality')
  })
})
