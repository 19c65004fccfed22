import sharp from 'sharp'
import {
  buildOpenAIEditForm,
  type EditImage,
  EditInputError,
  EditNotSupportedError,
} from '../refinement/openai-edit-form.ts'
import { frameGenerationText } from '../refinement/prompt-framing.ts'
import type { InputImage } from '../refinement/types.ts'
import { openAIModelFamily } from './openai-model-family.ts'
import type { GenerateImagesRequest } from './types.ts'

/**
 * The `POST /images/edits` side of the OpenAI adapter: what is sent when a request carries input
 * images. The form itself is `buildOpenAIEditForm`'s; this file decides the prompt, turns GIFs
 * into PNGs, and names every request field the edits endpoint does not take.
 */

export type OpenAIEdit = {
  form: FormData
  warnings: string[]
  /**
   * The prompt as sent, when it is not the caller's prompt as given. Its line breaks are LF; the
   * multipart encoding sends each as CRLF, as form-data always does.
   */
  sentText?: string
}

/**
 * Throws `EditNotSupportedError` (dall-e-3) or `EditInputError` (images the model cannot take, a
 * GIF that does not convert) before anything is sent; both reach the service as themselves.
 */
export async function buildOpenAIEdit(
  request: GenerateImagesRequest & { inputs: readonly InputImage[] },
): Promise<OpenAIEdit> {
  const model = request.upstreamModel
  // Before any conversion work: this model cannot edit whatever the images are.
  if (openAIModelFamily(model) === 'dall-e-3') {
    throw new EditNotSupportedError(model)
  }
  const warnings: string[] = []
  const images = await Promise.all(
    request.inputs.map((input, index) => editImage(input, index + 1, warnings)),
  )
  const prompt = editPrompt(request.prompt, request.inputs)
  const built = buildOpenAIEditForm({
    upstreamModel: model,
    prompt,
    images,
    mask: request.mask,
    n: request.n,
    size: request.size,
    quality: request.quality,
    background: request.background,
    inputFidelity: request.inputFidelity,
    outputFormat: request.outputFormat,
    outputCompression: request.outputCompression,
    user: request.user,
  })
  warnings.push(...built.warnings, ...notEditParameters(request))
  const edit: OpenAIEdit = { form: built.form, warnings }
  if (prompt !== request.prompt) {
    edit.sentText = prompt
  }
  return edit
}

/**
 * The prompt goes as given when every input is an unnamed `edit_target`: that is the plain
 * OpenAI edits request (one image to change, or several to combine), and OpenAI-compatible
 * clients expect their prompt to arrive untouched. As soon as an input has another role or a
 * display name, the model could not otherwise tell a logo from the picture to change, so the
 * framing's sentences ("Image 2 is the logo 'Acme': reproduce it exactly, …") follow the prompt,
 * numbered in the order the images are attached. No strict-content rules and no size line: those
 * are the Gemini turn's.
 */
export function editPrompt(
  prompt: string,
  inputs: readonly Pick<InputImage, 'role' | 'displayName'>[],
): string {
  const plain = inputs.every(
    (input) => input.role === 'edit_target' && input.displayName === undefined,
  )
  return plain ? prompt : frameGenerationText(prompt, inputs)
}

/**
 * OpenAI's edits take PNG, JPEG and WebP (dall-e-2: PNG only), never GIF, so a GIF is sent as a
 * PNG of its first frame, transparency kept. Other types go as they are: the form builder refuses
 * what the model cannot take.
 */
async function editImage(
  input: InputImage,
  position: number,
  warnings: string[],
): Promise<EditImage> {
  if (input.mediaType !== 'image/gif') {
    return { bytes: input.bytes, mediaType: input.mediaType }
  }
  let png: Buffer
  let frames: number
  try {
    const gif = sharp(input.bytes, { animated: false })
    frames = (await gif.metadata()).pages ?? 1
    png = await gif.png().toBuffer()
  } catch (cause) {
    // The message reaches the caller: sharp's own words stay in the cause.
    throw new EditInputError(`image ${position} is a GIF that could not be converted to PNG`, {
      cause,
    })
  }
  if (frames > 1) {
    warnings.push(
      `image ${position} is an animated GIF of ${frames} frames; only its first frame was sent, as PNG`,
    )
  }
  return {
    bytes: new Uint8Array(png.buffer, png.byteOffset, png.byteLength),
    mediaType: 'image/png',
  }
}

/** Request fields that mean something elsewhere but not to OpenAI's edits: named, not dropped. */
function notEditParameters(request: GenerateImagesRequest): string[] {
  const model = request.upstreamModel
  const warnings: string[] = []
  if (request.moderation !== undefined) {
    warnings.push(`moderation is not an OpenAI edits parameter; not sent to ${model}`)
  }
  if (request.style !== undefined) {
    warnings.push(`style is not an OpenAI edits parameter; not sent to ${model}`)
  }
  warnings.push(...notOpenAIParameters(request))
  return warnings
}

/**
 * Fields no OpenAI Images call takes, generations or edits. `maxTurns` is a limit the service
 * already applied, so it needs no word.
 */
export function notOpenAIParameters(request: GenerateImagesRequest): string[] {
  const warnings: string[] = []
  if (request.seed !== undefined) {
    warnings.push(`seed is not an OpenAI Images parameter; seed ${request.seed} was not sent`)
  }
  if (request.chain !== undefined && request.chain.length > 0) {
    warnings.push(
      `OpenAI Images has no conversation; the ${request.chain.length} earlier turn(s) were not sent, only this request's images`,
    )
  }
  if (request.strictContent) {
    warnings.push('the strict content rules are not added to OpenAI prompts')
  }
  return warnings
}
