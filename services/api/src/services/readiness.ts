import type { Redis } from 'ioredis'
import type { Database } from '../db/client.ts'

export function checkDatabase(database: Database): void {
  database.sqlite.prepare('select 1').get()
}

/** Rejects when Redis does not answer (at once while disconnected, else after the command timeout). */
export async function checkRedis(redis: Redis): Promise<void> {
  await redis.ping()
}
