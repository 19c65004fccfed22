import type { ApiClient } from './api-client.js'
import type { components } from './schema.js'

type EditFields = Omit<
  components['schemas']['ImageEditForm'],
  'image' | 'image[]' | 'mask' | 'image_labels' | 'n' | 'seed' | 'output_compression'
>

export type ImageInput = {
  bytes: Uint8Array
  /** e.g. `edit_target`, `reference`, `logo`, `face`, `character`, `style`. */
  role?: string
  /** Named in the prompt, e.g. the logo 'Acme'. */
  displayName?: string
  filename?: string
}

export type EditRequest = Partial<EditFields> & {
  prompt: string
  /** Uploaded images, in order; stored assets go in `image_asset_ids` (after these). */
  images?: ImageInput[]
  /** Roles and names of the stored assets in `image_asset_ids`, in the same order. */
  assetLabels?: { role?: string; displayName?: string }[]
  /** A PNG with alpha, the size of the first image. */
  mask?: Uint8Array
  n?: number
  seed?: number
  output_compression?: number
}

export type ImagesResponse = components['schemas']['ImageGenerationResponse']

export function editForm(request: EditRequest): FormData {
  const { images = [], assetLabels = [], mask, prompt, ...fields } = request
  const form = new FormData()
  form.append('prompt', prompt)
  for (const [name, value] of Object.entries(fields)) {
    if (value !== undefined) {
      form.append(name, String(value))
    }
  }
  const labels = [...images.map(({ role, displayName }) => ({ role, displayName })), ...assetLabels]
  if (labels.some((label) => label.role !== undefined || label.displayName !== undefined)) {
    form.append(
      'image_labels',
      JSON.stringify(
        labels.map(({ role, displayName }) => ({
          ...(role === undefined ? {} : { role }),
          ...(displayName === undefined ? {} : { display_name: displayName }),
        })),
      ),
    )
  }
  const field = images.length > 1 ? 'image[]' : 'image'
  images.forEach((image, index) => {
    form.append(
      field,
      new Blob([image.bytes as Uint8Array<ArrayBuffer>]),
      image.filename ?? `image-${index + 1}`,
    )
  })
  if (mask) {
    form.append('mask', new Blob([mask as Uint8Array<ArrayBuffer>]), 'mask.png')
  }
  return form
}

/** POST /v1/images/edits from bytes and labels: the multipart form is built here. */
export function editHelpers(client: ApiClient) {
  return {
    async editImage(request: EditRequest): Promise<ImagesResponse> {
      const { data } = await client.POST('/v1/images/edits', {
        body: editForm(request) as never,
        bodySerializer: (body: unknown) => body as FormData,
      })
      return data as ImagesResponse
    },
  }
}
