import { type Column, eq, gt, gte, lt, lte, type SQL } from 'drizzle-orm'
import type { GenerationFilter } from '../ports.ts'
import { storedInstant } from './stored-instant.ts'

/** The columns a list of generations filters on, of either dialect's table. */
type ListColumns = {
  workspaceId: Column
  id: Column
  status: Column
  model: Column
  provider: Column
  rootGenerationId: Column
  createdAt: Column
}

/**
 * The conditions of one page of GenerationsRepository.list, the same on both backends. A chain
 * (`rootId`) pages oldest first, so its keyset goes up from `afterId`; every other list goes
 * down. Stored times are toISOString() strings: a bound spelled `…:00Z` or `…:00.5Z` is
 * respelled that way, or comparing the strings would not compare the instants.
 */
export function generationListConditions(
  table: ListColumns,
  workspaceId: string,
  filter: GenerationFilter,
  afterId: string | undefined,
): SQL[] {
  const chain = filter.rootId !== undefined
  const conditions = [eq(table.workspaceId, workspaceId)]
  if (afterId) {
    conditions.push(chain ? gt(table.id, afterId) : lt(table.id, afterId))
  }
  if (filter.status) {
    conditions.push(eq(table.status, filter.status))
  }
  if (filter.model) {
    conditions.push(eq(table.model, filter.model))
  }
  if (filter.provider) {
    conditions.push(eq(table.provider, filter.provider))
  }
  if (filter.rootId) {
    conditions.push(eq(table.rootGenerationId, filter.rootId))
  }
  if (filter.createdAfter) {
    conditions.push(gte(table.createdAt, storedInstant(filter.createdAfter)))
  }
  if (filter.createdBefore) {
    conditions.push(lte(table.createdAt, storedInstant(filter.createdBefore)))
  }
  return conditions
}
