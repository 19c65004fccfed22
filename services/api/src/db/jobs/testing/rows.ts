import { generationRow } from '../../repositories/testing/generation-rows.ts'
import type { NewGeneration } from '../../schema/index.ts'

/**
 * The smallest workspace and generation rows a job can refer to, in either dialect's
 * placeholders (`?` for SQLite, `$n` for PostgreSQL).
 */
export function insertGenerationSql(style: '?' | '$') {
  const at = (index: number) => (style === '?' ? '?' : `$${index}`)
  return {
    workspace: `INSERT INTO workspaces (id, name, created_at) VALUES (${at(1)}, 'test', '2026-01-01')
      ON CONFLICT (id) DO NOTHING`,
    generation: `INSERT INTO generations (id, workspace_id, status, operation, prompt, prompt_hash,
        model, provider, n, parameters, asset_ids, attempts, warnings, cost_cents,
        input_asset_ids, created_at)
      VALUES (${at(1)}, ${at(2)}, 'queued', 'generate', 'p', 'h', 'local-sketch', 'local', 1,
        '{}', '[]', '[]', '[]', 0, '[]', '2026-01-01')`,
  }
}

/** The queued record of an accepted job, as JobQueue.accept writes it. */
export function queuedGeneration(workspaceId: string, id: string): NewGeneration {
  return generationRow(id, {
    workspaceId,
    status: 'queued',
    prompt: 'p',
    promptHash: 'h',
    model: 'gpt-image-1',
    provider: 'openai',
  })
}
