import createClient, { type Middleware } from 'openapi-fetch'
import { acceptedHelpers } from './accepted.js'
import type { ApiClient } from './api-client.js'
import { assetHelpers } from './assets.js'
import { editHelpers } from './edits.js'
import { toImagegateError } from './errors.js'
import { generationHelpers } from './generations.js'
import { streamHelpers } from './image-stream.js'
import type { components, paths } from './schema.js'

export type { SyncPaths } from './accepted.js'
export type { ApiClient } from './api-client.js'
export { type Asset, type DownloadedAsset, sha256Hex, type UploadMeta } from './assets.js'
export type { EditRequest, ImageInput, ImagesResponse } from './edits.js'
export { type ErrorBody, type ErrorCode, ImagegateError } from './errors.js'
export type {
  FinishedGeneration,
  Generation,
  GenerationStatus,
  WaitOptions,
} from './generations.js'
export {
  type ImageEditStreamEvent,
  type ImageGenerationStreamEvent,
  type ImageStreamRequest,
  readImageStream,
  type StreamedImageEvent,
  type StreamOptions,
} from './image-stream.js'
export type { components, paths } from './schema.js'

export type ContentBlock = components['schemas']['ContentBlock']

export type ImagegateClientOptions = {
  /** e.g. `http://127.0.0.1:8787` */
  baseUrl: string
  apiKey?: string
  /** Injected fetch, e.g. `async (request) => app.fetch(request)` for in-process tests. */
  fetch?: (request: Request) => Promise<Response>
  headers?: Record<string, string>
}

/** Turns every non-2xx (and non-304) answer into a thrown ImagegateError. */
const throwOnError: Middleware = {
  async onResponse({ response }) {
    if (!response.ok && response.status !== 304) {
      throw await toImagegateError(response)
    }
    return undefined
  },
}

export type ImagegateClient = ApiClient &
  ReturnType<typeof acceptedHelpers> &
  ReturnType<typeof assetHelpers> &
  ReturnType<typeof editHelpers> &
  ReturnType<typeof generationHelpers> &
  ReturnType<typeof streamHelpers>

/** A typed client of the imagegate contract (openapi/openapi.json). */
export function createImagegateClient(options: ImagegateClientOptions): ImagegateClient {
  const headers: Record<string, string> = { ...options.headers }
  if (options.apiKey) {
    headers.authorization = `Bearer ${options.apiKey}`
  }
  const client = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    headers,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  })
  client.use(throwOnError)
  const sync = client as unknown as ApiClient
  return Object.assign(
    sync,
    acceptedHelpers(client),
    assetHelpers(sync),
    editHelpers(sync),
    generationHelpers(sync),
    streamHelpers(sync),
  )
}
