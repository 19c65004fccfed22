import { asc, eq } from 'drizzle-orm'
import type { Db } from '../client.ts'
import { type WorkspaceRow, workspaces } from '../schema/index.ts'

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

export function createWorkspacesRepository(db: Db) {
  return {
    insert(row: WorkspaceRow): WorkspaceRow {
      return db.insert(workspaces).values(row).returning().get()
    },

    get(id: string): WorkspaceRow | undefined {
      return db.select().from(workspaces).where(eq(workspaces.id, id)).get()
    },

    /** Oldest first; ids are time-ordered (`default` sorts after every `ws_…`, so by date). */
    list(): WorkspaceRow[] {
      return db
        .select()
        .from(workspaces)
        .orderBy(asc(workspaces.createdAt), asc(workspaces.id))
        .all()
    },
  }
}

export type WorkspacesRepository = ReturnType<typeof createWorkspacesRepository>
