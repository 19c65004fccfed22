import sharp from 'sharp'
import { afterEach, describe, expect, it } from 'vitest'
import { noiseJpeg, noisePng, sha256Hex } from '../../testing/images.ts'
import { createTestApp, type TestApp } from '../../testing/test-app.ts'

let t: TestApp
afterEach(async () => {
  await t?.close()
})

type FilePart = { field: string; bytes: Uint8Array; filename?: string; type?: string }
type ImagesAnswer = {
  data: { asset_id: string; content_hash: string; width: number; height: number }[]
  generation_id: string
  model: string
  warnings: string[]
}
type ErrorAnswer = { error: { code: string; param: string | null; message: string } }
type GenerationRecord = {
  id: string
  operation: string
  model: string
  parentGenerationId?: string
  parentAssetId?: string
  rootGenerationId: string
  inputAssetIds: string[]
  inputs: { assetId: string; role: string; displayName?: string }[]
  assetIds: string[]
  status: string
}

function editForm(fields: Record<string, string>, files: FilePart[]) {
  const form = new FormData()
  for (const [name, value] of Object.entries(fields)) {
    form.append(name, value)
  }
  for (const file of files) {
    form.append(
      file.field,
      new Blob([file.bytes as Uint8Array<ArrayBuffer>], { type: file.type ?? 'image/png' }),
      file.filename ?? 'image.png',
    )
  }
  return form
}

function edit(
  app: TestApp,
  fields: Record<string, string>,
  files: FilePart[],
  headers: Record<string, string> = {},
) {
  return app.app.request('/v1/images/edits', {
    method: 'POST',
    headers,
    body: editForm(fields, files),
  })
}

async function ok<T>(response: Response | Promise<Response>, status = 200): Promise<T> {
  const answer = await response
  const text = await answer.text()
  expect(answer.status, text).toBe(status)
  return JSON.parse(text) as T
}

async function refused(response: Response | Promise<Response>, status: number) {
  const answer = await response
  const body = (await answer.json()) as ErrorAnswer
  expect(answer.status, JSON.stringify(body)).toBe(status)
  return body.error
}

async function record(app: TestApp, id: string) {
  return ok<GenerationRecord>(app.app.request(`/v1/generations/${id}`))
}

async function contentOf(app: TestApp, assetId: string) {
  const response = await app.app.request(`/v1/assets/${assetId}/content`)
  return new Uint8Array(await response.arrayBuffer())
}

function json(app: TestApp, path: string, body: unknown, headers: Record<string, string> = {}) {
  return app.app.request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  })
}

/** A PNG mask: transparent (alpha 0) where the image may change. */
function maskPng(width: number, height: number, channels: 3 | 4 = 4) {
  return sharp({
    create: { width, height, channels, background: { r: 0, g: 0, b: 0, alpha: 0 } },
  })
    .png()
    .toBuffer()
}

async function assetCount(app: TestApp) {
  const page = await ok<{ data: unknown[] }>(app.app.request('/v1/assets?limit=100'))
  return page.data.length
}

describe('POST /v1/images/edits with the local renderer', () => {
  it('stores the upload, records it as the edit target and derives the picture from it', async () => {
    t = await createTestApp()
    const input = await noisePng('edit-input', 256)
    const answer = await ok<ImagesAnswer>(
      edit(t, { prompt: 'make it blue', model: 'local-sketch', size: '256x256', seed: '7' }, [
        { field: 'image', bytes: input, filename: 'photo.png' },
      ]),
    )
    expect(answer.data).toHaveLength(1)
    expect(answer.data[0]).toMatchObject({ width: 256, height: 256 })

    const generation = await record(t, answer.generation_id)
    expect(generation).toMatchObject({ operation: 'edit', status: 'succeeded' })
    const [target] = generation.inputs
    expect(generation.inputs).toEqual([{ assetId: target?.assetId, role: 'edit_target' }])
    expect(generation.inputAssetIds).toEqual([target?.assetId])
    const stored = await ok<{ kind: string; contentHash: string }>(
      t.app.request(`/v1/assets/${target?.assetId}`),
    )
    expect(stored).toMatchObject({ kind: 'reference', contentHash: sha256Hex(input) })

    // The picture depends on the input: another input gives other bytes, the same input the same.
    const again = await ok<ImagesAnswer>(
      edit(t, { prompt: 'make it blue', model: 'local-sketch', size: '256x256', seed: '7' }, [
        { field: 'image', bytes: input },
      ]),
    )
    expect(again.data[0]?.content_hash).toBe(answer.data[0]?.content_hash)
    const other = await ok<ImagesAnswer>(
      edit(t, { prompt: 'make it blue', model: 'local-sketch', size: '256x256', seed: '7' }, [
        { field: 'image', bytes: await noisePng('another-input', 256) },
      ]),
    )
    expect(other.data[0]?.content_hash).not.toBe(answer.data[0]?.content_hash)
    const plain = await ok<ImagesAnswer>(
      json(t, '/v1/images/generations', {
        prompt: 'make it blue',
        model: 'local-sketch',
        size: '256x256',
        seed: 7,
      }),
    )
    expect(plain.data[0]?.content_hash).not.toBe(answer.data[0]?.content_hash)
  })

  it('takes stored assets with roles and display names, after the uploads', async () => {
    t = await createTestApp()
    const logoBytes = await noisePng('logo', 64)
    const logo = await ok<{ id: string }>(
      t.app.request('/v1/assets', {
        method: 'POST',
        headers: { 'x-content-sha256': sha256Hex(logoBytes) },
        body: editForm({ kind: 'logo' }, [{ field: 'file', bytes: logoBytes }]),
      }),
      201,
    )
    const answer = await ok<ImagesAnswer>(
      edit(
        t,
        {
          prompt: 'put the logo on the mug',
          model: 'local-sketch',
          size: '256x256',
          image_asset_ids: logo.id,
          image_labels: JSON.stringify([{}, { role: 'logo', display_name: 'Acme' }]),
        },
        [{ field: 'image', bytes: await noisePng('mug', 256) }],
      ),
    )
    const generation = await record(t, answer.generation_id)
    expect(generation.inputs.map(({ role, displayName }) => [role, displayName])).toEqual([
      ['edit_target', undefined],
      ['logo', 'Acme'],
    ])
    expect(generation.inputs[1]?.assetId).toBe(logo.id)
  })

  it('accepts a PNG mask with alpha the size of the first image and records it last', async () => {
    t = await createTestApp()
    const answer = await ok<ImagesAnswer>(
      edit(t, { prompt: 'add a hat', model: 'local-sketch', size: '256x256' }, [
        { field: 'image', bytes: await noisePng('portrait', 256) },
        { field: 'mask', bytes: await maskPng(256, 256) },
      ]),
    )
    const generation = await record(t, answer.generation_id)
    expect(generation.inputs.map((input) => input.role)).toEqual(['edit_target', 'mask'])
  })
})

describe('POST /v1/images/edits refuses bad input with the reason, and stores nothing for it', () => {
  it.each([
    ['a JPEG', () => noiseJpeg('mask', 256), /mask must be a PNG with an alpha channel; got JPEG/],
    ['a PNG without alpha', () => maskPng(256, 256, 3), /this PNG has none/],
    ['a mask of another size', () => maskPng(128, 128), /mask is 128x128 but the image is 256x256/],
  ])('mask: %s → 400 on mask', async (_name, makeMask, message) => {
    t = await createTestApp()
    const error = await refused(
      edit(t, { prompt: 'add a hat', model: 'local-sketch' }, [
        { field: 'image', bytes: await noisePng('portrait', 256) },
        { field: 'mask', bytes: await makeMask() },
      ]),
      400,
    )
    expect(error).toMatchObject({ code: 'invalid_request', param: 'mask' })
    expect(error.message).toMatch(message)
  })

  it('needs an image', async () => {
    t = await createTestApp()
    const error = await refused(edit(t, { prompt: 'anything' }, []), 400)
    expect(error).toMatchObject({ code: 'invalid_request', param: 'image' })
  })

  it('names an unknown field, and a stream value that is not a boolean', async () => {
    t = await createTestApp()
    const image = { field: 'image', bytes: await noisePng('x', 64) }
    const unknown = await refused(edit(t, { prompt: 'x', colour: 'red' }, [image]), 400)
    expect(unknown.message).toBe("Unknown field 'colour' for an image edit")
    const stream = await refused(edit(t, { prompt: 'x', stream: 'yes' }, [image]), 400)
    expect(stream).toMatchObject({ code: 'invalid_request', param: 'stream' })
    const n = await refused(edit(t, { prompt: 'x', n: 'eleven' }, [image]), 400)
    expect(n).toMatchObject({ code: 'invalid_request', param: 'n' })
  })

  it('refuses more input images than the model takes', async () => {
    t = await createTestApp()
    const first = await ok<ImagesAnswer>(
      edit(t, { prompt: 'seed', model: 'local-sketch', size: '256x256' }, [
        { field: 'image', bytes: await noisePng('one', 64) },
      ]),
    )
    const stored = (await record(t, first.generation_id)).inputs[0]?.assetId ?? ''
    const error = await refused(
      edit(
        t,
        {
          prompt: 'too many',
          model: 'local-sketch',
          image_asset_ids: Array.from({ length: 16 }, () => stored).join(','),
        },
        [{ field: 'image', bytes: await noisePng('two', 64) }],
      ),
      400,
    )
    expect(error.message).toBe('local-sketch takes at most 16 input images; this request has 17')
  })

  it('refuses an upload that is not an image (415) or too big (413)', async () => {
    t = await createTestApp({ env: { IMAGEGATE_MAX_UPLOAD_BYTES: '20000' } })
    const before = await assetCount(t)
    const text = new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"></svg>')
    const svg = await refused(
      edit(t, { prompt: 'x' }, [{ field: 'image', bytes: text, type: 'image/svg+xml' }]),
      415,
    )
    expect(svg.code).toBe('unsupported_media_type')
    const big = await refused(
      edit(t, { prompt: 'x' }, [{ field: 'image', bytes: await noisePng('big', 128) }]),
      413,
    )
    expect(big.code).toBe('payload_too_large')
    expect(await assetCount(t)).toBe(before)
  })

  it('refuses a damaged input image (415) and keeps nothing', async () => {
    t = await createTestApp()
    const before = await assetCount(t)
    const png = await noisePng('damaged input', 64)
    const truncated = png.subarray(0, png.byteLength - 20)
    const error = await refused(
      edit(t, { prompt: 'x', model: 'local-sketch' }, [{ field: 'image', bytes: truncated }]),
      415,
    )
    expect(error.code).toBe('unsupported_media_type')
    expect(await assetCount(t)).toBe(before)
  })

  it('refuses a model that cannot edit before storing the upload', async () => {
    t = await createTestApp({
      env: {
        IMAGEGATE_OPENAI_API_KEY: 'sk-test',
        IMAGEGATE_OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
      },
    })
    const before = await assetCount(t)
    const error = await refused(
      edit(t, { prompt: 'x', model: 'dall-e-3' }, [
        { field: 'image', bytes: await noisePng('x', 64) },
      ]),
      400,
    )
    expect(error).toMatchObject({ code: 'unsupported_parameter', param: 'model' })
    expect(await assetCount(t)).toBe(before)
    // The same model refining by reference is refused the same way.
    const root = await ok<ImagesAnswer>(
      json(t, '/v1/images/generations', { prompt: 'root', model: 'local-sketch' }),
    )
    const refine = await refused(
      json(t, '/v1/images/generations', {
        prompt: 'again',
        model: 'dall-e-3',
        parent_generation_id: root.generation_id,
      }),
      400,
    )
    expect(refine).toMatchObject({ code: 'unsupported_parameter', param: 'model' })
  })
})

describe('refinements by reference', () => {
  it('chains parent → child → grandchild, each recording its parent, and lists the chain by rootId', async () => {
    t = await createTestApp()
    const root = await ok<ImagesAnswer>(
      json(t, '/v1/images/generations', {
        prompt: 'a lighthouse',
        model: 'local-sketch',
        size: '256x256',
      }),
    )
    // No model named: the parent's model continues the chain.
    const child = await ok<ImagesAnswer>(
      json(t, '/v1/images/generations', {
        prompt: 'make the sky stormy',
        parent_generation_id: root.generation_id,
        size: '256x256',
      }),
    )
    expect(child.model).toBe('local-sketch')
    const childAsset = child.data[0]?.asset_id ?? ''
    const skill = await ok<{ ok: true; result: { generationId: string; assetId: string } }>(
      json(t, '/v1/skills/image-generate', {
        prompt: 'add a boat',
        parentAssetId: childAsset,
      }),
    )
    const grandchild = skill.result.generationId

    const rootRecord = await record(t, root.generation_id)
    const childRecord = await record(t, child.generation_id)
    const grandRecord = await record(t, grandchild)
    expect(rootRecord.rootGenerationId).toBe(root.generation_id)
    expect(childRecord).toMatchObject({
      parentGenerationId: root.generation_id,
      parentAssetId: root.data[0]?.asset_id,
      rootGenerationId: root.generation_id,
      inputs: [{ assetId: root.data[0]?.asset_id, role: 'edit_target' }],
    })
    expect(grandRecord).toMatchObject({
      operation: 'skill',
      parentGenerationId: child.generation_id,
      parentAssetId: childAsset,
      rootGenerationId: root.generation_id,
      inputs: [{ assetId: childAsset, role: 'edit_target' }],
    })
    // Each step's picture is derived from its parent's.
    expect(await contentOf(t, childAsset)).not.toEqual(
      await contentOf(t, root.data[0]?.asset_id ?? ''),
    )

    const chain = await ok<{ data: { id: string }[] }>(
      t.app.request(`/v1/generations?rootId=${root.generation_id}`),
    )
    expect(chain.data.map((row) => row.id)).toEqual([
      root.generation_id,
      child.generation_id,
      grandchild,
    ])
  })

  it('refuses a parent that is not a generation image, or both kinds of parent', async () => {
    t = await createTestApp()
    const upload = await edit(t, { prompt: 'x', model: 'local-sketch', size: '256x256' }, [
      { field: 'image', bytes: await noisePng('uploaded', 64) },
    ])
    const uploaded = (await record(t, ((await upload.json()) as ImagesAnswer).generation_id))
      .inputs[0]?.assetId
    const notMade = await refused(
      json(t, '/v1/images/generations', { prompt: 'again', parent_asset_id: uploaded }),
      400,
    )
    expect(notMade).toMatchObject({ code: 'invalid_request', param: 'parent_asset_id' })
    expect(notMade.message).toMatch(/was not made by a generation/)
    const root = await ok<ImagesAnswer>(json(t, '/v1/images/generations', { prompt: 'root' }))
    const both = await refused(
      json(t, '/v1/images/generations', {
        prompt: 'again',
        parent_generation_id: root.generation_id,
        parent_asset_id: root.data[0]?.asset_id,
      }),
      400,
    )
    expect(both.param).toBe('parent_asset_id')
  })

  it('keeps the ids of another workspace out: 404 for parents, input images and masks', async () => {
    t = await createTestApp()
    const workspace = await ok<{ id: string }>(json(t, '/v1/workspaces', { name: 'Other' }), 201)
    const created = await t.app.request(`/v1/workspaces/${workspace.id}/keys`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'other', scopes: ['generate'] }),
    })
    expect(created.status).toBe(201)
    const { key } = (await created.json()) as { key: string }
    const theirs = await ok<ImagesAnswer>(
      t.app.request('/v1/images/generations', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ prompt: 'private', size: '256x256' }),
      }),
    )
    const generationId = theirs.generation_id
    const assetId = theirs.data[0]?.asset_id ?? ''
    const image = { field: 'image', bytes: await noisePng('mine', 256) }

    const cases: [string, Response | Promise<Response>, string][] = [
      [
        'parent_generation_id',
        json(t, '/v1/images/generations', { prompt: 'x', parent_generation_id: generationId }),
        'parent_generation_id',
      ],
      [
        'parent_asset_id',
        json(t, '/v1/images/generations', { prompt: 'x', parent_asset_id: assetId }),
        'parent_asset_id',
      ],
      [
        'input_images',
        json(t, '/v1/images/generations', { prompt: 'x', input_images: [{ asset_id: assetId }] }),
        'input_images',
      ],
      [
        'edits image_asset_ids',
        edit(t, { prompt: 'x', image_asset_ids: assetId }, []),
        'image_asset_ids',
      ],
      [
        'edits parent_generation_id',
        edit(t, { prompt: 'x', parent_generation_id: generationId }, []),
        'parent_generation_id',
      ],
      ['edits mask_asset_id', edit(t, { prompt: 'x', mask_asset_id: assetId }, [image]), 'mask'],
      [
        'skill parentGenerationId',
        json(t, '/v1/skills/image-generate', { prompt: 'x', parentGenerationId: generationId }),
        'parentGenerationId',
      ],
    ]
    for (const [name, pending, param] of cases) {
      const response = await pending
      const body = (await response.json()) as ErrorAnswer & { ok?: boolean }
      expect(response.status, name).toBe(404)
      expect(body.error, name).toMatchObject({ code: 'not_found', param })
    }
  })
})

describe('Idempotency-Key on edits', () => {
  it('replays the same form however it is encoded, and refuses the key for another form', async () => {
    t = await createTestApp()
    const image = { field: 'image', bytes: await noisePng('idem', 128) }
    const fields = { prompt: 'make it red', model: 'local-sketch', size: '256x256' }
    const headers = { 'idempotency-key': 'edit-key-1' }
    const first = await edit(t, fields, [image], headers)
    const firstText = await first.text()
    expect(first.status).toBe(200)
    // A new FormData body: another random boundary, the same request.
    const second = await edit(t, fields, [image], headers)
    expect(second.status).toBe(200)
    expect(second.headers.get('idempotent-replayed')).toBe('true')
    expect(await second.text()).toBe(firstText)
    const generations = await ok<{ data: unknown[] }>(t.app.request('/v1/generations'))
    expect(generations.data).toHaveLength(1)

    const other = await refused(
      edit(t, { ...fields, prompt: 'make it green' }, [image], headers),
      422,
    )
    expect(other.code).toBe('idempotency_key_reused')
    const otherImage = await refused(
      edit(t, fields, [{ field: 'image', bytes: await noisePng('idem-2', 128) }], headers),
      422,
    )
    expect(otherImage.code).toBe('idempotency_key_reused')
  })
})
