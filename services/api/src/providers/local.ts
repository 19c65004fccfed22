import { EditInputError } from '../refinement/openai-edit-form.ts'
import { partialRenders } from './local/partial-renders.ts'
import { MEDIA_TYPES, renderSketch } from './local/render-sketch.ts'
import { type LocalRenderPlan, planLocalRender } from './local/request-options.ts'
import {
  type GenerateImagesRequest,
  type GenerateImagesResult,
  handOnPartial,
  type ImageProvider,
  type ProviderImage,
  UpstreamFailure,
} from './types.ts'

/**
 * The built-in provider: renders labelled placeholder sketches on this machine, so imagegate
 * works offline, in tests and in demos. Deterministic: the same request gives the same bytes.
 * With input images (edits, refinements) the picture is derived from one of them: see
 * `planLocalRender` for which, and for what it says about the mask and the others. Streamed,
 * it sends partial renders of the first image (see partialRenders) before answering.
 */
export function createLocalProvider(): ImageProvider {
  return {
    name: 'local',
    async generate(request: GenerateImagesRequest): Promise<GenerateImagesResult> {
      if (!Number.isInteger(request.n) || request.n < 1) {
        throw new UpstreamFailure(
          'rejected',
          'local',
          `n must be a positive integer, got ${request.n}`,
        )
      }
      const plan = planLocalRender(request)
      const images: ProviderImage[] = []
      for (let variant = 0; variant < request.n; variant++) {
        if (request.signal.aborted) {
          throw new UpstreamFailure(
            'timeout',
            'local',
            'the request deadline passed while rendering',
            {
              cause: request.signal.reason,
            },
          )
        }
        const bytes = await render(plan, request.prompt, variant)
        if (variant === 0 && request.onPartialImage && request.partialImages) {
          await streamPartials(bytes, plan, request.partialImages, request.onPartialImage)
        }
        images.push({ bytes, declaredMediaType: MEDIA_TYPES[plan.format] })
      }
      return { images, warnings: plan.warnings }
    },
  }
}

async function render(plan: LocalRenderPlan, prompt: string, variant: number): Promise<Uint8Array> {
  const options = {
    prompt,
    seed: plan.seed,
    width: plan.width,
    height: plan.height,
    variant,
    format: plan.format,
    quality: plan.quality,
  }
  if (plan.input === undefined) {
    return renderSketch(options)
  }
  try {
    return await renderSketch({ ...options, input: plan.input.bytes })
  } catch (cause) {
    // The sizes are clamped already, so what fails here is decoding the input. The message
    // reaches the caller; the decoder's own words stay in the cause.
    throw new EditInputError(`input image ${plan.input.position} could not be read`, { cause })
  }
}

async function streamPartials(
  finished: Uint8Array,
  plan: LocalRenderPlan,
  count: number,
  onPartialImage: NonNullable<GenerateImagesRequest['onPartialImage']>,
): Promise<void> {
  const { width, height, format } = plan
  let index = 0
  for await (const partial of partialRenders(finished, { width, height, format, count })) {
    handOnPartial(onPartialImage, {
      index: index++,
      base64: Buffer.from(Buffer.from(partial).toString('base64'), 'latin1'),
      size: `${width}x${height}`,
      outputFormat: format,
    })
  }
}
