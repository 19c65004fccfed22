import { describe, expect, it } from 'vitest'
import {
  buildOpenAIEditForm,
  type EditImage,
  EditInputError,
  EditNotSupportedError,
  type OpenAIEditRequest,
} from './openai-edit-form.ts'

const png = (seed: number): EditImage => ({
  bytes: new Uint8Array([0x89, 0x50, 0x4e, 0x47, seed]),
  mediaType: 'image/png',
})
const jpeg: EditImage = { bytes: new Uint8Array([0xff, 0xd8, 0xff, 1]), mediaType: 'image/jpeg' }
const webp: EditImage = { bytes: new Uint8Array([0x52, 0x49, 0x46, 0x46]), mediaType: 'image/webp' }
const mask = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0xaa])

type Field = string | { file: string; type: string; bytes: number[] }

/** The form as a list of [name, value] in order, files shown by name, type and bytes. */
async function fields(form: FormData): Promise<[string, Field][]> {
  const entries: [string, Field][] = []
  for (const [name, value] of form.entries()) {
    if (typeof value === 'string') {
      entries.push([name, value])
    } else {
      entries.push([
        name,
        {
          file: value.name,
          type: value.type,
          bytes: [...new Uint8Array(await value.arrayBuffer())],
        },
      ])
    }
  }
  return entries
}

const file = (name: string, image: EditImage | Uint8Array, type = 'image/png'): Field =>
  image instanceof Uint8Array
    ? { file: name, type, bytes: [...image] }
    : { file: name, type: image.mediaType, bytes: [...image.bytes] }

const request = (overrides: Partial<OpenAIEditRequest>): OpenAIEditRequest => ({
  upstreamModel: 'gpt-image-1',
  prompt: 'put the logo on the sail',
  images: [png(1)],
  ...overrides,
})

describe('GPT Image models', () => {
  it('send several images as image[], the mask and every GPT Image parameter, in order', async () => {
    const { form, warnings } = buildOpenAIEditForm(
      request({
        upstreamModel: 'gpt-image-1.5',
        images: [png(1), jpeg, webp],
        mask,
        n: 2,
        size: { width: 1536, height: 1024 },
        quality: 'high',
        background: 'transparent',
        inputFidelity: 'high',
        outputFormat: 'webp',
        outputCompression: 80,
        user: 'user-42',
      }),
    )
    expect(await fields(form)).toEqual([
      ['model', 'gpt-image-1.5'],
      ['prompt', 'put the logo on the sail'],
      ['image[]', file('image-1.png', png(1))],
      ['image[]', file('image-2.jpg', jpeg)],
      ['image[]', file('image-3.webp', webp)],
      ['mask', file('mask.png', mask)],
      ['n', '2'],
      ['size', '1536x1024'],
      ['quality', 'high'],
      ['background', 'transparent'],
      ['input_fidelity', 'high'],
      ['output_format', 'webp'],
      ['output_compression', '80'],
      ['user', 'user-42'],
    ])
    expect(warnings).toEqual([])
  })

  it('send a single image as image, and only the fields that were given', async () => {
    const { form, warnings } = buildOpenAIEditForm(request({ size: 'auto' }))
    expect(await fields(form)).toEqual([
      ['model', 'gpt-image-1'],
      ['prompt', 'put the logo on the sail'],
      ['image', file('image.png', png(1))],
      ['size', 'auto'],
    ])
    expect(warnings).toEqual([])
  })

  it('never send response_format', async () => {
    for (const upstreamModel of ['gpt-image-1', 'gpt-image-1-mini', 'chatgpt-image-latest']) {
      const { form } = buildOpenAIEditForm(request({ upstreamModel, images: [png(1), png(2)] }))
      expect(form.has('response_format')).toBe(false)
    }
  })

  it('do not send input_fidelity to gpt-image-1-mini, and say so', async () => {
    const { form, warnings } = buildOpenAIEditForm(
      request({ upstreamModel: 'gpt-image-1-mini', inputFidelity: 'high' }),
    )
    expect(form.has('input_fidelity')).toBe(false)
    expect(warnings).toEqual(['input_fidelity is not supported by gpt-image-1-mini; not sent'])
  })

  it('accept 16 images and refuse 17', () => {
    const images = Array.from({ length: 17 }, (_, index) => png(index))
    expect(() => buildOpenAIEditForm(request({ images: images.slice(0, 16) }))).not.toThrow()
    expect(() => buildOpenAIEditForm(request({ images }))).toThrow(
      new EditInputError('gpt-image-1 edits at most 16 images; got 17'),
    )
  })

  it('refuse a GIF, naming which image it is', () => {
    const gif: EditImage = { bytes: new Uint8Array([0x47, 0x49, 0x46]), mediaType: 'image/gif' }
    expect(() => buildOpenAIEditForm(request({ images: [png(1), gif] }))).toThrow(
      new EditInputError('gpt-image-1 edits PNG, JPEG and WebP images; image 2 is image/gif'),
    )
  })

  it('copy the bytes of a view, not the whole buffer behind it', async () => {
    const backing = new Uint8Array([9, 9, 0x89, 0x50, 9])
    const { form } = buildOpenAIEditForm(
      request({ images: [{ bytes: backing.subarray(2, 4), mediaType: 'image/png' }] }),
    )
    expect((await fields(form))[2]).toEqual([
      'image',
      { file: 'image.png', type: 'image/png', bytes: [0x89, 0x50] },
    ])
  })
})

describe('dall-e-2', () => {
  it('sends one image as image, the mask, and response_format b64_json', async () => {
    const { form, warnings } = buildOpenAIEditForm(
      request({
        upstreamModel: 'dall-e-2',
        mask,
        n: 3,
        size: { width: 512, height: 512 },
        user: 'user-42',
      }),
    )
    expect(await fields(form)).toEqual([
      ['model', 'dall-e-2'],
      ['prompt', 'put the logo on the sail'],
      ['image', file('image.png', png(1))],
      ['mask', file('mask.png', mask)],
      ['n', '3'],
      ['size', '512x512'],
      ['user', 'user-42'],
      ['response_format', 'b64_json'],
    ])
    expect(warnings).toEqual([])
  })

  it('names every GPT Image parameter it does not send', async () => {
    const { form, warnings } = buildOpenAIEditForm(
      request({
        upstreamModel: 'dall-e-2',
        size: 'auto',
        quality: 'high',
        background: 'opaque',
        inputFidelity: 'low',
        outputFormat: 'png',
        outputCompression: 50,
      }),
    )
    expect((await fields(form)).map(([name]) => name)).toEqual([
      'model',
      'prompt',
      'image',
      'response_format',
    ])
    expect(warnings).toEqual([
      'size auto is not a dall-e-2 size; not sent, so the model default applies',
      'quality is accepted only by GPT Image models; not sent to dall-e-2',
      'background is accepted only by GPT Image models; not sent to dall-e-2',
      'input_fidelity is accepted only by GPT Image models; not sent to dall-e-2',
      'output_format is accepted only by GPT Image models; not sent to dall-e-2',
      'output_compression is accepted only by GPT Image models; not sent to dall-e-2',
    ])
  })

  it('edits exactly one PNG', () => {
    expect(() =>
      buildOpenAIEditForm(request({ upstreamModel: 'dall-e-2', images: [png(1), png(2)] })),
    ).toThrow(new EditInputError('dall-e-2 edits exactly one image; got 2'))
    expect(() =>
      buildOpenAIEditForm(request({ upstreamModel: 'dall-e-2', images: [jpeg] })),
    ).toThrow(new EditInputError('dall-e-2 edits only PNG images; got image/jpeg'))
  })
})

describe('models that cannot edit, and other models', () => {
  it('refuses dall-e-3 with a typed error', () => {
    const thrown = (() => {
      try {
        buildOpenAIEditForm(request({ upstreamModel: 'dall-e-3' }))
      } catch (error) {
        return error
      }
      return undefined
    })()
    expect(thrown).toBeInstanceOf(EditNotSupportedError)
    expect(thrown).toMatchObject({
      model: 'dall-e-3',
      message: 'dall-e-3 cannot edit images; use a GPT Image model or dall-e-2',
    })
  })

  it('refuses an edit without images', () => {
    expect(() => buildOpenAIEditForm(request({ images: [] }))).toThrow(
      new EditInputError('an edit needs at least one image'),
    )
  })

  it('sends only the common fields to a model it does not know', async () => {
    const { form, warnings } = buildOpenAIEditForm(
      request({
        upstreamModel: 'flux-kontext',
        images: [png(1), { bytes: new Uint8Array([1]), mediaType: 'image/avif' }],
        n: 1,
        quality: 'high',
        user: 'u',
      }),
    )
    expect(await fields(form)).toEqual([
      ['model', 'flux-kontext'],
      ['prompt', 'put the logo on the sail'],
      ['image[]', file('image-1.png', png(1))],
      ['image[]', { file: 'image-2.bin', type: 'image/avif', bytes: [1] }],
      ['n', '1'],
      ['user', 'u'],
    ])
    expect(warnings).toEqual([
      'quality is accepted only by GPT Image models; not sent to flux-kontext',
    ])
  })
})
