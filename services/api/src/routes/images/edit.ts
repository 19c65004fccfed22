import { createRoute } from '@hono/zod-openapi'
import type { RouteAccessRule } from '../../access/scopes.ts'
import type { AppDeps } from '../../deps.ts'
import { InvalidRequestError } from '../../errors/app-error.ts'
import { refuseNulText } from '../../errors/nul-text.ts'
import { errorResponses } from '../../errors/responses.ts'
import { invalidRequestFromIssues } from '../../errors/zod-issues.ts'
import { type EditForm, type EditFormFile, readEditForm } from '../../http/edit-form.ts'
import {
  acceptedAnswer,
  acceptedResponse,
  PreferHeadersSchema,
  prefersRespondAsync,
} from '../../http/respond-async.ts'
import type { App } from '../../http/route-types.ts'
import type { InputImageRef } from '../../refinement/types.ts'
import { ImageEditStreamEventSchema } from '../../schemas/image-stream.ts'
import {
  type ImageEditFields,
  ImageEditFieldsSchema,
  ImageEditFormSchema,
  ImageLabelsSchema,
} from '../../schemas/images.ts'
import { assertTakesInputImages } from '../../services/generation/inputs.ts'
import { withInputImages } from '../../services/generation/prepare.ts'
import { planStream } from '../../services/generation/stream.ts'
import type { PreparedGeneration } from '../../services/generation/types.ts'
import { imagesAnswer, imagesResponse } from './answer.ts'
import { streamAnswer } from './stream-answer.ts'

export const route = createRoute({
  method: 'post',
  path: '/v1/images/edits',
  operationId: 'createImageEdit',
  tags: ['Images'],
  summary: 'Edit images (OpenAI-compatible)',
  description:
    'The OpenAI Images edit shape: `client.images.edit` of the official SDKs works unchanged. Input ' +
    'images come as uploads (`image`, `image[]`), as stored assets (`image_asset_ids`) or as an ' +
    'earlier generation to refine (`parent_generation_id`, `parent_asset_id`); each can carry a ' +
    'role and a display name (`image_labels`) that the prompt names. Uploads are checked and ' +
    'stored like POST /v1/assets; the mask must be a PNG with alpha the size of the first image. ' +
    'The result is stored and recorded with its inputs and parent.',
  request: {
    headers: PreferHeadersSchema,
    body: {
      required: true,
      content: { 'multipart/form-data': { schema: ImageEditFormSchema } },
    },
  },
  responses: {
    200: imagesResponse('The edited images', ImageEditStreamEventSchema),
    ...acceptedResponse,
    ...errorResponses(400, 404, 413, 415, 502, 503, 504),
  },
})

export const access: RouteAccessRule = {
  scope: 'generate',
  rateLimit: 'images',
  idempotent: true,
  charged: true,
}

function monthFolder(date: Date) {
  return `/uploads/edits/${date.toISOString().slice(0, 7)}`
}

/** The text fields, checked like a JSON body would be (400 invalid_request naming the field). */
function parseFields(fields: Record<string, string>): ImageEditFields {
  const parsed = ImageEditFieldsSchema.safeParse(fields)
  if (!parsed.success) {
    throw invalidRequestFromIssues(parsed.error.issues, {
      unknownField: (name) => `Unknown field '${name}' for an image edit`,
    })
  }
  refuseNulText(parsed.data)
  return parsed.data
}

function parseLabels(text: string | undefined, count: number) {
  if (text === undefined) {
    return []
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new InvalidRequestError('image_labels must be a JSON array', { param: 'image_labels' })
  }
  const parsed = ImageLabelsSchema.safeParse(json)
  if (!parsed.success) {
    throw invalidRequestFromIssues(parsed.error.issues, { at: 'image_labels' })
  }
  refuseNulText(parsed.data, 'image_labels')

  if (parsed.data.length > count) {
    throw new InvalidRequestError(
      `image_labels has ${parsed.data.length} entries for ${count} images`,
      { param: 'image_labels' },
    )
  }
  return parsed.data
}

export function register(
  app: App,
  deps: Pick<
    AppDeps,
    'assets' | 'clock' | 'config' | 'generation' | 'inFlight' | 'jobs' | 'signedUrls'
  >,
) {
  app.openAPIRegistry.registerPath(route)

  /** Stores an uploaded file through the asset store's checks (type sniffed, size and pixels). */
  async function store(workspaceId: string, file: EditFormFile, kind: string) {
    const { asset } = await deps.assets.ingest(workspaceId, file.bytes, {
      kind,
      folderPath: monthFolder(deps.clock.now()),
      ...(file.filename ? { description: file.filename.slice(0, 500) } : {}),
    })
    return asset
  }

  async function prepare(
    workspaceId: string,
    form: EditForm,
    fields: ImageEditFields,
  ): Promise<PreparedGeneration> {
    const uploads = form.files.filter((file) => file.field === 'image' || file.field === 'image[]')
    const masks = form.files.filter((file) => file.field === 'mask')
    if (masks.length > 1) {
      throw new InvalidRequestError('Send at most one mask', { param: 'mask' })
    }
    const [maskFile] = masks
    if (maskFile && fields.mask_asset_id) {
      throw new InvalidRequestError('Send the mask as a file or as mask_asset_id, not both', {
        param: 'mask',
      })
    }
    const assetIds = fields.image_asset_ids?.split(',') ?? []
    const refining =
      fields.parent_generation_id !== undefined || fields.parent_asset_id !== undefined
    const count = uploads.length + assetIds.length
    if (count === 0 && !refining) {
      throw new InvalidRequestError(
        'An edit needs an image: upload `image`, or give image_asset_ids or parent_generation_id',
        { param: 'image' },
      )
    }
    const labels = parseLabels(fields.image_labels, count)

    const {
      response_format: _responseFormat,
      stream,
      partial_images: partialImages,
      image_asset_ids: _imageAssetIds,
      image_labels: _imageLabels,
      mask_asset_id: givenMaskAssetId,
      parent_generation_id: parentGenerationId,
      parent_asset_id: parentAssetId,
      input_fidelity: inputFidelity,
      webhook_url: webhookUrl,
      ...rest
    } = fields
    const prepared = await deps.generation.prepare(workspaceId, {
      ...rest,
      ...(webhookUrl ? { webhookUrl } : {}),
      ...(parentGenerationId ? { parentGenerationId } : {}),
      ...(parentAssetId ? { parentAssetId } : {}),
      ...(inputFidelity ? { inputFidelity } : {}),
      params: { inputs: uploads.length > 0 ? 'image' : 'image_asset_ids' },
      operation: 'edit',
    })
    // A model that cannot edit (or stream, when asked to) is refused before any upload is stored.
    assertTakesInputImages(prepared.model)
    if (stream === 'true') {
      planStream(prepared.model, prepared.plan.n, partialImages)
    }

    const stored = await Promise.all(uploads.map((file) => store(workspaceId, file, 'reference')))
    const ids = [...stored.map((asset) => asset.id), ...assetIds]
    const inputs: InputImageRef[] = ids.map((assetId, index) => {
      const label = labels[index]
      // As in OpenAI's edits, every image sent is one to edit or combine, unless a parent is
      // refined: then the parent's image is the one to edit, and the others are references.
      const role = label?.role ?? (refining ? 'reference' : 'edit_target')
      return {
        assetId,
        role,
        ...(label?.display_name ? { displayName: label.display_name } : {}),
      }
    })
    const maskAssetId = maskFile
      ? (await store(workspaceId, maskFile, 'mask')).id
      : givenMaskAssetId
    return withInputImages(prepared, { inputs, maskAssetId })
  }

  app.post('/v1/images/edits', async (c) => {
    const started = performance.now()
    const workspaceId = c.get('workspaceId')
    const form = await readEditForm(c, deps.config.maxUploadBytes)
    const fields = parseFields(form.fields)
    const prepared = await prepare(workspaceId, form, fields)
    if (fields.stream === 'true') {
      const operation = 'image_edit'
      return streamAnswer(c, deps, prepared, { operation, partialImages: fields.partial_images })
    }
    if (prefersRespondAsync(c.req.header('prefer'))) {
      // The uploads are stored assets by now: the job refers to them, never to the request.
      return acceptedAnswer(c, await deps.jobs.accept(prepared, c.get('charge')))
    }
    const outcome = await deps.generation.generatePrepared(prepared, c.get('charge'))
    return imagesAnswer(c, deps, outcome, fields.response_format, started)
  })
}
