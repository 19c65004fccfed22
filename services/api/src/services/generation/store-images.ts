import type { Clock } from '../../ids.ts'
import { assertIntact } from '../../images/integrity.ts'
import type { ProviderImage, ProviderName } from '../../providers/types.ts'
import { UpstreamFailure } from '../../providers/types.ts'
import type { AssetService } from '../assets.ts'
import { type CallResult, isFailedCall } from './dispatch.ts'
import type { GeneratedImage, GenerationInput } from './types.ts'

export type StoreImagesDeps = {
  assets: Pick<AssetService, 'ingest'>
  clock: Clock
}

export type StoredImages = {
  images: GeneratedImage[]
  /** Each stored image's index among those the provider returned. */
  imageIndexes: number[]
  /** The first failure in the order the images came: a failed call or an image refused. */
  firstFailure: unknown
}

function monthFolder(date: Date) {
  return `/generated/images/${date.toISOString().slice(0, 7)}`
}

/**
 * Checks and stores one returned image; a bad one is the provider's fault. The integrity
 * check (the file's structure walked, its pixels not decoded: see images/integrity.ts) must
 * pass before the asset row is committed.
 */
export async function storeImage(
  deps: StoreImagesDeps,
  workspaceId: string,
  input: GenerationInput,
  image: ProviderImage,
  provider: ProviderName,
): Promise<GeneratedImage> {
  const verified = assertIntact(image.bytes).catch((err: unknown) => {
    throw new UpstreamFailure(
      'bad_response',
      provider,
      'The provider returned an image that does not decode',
      { cause: err },
    )
  })
  const { asset } = await deps.assets.ingest(
    workspaceId,
    image.bytes,
    {
      kind: 'image',
      folderPath: monthFolder(deps.clock.now()),
      description: input.prompt.slice(0, 500),
      ...(input.sourceTaskId ? { sourceTaskId: input.sourceTaskId } : {}),
      ...(input.sourceAgentImUserId ? { sourceAgentImUserId: input.sourceAgentImUserId } : {}),
    },
    { verified },
  )
  return {
    asset,
    bytes: image.bytes,
    ...(image.base64 ? { base64: image.base64 } : {}),
    ...(image.revisedPrompt ? { revisedPrompt: image.revisedPrompt } : {}),
  }
}

/** Stores every image of every call at once; failures are then taken in the order they came. */
export async function storeImages(
  deps: StoreImagesDeps,
  workspaceId: string,
  input: GenerationInput,
  results: readonly CallResult[],
  provider: ProviderName,
): Promise<StoredImages> {
  const outcomes: (
    | { failure: unknown }
    | { stored: Promise<PromiseSettledResult<GeneratedImage>>; imageIndex: number }
  )[] = []
  let returned = 0
  for (const result of results) {
    if (isFailedCall(result)) {
      outcomes.push({ failure: result })
      continue
    }
    for (const image of result.images) {
      const stored = storeImage(deps, workspaceId, input, image, provider)
      outcomes.push({ stored: settle(stored), imageIndex: returned++ })
    }
  }
  const images: GeneratedImage[] = []
  const imageIndexes: number[] = []
  let firstFailure: unknown
  for (const outcome of outcomes) {
    if ('failure' in outcome) {
      firstFailure ??= outcome.failure
      continue
    }
    const stored = await outcome.stored
    if (stored.status === 'fulfilled') {
      images.push(stored.value)
      imageIndexes.push(outcome.imageIndex)
    } else {
      firstFailure ??= stored.reason
    }
  }
  return { images, imageIndexes, firstFailure }
}

/** Never rejects, so a promise waited for later cannot count as an unhandled rejection meanwhile. */
function settle<T>(promise: Promise<T>): Promise<PromiseSettledResult<T>> {
  return promise.then(
    (value) => ({ status: 'fulfilled', value }),
    (reason: unknown) => ({ status: 'rejected', reason }),
  )
}
