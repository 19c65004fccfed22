import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import type { Hono } from 'hono'
import { accessRow, type RouteAccess } from '../access/scopes.ts'
import type { AppEnv } from './env.ts'

/**
 * swagger-ui-dist's directory, found without loading the package: its entry point evaluates the
 * whole browser bundle, which left ~10 MB of objects on the server's heap for every major GC to
 * walk, and the server only ever serves the files.
 */
const swaggerUiDir = () =>
  path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'))

const assets = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
} as const

const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>imagegate API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/swagger-ui-standalone-preset.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`

const init = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: 'StandaloneLayout',
})
`

/** Who may read the contract and its Swagger UI: anyone, as for any public API's reference. */
export const documentAccess: readonly RouteAccess[] = [
  accessRow('GET', '/openapi.json', { scope: 'public' }),
  accessRow('GET', '/docs', { scope: 'public' }),
]

/**
 * Swagger UI from the swagger-ui-dist package: every file is served by imagegate itself, so the
 * page renders with no network. Files are read once, on first use.
 */
export function registerDocs(app: Hono<AppEnv>) {
  const cache = new Map<string, Uint8Array<ArrayBuffer>>()
  let root: string | undefined
  const read = (name: keyof typeof assets) => {
    let bytes = cache.get(name)
    if (!bytes) {
      root ??= swaggerUiDir()
      bytes = new Uint8Array(readFileSync(path.join(root, name)))
      cache.set(name, bytes)
    }
    return bytes
  }
  app.get('/docs', (c) => c.html(page))
  app.get('/docs/init.js', (c) =>
    c.body(init, 200, { 'content-type': 'text/javascript; charset=utf-8' }),
  )
  for (const [name, contentType] of Object.entries(assets)) {
    app.get(`/docs/${name}`, (c) =>
      c.body(read(name as keyof typeof assets), 200, {
        'content-type': contentType,
        'cache-control': 'public, max-age=3600',
      }),
    )
  }
}

/** `/openapi.json`: the committed contract, read once and served as is. */
export function registerOpenAPIDocument(app: Hono<AppEnv>, load: () => string) {
  let text: string | undefined
  app.get('/openapi.json', (c) => {
    text ??= load()
    return c.body(text, 200, { 'content-type': 'application/json; charset=utf-8' })
  })
}
