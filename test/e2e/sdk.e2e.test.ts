import { createOpenAI } from '@ai-sdk/openai'
import { APICallError, generateImage } from 'ai'
import OpenAI, { toFile } from 'openai'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { noisePng, sha256Hex, transparentPng } from '../../services/api/src/testing/images.ts'
import { type Gateway, startGateway } from '../support/gateway.ts'

/** The official SDKs, unchanged, with their base URL pointed at the real server. */

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
const isPng = (bytes: Uint8Array) => Buffer.from(bytes.subarray(0, 8)).equals(PNG_SIGNATURE)

let gw: Gateway
let openai: OpenAI
beforeAll(async () => {
  gw = await startGateway()
  openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.key })
})
afterAll(async () => {
  await gw?.close()
})
beforeEach(() => {
  gw.fake.reset()
})

describe('openai SDK: client.images.generate', () => {
  it('gets base64 PNGs from local-sketch', async () => {
    const result = await openai.images.generate({
      model: 'local-sketch',
      prompt: 'a paper boat',
      n: 2,
      size: '256x256',
      response_format: 'b64_json',
    })
    expect(result.data).toHaveLength(2)
    for (const image of result.data ?? []) {
      expect(isPng(Buffer.from(image.b64_json ?? '', 'base64'))).toBe(true)
    }
    expect(result.created).toBeGreaterThan(0)
    // What imagegate returns is known for every model; what only a provider could say is absent.
    expect(result.size).toBe('256x256')
    expect(result.output_format).toBe('png')
    expect(result.usage).toBeUndefined()
    expect(result.quality).toBeUndefined()
    expect(result.background).toBeUndefined()
  })

  it('gets a url that serves the stored image', async () => {
    const result = await openai.images.generate({
      model: 'local-sketch',
      prompt: 'a paper plane',
      size: '256x256',
      response_format: 'url',
    })
    const url = result.data?.[0]?.url ?? ''
    expect(url.startsWith(`${gw.url}/v1/assets/ast_`)).toBe(true)
    const response = await fetch(url)
    expect(response.headers.get('content-type')).toBe('image/png')
    expect(isPng(new Uint8Array(await response.arrayBuffer()))).toBe(true)
  })

  it('gets gpt-image-1 from the upstream, with the settings and usage it reported', async () => {
    const result = await openai.images.generate({
      model: 'gpt-image-1',
      prompt: 'a lighthouse',
      background: 'opaque',
    })
    expect(
      Buffer.from(result.data?.[0]?.b64_json ?? '', 'base64').equals(Buffer.from(gw.fake.image)),
    ).toBe(true)
    const usage: OpenAI.ImagesResponse.Usage | undefined = result.usage
    expect(usage?.input_tokens).toBe(12)
    expect(usage?.input_tokens_details.text_tokens).toBe(12)
    expect(usage?.input_tokens_details.image_tokens).toBe(0)
    expect(usage?.output_tokens).toBe(1056)
    expect(usage?.total_tokens).toBe(1068)
    const quality: OpenAI.ImagesResponse['quality'] = result.quality
    expect(quality).toBe('medium')
    expect(result.background).toBe('opaque')
    expect(result.output_format).toBe('png')
    // The fake upstream's image is 720x720, and it says so.
    expect(result.size).toBe('720x720')
    expect(gw.fake.calls).toHaveLength(1)
  })

  it('surfaces status, code, param and the request id of an error', async () => {
    const error = await openai.images.generate({ model: 'no-such-model', prompt: 'x' }).then(
      () => undefined,
      (err: unknown) => err,
    )
    expect(error).toBeInstanceOf(OpenAI.BadRequestError)
    const apiError = error as InstanceType<typeof OpenAI.BadRequestError>
    expect(apiError.status).toBe(400)
    expect(apiError.code).toBe('model_not_found')
    expect(apiError.param).toBe('model')
    expect(apiError.type).toBe('invalid_request_error')
    expect(apiError.requestID).toMatch(/^req_/)
    expect((apiError.error as { requestId?: string }).requestId).toBe(apiError.requestID)
  })

  it('surfaces a content-policy refusal from the upstream as a 400 it does not retry', async () => {
    gw.fake.script(['safety_block'])
    const error = await openai.images
      .generate({ model: 'gpt-image-1', prompt: 'something refused' })
      .then(
        () => undefined,
        (err: unknown) => err,
      )
    const apiError = error as InstanceType<typeof OpenAI.APIError>
    expect(apiError.status).toBe(400)
    expect(apiError.code).toBe('content_policy_violation')
    expect(apiError.error).toMatchObject({ stage: 'input' })
    expect(gw.fake.calls).toHaveLength(1)
  })
})

describe('openai SDK: client.images.edit', () => {
  type WithAsset = { asset_id?: string }

  it('edits an upload with local-sketch, derived from the upload and recorded with it', async () => {
    const photo = await noisePng('sdk-edit-photo', 256)
    const result = await openai.images.edit({
      model: 'local-sketch',
      image: await toFile(photo, 'photo.png', { type: 'image/png' }),
      prompt: 'make it blue',
      size: '256x256',
      response_format: 'b64_json',
    })
    const edited = Buffer.from(result.data?.[0]?.b64_json ?? '', 'base64')
    expect(isPng(edited)).toBe(true)
    const plain = await openai.images.generate({
      model: 'local-sketch',
      prompt: 'make it blue',
      size: '256x256',
    })
    expect(Buffer.from(plain.data?.[0]?.b64_json ?? '', 'base64').equals(edited)).toBe(false)
    expect(gw.fake.calls).toHaveLength(0)

    const assetId = (result.data?.[0] as WithAsset | undefined)?.asset_id ?? ''
    const { data: generations } = await gw.client.GET('/v1/generations', {
      params: { query: { limit: 5 } },
    })
    const record = generations?.data.find((row) => row.assetIds.includes(assetId))
    expect(record).toMatchObject({ operation: 'edit', inputs: [{ role: 'edit_target' }] })
    const { data: input } = await gw.client.GET('/v1/assets/{id}', {
      params: { path: { id: record?.inputs[0]?.assetId ?? '' } },
    })
    expect(input?.contentHash).toBe(sha256Hex(photo))
  })

  it('sends several images and a mask to gpt-image-1 as OpenAI expects, and stores the answer', async () => {
    const first = await noisePng('sdk-edit-first', 64)
    const second = await noisePng('sdk-edit-second', 64)
    const mask = await transparentPng(64, 64)
    const result = await openai.images.edit({
      model: 'gpt-image-1',
      image: [
        await toFile(first, 'first.png', { type: 'image/png' }),
        await toFile(second, 'second.png', { type: 'image/png' }),
      ],
      mask: await toFile(mask, 'mask.png', { type: 'image/png' }),
      prompt: 'put both on one poster',
      size: '1024x1024',
      quality: 'low',
      input_fidelity: 'high',
    })
    const [call] = gw.fake.calls
    expect(gw.fake.calls).toHaveLength(1)
    expect(call?.shape).toBe('openai_edit')
    expect(call?.headers.authorization).toBe('Bearer sk-fake')
    expect(call?.body).toMatchObject({
      model: 'gpt-image-1',
      prompt: 'put both on one poster',
      size: '1024x1024',
      quality: 'low',
      input_fidelity: 'high',
    })
    expect(call?.body).not.toHaveProperty('response_format')
    expect(call?.files?.map((file) => [file.name, file.sha256])).toEqual([
      ['image[]', sha256Hex(first)],
      ['image[]', sha256Hex(second)],
      ['mask', sha256Hex(mask)],
    ])
    const image = result.data?.[0] as (WithAsset & { b64_json?: string }) | undefined
    expect(isPng(Buffer.from(image?.b64_json ?? '', 'base64'))).toBe(true)
    expect(image?.asset_id).toMatch(/^ast_/)
    expect(result.data?.[0]).toMatchObject({ width: 1024, height: 1024 })
    // The upstream counts the two images, not the mask, as input image tokens.
    expect(result.usage?.input_tokens_details.image_tokens).toBe(2 * 194)
    expect(result.usage?.input_tokens_details.text_tokens).toBe(12)
    expect(result.usage?.input_tokens).toBe(12 + 2 * 194)
    expect(result.size).toBe('1024x1024')
    expect(result.quality).toBe('low')
    expect(result.output_format).toBe('png')
  })
})

describe('AI SDK: generateImage through createOpenAI({ baseURL })', () => {
  const provider = () => createOpenAI({ baseURL: `${gw.url}/v1`, apiKey: gw.key })

  it('returns images from local-sketch (one call per image, as for unknown models)', async () => {
    const result = await generateImage({
      model: provider().image('local-sketch'),
      prompt: 'a tin robot',
      n: 2,
      size: '256x256',
    })
    expect(result.images).toHaveLength(2)
    for (const image of result.images) {
      expect(image.mediaType).toBe('image/png')
      expect(isPng(image.uint8Array)).toBe(true)
    }
    // Two n=1 calls of one prompt without a seed: local-sketch derives the seed from the prompt.
    expect(result.images[0]?.base64).toBe(result.images[1]?.base64)
  })

  it('returns gpt-image-1 images from the upstream', async () => {
    const result = await generateImage({
      model: provider().image('gpt-image-1'),
      prompt: 'a harbour',
    })
    expect(Buffer.from(result.image.uint8Array).equals(Buffer.from(gw.fake.image))).toBe(true)
    expect(gw.fake.calls).toHaveLength(1)
    expect(gw.fake.calls[0]?.body).not.toHaveProperty('response_format')
    expect(result.usage).toMatchObject({ inputTokens: 12, outputTokens: 1056, totalTokens: 1068 })
    expect(result.providerMetadata.openai?.images).toEqual([
      expect.objectContaining({
        size: '720x720',
        quality: 'medium',
        background: 'opaque',
        outputFormat: 'png',
        imageTokens: 0,
        textTokens: 12,
      }),
    ])
  })

  it('surfaces the error status and body', async () => {
    const error = await generateImage({
      model: provider().image('gpt-image-2-nope'),
      prompt: 'x',
    }).then(
      () => undefined,
      (err: unknown) => err,
    )
    expect(APICallError.isInstance(error)).toBe(true)
    const callError = error as APICallError
    expect(callError.statusCode).toBe(400)
    expect(callError.isRetryable).toBe(false)
    expect(JSON.parse(callError.responseBody ?? '{}')).toMatchObject({
      error: { code: 'model_not_found', requestId: expect.stringMatching(/^req_/) },
    })
  })
})
