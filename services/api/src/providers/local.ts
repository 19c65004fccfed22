import { MEDIA_TYPES, renderSketch } from './local/render-sketch.ts'
import { planLocalRender } from './local/request-options.ts'
import {
  type GenerateImagesRequest,
  type GenerateImagesResult,
  type ImageProvider,
  type ProviderImage,
  UpstreamFailure,
} from './types.ts'

/**
 * The built-in provider: renders labelled placeholder sketches on this machine, so imagegate
 * works offline, in tests and in demos. Deterministic: the same request gives the same bytes.
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
        const bytes = await renderSketch({
          prompt: request.prompt,
          seed: plan.seed,
          width: plan.width,
          height: plan.height,
          variant,
          format: plan.format,
          quality: plan.quality,
        })
        images.push({ bytes, declaredMediaType: MEDIA_TYPES[plan.format] })
      }
      return { images, warnings: plan.warnings }
    },
  }
}
