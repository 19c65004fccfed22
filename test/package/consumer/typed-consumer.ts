/**
 * A TypeScript consumer of the installed package, type-checked with `tsc --noEmit`. Each
 * `@ts-expect-error` line must stay an error: a misspelt field that compiled would be a
 * contract the types no longer describe.
 */
import {
  type Asset,
  type ContentBlock,
  createImagegateClient,
  type ImagegateClient,
  ImagegateError,
  type paths,
} from '@imagegate/client'

const client: ImagegateClient = createImagegateClient({
  baseUrl: 'http://127.0.0.1:8787',
  apiKey: 'igk_example',
})

type GenerationBody =
  paths['/v1/images/generations']['post']['requestBody']['content']['application/json']

export async function firstAssetId(body: GenerationBody): Promise<string | undefined> {
  const { data } = await client.POST('/v1/images/generations', { body })
  return data?.data[0]?.asset_id
}

export function describeAsset(asset: Asset): string {
  return `${asset.id} ${asset.mediaType} ${asset.sizeBytes} bytes, sha256 ${asset.contentHash}`
}

export function altText(block: ContentBlock): string | undefined {
  return block.kind === 'image' ? block.alt : undefined
}

export async function assetOrNothing(id: string): Promise<Asset | undefined> {
  try {
    const { data } = await client.GET('/v1/assets/{id}', { params: { path: { id } } })
    return data
  } catch (error) {
    if (error instanceof ImagegateError && error.code === 'not_found') {
      return undefined
    }
    throw error
  }
}

// The README's examples, as written there.
export async function readmeExamples(bytes: Uint8Array, photo: Uint8Array, logo: Asset) {
  const { data: first } = await client.POST('/v1/images/generations', {
    body: {
      model: 'local-sketch',
      prompt: 'a lighthouse at dusk',
      size: '256x256',
      response_format: 'url',
    },
  })
  const image = first?.data[0]

  const asset = await client.uploadAsset(bytes, { kind: 'reference', folderPath: '/brand' })
  const { bytes: stored, contentHash, mediaType } = await client.downloadAsset(asset.id)

  const edited = await client.editImage({
    prompt: 'put the logo on the mug',
    model: 'local-sketch',
    size: '256x256',
    images: [{ bytes: photo, role: 'edit_target', filename: 'mug.png' }],
    image_asset_ids: logo.id,
    assetLabels: [{ role: 'logo', displayName: 'Acme' }],
  })

  const refined = await client.POST('/v1/images/generations', {
    body: { prompt: 'make the sky stormy', parent_generation_id: edited.generation_id },
  })

  const ids: string[] = []
  let cursor: string | undefined
  do {
    const { data: page } = await client.GET('/v1/assets', {
      params: { query: { limit: 100, folderPath: '/brand', cursor } },
    })
    for (const listed of page?.data ?? []) {
      ids.push(listed.id, listed.contentHash)
    }
    cursor = page?.nextCursor ?? undefined
  } while (cursor)

  const created: boolean = asset.created
  return {
    image,
    stored,
    contentHash,
    mediaType,
    refined: refined.data?.generation_id,
    ids,
    created,
  }
}

export const misspeltRequest = () =>
  // @ts-expect-error `promt` is not a field of the generation request
  client.POST('/v1/images/generations', { body: { promt: 'a lighthouse' } })

// @ts-expect-error `contentHsh` is not a field of an asset
export const misspeltField = (asset: Asset) => asset.contentHsh
