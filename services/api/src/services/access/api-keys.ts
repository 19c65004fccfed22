import { generateApiKey, hashApiKey, hasValidChecksum } from '../../access/api-key-format.ts'
import type { RandomBytes } from '../../access/base62.ts'
import { bearerToken } from '../../access/bearer.ts'
import {
  type RateLimitSubject,
  type RateLimits,
  requestRules,
} from '../../access/rate-limit-policies.ts'
import type { RateLimitRule } from '../../access/rate-limiter.ts'
import type { Scope } from '../../access/scopes.ts'
import type { ApiKeysRepository } from '../../db/ports.ts'
import type { ApiKeyRow } from '../../db/schema/index.ts'
import { NotFoundError } from '../../errors/app-error.ts'
import type { Clock, IdGenerator } from '../../ids.ts'
import type { WorkspaceService } from './workspaces.ts'

/** Who a request runs as, once its key checked out. */
export type Principal = {
  keyId: string
  workspaceId: string
  scopes: readonly Scope[]
  limits: RateLimitSubject
  /** The per-request limits of this key and its workspace (made once, kept with the key). */
  requestRules: readonly RateLimitRule[]
}

export type ApiKeyInfo = {
  id: string
  workspaceId: string
  name: string | null
  scopes: Scope[]
  rateLimits: RateLimits
  displayPrefix: string
  last4: string
  createdAt: string
  revokedAt: string | null
}

export type NewApiKeyInput = {
  name?: string
  scopes: Scope[]
  /** Omitted fields take the configured defaults; null switches the key's own limit off. */
  rateLimits?: Partial<RateLimits>
}

export type ApiKeyServiceDeps = {
  repo: ApiKeysRepository
  workspaces: WorkspaceService
  ids: IdGenerator
  clock: Clock
  randomBytes: RandomBytes
  defaultKeyLimits: RateLimits
  workspaceLimits: RateLimits
  /** How long a looked-up key is trusted without asking the database again. */
  cacheTtlMs?: number
  maxCachedKeys?: number
}

export const toApiKeyInfo = (row: ApiKeyRow): ApiKeyInfo => ({
  id: row.id,
  workspaceId: row.workspaceId,
  name: row.name,
  scopes: row.scopes,
  rateLimits: { requestsPerMinute: row.requestsPerMinute, imagesPerMinute: row.imagesPerMinute },
  displayPrefix: row.displayPrefix,
  last4: row.last4,
  createdAt: row.createdAt,
  revokedAt: row.revokedAt,
})

/**
 * API keys: issued once, stored as a sha256, checked on every request. A key that fails its
 * checksum is refused before any lookup; a good one is looked up by its hash (a unique index)
 * and kept in a small in-process cache, which a revocation clears at once (one process owns the
 * database, so there is no other cache to invalidate).
 */
export function createApiKeyService(deps: ApiKeyServiceDeps) {
  const { repo } = deps
  const cacheTtlMs = deps.cacheTtlMs ?? 60_000
  const maxCachedKeys = deps.maxCachedKeys ?? 10_000
  const cache = new Map<string, { principal: Principal; until: number }>()
  const now = () => deps.clock.now().getTime()

  const principalOf = (row: ApiKeyRow): Principal => {
    const limits: RateLimitSubject = {
      keyId: row.id,
      workspaceId: row.workspaceId,
      keyLimits: { requestsPerMinute: row.requestsPerMinute, imagesPerMinute: row.imagesPerMinute },
      workspaceLimits: deps.workspaceLimits,
    }
    return {
      keyId: row.id,
      workspaceId: row.workspaceId,
      scopes: row.scopes,
      limits,
      requestRules: requestRules(limits),
    }
  }

  function limitOf(field: keyof RateLimits, given: Partial<RateLimits> | undefined) {
    const value = given?.[field]
    return value === undefined ? deps.defaultKeyLimits[field] : value
  }

  return {
    /** A new key for the workspace (404 if there is none). The raw key is in the answer only. */
    async create(
      workspaceId: string,
      input: NewApiKeyInput,
    ): Promise<{ key: string; info: ApiKeyInfo }> {
      await deps.workspaces.get(workspaceId)
      const generated = generateApiKey(deps.randomBytes)
      const row = await repo.insert({
        id: deps.ids('key'),
        workspaceId,
        name: input.name ?? null,
        keyHash: generated.keyHash,
        displayPrefix: generated.displayPrefix,
        last4: generated.last4,
        scopes: [...new Set(input.scopes)],
        requestsPerMinute: limitOf('requestsPerMinute', input.rateLimits),
        imagesPerMinute: limitOf('imagesPerMinute', input.rateLimits),
        createdAt: deps.clock.now().toISOString(),
      })
      return { key: generated.key, info: toApiKeyInfo(row) }
    },

    async list(workspaceId: string): Promise<ApiKeyInfo[]> {
      await deps.workspaces.get(workspaceId)
      return (await repo.listByWorkspace(workspaceId)).map(toApiKeyInfo)
    },

    /** Revokes the key (again is fine); 404 for an id that names no key. */
    async revoke(keyId: string): Promise<ApiKeyInfo> {
      const row = await repo.revoke(keyId, deps.clock.now().toISOString())
      if (!row) {
        throw new NotFoundError('API key', keyId)
      }
      for (const [hash, entry] of cache) {
        if (entry.principal.keyId === keyId) {
          cache.delete(hash)
        }
      }
      return toApiKeyInfo(row)
    },

    /**
     * The principal for an Authorization header, or undefined for every kind of failure
     * (missing, not Bearer, bad checksum, unknown, revoked): the caller answers one 401.
     */
    async authenticate(authorization: string | undefined): Promise<Principal | undefined> {
      const token = bearerToken(authorization)
      if (token === undefined || !hasValidChecksum(token)) {
        return undefined
      }
      const keyHash = hashApiKey(token)
      const at = now()
      const cached = cache.get(keyHash)
      if (cached && cached.until > at) {
        return cached.principal
      }
      const row = await repo.findActiveByHash(keyHash)
      if (!row) {
        cache.delete(keyHash)
        return undefined
      }
      if (cache.size >= maxCachedKeys) {
        cache.clear()
      }
      const principal = principalOf(row)
      cache.set(keyHash, { principal, until: at + cacheTtlMs })
      return principal
    },

    /** Live admin keys anywhere: none at start-up means bootstrap. */
    countActiveAdmins: () => repo.countActiveAdmins(),
  }
}

export type ApiKeyService = ReturnType<typeof createApiKeyService>
