import { describe, expect, it } from 'vitest'
import { describeLedger } from './testing/describe-ledger.ts'
import { ledgerFixture } from './testing/ledger-fixture.ts'

describeLedger('SQLite', async () => {
  const { ledger, clock, sqlite } = ledgerFixture()
  const count = (sql: string, ...params: unknown[]) =>
    (sqlite.prepare(sql).get(...params) as { n: number }).n
  return {
    ledger,
    clock,
    entries: async (kind) => count('SELECT COUNT(*) AS n FROM credit_ledger WHERE kind = ?', kind),
    reservations: async () => count('SELECT COUNT(*) AS n FROM credit_reservations'),
    close: async () => {
      sqlite.close()
    },
  }
})

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
