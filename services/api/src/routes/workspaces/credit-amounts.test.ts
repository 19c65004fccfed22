import { afterEach, describe, expect, it } from 'vitest'
import { CreditGrantResultSchema, UsageSchema, WorkspaceListSchema } from '../../schemas/admin.ts'
import { ErrorBodySchema } from '../../schemas/error.ts'
import { type AccessTestApp, createAccessTestApp } from '../../testing/access.ts'

let t: AccessTestApp
afterEach(async () => {
  await t.close()
})

describe('credit amounts the ledger cannot book', () => {
  it.each([0.0001, 1e-10, 0.0049, 1.0005, 0, -1])(
    'refuses a grant of %s credits with 400 invalid_request, booking nothing',
    async (amount) => {
      t = await createAccessTestApp()
      const ws = await t.newWorkspace('Grants', 10)
      const response = await t.call('POST', `/v1/workspaces/${ws}/credits`, { body: { amount } })
      expect(response.status).toBe(400)
      const { error } = ErrorBodySchema.parse(await response.json())
      expect(error).toMatchObject({ code: 'invalid_request', param: 'amount' })
      expect(await t.balance(ws)).toBe(10)
      expect(t.ledgerRows('grant', ws)).toBe(1)
    },
  )

  it.each([0.0001, 1e-10, 0.0049])(
    'refuses a workspace with initialCredits %s with 400, creating nothing',
    async (initialCredits) => {
      t = await createAccessTestApp()
      const response = await t.call('POST', '/v1/workspaces', {
        body: { name: 'Dust', initialCredits },
      })
      expect(response.status).toBe(400)
      const { error } = ErrorBodySchema.parse(await response.json())
      expect(error).toMatchObject({ code: 'invalid_request', param: 'initialCredits' })
      const listed = (await (await t.call('GET', '/v1/workspaces')).json()) as {
        data: { name: string }[]
      }
      expect(listed.data.map((workspace) => workspace.name)).not.toContain('Dust')
    },
  )

  it('books amounts in whole units exactly and answers what it booked', async () => {
    t = await createAccessTestApp()
    const ws = await t.newWorkspace('Exact', 0.005)
    // 0.07 / 0.001 is not a whole number in binary floating point; the ledger books it anyway.
    for (const amount of [0.001, 0.07, 16.7]) {
      const response = await t.call('POST', `/v1/workspaces/${ws}/credits`, { body: { amount } })
      expect(response.status).toBe(200)
      expect(((await response.json()) as { granted: number }).granted).toBe(amount)
    }
    expect(await t.balance(ws)).toBe(16.776)
    const created = await t.call('POST', '/v1/workspaces', {
      body: { name: 'Seeded', initialCredits: 0.049 },
    })
    expect(created.status).toBe(201)
    expect(await created.json()).toMatchObject({ balance: 0.049 })
  })
})

describe('balances past the largest single grant', () => {
  it('answers a balance above 1e9 credits on spec: a balance is a sum of grants', async () => {
    t = await createAccessTestApp()
    const ws = await t.newWorkspace('Large', 0)
    for (const expected of [1_000_000_000, 2_000_000_000]) {
      const response = await t.call('POST', `/v1/workspaces/${ws}/credits`, {
        body: { amount: 1_000_000_000 },
      })
      expect(response.status).toBe(200)
      const granted = CreditGrantResultSchema.parse(await response.json())
      expect(granted.balance).toBe(expected)
    }
    const usage = await t.call('GET', `/v1/workspaces/${ws}/usage`)
    expect(UsageSchema.parse(await usage.json()).balance).toBe(2_000_000_000)
    const listed = await t.call('GET', '/v1/workspaces')
    const workspaces = WorkspaceListSchema.parse(await listed.json()).data
    expect(workspaces.find((workspace) => workspace.id === ws)?.balance).toBe(2_000_000_000)
  })
})
