import type { Db } from '../client.ts'
import { workspaces } from '../schema/index.ts'

export function ensureWorkspace(db: Db, workspace: { id: string; name: string; createdAt: Date }) {
  db.insert(workspaces)
    .values({
      id: workspace.id,
      name: workspace.name,
      createdAt: workspace.createdAt.toISOString(),
    })
    .onConflictDoNothing()
    .run()
}
