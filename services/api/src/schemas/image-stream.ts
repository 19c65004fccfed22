import { z } from '@hono/zod-openapi'
import { ErrorObjectSchema } from './error.ts'
import { ImageUsageSchema } from './images.ts'

/**
 * The events of a streamed generation or edit (`stream: true`), each the JSON of one `data:`
 * line, with its own `type` as OpenAI sends it; the `event:` line repeats the type.
 */

const settings = {
  created_at: z.number().int().openapi({ description: 'Unix seconds' }),
  size: z.string().openapi({ description: 'Width x height', example: '1024x1024' }),
  quality: z.enum(['low', 'medium', 'high', 'auto']).openapi({
    description: 'As the provider reports it, else as requested (`auto` when not)',
  }),
  background: z.enum(['transparent', 'opaque', 'auto']).openapi({
    description: 'As the provider reports it, else as requested (`auto` when not)',
  }),
  output_format: z.enum(['png', 'webp', 'jpeg']),
}

const partial = {
  b64_json: z.string().openapi({
    description: 'A partial image as the model made it so far (not verified or stored)',
  }),
  partial_image_index: z.number().int().min(0).openapi({ description: '0-based' }),
  ...settings,
}

const completed = {
  b64_json: z.string().openapi({ description: 'The final image, verified and stored' }),
  ...settings,
  usage: ImageUsageSchema.optional().openapi({
    description: 'Tokens as the provider reported them; absent when it reports none',
  }),
  asset_id: z.string().openapi({ description: 'The stored asset of the final image' }),
  content_hash: z.string().regex(/^[0-9a-f]{64}$/),
  generation_id: z.string(),
}

export const ImageGenerationPartialImageEventSchema = z
  .strictObject({ type: z.literal('image_generation.partial_image'), ...partial })
  .openapi('ImageGenerationPartialImageEvent')

export const ImageGenerationCompletedEventSchema = z
  .strictObject({ type: z.literal('image_generation.completed'), ...completed })
  .openapi('ImageGenerationCompletedEvent')

export const ImageEditPartialImageEventSchema = z
  .strictObject({ type: z.literal('image_edit.partial_image'), ...partial })
  .openapi('ImageEditPartialImageEvent')

export const ImageEditCompletedEventSchema = z
  .strictObject({ type: z.literal('image_edit.completed'), ...completed })
  .openapi('ImageEditCompletedEvent')

export const ImageStreamErrorEventSchema = z
  .strictObject({ type: z.literal('error'), error: ErrorObjectSchema })
  .openapi('ImageStreamErrorEvent', {
    description:
      'A failure after the stream started: the last event. `error` is the error object of the ' +
      'error table (the OpenAI SDKs throw it as an APIError)',
  })

export const ImageGenerationStreamEventSchema = z
  .discriminatedUnion('type', [
    ImageGenerationPartialImageEventSchema,
    ImageGenerationCompletedEventSchema,
    ImageStreamErrorEventSchema,
  ])
  .openapi('ImageGenerationStreamEvent', {
    description:
      'One Server-Sent Event of a streamed generation: `event: <type>` and `data: <this JSON>`. ' +
      'Partial images (as many as `partial_images` asked, or fewer), then one completed event or ' +
      'one error event; comment lines (`: keep-alive`) keep idle connections open',
  })

export const ImageEditStreamEventSchema = z
  .discriminatedUnion('type', [
    ImageEditPartialImageEventSchema,
    ImageEditCompletedEventSchema,
    ImageStreamErrorEventSchema,
  ])
  .openapi('ImageEditStreamEvent', {
    description:
      'One Server-Sent Event of a streamed edit: `event: <type>` and `data: <this JSON>`, as for ' +
      'generations',
  })

export type ImageStreamCompletedEvent = z.infer<typeof ImageGenerationCompletedEventSchema>
export type ImageStreamPartialEvent = z.infer<typeof ImageGenerationPartialImageEventSchema>
