import { afterEach, describe, expect, it } from 'vitest'
import { type AccessTestApp, createAccessTestApp, GPT_IMAGE_1_PRICE } from '../../testing/access.ts'

let t: AccessTestApp
afterEach(async () => {
  await t.close()
})

const paidGeneration = { model: 'gpt-image-1', prompt: 'a paid fox', size: '1024x1024', n: 1 }

describe('admin routes', () => {
  it('creates a workspace with initial credits and lists it with its balance', async () => {
    t = await createAccessTestApp()
    const created = await t.call('POST', '/v1/workspaces', {
      body: { name: 'Acme', initialCredits: 250 },
    })
    expect(created.status).toBe(201)
    const workspace = (await created.json()) as { id: string }
    expect(workspace).toMatchObject({ name: 'Acme', balance: 250 })
    expect(workspace.id).toMatch(/^ws_[0-9A-Z]{26}$/)
    const listed = (await (await t.call('GET', '/v1/workspaces')).json()) as {
      data: { id: string; balance: number }[]
    }
    expect(listed.data.map((entry) => entry.id)).toEqual(['default', workspace.id])
    expect(listed.data[1]?.balance).toBe(250)
    expect(t.ledgerRows('grant', workspace.id)).toBe(1)
  })

  it('starts a workspace at 0 credits when no initialCredits are given', async () => {
    t = await createAccessTestApp()
    const created = await t.call('POST', '/v1/workspaces', { body: { name: 'Free' } })
    expect(await created.json()).toMatchObject({ balance: 0 })
  })

  it('S2: ignores balance, credits, workspaceId and owner sent in bodies', async () => {
    t = await createAccessTestApp()
    const created = await t.call('POST', '/v1/workspaces', {
      body: { name: 'Sneaky', id: 'ws_mine', balance: 1e6, credits: 1e6, owner: 'me' },
    })
    expect(created.status).toBe(201)
    const workspace = (await created.json()) as { id: string; balance: number }
    expect(workspace.id).not.toBe('ws_mine')
    expect(workspace.balance).toBe(0)
    const key = await t.newKey(workspace.id, ['generate'])
    const before = await t.balance(workspace.id)
    const response = await t.call('POST', '/v1/images/generations', {
      key,
      body: {
        model: 'local-sketch',
        prompt: 'mine',
        size: '256x256',
        workspaceId: 'default',
        credits: 5,
        owner: 'x',
      },
    })
    expect(response.status).toBe(200)
    const { generation_id: id } = (await response.json()) as { generation_id: string }
    expect(await t.deps.generationsRepo.get(workspace.id, id)).toBeDefined()
    expect(await t.deps.generationsRepo.get('default', id)).toBeUndefined()
    expect(await t.balance(workspace.id)).toBe(before)
  })

  it('issues a key once: the answer has it, the list and the database never do', async () => {
    t = await createAccessTestApp()
    const ws = await t.newWorkspace('Keys')
    const response = await t.call('POST', `/v1/workspaces/${ws}/keys`, {
      body: { name: 'worker', scopes: ['generate'], rateLimits: { imagesPerMinute: 5 } },
    })
    expect(response.status).toBe(201)
    const created = (await response.json()) as Record<string, unknown> & { key: string }
    expect(created).toMatchObject({
      workspaceId: ws,
      name: 'worker',
      scopes: ['generate'],
      rateLimits: { requestsPerMinute: 1_000_000, imagesPerMinute: 5 },
      revokedAt: null,
    })
    expect(created.key).toMatch(/^igk_[0-9A-Za-z]{49}$/)
    expect(created.key.startsWith(String(created.displayPrefix))).toBe(true)
    expect(created.key.endsWith(String(created.last4))).toBe(true)
    const listed = await (await t.call('GET', `/v1/workspaces/${ws}/keys`)).text()
    expect(listed).not.toContain(created.key)
    expect(JSON.parse(listed).data).toEqual([{ ...created, key: undefined }].map(withoutKey))
    // The key works, as its workspace.
    const models = await t.call('GET', '/v1/models', { key: created.key })
    expect(models.status).toBe(200)
  })

  it('revokes a key: its next request is a 401; revoking again is fine; unknown ids are 404', async () => {
    t = await createAccessTestApp()
    const key = await t.newKey('default', ['read'])
    const listed = (await (await t.call('GET', '/v1/workspaces/default/keys')).json()) as {
      data: { id: string; name: string | null }[]
    }
    const id = listed.data.find((entry) => entry.name === null)?.id
    expect((await t.call('GET', '/v1/models', { key })).status).toBe(200)
    expect((await t.call('DELETE', `/v1/keys/${id}`)).status).toBe(204)
    expect((await t.call('GET', '/v1/models', { key })).status).toBe(401)
    expect((await t.call('DELETE', `/v1/keys/${id}`)).status).toBe(204)
    expect((await t.call('DELETE', '/v1/keys/key_01J9Z7Q8R4M2XK5T3B6N8V0WQD')).status).toBe(404)
  })

  it('grants credits; with an Idempotency-Key a retried grant is applied once', async () => {
    t = await createAccessTestApp()
    const ws = await t.newWorkspace('Grants', 10)
    const grant = () =>
      t.call('POST', `/v1/workspaces/${ws}/credits`, {
        body: { amount: 90 },
        headers: { 'idempotency-key': 'grant-1' },
      })
    const first = await grant()
    expect(first.status).toBe(200)
    const firstText = await first.text()
    expect(JSON.parse(firstText)).toEqual({ workspaceId: ws, granted: 90, balance: 100 })
    const again = await grant()
    expect(again.headers.get('idempotent-replayed')).toBe('true')
    expect(await again.text()).toBe(firstText)
    expect(await t.balance(ws)).toBe(100)
    expect(t.ledgerRows('grant', ws)).toBe(2)
  })

  it('summarises usage by day and model from the ledger', async () => {
    t = await createAccessTestApp()
    const ws = await t.newWorkspace('Spender', 100)
    const key = await t.newKey(ws, ['generate'])
    const response = await t.call('POST', '/v1/images/generations', {
      key,
      body: { ...paidGeneration, n: 2 },
    })
    expect(response.status).toBe(200)
    const usage = (await (await t.call('GET', `/v1/workspaces/${ws}/usage`)).json()) as Record<
      string,
      unknown
    >
    expect(usage).toMatchObject({
      workspaceId: ws,
      balance: 100 - 2 * GPT_IMAGE_1_PRICE,
      granted: 100,
      spent: 2 * GPT_IMAGE_1_PRICE,
      held: 0,
      byDayAndModel: [
        {
          day: new Date().toISOString().slice(0, 10),
          model: 'gpt-image-1',
          requests: 1,
          images: 2,
          spent: 2 * GPT_IMAGE_1_PRICE,
        },
      ],
    })
  })

  it.each([
    ['GET', '/v1/workspaces/ws_nope/keys', undefined],
    ['POST', '/v1/workspaces/ws_nope/keys', { scopes: ['read'] }],
    ['POST', '/v1/workspaces/ws_nope/credits', { amount: 1 }],
    ['GET', '/v1/workspaces/ws_nope/usage', undefined],
  ])('%s %s: 404 for a workspace that does not exist', async (method, path, body) => {
    t = await createAccessTestApp()
    const response = await t.call(method, path, body === undefined ? {} : { body })
    expect(response.status).toBe(404)
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('not_found')
  })

  it('refuses non-admin keys on every admin route with 403 insufficient_scope', async () => {
    t = await createAccessTestApp()
    const generate = await t.newKey('default', ['generate'])
    const read = await t.newKey('default', ['read'])
    const routes: [string, string, unknown][] = [
      ['POST', '/v1/workspaces', { name: 'x' }],
      ['GET', '/v1/workspaces', undefined],
      ['POST', '/v1/workspaces/default/keys', { scopes: ['admin'] }],
      ['GET', '/v1/workspaces/default/keys', undefined],
      ['DELETE', '/v1/keys/key_01J9Z7Q8R4M2XK5T3B6N8V0WQD', undefined],
      ['POST', '/v1/workspaces/default/credits', { amount: 1e6 }],
      ['GET', '/v1/workspaces/default/usage', undefined],
      ['GET', '/metrics', undefined],
    ]
    for (const key of [generate, read]) {
      for (const [method, path, body] of routes) {
        const response = await t.call(method, path, { key, ...(body ? { body } : {}) })
        expect({ method, path, status: response.status }).toEqual({ method, path, status: 403 })
        expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
          'insufficient_scope',
        )
      }
    }
    expect(await t.balance('default')).toBe(1_000_000)
  })
})

function withoutKey(entry: Record<string, unknown>) {
  const { key: _key, ...rest } = entry
  return rest
}
