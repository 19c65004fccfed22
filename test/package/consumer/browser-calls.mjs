/**
 * The installed package in a browser page: the bare specifiers resolve through the page's import
 * map, fetch and crypto.subtle are the browser's. The test calls `window.imagegateCalls`.
 */
import { createImagegateClient, ImagegateError } from '@imagegate/client'

window.imagegateCalls = async (baseUrl, apiKey, pngUrl) => {
  const client = createImagegateClient({ baseUrl, apiKey })
  const { data: generated } = await client.POST('/v1/images/generations', {
    body: {
      model: 'local-sketch',
      prompt: 'a browser tab',
      size: '256x256',
      response_format: 'url',
    },
  })
  const image = generated.data[0]
  const downloaded = await client.downloadAsset(image.asset_id)
  const png = new Uint8Array(await (await fetch(pngUrl)).arrayBuffer())
  const uploaded = await client.uploadAsset(png, { kind: 'reference' })
  const missing = await client
    .GET('/v1/assets/{id}', { params: { path: { id: 'ast_00000000000000000000000000' } } })
    .then(
      () => undefined,
      (error) => error,
    )
  return {
    contentHash: image.content_hash,
    downloadedHash: downloaded.contentHash,
    uploadedHash: uploaded.contentHash,
    notFound: { isImagegateError: missing instanceof ImagegateError, code: missing?.code },
  }
}
