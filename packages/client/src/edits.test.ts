import { afterEach, describe, expect, it } from 'vitest'
// The client is exercised against the real app in-process; the server package owns these helpers.
import { noisePng, sha256Hex, transparentPng } from '../../../services/api/src/testing/images.ts'
import { createTestApp, type TestApp } from '../../../services/api/src/testing/test-app.ts'
import { ImagegateError } from './errors.ts'

let t: TestApp
afterEach(async () => {
  await t.close()
})

describe('client.editImage', () => {
  it('uploads images with their roles and names, a stored asset and a mask', async () => {
    t = await createTestApp()
    const logo = await t.client.uploadAsset(await noisePng('client-logo', 64), { kind: 'logo' })
    const photo = await noisePng('client-photo', 128)
    const answer = await t.client.editImage({
      prompt: 'put the logo on the mug',
      model: 'local-sketch',
      size: '256x256',
      images: [{ bytes: photo, role: 'edit_target', filename: 'mug.png' }],
      image_asset_ids: logo.id,
      assetLabels: [{ role: 'logo', displayName: 'Acme' }],
      mask: await transparentPng(128, 128),
      seed: 3,
    })
    expect(answer.data).toHaveLength(1)
    const { data: record } = await t.client.GET('/v1/generations/{id}', {
      params: { path: { id: answer.generation_id } },
    })
    expect(record?.inputs.map(({ role, displayName }) => [role, displayName])).toEqual([
      ['edit_target', undefined],
      ['logo', 'Acme'],
      ['mask', undefined],
    ])
    expect(record?.inputs[1]?.assetId).toBe(logo.id)
    const { data: uploaded } = await t.client.GET('/v1/assets/{id}', {
      params: { path: { id: record?.inputs[0]?.assetId ?? '' } },
    })
    expect(uploaded?.contentHash).toBe(sha256Hex(photo))
    expect(record?.seed).toBe(3)
  })

  it('sends several uploads as image[] and throws the error answer', async () => {
    t = await createTestApp()
    const answer = await t.client.editImage({
      prompt: 'combine them',
      model: 'local-sketch',
      size: '256x256',
      images: [{ bytes: await noisePng('a', 64) }, { bytes: await noisePng('b', 64) }],
    })
    const { data: record } = await t.client.GET('/v1/generations/{id}', {
      params: { path: { id: answer.generation_id } },
    })
    expect(record?.inputs.map((input) => input.role)).toEqual(['edit_target', 'edit_target'])

    const error = await t.client.editImage({ prompt: 'nothing to edit' }).then(
      () => undefined,
      (err: unknown) => err,
    )
    expect(error).toBeInstanceOf(ImagegateError)
    expect(error).toMatchObject({ status: 400, code: 'invalid_request', param: 'image' })
  })
})
