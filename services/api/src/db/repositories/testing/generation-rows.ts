import type { NewGeneration } from '../../schema/index.ts'

/**
 * A generation record with every required column filled in plainly (a finished, free
 * local-sketch generation), for tests that write rows through a repository or a queue; each test
 * overrides what it is about.
 */
export function generationRow(id: string, overrides: Partial<NewGeneration> = {}): NewGeneration {
  return {
    id,
    workspaceId: 'default',
    status: 'succeeded',
    operation: 'generate',
    prompt: `prompt of ${id}`,
    promptHash: `hash_${id}`,
    model: 'local-sketch',
    provider: 'local',
    n: 1,
    parameters: {},
    assetIds: [],
    attempts: [],
    warnings: [],
    costCents: 0,
    inputAssetIds: [],
    createdAt: '2026-01-01T00:00:00.000Z',
    ...overrides,
  }
}
