import { Webhook } from 'standardwebhooks'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createIdGenerator, systemClock } from '../../ids.ts'
import { type ManualClock, manualClock } from '../../providers/resilience/testing/manual-clock.ts'
import { seededRandom } from '../../providers/resilience/testing/seeded-random.ts'
import { createWebhookDispatcher, type DispatcherOptions } from '../dispatcher.ts'
import { WEBHOOK_RETRY_WINDOW_MS } from '../retry-schedule.ts'
import { sendWebhook } from '../send.ts'
import { newWebhookSecret } from '../signature.ts'
import type { NewDelivery, WebhookEndpoint, WebhookStore } from '../store.ts'
import { type Receiver, type ReceiverAnswer, startReceiver } from './receiver.ts'

/** Two stores on one database, each through its own connection (as two instances would be). */
export type WebhookStoreHarness = {
  stores: [WebhookStore, WebhookStore]
  workspaceId: string
  close(): Promise<void>
}

const silent = { info() {}, warn() {}, error() {} }
const ids = createIdGenerator()

/**
 * The webhook port's suite: every adapter (SQLite, PostgreSQL) must pass it, the dispatcher
 * running on it against a real receiver on loopback.
 */
export function describeWebhookStore(name: string, open: () => Promise<WebhookStoreHarness>) {
  describe(`webhook store: ${name}`, () => {
    let harness: WebhookStoreHarness
    let store: WebhookStore
    let clock: ManualClock
    const receivers: Receiver[] = []
    beforeEach(async () => {
      harness = await open()
      store = harness.stores[0]
      // Now: the verifier refuses timestamps more than five minutes off.
      clock = manualClock(Date.now())
    })
    afterEach(async () => {
      await Promise.all(receivers.splice(0).map((receiver) => receiver.close()))
      await harness.close()
    })

    async function receiver(answer?: (index: number) => ReceiverAnswer) {
      const started = await startReceiver(answer && ((_, index) => answer(index)))
      receivers.push(started)
      return started
    }

    async function endpoint(url: string, events = ['generation.succeeded', 'generation.failed']) {
      const made: WebhookEndpoint = {
        id: ids('whk'),
        workspaceId: harness.workspaceId,
        url,
        events: events as WebhookEndpoint['events'],
        description: null,
        secret: newWebhookSecret(),
        createdAt: clock.now().toISOString(),
        disabledAt: null,
        disabledReason: null,
      }
      await store.createEndpoint(made)
      return made
    }

    function delivery(target: WebhookEndpoint | string, generationId = ids('gen')): NewDelivery {
      const url = typeof target === 'string' ? target : target.url
      return {
        id: ids('msg'),
        workspaceId: harness.workspaceId,
        endpointId: typeof target === 'string' ? null : target.id,
        url,
        eventType: 'generation.succeeded',
        generationId,
        body: JSON.stringify({ type: 'generation.succeeded', data: { generationId } }),
        createdAt: clock.now().toISOString(),
        nextAttemptAt: clock.ms(),
      }
    }

    /** Writes deliveries as announcements: one per generation they belong to. */
    async function enqueue(deliveries: NewDelivery[]) {
      const byGeneration = new Map<string, NewDelivery[]>()
      for (const each of deliveries) {
        byGeneration.set(each.generationId, [...(byGeneration.get(each.generationId) ?? []), each])
      }
      for (const [generationId, written] of byGeneration) {
        await store.writeAnnouncement(generationId, written, clock.now().toISOString())
      }
    }

    function dispatcher(on: WebhookStore, options: Partial<DispatcherOptions> = {}) {
      return createWebhookDispatcher({
        store: on,
        clock,
        random: seededRandom(7),
        policy: { allowLoopback: true, resolve: async () => [{ address: '127.0.0.1', family: 4 }] },
        send: sendWebhook,
        newAttemptId: () => ids('wha'),
        log: silent,
        concurrency: 4,
        attemptTimeoutMs: 2_000,
        leaseMs: 60_000,
        pollMs: 10,
        ...options,
      })
    }

    const deliveriesOf = (made: WebhookEndpoint) =>
      store.listDeliveries(harness.workspaceId, made.id, { limit: 100 })

    it('keeps endpoints per workspace; subscribers are the enabled ones of the event', async () => {
      const both = await endpoint('https://a.example/hook')
      const failures = await endpoint('https://b.example/hook', ['generation.failed'])
      expect((await store.listEndpoints(harness.workspaceId)).map((row) => row.id)).toEqual([
        both.id,
        failures.id,
      ])
      expect(await store.getEndpoint(harness.workspaceId, both.id)).toEqual(both)
      expect(await store.getEndpoint('ws_other', both.id)).toBeUndefined()
      const succeeded = await store.subscribers(harness.workspaceId, 'generation.succeeded')
      expect(succeeded.map((row) => row.id)).toEqual([both.id])
      const failed = await store.subscribers(harness.workspaceId, 'generation.failed')
      expect(failed.map((row) => row.id)).toEqual([both.id, failures.id])
      await enqueue([delivery(both)])
      expect(await store.deleteEndpoint('ws_other', both.id)).toBe(false)
      expect(await store.deleteEndpoint(harness.workspaceId, both.id)).toBe(true)
      expect(await deliveriesOf(both)).toEqual([])
      expect(await store.listEndpoints(harness.workspaceId)).toHaveLength(1)
    })

    it('creates the signing secret on first use, keeps it, and replaces it when asked', async () => {
      const first = await store.signingSecret(harness.workspaceId, () => 'whsec_first', 't')
      expect(first).toBe('whsec_first')
      expect(await store.signingSecret(harness.workspaceId, () => 'whsec_second', 't')).toBe(first)
      await store.replaceSigningSecret(harness.workspaceId, 'whsec_third', 't')
      expect(await store.signingSecret(harness.workspaceId, () => 'whsec_fourth', 't')).toBe(
        'whsec_third',
      )
    })

    it('leases a due delivery to one claimant until the lease runs out', async () => {
      const made = await endpoint('https://a.example/hook')
      const later = { ...delivery(made), nextAttemptAt: clock.ms() + 1_000 }
      await enqueue([delivery(made), later])
      const [first, second] = harness.stores
      const claimed = await first.claimDue(clock.ms(), 5_000, 10, 'lease-a')
      expect(claimed).toHaveLength(1)
      expect(await second.claimDue(clock.ms(), 5_000, 10, 'lease-b')).toEqual([])
      clock.advance(5_000)
      const taken = await second.claimDue(clock.ms(), 5_000, 10, 'lease-b')
      expect(taken.map((row) => row.id).sort()).toEqual([claimed[0]?.id, later.id].sort())
      // The first claimant's lease is gone: its late result is not recorded.
      const attempt = {
        id: ids('wha'),
        deliveryId: claimed[0]?.id as string,
        attempt: 1,
        startedAt: clock.now().toISOString(),
        durationMs: 1,
        statusCode: 200,
        error: null,
      }
      const done = { status: 'delivered' as const, finishedAt: clock.now().toISOString() }
      expect(await first.finishAttempt(claimed[0] as never, attempt, done)).toBe(false)
      const mine = taken.find((row) => row.id === claimed[0]?.id)
      expect(await second.finishAttempt(mine as never, attempt, done)).toBe(true)
      const [listed] = (await deliveriesOf(made)).filter((row) => row.id === claimed[0]?.id)
      expect(listed?.status).toBe('delivered')
      expect(listed?.attempts).toHaveLength(1)
    })

    it('delivers a body the standardwebhooks verifier accepts, and records the attempt', async () => {
      const hook = await receiver()
      const made = await endpoint(hook.url)
      const queued = delivery(made)
      await enqueue([queued])
      expect(await dispatcher(store).runDue()).toBe(1)
      expect(hook.received).toHaveLength(1)
      const [got] = hook.received
      const verified = new Webhook(made.secret).verify(
        got?.body as string,
        got?.headers as Record<string, string>,
      )
      expect(verified).toEqual(JSON.parse(queued.body))
      expect(got?.headers['webhook-id']).toBe(queued.id)
      expect(() =>
        new Webhook(newWebhookSecret()).verify(
          got?.body as string,
          got?.headers as Record<string, string>,
        ),
      ).toThrow()
      const [listed] = await deliveriesOf(made)
      expect(listed).toMatchObject({ id: queued.id, status: 'delivered', nextAttemptAt: null })
      expect(listed?.attempts).toMatchObject([{ attempt: 1, statusCode: 200, error: null }])
    })

    it('retries after 500s with exponential backoff and jitter, same webhook-id each time', async () => {
      const hook = await receiver((index) => ({ status: index < 3 ? 500 : 204 }))
      const made = await endpoint(hook.url)
      await enqueue([delivery(made)])
      const run = dispatcher(store)
      const waits: number[] = []
      for (let attempt = 0; attempt < 4; attempt += 1) {
        expect(await run.runDue()).toBe(1)
        const [listed] = await deliveriesOf(made)
        if (listed?.nextAttemptAt) {
          // Not due before its time.
          expect(await run.runDue()).toBe(0)
          waits.push(listed.nextAttemptAt - clock.ms())
          clock.set(listed.nextAttemptAt)
        }
      }
      expect(waits).toHaveLength(3)
      waits.forEach((wait, retry) => {
        const ceiling = 5_000 * 2 ** retry
        expect(wait).toBeGreaterThanOrEqual(ceiling / 2)
        expect(wait).toBeLessThanOrEqual(ceiling)
      })
      expect(new Set(hook.received.map((got) => got.headers['webhook-id'])).size).toBe(1)
      const [listed] = await deliveriesOf(made)
      expect(listed?.status).toBe('delivered')
      expect(listed?.attempts.map((attempt) => attempt.statusCode)).toEqual([500, 500, 500, 204])
    })

    it('a timeout is a failed attempt, retried later', async () => {
      const hook = await receiver((index) => (index === 0 ? 'hang' : { status: 200 }))
      const made = await endpoint(hook.url)
      await enqueue([delivery(made)])
      const run = dispatcher(store, { attemptTimeoutMs: 300 })
      await run.runDue()
      let [listed] = await deliveriesOf(made)
      expect(listed?.status).toBe('pending')
      expect(listed?.attempts[0]).toMatchObject({ statusCode: null })
      expect(listed?.attempts[0]?.error).toMatch(/no answer within 300 ms/)
      expect(listed?.attempts[0]?.durationMs).toBeGreaterThanOrEqual(250)
      clock.set(listed?.nextAttemptAt as number)
      await run.runDue()
      ;[listed] = await deliveriesOf(made)
      expect(listed?.status).toBe('delivered')
      expect(hook.received).toHaveLength(2)
    })

    it('keeps retrying for 24 hours, the waits growing, then gives up', async () => {
      const hook = await receiver(() => ({ status: 503 }))
      const made = await endpoint(hook.url)
      const queued = delivery(made)
      await enqueue([queued])
      const run = dispatcher(store)
      let listed = (await deliveriesOf(made))[0]
      while (listed?.status === 'pending') {
        clock.set(listed.nextAttemptAt as number)
        await run.runDue()
        listed = (await deliveriesOf(made))[0]
      }
      expect(listed?.status).toBe('failed')
      const starts = listed?.attempts.map((attempt) => Date.parse(attempt.startedAt)) ?? []
      expect(starts.at(-1)).toBeLessThanOrEqual(
        Date.parse(queued.createdAt) + WEBHOOK_RETRY_WINDOW_MS,
      )
      expect(starts.length).toBeGreaterThanOrEqual(15)
      expect(starts.length).toBeLessThanOrEqual(30)
      const gaps = starts.slice(1).map((start, at) => start - (starts[at] as number))
      gaps.slice(1).forEach((gap, at) => {
        expect(gap).toBeGreaterThanOrEqual((gaps[at] as number) / 2)
      })
      expect(hook.received).toHaveLength(starts.length)
    })

    it('410 Gone disables the endpoint and stops its other deliveries', async () => {
      const hook = await receiver(() => ({ status: 410 }))
      const made = await endpoint(hook.url)
      await enqueue([delivery(made), delivery(made)])
      await dispatcher(store, { concurrency: 1 }).runDue()
      expect(hook.received).toHaveLength(1)
      const disabled = await store.getEndpoint(harness.workspaceId, made.id)
      expect(disabled?.disabledAt).not.toBeNull()
      expect(disabled?.disabledReason).toMatch(/410/)
      expect((await deliveriesOf(made)).map((row) => row.status)).toEqual(['failed', 'failed'])
      expect(await store.subscribers(harness.workspaceId, 'generation.succeeded')).toEqual([])
      expect(await dispatcher(store).runDue()).toBe(0)
    })

    it('a redirect is a failed attempt, and its target is never contacted', async () => {
      const elsewhere = await receiver()
      const hook = await receiver(() => ({ status: 307, headers: { location: elsewhere.url } }))
      const made = await endpoint(hook.url)
      await enqueue([delivery(made)])
      await dispatcher(store).runDue()
      const [listed] = await deliveriesOf(made)
      expect(listed?.status).toBe('pending')
      expect(listed?.attempts[0]?.statusCode).toBe(307)
      expect(elsewhere.received).toHaveLength(0)
    })

    it('checks the target again at delivery: a name now resolving to a private address is refused', async () => {
      const hook = await receiver()
      const made = await endpoint(`http://hooks.example.test:${hook.port}/hook`)
      await enqueue([delivery(made)])
      const rebound = dispatcher(store, {
        policy: { allowLoopback: true, resolve: async () => [{ address: '10.1.2.3', family: 4 }] },
      })
      await rebound.runDue()
      const [listed] = await deliveriesOf(made)
      expect(listed?.attempts[0]?.error).toMatch(/10\.1\.2\.3, a private address/)
      expect(hook.received).toHaveLength(0)
      // Resolving to loopback (allowed here) it is delivered, to the checked address.
      clock.set(listed?.nextAttemptAt as number)
      await dispatcher(store).runDue()
      expect(hook.received).toHaveLength(1)
      expect(hook.received[0]?.headers.host).toBe(`hooks.example.test:${hook.port}`)
    })

    it('signs a request-level URL with the workspace signing secret', async () => {
      const hook = await receiver()
      const secret = await store.signingSecret(harness.workspaceId, newWebhookSecret, 't')
      await enqueue([delivery(hook.url)])
      await dispatcher(store).runDue()
      const [got] = hook.received
      expect(() =>
        new Webhook(secret).verify(got?.body as string, got?.headers as Record<string, string>),
      ).not.toThrow()
    })

    it('lists deliveries newest first, a page at a time, each with its attempts', async () => {
      const made = await endpoint('https://a.example/hook')
      const queued = [delivery(made), delivery(made), delivery(made)]
      await enqueue(queued)
      const first = await store.listDeliveries(harness.workspaceId, made.id, { limit: 2 })
      expect(first.map((row) => row.id)).toEqual([queued[2]?.id, queued[1]?.id, queued[0]?.id])
      const rest = await store.listDeliveries(harness.workspaceId, made.id, {
        limit: 2,
        afterId: queued[1]?.id,
      })
      expect(rest.map((row) => row.id)).toEqual([queued[0]?.id])
    })

    it('two dispatchers on two connections, racing: each attempt is sent once', async () => {
      const hook = await receiver(() => ({ status: 200, delayMs: 5 }))
      const made = await endpoint(hook.url)
      const count = 40
      await enqueue(Array.from({ length: count }, () => ({ ...delivery(made), nextAttemptAt: 0 })))
      const [a, b] = harness.stores.map((on) => dispatcher(on, { clock: systemClock }))
      a?.start()
      b?.start()
      const deadline = Date.now() + 15_000
      while (hook.received.length < count && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      // Time for a duplicate to arrive, were there one.
      await new Promise((resolve) => setTimeout(resolve, 200))
      await Promise.all([a?.stop(), b?.stop()])
      const byId = new Map<string, number>()
      for (const got of hook.received) {
        const id = got.headers['webhook-id'] as string
        byId.set(id, (byId.get(id) ?? 0) + 1)
      }
      expect(byId.size).toBe(count)
      expect([...byId.values()].every((times) => times === 1)).toBe(true)
      const listed = await store.listDeliveries(harness.workspaceId, made.id, { limit: 100 })
      expect(listed.every((row) => row.status === 'delivered' && row.attempts.length === 1)).toBe(
        true,
      )
    })
  })
}
