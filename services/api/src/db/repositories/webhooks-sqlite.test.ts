import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describeWebhookStore } from '../../webhooks/testing/describe-webhook-store.ts'
import { openDatabase } from '../client.ts'
import { workspaces } from '../schema/index.ts'
import { createSqliteWebhookStore } from './webhooks-sqlite.ts'

describeWebhookStore('SQLite', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'imagegate-webhooks-'))
  const file = path.join(dir, 'imagegate.db')
  // Two connections to one file, as two processes on one data dir would have.
  const first = openDatabase(file)
  const second = openDatabase(file)
  first.db.insert(workspaces).values({ id: 'ws_hooks', name: 'hooks', createdAt: 't' }).run()
  return {
    stores: [createSqliteWebhookStore(first.db), createSqliteWebhookStore(second.db)],
    workspaceId: 'ws_hooks',
    async close() {
      first.close()
      second.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
})
