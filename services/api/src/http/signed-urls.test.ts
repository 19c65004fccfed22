import { afterEach, describe, expect, it } from 'vitest'
import { manualClock } from '../providers/resilience/testing/manual-clock.ts'
import { type AccessTestApp, createAccessTestApp } from '../testing/access.ts'

let t: AccessTestApp
afterEach(async () => {
  await t.close()
})

/** A url answer (signed), as `response_format=url` hands it out. */
async function signedUrlAnswer(key?: string, prompt = 'signed') {
  const response = await t.call('POST', '/v1/images/generations', {
    ...(key ? { key } : {}),
    body: { model: 'local-sketch', prompt, size: '256x256', response_format: 'url' },
  })
  expect(response.status).toBe(200)
  const image = ((await response.json()) as { data: { url: string; asset_id: string }[] }).data[0]
  if (!image) {
    throw new Error('no image')
  }
  const url = new URL(image.url)
  return { url, path: `${url.pathname}${url.search}`, assetId: image.asset_id }
}

const noKey = (path: string, init: RequestInit = {}) => t.hono.request(path, init)
const codeOf = async (response: Response) =>
  ((await response.json()) as { error: { code: string } }).error.code

describe('signed asset URLs', () => {
  it('serve the asset with no Authorization header, GET and HEAD', async () => {
    t = await createAccessTestApp()
    const { path, url } = await signedUrlAnswer()
    expect(url.searchParams.get('signature')).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const got = await noKey(path)
    expect(got.status).toBe(200)
    expect(got.headers.get('content-type')).toBe('image/png')
    expect((await noKey(path, { method: 'HEAD' })).status).toBe(200)
    // Without the signature the same path needs a key.
    expect((await noKey(url.pathname)).status).toBe(401)
  })

  it('expire: 403 invalid_signature once the lifetime is over', async () => {
    const clock = manualClock(Date.parse('2030-01-01T00:00:00Z'))
    t = await createAccessTestApp({ clock, env: { IMAGEGATE_SIGNED_URL_TTL_SECONDS: '60' } })
    const { path } = await signedUrlAnswer()
    clock.advance(59_000)
    expect((await noKey(path)).status).toBe(200)
    clock.advance(1_000)
    const expired = await noKey(path)
    expect(expired.status).toBe(403)
    expect(await codeOf(expired)).toBe('invalid_signature')
  })

  it('refuse forged, moved and malformed signatures with the same 403', async () => {
    t = await createAccessTestApp()
    const { url, assetId } = await signedUrlAnswer()
    const other = await signedUrlAnswer(undefined, 'another image')
    expect(other.assetId).not.toBe(assetId)
    const expires = url.searchParams.get('expires') ?? ''
    const signature = url.searchParams.get('signature') ?? ''
    const variants = [
      // another expiry with the same signature
      `/v1/assets/${assetId}/content?expires=${Number(expires) + 3600}&signature=${signature}`,
      // a signature of another asset
      `/v1/assets/${other.assetId}/content?expires=${expires}&signature=${signature}`,
      // one character changed
      `/v1/assets/${assetId}/content?expires=${expires}&signature=${signature.slice(0, 20)}${signature[20] === 'A' ? 'B' : 'A'}${signature.slice(21)}`,
      `/v1/assets/${assetId}/content?expires=${expires}`,
      `/v1/assets/${assetId}/content?signature=${signature}`,
      `/v1/assets/${assetId}/content?expires=soon&signature=${signature}`,
      // an asset that does not exist
      `/v1/assets/ast_01J9Z7Q8R4M2XK5T3B6N8V0WQA/content?expires=${expires}&signature=${signature}`,
    ]
    for (const variant of variants) {
      const response = await noKey(variant)
      expect({ variant, status: response.status }).toEqual({ variant, status: 403 })
      expect(await codeOf(response)).toBe('invalid_signature')
    }
  })

  it("sign for the asset's own workspace only: the URL works whoever holds it, for that asset", async () => {
    t = await createAccessTestApp()
    const ws = await t.newWorkspace('Signer')
    const key = await t.newKey(ws, ['generate'])
    const { path, assetId } = await signedUrlAnswer(key)
    expect((await noKey(path)).status).toBe(200)
    // The asset itself is still invisible to other workspaces' keys (S1).
    expect((await t.call('GET', `/v1/assets/${assetId}`)).status).toBe(404)
  })

  it('stop working when the asset is deleted', async () => {
    t = await createAccessTestApp()
    const { path, assetId } = await signedUrlAnswer()
    expect((await t.call('DELETE', `/v1/assets/${assetId}`)).status).toBe(204)
    expect((await noKey(path)).status).toBe(403)
  })
})
