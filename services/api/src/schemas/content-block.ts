import { z } from '@hono/zod-openapi'

const assetId = z
  .string()
  .regex(/^ast_[0-9A-Za-z]+$/)
  .openapi({ example: 'ast_01J9Z7Q8R4M2XK5T3B6N' })

export const TextBlockSchema = z
  .strictObject({ kind: z.literal('text'), text: z.string() })
  .openapi('TextBlock', { example: { kind: 'text', text: 'Here is the poster you asked for.' } })

export const ImageBlockSchema = z
  .strictObject({
    kind: z.literal('image'),
    assetId,
    mediaType: z.enum(['image/png', 'image/jpeg', 'image/webp', 'image/gif']),
    alt: z.string().max(100),
  })
  .openapi('ImageBlock', {
    description: 'An image stored as an asset; never inline bytes',
    example: {
      kind: 'image',
      assetId: 'ast_01J9Z7Q8R4M2XK5T3B6N',
      mediaType: 'image/png',
      alt: 'A lighthouse at dusk, watercolor',
    },
  })

export const AudioBlockSchema = z
  .strictObject({
    kind: z.literal('audio'),
    assetId,
    mediaType: z.string(),
    durationMs: z.number().int().min(0).optional(),
    transcript: z.string().optional(),
  })
  .openapi('AudioBlock', {
    example: { kind: 'audio', assetId: 'ast_01J9Z7Q8R4M2XK5T3B6P', mediaType: 'audio/mpeg' },
  })

export const VideoBlockSchema = z
  .strictObject({
    kind: z.literal('video'),
    assetId,
    mediaType: z.string(),
    durationMs: z.number().int().min(0).optional(),
    alt: z.string().max(100).optional(),
  })
  .openapi('VideoBlock', {
    example: { kind: 'video', assetId: 'ast_01J9Z7Q8R4M2XK5T3B6Q', mediaType: 'video/mp4' },
  })

export const FileBlockSchema = z
  .strictObject({
    kind: z.literal('file'),
    assetId,
    mediaType: z.string(),
    filename: z.string().optional(),
  })
  .openapi('FileBlock', {
    example: {
      kind: 'file',
      assetId: 'ast_01J9Z7Q8R4M2XK5T3B6R',
      mediaType: 'application/pdf',
      filename: 'brief.pdf',
    },
  })

export const ToolUseBlockSchema = z
  .strictObject({
    kind: z.literal('tool_use'),
    id: z.string(),
    name: z.string(),
    input: z.record(z.string(), z.unknown()),
  })
  .openapi('ToolUseBlock', {
    example: {
      kind: 'tool_use',
      id: 'call_1',
      name: 'image-generate',
      input: { prompt: 'a lighthouse at dusk' },
    },
  })

export const ToolResultBlockSchema = z
  .strictObject({
    kind: z.literal('tool_result'),
    toolUseId: z.string(),
    isError: z.boolean().optional(),
    content: z.array(z.union([TextBlockSchema, ImageBlockSchema])),
  })
  .openapi('ToolResultBlock', {
    example: {
      kind: 'tool_result',
      toolUseId: 'call_1',
      content: [
        {
          kind: 'image',
          assetId: 'ast_01J9Z7Q8R4M2XK5T3B6N',
          mediaType: 'image/png',
          alt: 'A lighthouse at dusk',
        },
      ],
    },
  })

export const ThinkingBlockSchema = z
  .strictObject({ kind: z.literal('thinking'), text: z.string() })
  .openapi('ThinkingBlock', { example: { kind: 'thinking', text: 'Composing a wide shot.' } })

export const ContentBlockSchema = z
  .discriminatedUnion('kind', [
    TextBlockSchema,
    ImageBlockSchema,
    AudioBlockSchema,
    VideoBlockSchema,
    FileBlockSchema,
    ToolUseBlockSchema,
    ToolResultBlockSchema,
    ThinkingBlockSchema,
  ])
  .openapi('ContentBlock', {
    description: 'One block of agent-ready content, discriminated on `kind`',
  })

export type ContentBlock = z.infer<typeof ContentBlockSchema>
export type ImageBlock = z.infer<typeof ImageBlockSchema>
