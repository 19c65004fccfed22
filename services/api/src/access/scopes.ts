/**
 * What an API key may do. `admin` manages workspaces, keys and credits and can do everything
 * else; `generate` creates and changes content (and reads it, since a generation answers with
 * asset URLs its caller must be able to fetch); `read` only reads.
 */
export const SCOPES = ['admin', 'generate', 'read'] as const
export type Scope = (typeof SCOPES)[number]

/** `public` routes are answered without a key. */
export type Access = Scope | 'public'

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

export type RouteAccess = {
  method: HttpMethod
  /** The OpenAPI path template, `{param}` form. */
  route: string
  access: Access
  /** Accepts `Idempotency-Key` (a POST that creates or charges). */
  idempotent?: true
  /** Also reachable with a signed URL instead of a key (img tags, `response_format=url`). */
  signedUrl?: true
  /** Spends credits: reserved before dispatch, settled on what came back. */
  charged?: true
  /** Errors answer in this envelope (the skill's `{ ok: false, error }`), refusals included. */
  envelope?: 'skill'
}

const IMPLIED: Record<Scope, readonly Scope[]> = {
  admin: ['admin', 'generate', 'read'],
  generate: ['generate', 'read'],
  read: ['read'],
}

/** Every route imagegate answers, with who may call it and what it spends. */
export const routeAccessTable: readonly RouteAccess[] = [
  { method: 'GET', route: '/healthz', access: 'public' },
  { method: 'GET', route: '/readyz', access: 'public' },
  { method: 'GET', route: '/openapi.json', access: 'public' },
  { method: 'GET', route: '/docs', access: 'public' },
  { method: 'GET', route: '/metrics', access: 'admin' },

  {
    method: 'POST',
    route: '/v1/images/generations',
    access: 'generate',
    idempotent: true,
    charged: true,
  },
  {
    method: 'POST',
    route: '/v1/images/edits',
    access: 'generate',
    idempotent: true,
    charged: true,
  },
  {
    method: 'POST',
    route: '/v1/skills/image-generate',
    access: 'generate',
    idempotent: true,
    charged: true,
    envelope: 'skill',
  },
  { method: 'POST', route: '/v1/assets', access: 'generate', idempotent: true },
  { method: 'DELETE', route: '/v1/assets/{id}', access: 'generate' },

  { method: 'GET', route: '/v1/models', access: 'read' },
  { method: 'GET', route: '/v1/assets', access: 'read' },
  { method: 'GET', route: '/v1/assets/{id}', access: 'read' },
  { method: 'GET', route: '/v1/assets/{id}/content', access: 'read', signedUrl: true },
  { method: 'HEAD', route: '/v1/assets/{id}/content', access: 'read', signedUrl: true },
  { method: 'GET', route: '/v1/generations', access: 'read' },
  { method: 'GET', route: '/v1/generations/{id}', access: 'read' },

  { method: 'POST', route: '/v1/workspaces', access: 'admin', idempotent: true },
  { method: 'GET', route: '/v1/workspaces', access: 'admin' },
  // Not idempotent: a stored answer would keep the raw key in the database for 24 h.
  { method: 'POST', route: '/v1/workspaces/{id}/keys', access: 'admin' },
  { method: 'GET', route: '/v1/workspaces/{id}/keys', access: 'admin' },
  { method: 'DELETE', route: '/v1/keys/{keyId}', access: 'admin' },
  { method: 'POST', route: '/v1/workspaces/{id}/credits', access: 'admin', idempotent: true },
  { method: 'GET', route: '/v1/workspaces/{id}/usage', access: 'admin' },
]

/** Anything under /v1 that no row names still needs a key, so unknown paths cannot be probed. */
const UNKNOWN_V1: RouteAccess = { method: 'GET', route: '/v1/*', access: 'read' }
const UNKNOWN_OTHER: RouteAccess = { method: 'GET', route: '*', access: 'public' }

/** `{id}` and Hono's `:id` name the same segment. */
function templatePattern(route: string): RegExp {
  const source = route
    .split('/')
    .map((segment) =>
      /^(\{[^/{}]+\}|:[^/]+)$/.test(segment)
        ? '[^/]+'
        : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('/')
  return new RegExp(`^${source}/?$`)
}

const compiled = routeAccessTable.map((row) => ({ row, pattern: templatePattern(row.route) }))
/** Routes without parameters, by `METHOD path`: most requests are answered by one lookup. */
const exact = new Map(
  routeAccessTable
    .filter((row) => !row.route.includes('{'))
    .map((row) => [`${row.method} ${row.route}`, row]),
)

function find(method: string, path: string): RouteAccess | undefined {
  const wanted = method.toUpperCase()
  const hit =
    exact.get(`${wanted} ${path}`) ??
    compiled.find(({ row, pattern }) => row.method === wanted && pattern.test(path))?.row
  // HEAD is answered by the GET handler wherever the table has no HEAD row of its own.
  return hit ?? (wanted === 'HEAD' ? find('GET', path) : undefined)
}

/**
 * The row for a request: `path` may be a concrete path (`/v1/assets/ast_1`) or a template in
 * either form (`/v1/assets/{id}`, `/v1/assets/:id`). Unknown paths fall back to "needs a key"
 * under /v1 and "public" elsewhere (they end in 404 either way).
 */
export function routeAccess(method: string, path: string): RouteAccess {
  const templated = path.replace(/:([^/]+)/g, '{$1}')
  return (
    find(method, templated) ??
    (path === '/v1' || path.startsWith('/v1/') ? UNKNOWN_V1 : UNKNOWN_OTHER)
  )
}

/**
 * The row whose route matches a concrete path (`/v1/assets/ast_1`), or undefined where no row
 * does (no fallback for unknown paths, unlike routeAccess).
 */
export function tableRouteAccess(method: string, path: string): RouteAccess | undefined {
  return find(method, path)
}

/** The row of a route without parameters named exactly (`GET`, `/v1/models`), if there is one. */
export function exactRouteAccess(method: string, path: string): RouteAccess | undefined {
  return exact.get(`${method} ${path}`)
}

/** Whether a key holding `held` may use a route that needs `needed`. */
export function allows(held: readonly Scope[], needed: Access): boolean {
  if (needed === 'public') {
    return true
  }
  return held.some((scope) => IMPLIED[scope].includes(needed))
}

export function isScope(value: unknown): value is Scope {
  return typeof value === 'string' && (SCOPES as readonly string[]).includes(value)
}
