import type { Client } from 'openapi-fetch'
import { type EditRequest, editForm } from './edits.js'
import type { Generation } from './generations.js'
import type { components, paths } from './schema.js'

/**
 * The contract's paths without the 202 answers that only `Prefer: respond-async` gets: with
 * them, every generation call's `data` would be a union of the images and a queued record. The
 * plain client (`POST`, `GET`, …) answers synchronously; the helpers below ask for the 202.
 */
export type SyncPaths = {
  [Path in keyof paths]: {
    [Method in keyof paths[Path]]: [paths[Path][Method]] extends [never]
      ? paths[Path][Method]
      : paths[Path][Method] extends { responses: infer Responses }
        ? Omit<paths[Path][Method], 'responses'> & { responses: Omit<Responses, 202> }
        : paths[Path][Method]
  }
}

type GenerationRequest = components['schemas']['ImageGenerationRequest']
type SkillRequest = components['schemas']['ImageGenerateSkillRequest']

const PREFER_ASYNC = { prefer: 'respond-async' }

/**
 * Generations accepted as jobs: each answers the `queued` record at once (202), to follow with
 * `waitForGeneration(record.id)` or cancel with POST /v1/generations/{id}/cancel.
 */
export function acceptedHelpers(client: Client<paths>) {
  return {
    async generateAsync(body: GenerationRequest): Promise<Generation> {
      const { data } = await client.POST('/v1/images/generations', {
        params: { header: PREFER_ASYNC },
        body,
      })
      return data as Generation
    },
    async editAsync(request: EditRequest): Promise<Generation> {
      const { data } = await client.POST('/v1/images/edits', {
        params: { header: PREFER_ASYNC },
        body: editForm(request) as never,
        bodySerializer: (body: unknown) => body as FormData,
      })
      return data as Generation
    },
    async skillAsync(body: SkillRequest): Promise<Generation> {
      const { data } = await client.POST('/v1/skills/image-generate', {
        params: { header: PREFER_ASYNC },
        body,
      })
      return data as Generation
    },
  }
}
