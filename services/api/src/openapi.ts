import type { OpenAPIHono } from '@hono/zod-openapi'
import type { AppEnv } from './http/env.ts'
import { withAccessControl } from './openapi-access.ts'
import { withJsonBodyLimit } from './openapi-body-limit.ts'
import { ContentBlockSchema } from './schemas/content-block.ts'

export const API_VERSION = '0.1.0'

export const tags = [
  { name: 'Images', description: 'OpenAI-compatible image generation and edits' },
  { name: 'Skills', description: 'Agent-ready skill endpoints answering with ContentBlocks' },
  { name: 'Models', description: 'The model catalog' },
  { name: 'Generations', description: 'The record every generation request leaves' },
  { name: 'Assets', description: 'Content-addressed, verified image storage' },
  { name: 'Admin', description: 'Workspaces, API keys and credits (the admin scope)' },
  {
    name: 'Webhooks',
    description:
      'Signed generation events (Standard Webhooks) from a durable outbox (the admin scope)',
  },
  { name: 'System', description: 'Health, readiness and metrics' },
]

const info = {
  title: 'imagegate',
  version: API_VERSION,
  description:
    'An image-generation gateway with a content-addressed asset store. It routes each request to a ' +
    'provider, retries only what is safe to retry, stores every image as a verified asset and ' +
    'answers in the OpenAI Images shape or as agent-ready ContentBlocks.',
  contact: { name: 'imagegate maintainers', url: 'https://github.com/imagegate/imagegate' },
  license: { name: 'MIT', identifier: 'MIT' },
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

function sortKeys(value: Json, depth: number): Json {
  if (depth === 0 || value === null || typeof value !== 'object' || Array.isArray(value)) {
    return value
  }
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortKeys((value as Record<string, Json>)[key] as Json, depth - 1)]),
  )
}

/** The OpenAPI 3.1 document of an app: pure and deterministic (no dates, hosts or env). */
export function buildOpenAPIDocument(app: OpenAPIHono<AppEnv>) {
  // Shared components that agents consume even where no route names them directly.
  app.openAPIRegistry.register('ContentBlock', ContentBlockSchema)
  return withAccessControl(
    withJsonBodyLimit(
      app.getOpenAPI31Document({
        openapi: '3.1.0',
        info,
        servers: [{ url: 'http://127.0.0.1:8787', description: 'A local imagegate (pnpm start)' }],
        tags,
      }),
    ),
  )
}

/** The committed text form: paths and components sorted, two-space JSON, final newline. */
export function renderOpenAPIDocument(app: OpenAPIHono<AppEnv>): string {
  const doc = JSON.parse(JSON.stringify(buildOpenAPIDocument(app))) as Record<string, Json>
  const sorted = {
    ...doc,
    paths: sortKeys(doc.paths ?? {}, 1),
    components: sortKeys(doc.components ?? {}, 2),
  }
  return `${JSON.stringify(sorted, null, 2)}\n`
}
