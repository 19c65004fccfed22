import type { PreparedGeneration } from '../generation/types.ts'

/** What a job row carries: the prepared generation, plain JSON, run as it was priced. */
export type JobPayload = { prepared: PreparedGeneration }

export function toPayload(prepared: PreparedGeneration): JobPayload {
  return { prepared }
}

export function fromPayload(payload: unknown): JobPayload {
  const candidate = payload as Partial<JobPayload> | null
  if (!candidate?.prepared?.workspaceId || !candidate.prepared.model?.id) {
    throw new Error('a job payload without its prepared generation')
  }
  return candidate as JobPayload
}
