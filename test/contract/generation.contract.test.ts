import { randomUUID } from 'node:crypto'
import { createImagegateClient, ImagegateError } from '@imagegate/client'
import { describe, expect, inject, it } from 'vitest'
import { asciiGif } from '../../services/api/src/testing/images.ts'

/** Generation routes of the real server (default env: local-sketch) behind `prism proxy --errors`. */

const proxyUrl = inject('prismProxyUrl')
const client = createImagegateClient({ baseUrl: proxyUrl, apiKey: inject('serverKey') })

/** Prism marks any off-spec answer with `sl-violations` (and turns it into a 500 with --errors). */
function expectOnSpec(response: Response) {
  expect(response.headers.get('sl-violations')).toBeNull()
}

async function rejection(request: Promise<unknown>): Promise<ImagegateError> {
  const error = await request.then(
    () => undefined,
    (err: unknown) => err,
  )
  expect(error).toBeInstanceOf(ImagegateError)
  const failure = error as ImagegateError
  expect(failure.headers.get('sl-violations')).toBeNull()
  return failure
}

describe('generation routes behind prism proxy --errors (server ↔ spec)', () => {
  it('POST /v1/images/generations (b64_json) conforms', async () => {
    const { data, response } = await client.POST('/v1/images/generations', {
      body: { prompt: 'contract b64', size: '256x256', n: 2, style: 'vivid' },
    })
    expectOnSpec(response)
    expect(data?.data).toHaveLength(2)
    expect(data?.data[0]?.b64_json).toBeTruthy()
    expect(data?.warnings).toHaveLength(1)
  })

  it('POST /v1/images/generations (url) conforms', async () => {
    const { data, response } = await client.POST('/v1/images/generations', {
      body: { prompt: 'contract url', size: '256x256', response_format: 'url', seed: 3 },
    })
    expectOnSpec(response)
    expect(data?.data[0]?.url).toMatch(
      /\/v1\/assets\/ast_[0-9A-Z]{26}\/content\?expires=\d+&signature=[A-Za-z0-9_-]{43}$/,
    )
    expect(data?.data[0]?.b64_json).toBeUndefined()
  })

  it('POST /v1/skills/image-generate conforms', async () => {
    const { data, response } = await client.POST('/v1/skills/image-generate', {
      body: { prompt: 'contract skill', sourceTaskId: 'task-1' },
    })
    expectOnSpec(response)
    expect(data?.ok).toBe(true)
    expect(data?.contentBlocks).toEqual([
      {
        kind: 'image',
        assetId: data?.result.assetId,
        mediaType: 'image/png',
        alt: 'contract skill',
      },
    ])
  })

  it('Prefer: respond-async conforms: the 202, the records while queued and after, cancel', async () => {
    const accepted = await fetch(`${proxyUrl}/v1/images/generations`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${inject('serverKey')}`,
        'content-type': 'application/json',
        prefer: 'respond-async',
      },
      body: JSON.stringify({ prompt: 'contract job', size: '256x256' }),
    })
    expectOnSpec(accepted)
    expect(accepted.status).toBe(202)
    const { id } = (await accepted.json()) as { id: string }
    expect(accepted.headers.get('location')).toBe(`/v1/generations/${id}`)
    const done = await client.waitForGeneration(id, { initialIntervalMs: 50 })
    expect(done.status).toBe('succeeded')
    const finished = await rejection(
      client.POST('/v1/generations/{id}/cancel', { params: { path: { id } } }),
    )
    expect(finished).toMatchObject({ status: 409, code: 'generation_not_cancellable' })

    // The helper's answer passed the proxy, which turns an off-spec one into a 500.
    const skillId = (await client.skillAsync({ prompt: 'contract skill job' })).id
    const skillDone = await client.waitForGeneration(skillId)
    const one = await client.GET('/v1/generations/{id}', { params: { path: { id: skillId } } })
    expectOnSpec(one.response)
    expect(skillDone.skillResult?.result.generationId).toBe(skillId)
  })

  it('GET /v1/models conforms', async () => {
    const { data, response } = await client.GET('/v1/models')
    expectOnSpec(response)
    expect(data?.data.find((model) => model.id === 'local-sketch')?.available).toBe(true)
  })

  it('GET /v1/generations and /v1/generations/{id} conform, succeeded and failed records alike', async () => {
    await client.POST('/v1/images/generations', {
      body: { prompt: 'contract record', size: '256x256' },
    })
    const listed = await client.GET('/v1/generations', { params: { query: { limit: 2 } } })
    expectOnSpec(listed.response)
    expect(listed.data?.data.length).toBeGreaterThan(0)
    const id = listed.data?.data[0]?.id ?? ''
    const one = await client.GET('/v1/generations/{id}', { params: { path: { id } } })
    expectOnSpec(one.response)
    expect(one.data?.status).toBe('succeeded')

    if (listed.data?.nextCursor) {
      const next = await client.GET('/v1/generations', {
        params: { query: { limit: 2, cursor: listed.data.nextCursor } },
      })
      expectOnSpec(next.response)
    }
    const filtered = await client.GET('/v1/generations', {
      params: { query: { status: 'succeeded', provider: 'local', model: 'local-sketch' } },
    })
    expectOnSpec(filtered.response)
  })

  it('declares 400 model_not_found of POST /v1/images/generations', async () => {
    const error = await rejection(
      client.POST('/v1/images/generations', { body: { prompt: 'x', model: 'gpt-image-1' } }),
    )
    expect(error.status).toBe(400)
    expect(error.code).toBe('model_not_found')
  })

  it('declares 400 unsupported_parameter of POST /v1/images/generations', async () => {
    const error = await rejection(
      client.POST('/v1/images/generations', { body: { prompt: 'x', grounding: true } }),
    )
    expect(error.status).toBe(400)
    expect(error.code).toBe('unsupported_parameter')
  })

  it('declares the skill failure envelope', async () => {
    const error = await rejection(
      client.POST('/v1/skills/image-generate', { body: { prompt: 'x', model: 'no-such-model' } }),
    )
    expect(error.status).toBe(400)
    expect(error.body).toMatchObject({ ok: false, error: { code: 'model_not_found' } })
  })

  it('declares 404 of GET /v1/generations/{id}', async () => {
    const error = await rejection(
      client.GET('/v1/generations/{id}', {
        params: { path: { id: 'gen_01J9Z7Q8R4M2XK5T3B6N8V0WQB' } },
      }),
    )
    expect(error.status).toBe(404)
    expect(error.code).toBe('not_found')
  })

  it('declares 400 of GET /v1/generations for a cursor it never issued', async () => {
    const error = await rejection(
      client.GET('/v1/generations', { params: { query: { cursor: 'bm9wZQ' } } }),
    )
    expect(error.status).toBe(400)
    expect(error.code).toBe('invalid_request')
  })

  /**
   * Multipart edits, sent with fetch (openapi-fetch would need a body serializer). The upload is
   * an ASCII-only GIF: Prism's proxy forwards bodies as UTF-8 text (stoplightio/prism#1321).
   */
  function postEdit(fields: Record<string, string>, image?: Uint8Array) {
    const form = new FormData()
    for (const [name, value] of Object.entries(fields)) {
      form.append(name, value)
    }
    if (image) {
      form.append('image', new Blob([image as Uint8Array<ArrayBuffer>]), 'input.gif')
    }
    return fetch(`${proxyUrl}/v1/images/edits`, {
      method: 'POST',
      headers: { authorization: `Bearer ${inject('serverKey')}` },
      body: form,
    })
  }

  it('POST /v1/images/edits conforms, and so does the record with its inputs', async () => {
    const response = await postEdit(
      { prompt: 'contract edit', model: 'local-sketch', size: '256x256' },
      asciiGif(`edit ${randomUUID()}`),
    )
    expectOnSpec(response)
    expect(response.status).toBe(200)
    const answer = (await response.json()) as { generation_id: string; data: unknown[] }
    expect(answer.data).toHaveLength(1)
    const record = await client.GET('/v1/generations/{id}', {
      params: { path: { id: answer.generation_id } },
    })
    expectOnSpec(record.response)
    expect(record.data).toMatchObject({ operation: 'edit', inputs: [{ role: 'edit_target' }] })
  })

  it('a refinement by parent_generation_id conforms, and so does its record', async () => {
    const parent = await client.POST('/v1/images/generations', {
      body: { prompt: 'contract parent', size: '256x256' },
    })
    const { data, response } = await client.POST('/v1/images/generations', {
      body: {
        prompt: 'contract child',
        size: '256x256',
        parent_generation_id: parent.data?.generation_id ?? '',
      },
    })
    expectOnSpec(response)
    const record = await client.GET('/v1/generations/{id}', {
      params: { path: { id: data?.generation_id ?? '' } },
    })
    expectOnSpec(record.response)
    expect(record.data?.parentGenerationId).toBe(parent.data?.generation_id)
    expect(record.data?.parentAssetId).toBe(parent.data?.data[0]?.asset_id)
  })

  it('declares 400 of POST /v1/images/edits without an image', async () => {
    const response = await postEdit({ prompt: 'no image' })
    expectOnSpec(response)
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({
      error: { code: 'invalid_request', param: 'image' },
    })
  })

  it('declares 404 of a parent that is not in the workspace', async () => {
    const error = await rejection(
      client.POST('/v1/images/generations', {
        body: { prompt: 'x', parent_generation_id: 'gen_01J9Z7Q8R4M2XK5T3B6N8V0WQB' },
      }),
    )
    expect(error.status).toBe(404)
    expect(error.code).toBe('not_found')
  })
})
