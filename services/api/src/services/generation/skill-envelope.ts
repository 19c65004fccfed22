import type { z } from '@hono/zod-openapi'
import type { AssetRow, GenerationRow } from '../../db/schema/index.ts'
import type { SkillSuccessSchema } from '../../schemas/skill.ts'
import { assetContentPath } from '../asset-dto.ts'

export type SkillEnvelope = z.infer<typeof SkillSuccessSchema>

const altText = (prompt: string) => (prompt.length <= 100 ? prompt : `${prompt.slice(0, 99)}…`)

/**
 * The skill's answer for a succeeded skill generation and its image: what POST
 * /v1/skills/image-generate answers, and what the record of a skill job carries.
 */
export function skillEnvelope(
  generation: Pick<GenerationRow, 'id' | 'model' | 'size' | 'prompt' | 'promptHash' | 'costCents'>,
  asset: Pick<AssetRow, 'id' | 'contentHash' | 'sizeBytes' | 'mediaType'>,
): SkillEnvelope {
  return {
    ok: true,
    result: {
      assetId: asset.id,
      contentHash: asset.contentHash,
      sizeBytes: asset.sizeBytes,
      cdnUrl: assetContentPath(asset.id),
      model: generation.model,
      size: generation.size ?? '',
      promptHash: generation.promptHash,
      generationId: generation.id,
      cost: generation.costCents,
    },
    contentBlocks: [
      {
        kind: 'image',
        assetId: asset.id,
        mediaType: asset.mediaType as 'image/png',
        alt: altText(generation.prompt),
      },
    ],
  }
}
