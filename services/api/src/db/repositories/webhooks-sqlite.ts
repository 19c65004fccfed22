import { and, asc, desc, eq, gt, gte, inArray, isNull, lt, lte, notExists, sql } from 'drizzle-orm'
import type { WebhookEventType } from '../../webhooks/events.ts'
import type { OwedAnnouncement, WebhookStore } from '../../webhooks/store.ts'
import type { Db } from '../client.ts'
import {
  generationJobs,
  generations,
  webhookAttempts,
  webhookDeliveries,
  webhookEndpoints,
  webhookSigningSecrets,
} from '../schema/index.ts'
import { type ClaimedRow, toClaimed, toEndpoint, withAttempts } from './webhooks-rows.ts'

/**
 * The webhook port on SQLite. better-sqlite3 runs every statement synchronously, so each
 * method is one uninterrupted step; a claim is one UPDATE … RETURNING, which SQLite's single
 * writer makes atomic against another connection's (another process's) claim. `db` must be the
 * generations' connection: an announcement's deliveries and its generation's mark are one
 * transaction on it.
 */
export function createSqliteWebhookStore(db: Db): WebhookStore {
  // Once per generation that ends: prepared once.
  const markAnnounced = db
    .update(generations)
    .set({ announcedAt: sql.placeholder('announcedAt') } as unknown as { announcedAt: string })
    .where(
      and(eq(generations.id, sql.placeholder('generationId')), isNull(generations.announcedAt)),
    )
    .prepare()

  return {
    async createEndpoint(endpoint) {
      db.insert(webhookEndpoints).values(endpoint).run()
    },

    async listEndpoints(workspaceId) {
      return db
        .select()
        .from(webhookEndpoints)
        .where(eq(webhookEndpoints.workspaceId, workspaceId))
        .orderBy(asc(webhookEndpoints.id))
        .all()
        .map(toEndpoint)
    },

    async getEndpoint(workspaceId, id) {
      const row = db
        .select()
        .from(webhookEndpoints)
        .where(and(eq(webhookEndpoints.workspaceId, workspaceId), eq(webhookEndpoints.id, id)))
        .get()
      return row ? toEndpoint(row) : undefined
    },

    async deleteEndpoint(workspaceId, id) {
      return (
        db
          .delete(webhookEndpoints)
          .where(and(eq(webhookEndpoints.workspaceId, workspaceId), eq(webhookEndpoints.id, id)))
          .run().changes > 0
      )
    },

    async subscribers(workspaceId, eventType: WebhookEventType) {
      return db
        .select()
        .from(webhookEndpoints)
        .where(
          and(
            eq(webhookEndpoints.workspaceId, workspaceId),
            isNull(webhookEndpoints.disabledAt),
            sql`exists (select 1 from json_each(${webhookEndpoints.events}) where json_each.value = ${eventType})`,
          ),
        )
        .orderBy(asc(webhookEndpoints.id))
        .all()
        .map(toEndpoint)
    },

    async signingSecret(workspaceId, create, createdAt) {
      db.insert(webhookSigningSecrets)
        .values({ workspaceId, secret: create(), createdAt })
        .onConflictDoNothing()
        .run()
      const row = db
        .select()
        .from(webhookSigningSecrets)
        .where(eq(webhookSigningSecrets.workspaceId, workspaceId))
        .get()
      return row?.secret as string
    },

    async replaceSigningSecret(workspaceId, secret, createdAt) {
      db.insert(webhookSigningSecrets)
        .values({ workspaceId, secret, createdAt })
        .onConflictDoUpdate({
          target: webhookSigningSecrets.workspaceId,
          set: { secret, createdAt },
        })
        .run()
    },

    async writeAnnouncement(generationId, deliveries, announcedAt) {
      return db.transaction((tx) => {
        const written =
          deliveries.length === 0
            ? 0
            : tx
                .insert(webhookDeliveries)
                .values(
                  deliveries.map((delivery) => ({
                    ...delivery,
                    status: 'pending' as const,
                    attempts: 0,
                  })),
                )
                .onConflictDoNothing()
                .run().changes
        markAnnounced.run({ generationId, announcedAt })
        return written
      })
    },

    async unannounced(finishedFrom, finishedTo, page) {
      return db
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
        .limit(page.limit)
        .all() as OwedAnnouncement[]
    },

    async claimDue(nowMs, leaseMs, limit, leaseToken) {
      const rows = db.all<ClaimedRow>(sql`
        UPDATE webhook_deliveries SET lease_token = ${leaseToken}, lease_expires_at = ${nowMs + leaseMs}
        WHERE id IN (
          SELECT id FROM webhook_deliveries
          WHERE status = 'pending' AND next_attempt_at <= ${nowMs}
            AND (lease_expires_at IS NULL OR lease_expires_at <= ${nowMs})
          ORDER BY next_attempt_at LIMIT ${limit}
        )
        RETURNING id, workspace_id, endpoint_id, url, body, attempts, created_at`)
      return rows.map((row) => toClaimed(row, leaseToken))
    },

    async secretFor(delivery) {
      if (delivery.endpointId) {
        return db
          .select({ secret: webhookEndpoints.secret })
          .from(webhookEndpoints)
          .where(eq(webhookEndpoints.id, delivery.endpointId))
          .get()?.secret
      }
      return db
        .select({ secret: webhookSigningSecrets.secret })
        .from(webhookSigningSecrets)
        .where(eq(webhookSigningSecrets.workspaceId, delivery.workspaceId))
        .get()?.secret
    },

    async finishAttempt(delivery, attempt, outcome) {
      return db.transaction((tx) => {
        const moved = tx
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
          .run().changes
        if (moved === 0) {
          return false
        }
        tx.insert(webhookAttempts).values(attempt).run()
        if (outcome.status !== 'pending' && outcome.disableEndpoint && delivery.endpointId) {
          tx.update(webhookEndpoints)
            .set({ disabledAt: outcome.finishedAt, disabledReason: outcome.disableEndpoint.reason })
            .where(eq(webhookEndpoints.id, delivery.endpointId))
            .run()
          tx.update(webhookDeliveries)
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
            .run()
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
      const deliveries = db
        .select()
        .from(webhookDeliveries)
        .where(and(...conditions))
        .orderBy(desc(webhookDeliveries.id))
        .limit(page.limit + 1)
        .all()
      const attempts =
        deliveries.length === 0
          ? []
          : db
              .select()
              .from(webhookAttempts)
              .where(
                inArray(
                  webhookAttempts.deliveryId,
                  deliveries.map((delivery) => delivery.id),
                ),
              )
              .all()
      return withAttempts(deliveries, attempts)
    },
  }
}
