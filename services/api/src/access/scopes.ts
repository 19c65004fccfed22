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

/**
 * How a route spends its caller's rate limits: `requests` counts one request against the key's
 * and the workspace's per-minute limits (checked by access control before the route runs);
 * `images` also counts each image asked for against the images-per-minute limits (checked by
 * the generation path once it knows how many).
 */
export type RateLimitClass = 'requests' | 'images'

/** Who may call a route and what it spends: declared by each route beside its definition. */
export type RouteAccessRule =
  | { scope: 'public' }
  | {
      scope: Scope
      rateLimit: RateLimitClass
      /** Accepts `Idempotency-Key` (a POST that creates or charges). */
      idempotent?: true
      /** Also reachable with a signed URL instead of a key (img tags, `response_format=url`). */
      signedUrl?: true
      /** Spends credits: reserved before dispatch, settled on what came back. */
      charged?: true
      /** Errors answer in this envelope (the skill's `{ ok: false, error }`), refusals included. */
      envelope?: 'skill'
    }

/** One operation's rule, as the middleware looks it up. */
export type RouteAccess = {
  method: HttpMethod
  /** The OpenAPI path template, `{param}` form. */
  route: string
  access: Access
  rateLimit?: RateLimitClass
  idempotent?: true
  signedUrl?: true
  charged?: true
  envelope?: 'skill'
}

/** The lookup row of one operation under `rule`. */
export function accessRow(method: HttpMethod, route: string, rule: RouteAccessRule): RouteAccess {
  const { scope, ...flags } = rule
  return { method, route, access: scope, ...flags }
}

const IMPLIED: Record<Scope, readonly Scope[]> = {
  admin: ['admin', 'generate', 'read'],
  generate: ['generate', 'read'],
  read: ['read'],
}

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

export type RouteAccessIndex = {
  readonly rows: readonly RouteAccess[]
  /**
   * The row for a request: `path` may be a concrete path (`/v1/assets/ast_1`) or a template in
   * either form (`/v1/assets/{id}`, `/v1/assets/:id`). Unknown paths fall back to "needs a key"
   * under /v1 and "public" elsewhere (they end in 404 either way).
   */
  routeAccess(method: string, path: string): RouteAccess
  /**
   * The row whose route matches a concrete path (`/v1/assets/ast_1`), or undefined where no row
   * does (no fallback for unknown paths, unlike routeAccess).
   */
  tableRouteAccess(method: string, path: string): RouteAccess | undefined
  /** The row of a route without parameters named exactly (`GET`, `/v1/models`), if there is one. */
  exactRouteAccess(method: string, path: string): RouteAccess | undefined
}

/** Lookups over the rows of every operation; a route listed twice is a mistake, refused here. */
export function createRouteAccessIndex(rows: readonly RouteAccess[]): RouteAccessIndex {
  const compiled = rows.map((row) => ({ row, pattern: templatePattern(row.route) }))
  /** Routes without parameters, by `METHOD path`: most requests are answered by one lookup. */
  const exact = new Map(
    rows
      .filter((row) => !row.route.includes('{'))
      .map((row) => [`${row.method} ${row.route}`, row]),
  )
  const seen = new Set<string>()
  for (const row of rows) {
    const key = `${row.method} ${row.route}`
    if (seen.has(key)) {
      throw new Error(`${key} declares its access twice`)
    }
    seen.add(key)
  }

  function find(method: string, path: string): RouteAccess | undefined {
    const wanted = method.toUpperCase()
    const hit =
      exact.get(`${wanted} ${path}`) ??
      compiled.find(({ row, pattern }) => row.method === wanted && pattern.test(path))?.row
    // HEAD is answered by the GET handler wherever the table has no HEAD row of its own.
    return hit ?? (wanted === 'HEAD' ? find('GET', path) : undefined)
  }

  return {
    rows,
    routeAccess(method, path) {
      const templated = path.replace(/:([^/]+)/g, '{$1}')
      return (
        find(method, templated) ??
        (path === '/v1' || path.startsWith('/v1/') ? UNKNOWN_V1 : UNKNOWN_OTHER)
      )
    },
    tableRouteAccess: find,
    exactRouteAccess: (method, path) => exact.get(`${method} ${path}`),
  }
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
