import { createHash } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openPostgres, type Postgres } from '../db/pg-client.ts'
import { createPgBlobPins, type PgBlobPinsOptions } from '../db/pg-repositories/blob-pins.ts'
import { manualClock } from '../providers/resilience/testing/manual-clock.ts'
import { deferred } from '../testing/deferred.ts'
import { createTestDatabase } from '../testing/postgres.ts'
import type { BlobPins } from './blob-pins.ts'
import { createMemoryBlobPins } from './memory-blob-pins.ts'

const TTL_MS = 60_000

/** Pins as two instances see them: on memory both are one process's; on PostgreSQL two pools. */
type PinsBackend = {
  open(): Promise<{ a: BlobPins; b: BlobPins }>
  close(): Promise<void>
}

function memoryBackend(): PinsBackend {
  return {
    async open() {
      const pins = createMemoryBlobPins()
      return { a: pins, b: pins }
    },
    close: async () => {},
  }
}

/** A database for a suite; `instance()` opens one more instance (a pool and its pins) on it. */
async function pgDatabase() {
  const database = await createTestDatabase()
  const opened: Postgres[] = []
  let ids = 0
  return {
    database,
    async instance(options: Partial<PgBlobPinsOptions> = {}) {
      const postgres = await openPostgres(database.url, { maxConnections: 4 })
      opened.push(postgres)
      const pins = createPgBlobPins(postgres.pool, {
        clock: manualClock(Date.parse('2030-01-01T00:00:00.000Z')),
        ttlMs: TTL_MS,
        newId: () => {
          ids += 1
          return `pin_${ids}`
        },
        ...options,
      })
      return { pins, pool: postgres.pool, close: () => postgres.close() }
    },
    async close() {
      await Promise.all(opened.map((postgres) => postgres.close()))
      await database.drop()
    },
  }
}

function pgBackend(): PinsBackend {
  let db: Awaited<ReturnType<typeof pgDatabase>> | undefined
  return {
    async open() {
      db ??= await pgDatabase()
      return { a: (await db.instance()).pins, b: (await db.instance()).pins }
    },
    close: async () => {
      await db?.close()
    },
  }
}

const digest = (n: number) => createHash('sha256').update(String(n)).digest('hex')

/** Whether `promise` settles within `ms`. */
async function settlesWithin(promise: Promise<unknown>, ms: number) {
  return Promise.race([promise.then(() => true), sleep(ms).then(() => false)])
}

describe.each([
  ['memory', memoryBackend],
  ['PostgreSQL', pgBackend],
] as const)('BlobPins on %s', (_name, makeBackend) => {
  let backend: PinsBackend
  let a: BlobPins
  let b: BlobPins
  let next = 0
  /** A digest no other test uses. */
  const fresh = () => {
    next += 1
    return digest(next)
  }

  beforeAll(async () => {
    backend = makeBackend()
    ;({ a, b } = await backend.open())
  })
  afterAll(async () => {
    await backend.close()
  })

  it('counts a pin taken on one instance from the other, until it is released', async () => {
    const sha256 = fresh()
    expect(await b.count(sha256)).toBe(0)
    const release = await a.pin(sha256)
    expect(await b.count(sha256)).toBe(1)
    expect(await a.count(sha256)).toBe(1)
    await release()
    expect(await b.count(sha256)).toBe(0)
  })

  it('counts each pin; a second release of one pin releases nothing', async () => {
    const sha256 = fresh()
    const first = await a.pin(sha256)
    const second = await b.pin(sha256)
    const third = await a.pin(sha256)
    expect(await b.count(sha256)).toBe(3)
    await first()
    await first()
    expect(await a.count(sha256)).toBe(2)
    await third()
    await second()
    await second()
    expect(await a.count(sha256)).toBe(0)
  })

  it('keeps digests apart', async () => {
    const [one, two] = [fresh(), fresh()]
    const release = await a.pin(one)
    expect(await b.count(two)).toBe(0)
    await release()
  })

  it('runs unlessPinned work when nobody pins the digest, and answers its result', async () => {
    const sha256 = fresh()
    expect(await b.unlessPinned(sha256, async () => 'deleted')).toBe('deleted')
  })

  it('skips unlessPinned work while another instance pins the digest', async () => {
    const sha256 = fresh()
    const release = await a.pin(sha256)
    let ran = false
    const answer = await b.unlessPinned(sha256, async () => {
      ran = true
      return 'deleted'
    })
    expect(answer).toBeUndefined()
    expect(ran).toBe(false)
    await release()
    expect(await b.unlessPinned(sha256, async () => 'deleted')).toBe('deleted')
  })

  it('holds a pin taken during unlessPinned work back until the work is done', async () => {
    const sha256 = fresh()
    const other = fresh()
    const entered = deferred()
    const finish = deferred()
    const section = b.unlessPinned(sha256, async () => {
      entered.resolve()
      await finish.promise
      return 'deleted'
    })
    await entered.promise
    const pinning = a.pin(sha256)
    expect(await settlesWithin(pinning, 300)).toBe(false)
    expect(await b.count(sha256)).toBe(0)
    // Other digests are not held back.
    const releaseOther = await a.pin(other)
    await releaseOther()
    finish.resolve()
    expect(await section).toBe('deleted')
    const release = await pinning
    expect(await b.count(sha256)).toBe(1)
    await release()
  })

  it('lets a failing unlessPinned work throw, and pins go on afterwards', async () => {
    const sha256 = fresh()
    await expect(
      b.unlessPinned(sha256, async () => {
        throw new Error('delete failed')
      }),
    ).rejects.toThrow('delete failed')
    const release = await a.pin(sha256)
    expect(await b.count(sha256)).toBe(1)
    await release()
  })
})

describe('BlobPins on PostgreSQL: expiry', () => {
  let db: Awaited<ReturnType<typeof pgDatabase>>
  beforeAll(async () => {
    db = await pgDatabase()
  })
  afterAll(async () => {
    await db.close()
  })
  /** Rows of the digest, live or expired. */
  const rows = async (pool: Postgres['pool'], sha256: string) =>
    Number(
      (await pool.query('SELECT count(*) AS n FROM blob_pins WHERE sha256 = $1', [sha256])).rows[0]
        ?.n,
    )

  it('stops counting a pin past its expiry (its instance crashed), and purges it', async () => {
    const clock = manualClock(Date.parse('2030-01-01T00:00:00.000Z'))
    const crashed = await db.instance({ clock })
    const alive = await db.instance({ clock })
    const sha256 = digest(0xdead)
    await crashed.pins.pin(sha256)
    await crashed.close()
    clock.advance(TTL_MS - 1)
    expect(await alive.pins.count(sha256)).toBe(1)
    expect(await alive.pins.unlessPinned(sha256, async () => 'deleted')).toBeUndefined()
    clock.advance(1)
    expect(await alive.pins.count(sha256)).toBe(0)
    expect(await rows(alive.pool, sha256)).toBe(1)
    expect(await alive.pins.unlessPinned(sha256, async () => 'deleted')).toBe('deleted')
    expect(await rows(alive.pool, sha256)).toBe(0)

    await alive.pins.pin(digest(0xd1))
    await alive.pins.pin(digest(0xd2))
    await alive.pins.pin(digest(0xd3))
    clock.advance(TTL_MS - 1)
    const kept = await alive.pins.pin(digest(0xd3))
    clock.advance(1)
    expect(await alive.pins.purgeExpired()).toBe(3)
    expect(await alive.pins.count(digest(0xd3))).toBe(1)
    await kept()
    expect(await rows(alive.pool, digest(0xd3))).toBe(0)
  })

  it('renews a held pin, so it outlives its ttl; after the release nothing renews it', async () => {
    const ttlMs = 400
    const instance = await db.instance({ clock: { now: () => new Date() }, ttlMs })
    const sha256 = digest(0xbeef)
    const release = await instance.pins.pin(sha256)
    await sleep(ttlMs * 2.5)
    expect(await instance.pins.count(sha256)).toBe(1)
    await release()
    expect(await instance.pins.count(sha256)).toBe(0)
    await sleep(ttlMs)
    expect(await rows(instance.pool, sha256)).toBe(0)
  })

  it('pins again a held pin that expired and was purged before it could be renewed', async () => {
    const clock = manualClock(Date.parse('2030-01-01T00:00:00.000Z'))
    const holder = await db.instance({ clock, renewEveryMs: 50 })
    const other = await db.instance({ clock })
    const sha256 = digest(0xcafe)
    const release = await holder.pins.pin(sha256)
    clock.advance(TTL_MS)
    expect(await other.pins.purgeExpired()).toBe(1)
    await sleep(200)
    expect(await other.pins.count(sha256)).toBe(1)
    await release()
    expect(await other.pins.count(sha256)).toBe(0)
  })

  it('reports a release the database refused instead of throwing it; the pin then expires', async () => {
    const clock = manualClock(Date.parse('2030-01-01T00:00:00.000Z'))
    const errors: string[] = []
    const holder = await db.instance({
      clock,
      onError: (_error, during) => {
        errors.push(during)
      },
    })
    const other = await db.instance({ clock })
    const sha256 = digest(0xf00d)
    const release = await holder.pins.pin(sha256)
    await holder.close()
    await release()
    expect(errors).toEqual(['release'])
    expect(await other.pins.count(sha256)).toBe(1)
    clock.advance(TTL_MS)
    expect(await other.pins.count(sha256)).toBe(0)
  })
})
