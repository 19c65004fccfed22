import { afterEach, describe, expect, it } from 'vitest'
import { noisePng, uploadRequest } from '../testing/assets.ts'
import { createTestApp, type TestApp } from '../testing/test-app.ts'
import { AppError } from './app-error.ts'
import { nulTextPath, refuseNulText } from './nul-text.ts'

describe('NUL characters in request text', () => {
  it('finds the first one, in values and keys, at any depth', () => {
    expect(nulTextPath({ prompt: 'a\u0000b' })).toBe('prompt')
    expect(nulTextPath({ metadata: { ok: 'x', 'bad\u0000key': 'y' } })).toBe(
      'metadata.bad\u0000key',
    )
    expect(nulTextPath({ image_labels: [{ name: 'ok' }, { name: '\u0000' }] })).toBe(
      'image_labels.1.name',
    )
    expect(nulTextPath('\u0000')).toBe('')
  })

  it('passes text without one, and what is not text', () => {
    expect(nulTextPath({ prompt: 'a cat', n: 1, flag: true, none: null, list: ['x'] })).toBe(
      undefined,
    )
    expect(nulTextPath({ file: new Blob(['\u0000']) })).toBe(undefined)
  })

  it('refuses with invalid_request naming the field', () => {
    let thrown: unknown
    try {
      refuseNulText({ prompt: 'a\u0000' })
    } catch (err) {
      thrown = err
    }
    expect(thrown).toBeInstanceOf(AppError)
    expect(thrown).toMatchObject({ code: 'invalid_request', param: 'prompt' })
    expect(() => refuseNulText({ prompt: 'fine' })).not.toThrow()
  })
})

describe('requests with a NUL character', () => {
  const apps: TestApp[] = []
  afterEach(async () => {
    for (const app of apps.splice(0)) {
      await app.close()
    }
  })

  it.each(['sqlite', 'postgres'] as const)(
    'answer 400 naming the field on %s, in JSON, query and multipart fields',
    async (database) => {
      const t = await createTestApp({ database })
      apps.push(t)
      const generated = await t.app.request('/v1/images/generations', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'local-sketch', prompt: 'a cat\u0000', size: '256x256' }),
      })
      expect(generated.status).toBe(400)
      expect(await generated.json()).toMatchObject({
        error: { code: 'invalid_request', param: 'prompt' },
      })

      const listed = await t.app.request('/v1/assets?folderPath=%2Fa%00b')
      expect(listed.status).toBe(400)

      const upload = uploadRequest(await noisePng('nul description', 16), {
        meta: { description: 'logo\u0000' },
      })
      const uploaded = await t.app.request(upload)
      expect(uploaded.status).toBe(400)
      expect(await uploaded.json()).toMatchObject({
        error: { code: 'invalid_request', param: 'description' },
      })
      const assets = (await (await t.app.request('/v1/assets')).json()) as { data: unknown[] }
      expect(assets.data).toEqual([])
    },
  )

  it('in a path parameter name nothing: 404 on PostgreSQL too, never a database error', async () => {
    const t = await createTestApp({ database: 'postgres' })
    apps.push(t)
    for (const [method, url] of [
      ['GET', '/v1/assets/ast_%00'],
      ['GET', '/v1/generations/gen_%00'],
      ['POST', '/v1/generations/gen_%00/cancel'],
      ['DELETE', '/v1/keys/key_%00'],
      ['GET', '/v1/workspaces/ws_%00/keys'],
      ['GET', '/v1/workspaces/ws_%00/usage'],
      ['GET', '/v1/workspaces/ws_%00/webhooks'],
      ['GET', '/v1/workspaces/default/webhooks/whk_%00/deliveries'],
    ] as const) {
      const response = await t.app.request(url, { method })
      expect({ method, url, status: response.status }).toEqual({ method, url, status: 404 })
    }
  })
})
