import type { ApiClient } from './api-client.js'
import { ImagegateError } from './errors.js'
import type { components } from './schema.js'

export type Asset = components['schemas']['Asset']

export type UploadMeta = {
  kind?: string
  description?: string
  folderPath?: string
  sourceTaskId?: string
  sourceAgentImUserId?: string
  filename?: string
}

export type DownloadedAsset = { bytes: Uint8Array; contentHash: string; mediaType: string }

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>)
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, '0')).join('')
}

function uploadForm(bytes: Uint8Array, meta: UploadMeta) {
  const form = new FormData()
  const { filename = 'upload', ...fields } = meta
  for (const [name, value] of Object.entries(fields)) {
    if (value !== undefined) {
      form.append(name, value)
    }
  }
  form.append('file', new Blob([bytes as Uint8Array<ArrayBuffer>]), filename)
  return form
}

/**
 * The asset helpers of the reference skill: the upload computes its own digest and, when the
 * server says the bytes arrived corrupted (422 digest_mismatch), sends them once more before
 * failing loudly; the download re-hashes what arrived and refuses a mismatch.
 */
export function assetHelpers(client: ApiClient) {
  return {
    async uploadAsset(
      bytes: Uint8Array,
      meta: UploadMeta = {},
    ): Promise<Asset & { created: boolean }> {
      const contentHash = await sha256Hex(bytes)
      for (let attempt = 1; ; attempt++) {
        try {
          const { data, response } = await client.POST('/v1/assets', {
            params: { header: { 'x-content-sha256': contentHash } },
            body: uploadForm(bytes, meta) as never,
            bodySerializer: (body: unknown) => body as FormData,
          })
          return { ...(data as Asset), created: response.status === 201 }
        } catch (err) {
          if (err instanceof ImagegateError && err.code === 'digest_mismatch' && attempt === 1) {
            continue
          }
          throw err
        }
      }
    },

    async downloadAsset(id: string): Promise<DownloadedAsset> {
      const { data, response } = await client.GET('/v1/assets/{id}/content', {
        params: { path: { id } },
        parseAs: 'arrayBuffer',
      })
      const bytes = new Uint8Array(data as unknown as ArrayBuffer)
      const expected = (response.headers.get('etag') ?? '').replaceAll('"', '')
      const actual = await sha256Hex(bytes)
      if (actual !== expected) {
        throw new ImagegateError(
          response.status,
          {
            error: {
              type: 'invalid_response',
              code: 'digest_mismatch',
              message: `Downloaded bytes hash to ${actual}, the server announced ${expected}`,
              requestId: response.headers.get('x-request-id') ?? 'unknown',
            },
          },
          response.headers,
        )
      }
      return { bytes, contentHash: actual, mediaType: response.headers.get('content-type') ?? '' }
    },
  }
}
