import { and, asc, desc, eq, gt, gte, inArray, isNull, lt, lte, notExists, sql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/node-postgres'
import type { Pool } from 'pg'
import type { OwedAnnouncement, WebhookStore } from '../../webhooks/store.ts'
import {
  generationJobs,
  generations,
  webhookAttempts,
  webhookDeliveries,
  webhookEndpoints,
  webhookSigningSecrets,
} from '../pg-schema/index.ts'
import type { WebhookAttemptRow, WebhookDeliveryRow, WebhookEndpointRow } from '../schema/index.ts'
import { type ClaimedRow, toClaimed, toEndpoint, withAttempts } from './webhooks-rows.ts'

/**
 * The webhook port on PostgreSQL. A claim is one UPDATE over a `FOR UPDATE SKIP LOCKED`
 * selection: instances claiming at the same moment each take rows the others have not locked,
 * and never wait on one another. Two announcements of one generation at once (two instances)
 * write their deliveries in the same order (endpoints by id, the request's URL last), so the
 * second waits on the first's rows and then skips them rather than deadlocking.
 */
export function createPgWebhookStore(pool: Pool): WebhookStore {
  const db = drizzle({ client: pool })
  const endpointOf = (row: typeof webhookEndpoints.$inferSelect) =>
    toEndpoint(row as WebhookEndpointRow)

  return {
    async createEndpoint(endpoint) {
      await db.insert(webhookEndpoints).values(endpoint)
    },

    async listEndpoints(workspaceId) {
      const rows = await db
        .select()
        .from(webhookEndpoints)
        .where(eq(webhookEndpoints.workspaceId, workspaceId))
        .orderBy(asc(webhookEndpoints.id))
      return rows.map(endpointOf)
    },

    async getEndpoint(workspaceId, id) {
      const [row] = await db
        .select()
        .from(webhookEndpoints)
        .where(and(eq(webhookEndpoints.workspaceId, workspaceId), eq(webhookEndpoints.id, id)))
      return row ? endpointOf(row) : undefined
    },

    async deleteEndpoint(workspaceId, id) {
      const deleted = await db
        .delete(webhookEndpoints)
        .where(and(eq(webhookEndpoints.workspaceId, workspaceId), eq(webhookEndpoints.id, id)))
        .returning({ id: webhookEndpoints.id })
      return deleted.length > 0
    },

    async subscribers(workspaceId, eventType) {
      const rows = await db
        .select()
        .from(webhookEndpoints)
        .where(
          and(
            eq(webhookEndpoints.workspaceId, workspaceId),
            isNull(webhookEndpoints.disabledAt),
            sql`${webhookEndpoints.events} @> ${JSON.stringify([eventType])}::jsonb`,
          ),
        )
        .orderBy(asc(webhookEndpoints.id))
      return rows.map(endpointOf)
    },

    async signingSecret(workspaceId, create, createdAt) {
      await db
        .insert(webhookSigningSecrets)
        .values({ workspaceId, secret: create(), createdAt })
        .onConflictDoNothing()
      const [row] = await db
        .select()
        .from(webhookSigningSecrets)
        .where(eq(webhookSigningSecrets.workspaceId, workspaceId))
      return row?.secret as string
    },

    async replaceSigningSecret(workspaceId, secret, createdAt) {
      await db
        .insert(webhookSigningSecrets)
        .values({ workspaceId, secret, createdAt })
        .onConflictDoUpdate({
          target: webhookSigningSecrets.workspaceId,
          set: { secret, createdAt },
        })
    },

    async writeAnnouncement(generationId, deliveries, announcedAt) {
      const mark = (on: Pick<typeof db, 'update'>) =>
        on
          .update(generations)
          .set({ announcedAt })
          .where(and(eq(generations.id, generationId), isNull(generations.announcedAt)))
      if (deliveries.length === 0) {
        // Nothing listens (most generations): the mark alone, one statement, no transaction.
        await mark(db)
        return 0
      }
      return db.transaction(async (tx) => {
        const written = await tx
          .insert(webhookDeliveries)
          .values(
            deliveries.map((delivery) => ({
              ...delivery,
              status: 'pending' as const,
              attempts: 0,
            })),
          )
          .onConflictDoNothing()
          .returning({ id: webhookDeliveries.id })
        await mark(tx)
        return written.length
      })
    },

    async unannounced(finishedFrom, finishedTo, page) {
      return (await db
        .select({
          generationId: generations.id,
          workspaceId: generations.workspaceId,
          status: generations.status,
        })
        .from(generations)
        .where(
          and(
            isNull(generations.announcedAt),
            gte(generations.finishedAt, finishedFrom),
            lte(generations.finishedAt, finishedTo),
            inArray(generations.status, ['succeeded', 'failed', 'cancelled']),
            page.afterId === undefined ? undefined : gt(generations.id, page.afterId),
            notExists(
              db
                .select({ id: generationJobs.generationId })
                .from(generationJobs)
                .where(
                  and(
                    eq(generationJobs.generationId, generations.id),
                    inArray(generationJobs.state, ['queued', 'running']),
                  ),
                ),
            ),
          ),
        )
        .orderBy(asc(generations.id))
        .limit(page.limit)) as OwedAnnouncement[]
    },

    async claimDue(nowMs, leaseMs, limit, leaseToken) {
      const result = await db.execute<ClaimedRow>(sql`
        UPDATE webhook_deliveries SET lease_token = ${leaseToken}, lease_expires_at = ${nowMs + leaseMs}
        WHERE id IN (
          SELECT id FROM webhook_deliveries
          WHERE status = 'pending' AND next_attempt_at <= ${nowMs}
            AND (lease_expires_at IS NULL OR lease_expires_at <= ${nowMs})
          ORDER BY next_attempt_at LIMIT ${limit}
          FOR UPDATE SKIP LOCKED
        )
        RETURNING id, workspace_id, endpoint_id, url, body, attempts, created_at`)
      return result.rows.map((row) => toClaimed(row, leaseToken))
    },

    async secretFor(delivery) {
      if (delivery.endpointId) {
        const [row] = await db
          .select({ secret: webhookEndpoints.secret })
          .from(webhookEndpoints)
          .where(eq(webhookEndpoints.id, delivery.endpointId))
        return row?.secret
      }
      const [row] = await db
        .select({ secret: webhookSigningSecrets.secret })
        .from(webhookSigningSecrets)
        .where(eq(webhookSigningSecrets.workspaceId, delivery.workspaceId))
      return row?.secret
    },

    async finishAttempt(delivery, attempt, outcome) {
      return db.transaction(async (tx) => {
        const moved = await tx
          .update(webhookDeliveries)
          .set({
            status: outcome.status,
            attempts: attempt.attempt,
            leaseToken: null,
            leaseExpiresAt: null,
            ...(outcome.status === 'pending'
              ? { nextAttemptAt: outcome.nextAttemptAt }
              : { finishedAt: outcome.finishedAt }),
          })
          .where(
            and(
              eq(webhookDeliveries.id, delivery.id),
              eq(webhookDeliveries.leaseToken, delivery.leaseToken),
            ),
          )
          .returning({ id: webhookDeliveries.id })
        if (moved.length === 0) {
          return false
        }
        await tx.insert(webhookAttempts).values(attempt)
        if (outcome.status !== 'pending' && outcome.disableEndpoint && delivery.endpointId) {
          await tx
            .update(webhookEndpoints)
            .set({ disabledAt: outcome.finishedAt, disabledReason: outcome.disableEndpoint.reason })
            .where(eq(webhookEndpoints.id, delivery.endpointId))
          await tx
            .update(webhookDeliveries)
            .set({
              status: 'failed',
              finishedAt: outcome.finishedAt,
              leaseToken: null,
              leaseExpiresAt: null,
            })
            .where(
              and(
                eq(webhookDeliveries.endpointId, delivery.endpointId),
                eq(webhookDeliveries.status, 'pending'),
              ),
            )
        }
        return true
      })
    },

    async listDeliveries(workspaceId, endpointId, page) {
      const conditions = [
        eq(webhookDeliveries.workspaceId, workspaceId),
        eq(webhookDeliveries.endpointId, endpointId),
      ]
      if (page.afterId) {
        conditions.push(lt(webhookDeliveries.id, page.afterId))
      }
      const deliveries = await db
        .select()
        .from(webhookDeliveries)
        .where(and(...conditions))
        .orderBy(desc(webhookDeliveries.id))
        .limit(page.limit + 1)
      const attempts =
        deliveries.length === 0
          ? []
          : await db
              .select()
              .from(webhookAttempts)
              .where(
                inArray(
                  webhookAttempts.deliveryId,
                  deliveries.map((delivery) => delivery.id),
                ),
              )
      return withAttempts(deliveries as WebhookDeliveryRow[], attempts as WebhookAttemptRow[])
    },
  }
}
