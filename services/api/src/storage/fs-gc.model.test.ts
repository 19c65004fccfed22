import { createHash } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { BlobStore } from './blob-store.ts'
import { singleChunk } from './byte-source.ts'
import { BlobNotFoundError } from './errors.ts'
import { createFsBlobStore } from './fs-blob-store.ts'

/**
 * Model-based tests of the rule GC must never break: a blob that a row references is never
 * deleted. Rows live in a plain map standing in for the database; an "upload" is a put followed
 * by committing a row, exactly as the API does it.
 */

const GRACE_MS = 10_000
const CONTENTS = ['alpha', 'beta', 'gamma', 'delta'].map((value) => new TextEncoder().encode(value))
const sha256Of = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')
const HASHES = CONTENTS.map(sha256Of)

type Real = {
  store: BlobStore
  rows: Map<string, number>
  clock: { ms: number }
}

type Model = {
  rows: Map<string, number>
  /** When each digest was last written or refreshed, for those that should be on disk. */
  storedAt: Map<string, number>
  nowMs: number
}

const isReferenced = (rows: Map<string, number>) => (sha256: string) => (rows.get(sha256) ?? 0) > 0

async function readBack(store: BlobStore, sha256: string): Promise<string> {
  const blob = await store.openVerified(sha256)
  if (blob.kind !== 'bytes') {
    throw new Error('small blobs come back as bytes')
  }
  return sha256Of(blob.bytes)
}

class Upload implements fc.AsyncCommand<Model, Real> {
  constructor(readonly index: number) {}
  check() {
    return true
  }
  async run(model: Model, real: Real) {
    const bytes = CONTENTS[this.index] ?? new Uint8Array()
    const result = await real.store.put(singleChunk(bytes), { maxBytes: 64 })
    const sha256 = HASHES[this.index] ?? ''
    expect(result.sha256).toBe(sha256)
    expect(result.created).toBe(!model.storedAt.has(sha256))
    real.rows.set(sha256, (real.rows.get(sha256) ?? 0) + 1)
    model.rows.set(sha256, (model.rows.get(sha256) ?? 0) + 1)
    model.storedAt.set(sha256, model.nowMs)
  }
  toString() {
    return `upload(${this.index})`
  }
}

/** Deletes every asset row of one content, as deleting its last asset does. */
class DeleteRows implements fc.AsyncCommand<Model, Real> {
  constructor(readonly index: number) {}
  check(model: Readonly<Model>) {
    return (model.rows.get(HASHES[this.index] ?? '') ?? 0) > 0
  }
  async run(model: Model, real: Real) {
    const sha256 = HASHES[this.index] ?? ''
    real.rows.delete(sha256)
    model.rows.delete(sha256)
  }
  toString() {
    return `deleteRows(${this.index})`
  }
}

class Advance implements fc.AsyncCommand<Model, Real> {
  constructor(readonly ms: number) {}
  check() {
    return true
  }
  async run(model: Model, real: Real) {
    model.nowMs += this.ms
    real.clock.ms += this.ms
  }
  toString() {
    return `advance(${this.ms})`
  }
}

class CollectGarbage implements fc.AsyncCommand<Model, Real> {
  check() {
    return true
  }
  async run(model: Model, real: Real) {
    const { deleted } = await real.store.collectGarbage({
      graceMs: GRACE_MS,
      isReferenced: isReferenced(real.rows),
    })
    const expected = [...model.storedAt]
      .filter(([sha256, at]) => !isReferenced(model.rows)(sha256) && at < model.nowMs - GRACE_MS)
      .map(([sha256]) => sha256)
    expect([...deleted].sort()).toEqual([...expected].sort())
    for (const sha256 of expected) {
      model.storedAt.delete(sha256)
    }
  }
  toString() {
    return 'gc'
  }
}

class Read implements fc.AsyncCommand<Model, Real> {
  constructor(readonly index: number) {}
  check() {
    return true
  }
  async run(model: Model, real: Real) {
    const sha256 = HASHES[this.index] ?? ''
    if (model.storedAt.has(sha256)) {
      expect(await readBack(real.store, sha256)).toBe(sha256)
    } else {
      expect(await real.store.has(sha256)).toBe(false)
    }
  }
  toString() {
    return `read(${this.index})`
  }
}

async function withStore<T>(clock: { ms: number }, body: (store: BlobStore) => Promise<T>) {
  const root = await mkdtemp(path.join(tmpdir(), 'imagegate-gc-model-'))
  try {
    return await body(createFsBlobStore({ root, clock: { now: () => new Date(clock.ms) } }))
  } finally {
    await rm(root, { recursive: true, force: true })
  }
}

const index = fc.integer({ min: 0, max: CONTENTS.length - 1 })

describe('GC model', () => {
  it('never deletes a referenced blob and collects exactly the expired orphans', {
    timeout: 60_000,
  }, async () => {
    // Two contents only: the interesting histories revisit the same blob.
    const pair = fc.integer({ min: 0, max: 1 })
    const commands = fc.commands(
      [
        pair.map((i) => new Upload(i)),
        pair.map((i) => new DeleteRows(i)),
        pair.map((i) => new Read(i)),
        fc.constantFrom(1, GRACE_MS / 2, GRACE_MS + 1).map((ms) => new Advance(ms)),
        fc.constant(new CollectGarbage()),
      ],
      { maxCommands: 40, size: 'large' },
    )
    await fc.assert(
      fc.asyncProperty(commands, async (sequence) => {
        const clock = { ms: Date.parse('2026-01-01T00:00:00Z') }
        await withStore(clock, async (store) => {
          const model: Model = { rows: new Map(), storedAt: new Map(), nowMs: clock.ms }
          await fc.asyncModelRun(
            () => ({ model, real: { store, rows: new Map(), clock } }),
            sequence,
          )
        })
      }),
      { numRuns: 100 },
    )
  })

  it('keeps every referenced blob when uploads, row deletions, GC and reads interleave', {
    timeout: 60_000,
  }, async () => {
    type Operation =
      | { kind: 'upload'; index: number }
      | { kind: 'deleteRow'; index: number }
      | { kind: 'gc' }
      | { kind: 'read'; index: number }
    const operation: fc.Arbitrary<Operation> = fc.oneof(
      index.map((i) => ({ kind: 'upload' as const, index: i })),
      index.map((i) => ({ kind: 'deleteRow' as const, index: i })),
      fc.constant({ kind: 'gc' as const }),
      index.map((i) => ({ kind: 'read' as const, index: i })),
    )
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.subarray([0, 1, 2, 3]),
        fc.array(operation, { minLength: 1, maxLength: 12 }),
        async (scheduler, initiallyReferenced, operations) => {
          const clock = { ms: Date.parse('2026-01-01T00:00:00Z') }
          await withStore(clock, async (store) => {
            const rows = new Map<string, number>()
            // Every content starts on disk and past its grace period; some still have a row.
            for (const [i, bytes] of CONTENTS.entries()) {
              await store.put(singleChunk(bytes), { maxBytes: 64 })
              if (initiallyReferenced.includes(i)) {
                rows.set(HASHES[i] ?? '', 1)
              }
            }
            clock.ms += GRACE_MS + 1
            const referenced = isReferenced(rows)
            const uploaded = new Set<string>()

            const run = async (op: Operation): Promise<void> => {
              if (op.kind === 'upload') {
                const bytes = CONTENTS[op.index] ?? new Uint8Array()
                async function* slowly() {
                  yield await scheduler.schedule(Promise.resolve(bytes.subarray(0, 2)), 'chunk 1')
                  yield await scheduler.schedule(Promise.resolve(bytes.subarray(2)), 'chunk 2')
                }
                const result = await store.put(slowly(), { maxBytes: 64 })
                await scheduler.schedule(Promise.resolve(), 'commit row')
                rows.set(result.sha256, (rows.get(result.sha256) ?? 0) + 1)
                uploaded.add(result.sha256)
              } else if (op.kind === 'deleteRow') {
                await scheduler.schedule(Promise.resolve(), 'delete row')
                const sha256 = HASHES[op.index] ?? ''
                const count = rows.get(sha256) ?? 0
                if (count > 0) {
                  rows.set(sha256, count - 1)
                }
              } else if (op.kind === 'gc') {
                await store.collectGarbage({
                  graceMs: GRACE_MS,
                  isReferenced: (sha256) =>
                    scheduler.schedule(Promise.resolve(referenced(sha256)), 'isReferenced'),
                })
              } else {
                const sha256 = HASHES[op.index] ?? ''
                if (referenced(sha256)) {
                  // Referenced when the read starts: it must succeed, unless a concurrent row
                  // deletion made the blob collectable meanwhile (then: not found, never corrupt).
                  await readBack(store, sha256).then(
                    (actual) => expect(actual).toBe(sha256),
                    (error: unknown) => {
                      expect(error).toBeInstanceOf(BlobNotFoundError)
                      expect(operations).toContainEqual({ kind: 'deleteRow', index: op.index })
                    },
                  )
                }
              }
            }

            // Real file-system I/O is not under the scheduler's control; pausing before each
            // release lets it finish, so the scheduler's order is the order that matters.
            await scheduler.waitFor(Promise.all(operations.map(run)), async (release) => {
              await new Promise((resolve) => setTimeout(resolve, 2))
              await release()
            })

            for (const sha256 of HASHES) {
              if (referenced(sha256) || uploaded.has(sha256)) {
                expect(await readBack(store, sha256)).toBe(sha256)
              }
            }
          })
        },
      ),
      { numRuns: 60 },
    )
  })
})
