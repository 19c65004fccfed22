import { afterEach, describe, expect, it } from 'vitest'
import { UpstreamFailure } from '../../providers/types.ts'
import { type AccessTestApp, createAccessTestApp, GPT_IMAGE_1_PRICE } from '../../testing/access.ts'

let t: AccessTestApp
afterEach(async () => {
  await t.close()
})

const paid = (n: number) => ({ model: 'gpt-image-1', prompt: 'paid', size: '1024x1024', n })

async function workspace(credits: number) {
  const ws = await t.newWorkspace('Credits', credits)
  return { ws, key: await t.newKey(ws, ['generate']) }
}

type Usage = { balance: number; held: number; spent: number }
const usage = async (ws: string) =>
  (await (await t.call('GET', `/v1/workspaces/${ws}/usage`)).json()) as Usage

describe('credits around generation', () => {
  it('holds the worst case before dispatch and charges the images that came back', async () => {
    t = await createAccessTestApp({ script: { delayMs: 300, images: () => 1 } })
    const { ws, key } = await workspace(100)
    const running = t.call('POST', '/v1/images/generations', { key, body: paid(3) })
    await new Promise((resolve) => setTimeout(resolve, 150))
    expect(t.paid.calls).toHaveLength(1)
    const during = await usage(ws)
    expect(during.held).toBeCloseTo(3 * GPT_IMAGE_1_PRICE, 6)
    expect(during.balance).toBeCloseTo(100 - 3 * GPT_IMAGE_1_PRICE, 6)
    const response = await running
    expect(response.status).toBe(200)
    const answer = (await response.json()) as { data: unknown[]; cost: number }
    expect(answer.data).toHaveLength(1)
    expect(answer.cost).toBeCloseTo(GPT_IMAGE_1_PRICE, 6)
    const after = await usage(ws)
    expect(after).toMatchObject({ held: 0 })
    expect(after.spent).toBeCloseTo(GPT_IMAGE_1_PRICE, 6)
    expect(after.balance).toBeCloseTo(100 - GPT_IMAGE_1_PRICE, 6)
    expect(t.ledgerRows('reserve', ws)).toBe(1)
    expect(t.ledgerRows('settle', ws)).toBe(1)
  })

  it('releases everything when the generation fails', async () => {
    t = await createAccessTestApp({
      script: { fail: () => new UpstreamFailure('auth', 'openai', 'upstream key revoked') },
    })
    const { ws, key } = await workspace(100)
    const response = await t.call('POST', '/v1/images/generations', { key, body: paid(2) })
    expect(response.status).toBe(502)
    expect(await t.balance(ws)).toBe(100)
    expect([t.ledgerRows('reserve', ws), t.ledgerRows('release', ws)]).toEqual([1, 1])
    expect(t.debits(ws)).toBe(0)
  })

  it('refuses with 402 insufficient_credits (cost and balance) before any upstream call', async () => {
    t = await createAccessTestApp()
    const { ws, key } = await workspace(20)
    const response = await t.call('POST', '/v1/images/generations', { key, body: paid(2) })
    expect(response.status).toBe(402)
    expect(response.headers.get('x-should-retry')).toBe('false')
    const { error } = (await response.json()) as { error: Record<string, unknown> }
    expect(error).toMatchObject({
      type: 'billing_error',
      code: 'insufficient_credits',
      cost: 2 * GPT_IMAGE_1_PRICE,
      balance: 20,
    })
    expect(t.paid.calls).toHaveLength(0)
    expect(t.ledgerRows('reserve', ws)).toBe(0)
    // Refused before dispatch, it still leaves its record, as every generation request does.
    const records = await t.call('GET', '/v1/generations', { key })
    const { data } = (await records.json()) as { data: Record<string, unknown>[] }
    expect(data).toEqual([
      expect.objectContaining({
        status: 'failed',
        model: 'gpt-image-1',
        provider: 'openai',
        n: 2,
        assetIds: [],
        attempts: [],
        cost: 0,
        error: { code: 'insufficient_credits', message: expect.stringContaining('costs') },
      }),
    ])
    // The skill answers the same refusal in its envelope.
    const skill = await t.call('POST', '/v1/skills/image-generate', {
      key,
      body: { prompt: 'x', model: 'gpt-image-1', size: '1024x1024' },
    })
    expect(skill.status).toBe(200)
    const poorer = await t.newWorkspace('Poorer', 1)
    const skillRefused = await t.call('POST', '/v1/skills/image-generate', {
      key: await t.newKey(poorer, ['generate']),
      body: { prompt: 'x', model: 'gpt-image-1', size: '1024x1024' },
    })
    expect(skillRefused.status).toBe(402)
    expect(await skillRefused.json()).toMatchObject({
      ok: false,
      error: { code: 'insufficient_credits' },
    })
  })

  it('never touches the ledger for the free local renderer, even at 0 credits', async () => {
    t = await createAccessTestApp()
    const { ws, key } = await workspace(0)
    const response = await t.call('POST', '/v1/images/generations', {
      key,
      body: { model: 'local-sketch', prompt: 'free', size: '256x256', n: 2 },
    })
    expect(response.status).toBe(200)
    expect(
      t.sqlite
        .prepare('SELECT COUNT(*) AS n FROM credit_ledger WHERE workspace_id = ? AND kind != ?')
        .get(ws, 'grant'),
    ).toEqual({ n: 0 })
  })

  it('charges nothing in mock mode, where every model is the local renderer', async () => {
    t = await createAccessTestApp({ env: { IMAGEGATE_MOCK_IMAGES: 'true' } })
    const { ws, key } = await workspace(0)
    const response = await t.call('POST', '/v1/images/generations', { key, body: paid(1) })
    expect(response.status).toBe(200)
    expect(await t.balance(ws)).toBe(0)
  })

  it('D2: balance 100, 16.7 a request, 30 at once → exactly 5 succeed, never below zero', async () => {
    t = await createAccessTestApp({ script: { delayMs: 100 } })
    const { ws, key } = await workspace(100)
    const responses = await Promise.all(
      Array.from({ length: 30 }, () =>
        t.call('POST', '/v1/images/generations', { key, body: paid(1) }),
      ),
    )
    const statuses = responses.map((response) => response.status)
    expect(statuses.filter((status) => status === 200)).toHaveLength(5)
    expect(statuses.filter((status) => status === 402)).toHaveLength(25)
    expect(t.paid.calls).toHaveLength(5)
    expect(await t.balance(ws)).toBeCloseTo(100 - 5 * GPT_IMAGE_1_PRICE, 6)
    expect(await t.deps.credits.ledger.audit()).toEqual([])
  })
})
