/**
 * What another team's service does with the installed package, in plain Node ESM: generate,
 * download with a digest check, refine, edit, upload with its digest, page through assets and
 * meet a typed error. Prints one JSON report for the test to check.
 * Usage: node gateway-calls.mjs <baseUrl> <apiKey> <png file>
 */
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { createImagegateClient, ImagegateError } from '@imagegate/client'

const [baseUrl, apiKey, pngFile] = process.argv.slice(2)
const client = createImagegateClient({ baseUrl, apiKey })
const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex')

const { data: generated } = await client.POST('/v1/images/generations', {
  body: {
    model: 'local-sketch',
    prompt: 'a lighthouse at dusk',
    size: '256x256',
    response_format: 'url',
  },
})
const image = generated.data[0]
const downloaded = await client.downloadAsset(image.asset_id)

const { data: refined } = await client.POST('/v1/images/generations', {
  body: { prompt: 'make the sky stormy', parent_generation_id: generated.generation_id },
})
const { data: refinedRecord } = await client.GET('/v1/generations/{id}', {
  params: { path: { id: refined.generation_id } },
})

const png = new Uint8Array(await readFile(pngFile))
const uploaded = await client.uploadAsset(png, { kind: 'reference', folderPath: '/consumer' })
const uploadedAgain = await client.uploadAsset(png, { kind: 'reference', folderPath: '/consumer' })

const edited = await client.editImage({
  prompt: 'put the reference in a frame',
  model: 'local-sketch',
  size: '256x256',
  images: [{ bytes: png, role: 'edit_target', filename: 'reference.png' }],
})

const pagedIds = []
let cursor
do {
  const { data: page } = await client.GET('/v1/assets', {
    params: { query: { limit: 1, ...(cursor ? { cursor } : {}) } },
  })
  pagedIds.push(...page.data.map((asset) => asset.id))
  cursor = page.nextCursor ?? undefined
} while (cursor)

const missing = await client
  .GET('/v1/assets/{id}', { params: { path: { id: 'ast_00000000000000000000000000' } } })
  .then(
    () => undefined,
    (error) => error,
  )

console.log(
  JSON.stringify({
    generation: {
      id: generated.generation_id,
      assetId: image.asset_id,
      contentHash: image.content_hash,
      downloadedHash: downloaded.contentHash,
      downloadedSha256: sha256(downloaded.bytes),
      mediaType: downloaded.mediaType,
    },
    refinement: { id: refined.generation_id, parentGenerationId: refinedRecord.parentGenerationId },
    upload: {
      id: uploaded.id,
      contentHash: uploaded.contentHash,
      sizeBytes: uploaded.sizeBytes,
      created: uploaded.created,
      againId: uploadedAgain.id,
      againCreated: uploadedAgain.created,
    },
    edit: { id: edited.generation_id, images: edited.data.length },
    pagedIds,
    notFound: {
      isImagegateError: missing instanceof ImagegateError,
      name: missing?.name,
      status: missing?.status,
      code: missing?.code,
      requestId: missing?.requestId,
    },
  }),
)
