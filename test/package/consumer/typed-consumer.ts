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

export const misspeltRequest = () =>
  // @ts-expect-error `promt` is not a field of the generation request
  client.POST('/v1/images/generations', { body: { promt: 'a lighthouse' } })

// @ts-expect-error `contentHsh` is not a field of an asset
export const misspeltField = (asset: Asset) => asset.contentHsh
