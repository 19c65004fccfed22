import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Ledger } from '../../../access/ledger.ts'
import { InsufficientCreditsError } from '../../../access/ledger-errors.ts'
import type { AcceptedJob, Job, JobQueue } from '../job-queue.ts'
import { queuedGeneration } from './rows.ts'

/** One database per test, and as many queues on it as a test opens (each its own connections). */
export type JobQueueHarness = {
  open(): Promise<JobQueue>
  /** The generation row (and its workspace) a job refers to. */
  addGeneration(workspaceId: string, generationId: string): Promise<void>
  /** A workspace with `credits` ledger units to hold from. */
  addWorkspace(workspaceId: string, credits: number): Promise<void>
  /** The status of a generation row, undefined when there is none. */
  generationStatus(generationId: string): Promise<string | undefined>
  /** The Ledger on the same database (balances, reservations). */
  ledger: Ledger
  close(): Promise<void>
}

const LEASE = 1000
const T0 = 1_800_000_000_000

/**
 * What every JobQueue adapter must do, run against each (sqlite-job-queue.test.ts,
 * pg-job-queue.test.ts): claims exactly once, leases that run out, the per-workspace bound,
 * the dispatched mark surviving a re-claim, cancel in every state.
 */
export function describeJobQueue(name: string, makeHarness: () => Promise<JobQueueHarness>) {
  describe(`job queue: ${name}`, () => {
    let harness: JobQueueHarness
    let queue: JobQueue
    let created = 0

    beforeEach(async () => {
      harness = await makeHarness()
      queue = await harness.open()
      created = 0
    })
    afterEach(async () => {
      await harness.close()
    })

    async function enqueue(workspaceId: string, id: string, reservationId: string | null = null) {
      await harness.addGeneration(workspaceId, id)
      await queue.enqueue(
        { generationId: id, workspaceId, payload: { prompt: id, nested: [1] }, reservationId },
        T0 + created++,
      )
    }
    const options = (now = T0, limit = 10, perWorkspace = 100) => ({
      limit,
      leaseMs: LEASE,
      perWorkspace,
      now,
    })
    const ids = (jobs: Job[]) => jobs.map((job) => job.generationId)

    it('claims the oldest queued job once, with a lease, and keeps its payload', async () => {
      await enqueue('ws_a', 'gen_1', 'rsv_1')
      await enqueue('ws_a', 'gen_2')
      const [first] = await queue.claim('w1', options(T0, 1))
      expect(first).toMatchObject({
        generationId: 'gen_1',
        workspaceId: 'ws_a',
        state: 'running',
        payload: { prompt: 'gen_1', nested: [1] },
        reservationId: 'rsv_1',
        attempts: 1,
        leaseOwner: 'w1',
        leaseExpiresAt: T0 + LEASE,
        dispatchedAt: null,
        cancelRequested: false,
      })
      expect(ids(await queue.claim('w2', options()))).toEqual(['gen_2'])
      expect(await queue.claim('w3', options())).toEqual([])
    })

    it('gives a job whose lease ran out to the next claimer, and only then', async () => {
      await enqueue('ws_a', 'gen_1')
      await queue.claim('w1', options())
      expect(await queue.claim('w2', options(T0 + LEASE - 1))).toEqual([])
      const [again] = await queue.claim('w2', options(T0 + LEASE))
      expect(again).toMatchObject({ generationId: 'gen_1', attempts: 2, leaseOwner: 'w2' })
      // The first worker lost it: nothing it does to the job counts any more.
      expect(await queue.markDispatched('w1', 'gen_1', T0 + LEASE)).toBe(false)
      expect(await queue.finish('w1', 'gen_1', 'succeeded', T0 + LEASE)).toBe(false)
      expect(await queue.renew('w1', ['gen_1'], T0 + 5 * LEASE)).toEqual({
        held: [],
        cancelRequested: [],
      })
      expect((await queue.get('gen_1'))?.state).toBe('running')
    })

    it('keeps a renewed lease and reports the dispatched mark to the next claimer', async () => {
      await enqueue('ws_a', 'gen_1')
      await queue.claim('w1', options())
      expect(await queue.markDispatched('w1', 'gen_1', T0 + 10)).toBe(true)
      expect(await queue.renew('w1', ['gen_1', 'gen_unknown'], T0 + 2 * LEASE)).toEqual({
        held: ['gen_1'],
        cancelRequested: [],
      })
      expect(await queue.claim('w2', options(T0 + LEASE + 1))).toEqual([])
      const [taken] = await queue.claim('w2', options(T0 + 2 * LEASE))
      expect(taken).toMatchObject({ dispatchedAt: T0 + 10, attempts: 2 })
      // A dispatched job never goes back to the queue.
      expect(await queue.requeue('w2', 'gen_1')).toBe(false)
    })

    it('finishes a job once; a finished job is never claimed again', async () => {
      await enqueue('ws_a', 'gen_1')
      await queue.claim('w1', options())
      expect(await queue.finish('w1', 'gen_1', 'succeeded', T0 + 5)).toBe(true)
      expect(await queue.finish('w1', 'gen_1', 'failed', T0 + 6)).toBe(false)
      expect(await queue.get('gen_1')).toMatchObject({
        state: 'succeeded',
        finishedAt: T0 + 5,
        leaseOwner: null,
      })
      expect(await queue.claim('w2', options(T0 + 10 * LEASE))).toEqual([])
      expect(await queue.counts()).toEqual({
        queued: 0,
        running: 0,
        succeeded: 1,
        failed: 0,
        cancelled: 0,
      })
    })

    it('puts a job that never reached its provider back in the queue', async () => {
      await enqueue('ws_a', 'gen_1')
      await queue.claim('w1', options())
      expect(await queue.requeue('w2', 'gen_1')).toBe(false)
      expect(await queue.requeue('w1', 'gen_1')).toBe(true)
      expect(await queue.claim('w2', options())).toMatchObject([{ attempts: 2, leaseOwner: 'w2' }])
    })

    it('bounds the running jobs of one workspace, live leases only', async () => {
      for (const id of ['gen_a1', 'gen_a2', 'gen_a3']) {
        await enqueue('ws_a', id)
      }
      await enqueue('ws_b', 'gen_b1')
      expect(ids(await queue.claim('w1', options(T0, 10, 2)))).toEqual([
        'gen_a1',
        'gen_a2',
        'gen_b1',
      ])
      expect(await queue.claim('w2', options(T0 + 1, 10, 2))).toEqual([])
      await queue.finish('w1', 'gen_a1', 'succeeded', T0 + 2)
      expect(ids(await queue.claim('w2', options(T0 + 3, 10, 2)))).toEqual(['gen_a3'])
    })

    it('cancels a queued job at once and flags a running one; a finished one stays', async () => {
      await enqueue('ws_a', 'gen_r')
      await enqueue('ws_a', 'gen_q', 'rsv_q')
      const running = 'gen_r'
      const queued = 'gen_q'
      expect(ids(await queue.claim('w1', options(T0, 1)))).toEqual([running])

      const cancelled = await queue.cancel('ws_a', queued, T0 + 7)
      expect(cancelled).toMatchObject({
        outcome: 'cancelled',
        job: { state: 'cancelled', finishedAt: T0 + 7, reservationId: 'rsv_q' },
      })
      expect(await queue.claim('w2', options())).toEqual([])

      expect(await queue.cancel('ws_a', running, T0 + 8)).toMatchObject({
        outcome: 'requested',
        job: { state: 'running', cancelRequested: true },
      })
      expect(await queue.renew('w1', [running], T0 + LEASE)).toEqual({
        held: [running],
        cancelRequested: [running],
      })
      await queue.finish('w1', running, 'cancelled', T0 + 9)
      expect(await queue.cancel('ws_a', running, T0 + 10)).toMatchObject({
        outcome: 'finished',
        job: { state: 'cancelled' },
      })
      expect(await queue.cancel('ws_other', queued, T0 + 10)).toEqual({ outcome: 'not_found' })
      expect(await queue.cancel('ws_a', 'gen_missing', T0 + 10)).toEqual({
        outcome: 'not_found',
      })
    })

    it('two workers on their own connections racing for jobs claim each exactly once', async () => {
      const jobs = 60
      for (let index = 0; index < jobs; index++) {
        await enqueue(`ws_${index % 3}`, `gen_${String(index).padStart(3, '0')}`)
      }
      const other = await harness.open()
      const claimedBy = new Map<string, string[]>()
      const drain = async (worker: JobQueue, owner: string) => {
        for (;;) {
          const claimed = await worker.claim(owner, options(T0 + 100, 4))
          if (claimed.length === 0) {
            return
          }
          for (const job of claimed) {
            claimedBy.set(job.generationId, [...(claimedBy.get(job.generationId) ?? []), owner])
            expect(await worker.finish(owner, job.generationId, 'succeeded', T0 + 200)).toBe(true)
          }
        }
      }
      await Promise.all([drain(queue, 'w1'), drain(other, 'w2'), drain(queue, 'w3')])
      expect(claimedBy.size).toBe(jobs)
      expect([...claimedBy.values()].filter((owners) => owners.length !== 1)).toEqual([])
      expect((await queue.counts()).succeeded).toBe(jobs)
      await other.close()
    })

    describe('accept', () => {
      const accepted = (id: string, amount?: number): AcceptedJob => ({
        job: { generationId: id, workspaceId: 'ws_a', payload: { prompt: id } },
        generation: queuedGeneration('ws_a', id),
        hold: amount === undefined ? undefined : { amount, reference: `job:${id}`, model: 'm' },
      })

      it('holds the credits, writes the queued record and the job naming the hold', async () => {
        await harness.addWorkspace('ws_a', 5000)
        const { generation, reservation } = await queue.accept(accepted('gen_1', 3000), T0)
        expect(generation).toMatchObject({ id: 'gen_1', workspaceId: 'ws_a', status: 'queued' })
        expect(reservation).toMatchObject({
          workspaceId: 'ws_a',
          amount: 3000,
          reference: 'job:gen_1',
          model: 'm',
          state: 'held',
        })
        expect(await harness.ledger.balance('ws_a')).toBe(2000)
        expect(await harness.ledger.getReservation(reservation?.id ?? '')).toMatchObject({
          state: 'held',
        })
        expect(await harness.generationStatus('gen_1')).toBe('queued')
        const [claimed] = await queue.claim('w1', options())
        expect(claimed).toMatchObject({
          generationId: 'gen_1',
          reservationId: reservation?.id,
          payload: { prompt: 'gen_1' },
          createdAt: T0,
        })
      })

      it('writes none of the three when the hold is refused', async () => {
        await harness.addWorkspace('ws_a', 1000)
        await expect(queue.accept(accepted('gen_1', 3000), T0)).rejects.toThrow(
          InsufficientCreditsError,
        )
        expect(await harness.generationStatus('gen_1')).toBeUndefined()
        expect(await queue.get('gen_1')).toBeUndefined()
        expect(await harness.ledger.balance('ws_a')).toBe(1000)
        expect(await queue.claim('w1', options())).toEqual([])
      })

      it('accepts a free job without a hold', async () => {
        await harness.addWorkspace('ws_a', 0)
        const { reservation } = await queue.accept(accepted('gen_1'), T0)
        expect(reservation).toBeUndefined()
        expect(await queue.get('gen_1')).toMatchObject({ state: 'queued', reservationId: null })
      })
    })
  })
}
