/**
 * The installed client against `prism mock` of the packaged openapi.json: how another team tests
 * its own code without running imagegate. Prints one JSON report for the test to check.
 * Usage: node mock-calls.mjs <prism url>
 */
import { createImagegateClient, ImagegateError } from '@imagegate/client'

// Prism checks that bearer credentials are present, not what they are.
const client = createImagegateClient({ baseUrl: process.argv[2], apiKey: 'igk_mock' })

const { data: generated } = await client.POST('/v1/images/generations', {
  body: { prompt: 'a lighthouse at dusk' },
})
const { data: models } = await client.GET('/v1/models')
const missing = await client
  .GET('/v1/assets/{id}', {
    params: { path: { id: 'ast_01J9Z7Q8R4M2XK5T3B6N8V0WQA' } },
    headers: { prefer: 'code=404' },
  })
  .then(
    () => undefined,
    (error) => error,
  )

console.log(
  JSON.stringify({
    generated,
    modelIds: models.data.map((model) => model.id),
    notFound: {
      isImagegateError: missing instanceof ImagegateError,
      status: missing?.status,
      code: missing?.code,
    },
  }),
)
