import type { Database } from '../db/client.ts'

export function checkDatabase(database: Database): void {
  database.sqlite.prepare('select 1').get()
}
