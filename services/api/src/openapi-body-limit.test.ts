import { describe, expect, it } from 'vitest'
import { withJsonBodyLimit } from './openapi-body-limit.ts'

const json = { content: { 'application/json': { schema: {} } } }
const multipart = { content: { 'multipart/form-data': { schema: {} } } }

describe('withJsonBodyLimit', () => {
  it('declares 413 on every operation with a JSON body, in its route’s error envelope', () => {
    const doc = withJsonBodyLimit({
      paths: {
        '/v1/workspaces': { post: { requestBody: json, responses: {} }, get: { responses: {} } },
        '/v1/skills/image-generate': { post: { requestBody: json, responses: {} } },
        '/v1/assets': {
          post: { requestBody: multipart, responses: { 413: { description: 'own' } } },
        },
      },
    })
    type Response = { content?: Record<string, unknown> }
    const paths = doc.paths as Record<
      string,
      Record<string, { responses: Record<string, Response> }>
    >
    const workspaces = paths['/v1/workspaces']
    expect(workspaces?.post?.responses['413']?.content?.['application/json']).toMatchObject({
      schema: { $ref: '#/components/schemas/Error' },
      example: { error: { code: 'payload_too_large' } },
    })
    expect(workspaces?.get?.responses['413']).toBeUndefined()
    expect(
      paths['/v1/skills/image-generate']?.post?.responses['413']?.content?.['application/json'],
    ).toMatchObject({
      schema: { $ref: '#/components/schemas/ImageGenerateSkillFailure' },
      example: { ok: false, error: { code: 'payload_too_large' } },
    })
    expect(paths['/v1/assets']?.post?.responses['413']).toEqual({ description: 'own' })
  })
})
