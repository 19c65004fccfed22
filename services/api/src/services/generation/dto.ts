import type { z } from '@hono/zod-openapi'
import type { GenerationRow } from '../../db/schema/index.ts'
import type { GenerationSchema } from '../../schemas/generation.ts'

type Generation = z.infer<typeof GenerationSchema>

/** The wire form of a generation record; the stored model turn never leaves the server. */
export function toGenerationDto(
  row: GenerationRow,
  skillResult?: Generation['skillResult'],
): Generation {
  return {
    id: row.id,
    status: row.status,
    operation: row.operation,
    prompt: row.prompt,
    promptHash: row.promptHash,
    model: row.model,
    provider: row.provider,
    ...(row.size === null ? {} : { size: row.size }),
    ...(row.seed === null ? {} : { seed: row.seed }),
    n: row.n,
    parameters: row.parameters,
    assetIds: row.assetIds,
    inputAssetIds: row.inputAssetIds,
    inputs: (row.inputs ?? []).map((ref) => ({
      assetId: ref.assetId,
      role: ref.role,
      ...(ref.displayName === undefined ? {} : { displayName: ref.displayName }),
    })),
    attempts: row.attempts.map((attempt) => {
      const record = attempt as { startedAt: number | string } & Record<string, unknown>
      return {
        ...record,
        startedAt:
          typeof record.startedAt === 'number'
            ? new Date(record.startedAt).toISOString()
            : record.startedAt,
      } as Generation['attempts'][number]
    }),
    warnings: row.warnings,
    ...(row.usage ? { usage: row.usage } : {}),
    cost: row.costCents,
    ...(row.error ? { error: row.error as { code: string; message: string } } : {}),
    ...(row.timings ? { timings: row.timings } : {}),
    ...(row.parentGenerationId ? { parentGenerationId: row.parentGenerationId } : {}),
    ...(row.parentAssetId ? { parentAssetId: row.parentAssetId } : {}),
    rootGenerationId: row.rootGenerationId ?? row.id,
    ...(row.sourceTaskId ? { sourceTaskId: row.sourceTaskId } : {}),
    createdAt: row.createdAt,
    ...(row.finishedAt ? { finishedAt: row.finishedAt } : {}),
    ...(skillResult ? { skillResult } : {}),
  }
}
