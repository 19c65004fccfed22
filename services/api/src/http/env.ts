import type { Logger } from 'pino'

/** Per-request context variables, set by the middleware in app.ts. */
export type AppEnv = {
  Variables: {
    requestId: string
    log: Logger
    workspaceId: string
    /** `skill`: errors answer as `{ ok: false, error }` (the skill envelope). */
    errorEnvelope?: 'skill'
  }
}
