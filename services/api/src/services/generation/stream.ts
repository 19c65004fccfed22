import type { ModelEntry } from '../../catalog/model-entry.ts'
import { AppError } from '../../errors/app-error.ts'

/** What a streamed request gets: how many partial images to ask the provider for (0–3). */
export type StreamPlan = { partialImages: number }

/**
 * Whether, and how, `stream: true` is answered for this model (the catalog's `streaming`):
 * `none` and more than one image are refused with 400 unsupported_parameter before anything
 * is held or called; `completed_only` gets no partial images whatever was asked.
 */
export function planStream(
  model: ModelEntry,
  n: number,
  partialImages: number | undefined,
): StreamPlan {
  if (model.streaming === 'none') {
    throw new AppError(
      'unsupported_parameter',
      `${model.id} does not stream; send the request without stream (see capabilities.streaming in GET /v1/models)`,
      { param: 'stream' },
    )
  }
  if (n !== 1) {
    throw new AppError('unsupported_parameter', `A streamed request makes one image; got n=${n}`, {
      param: 'n',
    })
  }
  return { partialImages: model.streaming === 'partial_images' ? (partialImages ?? 0) : 0 }
}
