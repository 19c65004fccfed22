import { openAIModelFamily } from '../providers/openai-model-family.ts'

/**
 * The multipart body of OpenAI's `POST /images/edits`, per model family:
 * - GPT Image models: up to 16 images (`image` for one, `image[]` for several, as the AI SDK
 *   sends them), a mask for the first image, and the GPT Image parameters; never
 *   `response_format`, which they reject (they always answer base64).
 * - dall-e-2: exactly one square PNG as `image`, and `response_format=b64_json` so the answer is
 *   not a 60-minute URL.
 * - dall-e-3 cannot edit: EditNotSupportedError.
 * - Other models behind OpenAI-compatible endpoints: the common fields only.
 * Parameters a family does not take are not sent, and each one is named in `warnings`.
 */

export type EditImage = { bytes: Uint8Array; mediaType: string }

export type OpenAIEditRequest = {
  upstreamModel: string
  prompt: string
  /** The first image is the one the mask applies to. */
  images: readonly EditImage[]
  /** Already checked by validateEditMask: a PNG with alpha, the first image's size. */
  mask?: Uint8Array
  n?: number
  size?: { width: number; height: number } | 'auto'
  quality?: string
  background?: 'transparent' | 'opaque' | 'auto'
  inputFidelity?: 'high' | 'low'
  outputFormat?: 'png' | 'jpeg' | 'webp'
  outputCompression?: number
  user?: string
}

export const MAX_GPT_IMAGE_EDIT_IMAGES = 16

/** The model cannot edit images at all (answer 400 unsupported_parameter on `model`). */
export class EditNotSupportedError extends Error {
  override name = 'EditNotSupportedError'
  constructor(readonly model: string) {
    super(`${model} cannot edit images; use a GPT Image model or dall-e-2`)
  }
}

/** The images do not suit the model (answer 400 invalid_request on `image`). */
export class EditInputError extends Error {
  override name = 'EditInputError'
  readonly param = 'image'
}

const EXTENSIONS: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/webp': 'webp',
  'image/gif': 'gif',
}
const GPT_IMAGE_INPUT_TYPES = new Set(['image/png', 'image/jpeg', 'image/webp'])

export function buildOpenAIEditForm(request: OpenAIEditRequest): {
  form: FormData
  warnings: string[]
} {
  const model = request.upstreamModel
  const family = openAIModelFamily(model)
  if (family === 'dall-e-3') {
    throw new EditNotSupportedError(model)
  }
  checkImages(request.images, family, model)

  const form = new FormData()
  const warnings: string[] = []
  form.append('model', model)
  form.append('prompt', request.prompt)
  const [onlyImage] = request.images
  if (request.images.length === 1 && onlyImage) {
    form.append('image', imageFile(onlyImage), fileName('image', onlyImage.mediaType))
  } else {
    request.images.forEach((image, index) => {
      form.append('image[]', imageFile(image), fileName(`image-${index + 1}`, image.mediaType))
    })
  }
  if (request.mask) {
    form.append('mask', imageFile({ bytes: request.mask, mediaType: 'image/png' }), 'mask.png')
  }
  if (request.n !== undefined) {
    form.append('n', String(request.n))
  }
  if (request.size === 'auto' && family === 'dall-e-2') {
    warnings.push('size auto is not a dall-e-2 size; not sent, so the model default applies')
  } else if (request.size !== undefined) {
    form.append(
      'size',
      request.size === 'auto' ? 'auto' : `${request.size.width}x${request.size.height}`,
    )
  }

  const gptImageOnly: [string, string | number | undefined][] = [
    ['quality', request.quality],
    ['background', request.background],
    ['input_fidelity', request.inputFidelity],
    ['output_format', request.outputFormat],
    ['output_compression', request.outputCompression],
  ]
  for (const [parameter, value] of gptImageOnly) {
    if (value === undefined) {
      continue
    }
    if (family !== 'gpt-image') {
      warnings.push(`${parameter} is accepted only by GPT Image models; not sent to ${model}`)
    } else if (parameter === 'input_fidelity' && model.startsWith('gpt-image-1-mini')) {
      warnings.push(`input_fidelity is not supported by ${model}; not sent`)
    } else {
      form.append(parameter, String(value))
    }
  }
  if (request.user !== undefined) {
    form.append('user', request.user)
  }
  if (family === 'dall-e-2') {
    form.append('response_format', 'b64_json')
  }
  return { form, warnings }
}

function checkImages(
  images: readonly EditImage[],
  family: ReturnType<typeof openAIModelFamily>,
  model: string,
): void {
  if (images.length === 0) {
    throw new EditInputError('an edit needs at least one image')
  }
  if (family === 'dall-e-2') {
    if (images.length > 1) {
      throw new EditInputError(`dall-e-2 edits exactly one image; got ${images.length}`)
    }
    if (images[0]?.mediaType !== 'image/png') {
      throw new EditInputError(`dall-e-2 edits only PNG images; got ${images[0]?.mediaType}`)
    }
  }
  if (family === 'gpt-image') {
    if (images.length > MAX_GPT_IMAGE_EDIT_IMAGES) {
      throw new EditInputError(
        `${model} edits at most ${MAX_GPT_IMAGE_EDIT_IMAGES} images; got ${images.length}`,
      )
    }
    const unsupported = images.findIndex((image) => !GPT_IMAGE_INPUT_TYPES.has(image.mediaType))
    if (unsupported !== -1) {
      throw new EditInputError(
        `${model} edits PNG, JPEG and WebP images; image ${unsupported + 1} is ${images[unsupported]?.mediaType}`,
      )
    }
  }
}

/** A copy with its own ArrayBuffer: Blob parts must not be views of a shared or larger buffer. */
function imageFile(image: EditImage): Blob {
  return new Blob([new Uint8Array(image.bytes)], { type: image.mediaType })
}

/** OpenAI reads the type from the file name as well, so the extension must match the bytes. */
function fileName(stem: string, mediaType: string): string {
  return `${stem}.${EXTENSIONS[mediaType] ?? 'bin'}`
}
