import { describe, expect, it } from 'vitest'
import { ledgerFixture } from './testing/ledger-fixture.ts'

describe('the SQLite ledger', () => {
  it('keeps the ledger append-only', async () => {
    const { ledger, sqlite } = ledgerFixture()
    await ledger.grant('ws', 100)
    expect(() => sqlite.prepare('UPDATE credit_ledger SET delta = 1000').run()).toThrow(
      /append-only/,
    )
    expect(() => sqlite.prepare('DELETE FROM credit_ledger').run()).toThrow(/append-only/)
    expect(() =>
      sqlite.prepare("UPDATE credit_accounts SET balance = -1 WHERE workspace_id = 'ws'").run(),
    ).toThrow(/CHECK/)
  })
})
