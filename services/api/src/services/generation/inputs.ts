import type { ModelEntry } from '../../catalog/model-entry.ts'
import type { GenerationsRepository } from '../../db/ports.ts'
import type { AssetRow, GenerationRow } from '../../db/schema/index.ts'
import { AppError, NotFoundError } from '../../errors/app-error.ts'
import type { ProviderName } from '../../providers/types.ts'
import { modelTurnForImage } from '../../refinement/gemini-model-turn.ts'
import { loadLineage } from '../../refinement/lineage.ts'
import { validateEditMask } from '../../refinement/mask.ts'
import type { ConversationStep, InputImage, InputImageRef } from '../../refinement/types.ts'
import type { AssetService } from '../assets.ts'

/**
 * What a request says about the images it builds on: a parent to refine (by generation or by
 * one of its assets), input images by asset id (uploads are stored as assets first) and a mask.
 */
export type InputRequest = {
  parentGenerationId?: string
  parentAssetId?: string
  inputs?: InputImageRef[]
  maskAssetId?: string
}

/** The request fields that carried each reference, so errors name the caller's own field. */
export type InputParams = {
  parentGenerationId: string
  parentAssetId: string
  inputs: string
  mask: string
}

export type ParentImage = {
  generation: GenerationRow
  assetId: string
  /** The image's index among those the parent's provider returned. */
  imageIndex: number
}

export type PreparedInputs = {
  parent: ParentImage | undefined
  /** The first generation of the lineage; undefined for a request that refines nothing. */
  rootGenerationId: string | undefined
  /** Gemini refinements: the earlier steps to replay, root first; empty otherwise. */
  chain: ConversationStep[]
  /** The images sent to the provider, in order (the parent's image first when not replayed). */
  images: InputImage[]
  /** What the generation records: every image sent, then the mask. */
  refs: InputImageRef[]
  mask: Uint8Array | undefined
}

export type InputDeps = {
  assets: Pick<AssetService, 'get' | 'openContent'>
  repo: Pick<GenerationsRepository, 'get' | 'findByAsset'>
}

/** 400 unsupported_parameter on `model` unless the model takes input images (catalog `edits`). */
export function assertTakesInputImages(model: ModelEntry): void {
  if (!model.edits) {
    throw new AppError(
      'unsupported_parameter',
      `${model.id} does not take input images, so it cannot edit or refine; GET /v1/models lists the models with capabilities.edits`,
      { param: 'model' },
    )
  }
}

/** Where asset `assetId` sits among a generation's returned images. */
export function imageIndexOf(row: GenerationRow, assetId: string | null | undefined): number {
  const position = assetId ? row.assetIds.indexOf(assetId) : 0
  const at = Math.max(0, position)
  return row.imageIndexes?.[at] ?? at
}

/** The parent a refinement names, checked: in the caller's workspace, and with an image. */
export async function resolveParent(
  deps: InputDeps,
  workspaceId: string,
  request: InputRequest,
  params: InputParams,
): Promise<ParentImage | undefined> {
  const { parentGenerationId, parentAssetId } = request
  if (parentGenerationId !== undefined && parentAssetId !== undefined) {
    throw new AppError(
      'invalid_request',
      `Give ${params.parentGenerationId} or ${params.parentAssetId}, not both`,
      { param: params.parentAssetId },
    )
  }
  if (parentGenerationId !== undefined) {
    const generation = await deps.repo.get(workspaceId, parentGenerationId)
    if (!generation) {
      throw new AppError('not_found', `No generation with id '${parentGenerationId}'`, {
        param: params.parentGenerationId,
      })
    }
    const [assetId] = generation.assetIds
    if (generation.status !== 'succeeded' || assetId === undefined) {
      throw new AppError(
        'invalid_request',
        `Generation '${parentGenerationId}' has no image to refine (its status is ${generation.status})`,
        { param: params.parentGenerationId },
      )
    }
    return { generation, assetId, imageIndex: imageIndexOf(generation, assetId) }
  }
  if (parentAssetId !== undefined) {
    try {
      await deps.assets.get(workspaceId, parentAssetId)
    } catch (err) {
      if (err instanceof NotFoundError) {
        throw new AppError('not_found', `No asset with id '${parentAssetId}'`, {
          param: params.parentAssetId,
        })
      }
      throw err
    }
    const generation = await deps.repo.findByAsset(workspaceId, parentAssetId)
    if (!generation) {
      throw new AppError(
        'invalid_request',
        `Asset '${parentAssetId}' was not made by a generation, so there is nothing to refine; send it as an input image instead`,
        { param: params.parentAssetId },
      )
    }
    return {
      generation,
      assetId: parentAssetId,
      imageIndex: imageIndexOf(generation, parentAssetId),
    }
  }
  return undefined
}

/** An asset's verified bytes, as an input image. */
export async function loadInput(
  deps: InputDeps,
  workspaceId: string,
  ref: InputImageRef,
  param: string,
): Promise<InputImage> {
  let row: AssetRow
  try {
    row = await deps.assets.get(workspaceId, ref.assetId)
  } catch (err) {
    if (err instanceof NotFoundError) {
      throw new AppError('not_found', `No asset with id '${ref.assetId}'`, { param })
    }
    throw err
  }
  const blob = await deps.assets.openContent(row)
  const bytes =
    blob.kind === 'bytes'
      ? blob.bytes
      : new Uint8Array(await new Response(blob.stream).arrayBuffer())
  return {
    bytes,
    mediaType: row.mediaType,
    role: ref.role,
    assetId: row.id,
    ...(ref.displayName === undefined ? {} : { displayName: ref.displayName }),
  }
}

/**
 * Whether a refinement of `parent` can replay the conversation: a Gemini model refining a Gemini
 * generation of the same model that kept its model turn. Anything else (OpenAI, the local
 * renderer, mock mode, a change of model) refines by sending the parent's image as the image to
 * edit: there is no turn to replay, or none the new model would accept.
 */
function replays(provider: ProviderName, model: ModelEntry, row: GenerationRow): boolean {
  return (
    provider === 'gemini' &&
    row.provider === 'gemini' &&
    row.model === model.id &&
    row.modelTurn !== null &&
    row.modelTurn !== undefined
  )
}

/** The earlier steps to replay, root first: the replayable end of the parent's lineage. */
async function replayChain(
  deps: InputDeps,
  workspaceId: string,
  provider: ProviderName,
  model: ModelEntry,
  parent: ParentImage,
): Promise<{ chain: ConversationStep[]; rootGenerationId: string }> {
  const rows = await loadLineage(
    parent.generation.id,
    async (id) => deps.repo.get(workspaceId, id),
    { maxTurns: model.maxTurns },
  )
  const rootGenerationId = rows[0]?.id ?? parent.generation.id
  // Walk up from the parent while each step can be replayed; an earlier step that cannot (made
  // by another model) ends the history: the first replayed step's own inputs carry its image.
  let first = rows.length - 1
  while (first > 0 && replays(provider, model, rows[first - 1] as GenerationRow)) {
    first--
  }
  const steps = rows.slice(first)
  const chain = await Promise.all(
    steps.map(async (row, index): Promise<ConversationStep> => {
      const child = steps[index + 1]
      const imageIndex = child ? imageIndexOf(row, child.parentAssetId) : parent.imageIndex
      const inputs = await Promise.all(
        (row.inputs ?? [])
          .filter((ref) => ref.role !== 'mask')
          .map((ref) => loadInput(deps, workspaceId, ref, 'parent_generation_id')),
      )
      return {
        generationId: row.id,
        prompt: row.prompt,
        ...(row.sentText === null ? {} : { sentText: row.sentText }),
        inputs,
        modelTurn: modelTurnForImage(row.modelTurn, imageIndex, {
          stepIndex: first + index,
          generationId: row.id,
        }),
      }
    }),
  )
  return { chain, rootGenerationId }
}

/**
 * Loads and checks everything a request builds on, before any provider is called: the parent
 * and its lineage, the input images (the asset store checked their type, size and pixels when
 * they were stored), the model's limits and the mask. Ids of another workspace are missing.
 */
export async function prepareInputs(
  deps: InputDeps,
  workspaceId: string,
  model: ModelEntry,
  provider: ProviderName,
  request: InputRequest,
  params: InputParams,
): Promise<PreparedInputs> {
  const parent = await resolveParent(deps, workspaceId, request, params)
  const given = request.inputs ?? []
  if (parent || given.length > 0 || request.maskAssetId !== undefined) {
    assertTakesInputImages(model)
  }

  let chain: ConversationStep[] = []
  let rootGenerationId: string | undefined
  const images: InputImage[] = []
  if (parent) {
    if (replays(provider, model, parent.generation)) {
      ;({ chain, rootGenerationId } = await replayChain(deps, workspaceId, provider, model, parent))
    } else {
      rootGenerationId = parent.generation.rootGenerationId ?? parent.generation.id
      images.push(
        await loadInput(
          deps,
          workspaceId,
          { assetId: parent.assetId, role: 'edit_target' },
          request.parentGenerationId === undefined
            ? params.parentAssetId
            : params.parentGenerationId,
        ),
      )
    }
  }
  images.push(
    ...(await Promise.all(given.map((ref) => loadInput(deps, workspaceId, ref, params.inputs)))),
  )
  if (images.length > model.maxInputImages) {
    throw new AppError(
      'invalid_request',
      `${model.id} takes at most ${model.maxInputImages} input images; this request has ${images.length}${parent && chain.length === 0 ? ' (the refined image counts as one)' : ''}`,
      { param: params.inputs },
    )
  }

  let mask: Uint8Array | undefined
  const refs: InputImageRef[] = images.map((image) => ({
    assetId: image.assetId as string,
    role: image.role,
    ...(image.displayName === undefined ? {} : { displayName: image.displayName }),
  }))
  if (request.maskAssetId !== undefined) {
    const [first] = images
    if (!first) {
      throw new AppError('invalid_request', 'A mask needs an image to edit; none was given', {
        param: params.mask,
      })
    }
    const loaded = await loadInput(
      deps,
      workspaceId,
      { assetId: request.maskAssetId, role: 'mask' },
      params.mask,
    )
    await validateEditMask(loaded.bytes, first.bytes)
    mask = loaded.bytes
    refs.push({ assetId: request.maskAssetId, role: 'mask' })
  }
  return { parent, rootGenerationId, chain, images, refs, mask }
}
