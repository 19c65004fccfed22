import { describe, expect, it } from 'vitest'
import committedSpec from '../../../../openapi/openapi.json' with { type: 'json' }
import { allows, createRouteAccessIndex, isScope, type Scope } from '../access/scopes.ts'
import { exactRouteAccess, routeAccess, routeAccessTable } from './access-table.ts'

const spec = committedSpec as { paths: Record<string, Record<string, unknown>> }

describe('routeAccessTable', () => {
  it('has a row for every operation of the committed contract', () => {
    const operations = Object.entries(spec.paths).flatMap(([route, item]) =>
      Object.keys(item)
        .filter((key) => ['get', 'head', 'post', 'put', 'patch', 'delete'].includes(key))
        .map((method) => `${method.toUpperCase()} ${route}`),
    )
    expect(operations.length).toBeGreaterThan(10)
    const rows = new Set(routeAccessTable.map((row) => `${row.method} ${row.route}`))
    expect(operations.filter((operation) => !rows.has(operation))).toEqual([])
  })

  it('lists every route once', () => {
    const rows = routeAccessTable.map((row) => `${row.method} ${row.route}`)
    expect(new Set(rows).size).toBe(rows.length)
  })

  it('marks idempotency only on POSTs', () => {
    for (const row of routeAccessTable.filter((entry) => entry.idempotent)) {
      expect(row.method).toBe('POST')
    }
  })
})

describe('routeAccess', () => {
  it.each([
    ['GET', '/healthz', 'public'],
    ['GET', '/readyz', 'public'],
    ['GET', '/openapi.json', 'public'],
    ['GET', '/docs', 'public'],
    ['GET', '/metrics', 'admin'],
    ['POST', '/v1/images/generations', 'generate'],
    ['POST', '/v1/images/edits', 'generate'],
    ['POST', '/v1/skills/image-generate', 'generate'],
    ['POST', '/v1/assets', 'generate'],
    ['DELETE', '/v1/assets/ast_01J9', 'generate'],
    ['GET', '/v1/models', 'read'],
    ['GET', '/v1/assets', 'read'],
    ['GET', '/v1/assets/ast_01J9', 'read'],
    ['GET', '/v1/assets/ast_01J9/content', 'read'],
    ['HEAD', '/v1/assets/ast_01J9/content', 'read'],
    ['HEAD', '/v1/assets/ast_01J9', 'read'],
    ['GET', '/v1/generations/gen_1', 'read'],
    ['POST', '/v1/workspaces', 'admin'],
    ['GET', '/v1/workspaces', 'admin'],
    ['POST', '/v1/workspaces/ws_1/keys', 'admin'],
    ['GET', '/v1/workspaces/ws_1/keys', 'admin'],
    ['DELETE', '/v1/keys/key_1', 'admin'],
    ['POST', '/v1/workspaces/ws_1/credits', 'admin'],
    ['GET', '/v1/workspaces/ws_1/usage', 'admin'],
    ['POST', '/v1/workspaces/ws_1/webhooks', 'admin'],
    ['GET', '/v1/workspaces/ws_1/webhooks/whk_1/deliveries', 'admin'],
    ['GET', '/v1/nothing-here', 'read'],
    ['POST', '/v1/models', 'read'],
    ['GET', '/v1', 'read'],
    ['GET', '/favicon.ico', 'public'],
  ])('%s %s needs %s', (method, path, access) => {
    expect(routeAccess(method, path).access).toBe(access)
  })

  it('takes templates in OpenAPI and Hono form, and lower-case methods', () => {
    expect(routeAccess('get', '/v1/assets/{id}/content')).toBe(
      routeAccess('GET', '/v1/assets/:id/content'),
    )
    expect(routeAccess('GET', '/v1/assets/:id/content').signedUrl).toBe(true)
    expect(routeAccess('POST', '/v1/images/generations').idempotent).toBe(true)
    expect(routeAccess('GET', '/v1/assets').idempotent).toBeUndefined()
  })

  it('does not let a parameter swallow a slash or a prefix match through', () => {
    expect(routeAccess('DELETE', '/v1/assets/a/b').access).toBe('read')
    expect(routeAccess('GET', '/v1/workspacesX').access).toBe('read')
    expect(routeAccess('GET', '/metricsX').access).toBe('public')
  })
})

describe('exactRouteAccess', () => {
  it('finds every row without parameters, as routeAccess does, and nothing else', () => {
    for (const row of routeAccessTable) {
      const found = exactRouteAccess(row.method, row.route)
      if (row.route.includes('{')) {
        expect(found).toBeUndefined()
      } else {
        expect(found).toBe(row)
        expect(routeAccess(row.method, row.route)).toBe(row)
      }
    }
    expect(exactRouteAccess('GET', '/v1/assets/ast_1')).toBeUndefined()
    expect(exactRouteAccess('POST', '/v1/models')).toBeUndefined()
  })
})

describe('allows', () => {
  const cases: [Scope[], Scope, boolean][] = [
    [['admin'], 'admin', true],
    [['admin'], 'generate', true],
    [['admin'], 'read', true],
    [['generate'], 'admin', false],
    [['generate'], 'generate', true],
    [['generate'], 'read', true],
    [['read'], 'admin', false],
    [['read'], 'generate', false],
    [['read'], 'read', true],
    [[], 'read', false],
    [['read', 'generate'], 'generate', true],
  ]
  it.each(cases)('%j may use a %s route: %s', (held, needed, expected) => {
    expect(allows(held, needed)).toBe(expected)
  })

  it('lets anyone use public routes', () => {
    expect(allows([], 'public')).toBe(true)
  })

  it('recognises scope names', () => {
    expect(['admin', 'generate', 'read', 'write', 1, undefined].map(isScope)).toEqual([
      true,
      true,
      true,
      false,
      false,
      false,
    ])
  })
})

describe('the table derived from the route files', () => {
  it('gives every operation the rule its route declares', () => {
    const rows = Object.fromEntries(
      routeAccessTable.map(({ method, route, ...rule }) => [`${method} ${route}`, rule]),
    )
    const generate = { access: 'generate', rateLimit: 'images', idempotent: true, charged: true }
    expect(rows).toEqual({
      'GET /healthz': { access: 'public' },
      'GET /readyz': { access: 'public' },
      'GET /openapi.json': { access: 'public' },
      'GET /docs': { access: 'public' },
      'GET /metrics': { access: 'admin', rateLimit: 'requests' },
      'POST /v1/images/generations': generate,
      'POST /v1/images/edits': generate,
      'POST /v1/skills/image-generate': { ...generate, envelope: 'skill' },
      'POST /v1/assets': { access: 'generate', rateLimit: 'requests', idempotent: true },
      'DELETE /v1/assets/{id}': { access: 'generate', rateLimit: 'requests' },
      'GET /v1/models': { access: 'read', rateLimit: 'requests' },
      'GET /v1/assets': { access: 'read', rateLimit: 'requests' },
      'GET /v1/assets/{id}': { access: 'read', rateLimit: 'requests' },
      'GET /v1/assets/{id}/content': { access: 'read', rateLimit: 'requests', signedUrl: true },
      'HEAD /v1/assets/{id}/content': { access: 'read', rateLimit: 'requests', signedUrl: true },
      'GET /v1/generations': { access: 'read', rateLimit: 'requests' },
      'GET /v1/generations/{id}': { access: 'read', rateLimit: 'requests' },
      'POST /v1/generations/{id}/cancel': { access: 'generate', rateLimit: 'requests' },
      'POST /v1/workspaces': { access: 'admin', rateLimit: 'requests', idempotent: true },
      'GET /v1/workspaces': { access: 'admin', rateLimit: 'requests' },
      'POST /v1/workspaces/{id}/keys': { access: 'admin', rateLimit: 'requests' },
      'GET /v1/workspaces/{id}/keys': { access: 'admin', rateLimit: 'requests' },
      'DELETE /v1/keys/{keyId}': { access: 'admin', rateLimit: 'requests' },
      'POST /v1/workspaces/{id}/credits': {
        access: 'admin',
        rateLimit: 'requests',
        idempotent: true,
      },
      'GET /v1/workspaces/{id}/usage': { access: 'admin', rateLimit: 'requests' },
      'POST /v1/workspaces/{id}/webhooks': { access: 'admin', rateLimit: 'requests' },
      'GET /v1/workspaces/{id}/webhooks': { access: 'admin', rateLimit: 'requests' },
      'DELETE /v1/workspaces/{id}/webhooks/{webhookId}': { access: 'admin', rateLimit: 'requests' },
      'GET /v1/workspaces/{id}/webhooks/{webhookId}/deliveries': {
        access: 'admin',
        rateLimit: 'requests',
      },
      'POST /v1/workspaces/{id}/webhook-signing-secret': { access: 'admin', rateLimit: 'requests' },
    })
  })

  it('refuses an operation that declares its access twice', () => {
    const row = { method: 'GET', route: '/v1/models', access: 'read' } as const
    expect(() => createRouteAccessIndex([row, row])).toThrow(/GET \/v1\/models/)
  })
})
