import { gzipSync } from 'node:zlib'
import fc from 'fast-check'
import { createSchemaArbitraries, type Schema } from '../support/schema-arbitrary.ts'

/**
 * Requests for one operation of the committed document, generated from its schemas: path,
 * query and header parameters, JSON and multipart bodies (valid, boundary, hostile and invalid
 * values), plus the malformed bodies, content types and encodings a careless or hostile client
 * sends.
 */
export type Parameter = {
  name: string
  in: 'path' | 'query' | 'header'
  required?: boolean
  schema: Schema
}
export type Operation = {
  operationId: string
  parameters?: Parameter[]
  requestBody?: { content: Record<string, { schema: Schema }> }
  responses: Record<string, { content?: Record<string, { schema?: Schema }> }>
}
export type FilePart = { filename: string; type: string; bytes: Uint8Array }
export type FuzzBody =
  | { kind: 'json'; value: unknown }
  | { kind: 'raw'; contentType: string | undefined; bytes: Uint8Array; encoding?: string }
  | { kind: 'multipart'; fields: [string, string | FilePart][] }
export type FuzzRequest = {
  operationId: string
  method: string
  pathTemplate: string
  path: string
  headers: Record<string, string>
  body?: FuzzBody
  /** What the generator meant each part to be: `body:invalid`, `query limit:boundary`, … */
  labels: string[]
}

/** What a run knows when it generates: keys, ids that exist, files to attach. */
export type FuzzWorld = {
  keys: { admin: string; read: string; generate: string }
  /** Ids by prefix (`ast`, `gen`, `ws`, `key`); read when a case is generated, so it grows. */
  ids: Record<string, string[]>
  /** Ids a DELETE may take: never the ones the rest of the run relies on. */
  deletable: Record<string, string[]>
  files: FilePart[]
  /** Model ids of the catalog. */
  models: string[]
  etags: string[]
  digestOf: (bytes: Uint8Array) => string
}

const JSON_LIMIT_BYTES = 1024 * 1024

/** A loopback port nothing listens on: deliveries there fail fast and are retried, harmlessly. */
export const WEBHOOK_TARGET = 'http://127.0.0.1:9/hook'

export function createRequestArbitraries(components: Record<string, Schema>, world: FuzzWorld) {
  const fromPool = (pool: () => string[]) =>
    fc.nat().map((index) => {
      const ids = pool()
      return ids.length === 0 ? 'none_yet' : (ids[index % ids.length] as string)
    })
  const assetId = fromPool(() => world.ids.ast ?? [])
  const generationId = fromPool(() => world.ids.gen ?? [])
  const schemas = createSchemaArbitraries(
    (ref) => components[ref.replace('#/components/schemas/', '')] as Schema,
    {
      model: fc.constantFrom(...world.models),
      asset_id: assetId,
      assetId,
      parent_asset_id: assetId,
      parentAssetId: assetId,
      image_asset_ids: fc
        .array(assetId, { minLength: 1, maxLength: 2 })
        .map((ids) => ids.join(',')),
      // A JSON array of labels, one per image at most: the schema can only say "a string".
      image_labels: fc.constantFrom('[]', '[{"role":"reference"}]'),
      parent_generation_id: generationId,
      parentGenerationId: generationId,
      // Webhook targets the server accepts (it runs with loopback allowed); nothing listens there.
      url: fc.constantFrom(WEBHOOK_TARGET),
      webhook_url: fc.constantFrom(WEBHOOK_TARGET),
      webhookUrl: fc.constantFrom(WEBHOOK_TARGET),
    },
  )

  const junk = fc.constantFrom(
    '..',
    '..%2F..%2Fetc%2Fpasswd',
    '%00',
    '%E2%80%AE',
    'ast_',
    'ast_00000000000000000000000000',
    'x'.repeat(3000),
    '%ZZ',
    '%F0%9F%92%A9',
    '%20',
  )

  function prefixOf(pathTemplate: string, name: string): string {
    if (name === 'keyId') {
      return 'key'
    }
    if (name === 'webhookId') {
      return 'whk'
    }
    if (pathTemplate.startsWith('/v1/assets')) {
      return 'ast'
    }
    if (pathTemplate.startsWith('/v1/generations')) {
      return 'gen'
    }
    return 'ws'
  }

  function pathValue(method: string, pathTemplate: string, parameter: Parameter) {
    const prefix = prefixOf(pathTemplate, parameter.name)
    // A DELETE takes deletable ids of what it deletes, and existing ones of its parents. A
    // webhook's workspace is the first one, where the fixtures' webhooks are: any workspace of
    // the pool would seldom be the one a drawn webhook belongs to.
    const pool =
      prefix === 'ws' && pathTemplate.includes('{webhookId}')
        ? () => (world.ids.ws ?? []).slice(0, 1)
        : method === 'delete'
          ? () => world.deletable[prefix] ?? world.ids[prefix] ?? []
          : () => world.ids[prefix] ?? []
    return fc.oneof(
      { weight: 6, arbitrary: fromPool(pool).map((id) => ({ raw: id, label: 'existing' })) },
      {
        weight: 2,
        arbitrary: schemas.cases(parameter.schema).map(({ kind, value }) => ({
          raw: encodeURIComponent(String(value)),
          label: kind,
        })),
      },
      { weight: 1, arbitrary: junk.map((raw) => ({ raw, label: 'junk' })) },
    )
  }

  function headerValue(parameter: Parameter): fc.Arbitrary<string | undefined> {
    const name = parameter.name.toLowerCase()
    const generated = schemas
      .cases(parameter.schema)
      .map(({ value }) => (typeof value === 'string' ? value : JSON.stringify(value)))
      .map(headerSafe)
    if (name === 'range') {
      return fc.oneof(
        fc.constantFrom(
          'bytes=0-9',
          'bytes=-5',
          'bytes=5-',
          'bytes=9-0',
          'bytes=999999999-',
          'bytes=0-1,4-5',
          'bytes=-0',
          'items=0-1',
          'bytes=abc',
          'bytes=0-18446744073709551616',
          'bytes=',
        ),
        generated,
        fc.constant(undefined),
      )
    }
    if (name === 'if-none-match') {
      return fc.oneof(
        fc.nat().map((index) => world.etags[index % world.etags.length] as string),
        fc.constantFrom('*', 'W/"x"', '"unterminated', ''),
        generated,
        fc.constant(undefined),
      )
    }
    if (name === 'idempotency-key') {
      // Mostly fresh keys: a key used twice with another body is refused (422), which is worth
      // a few cases, not most of them.
      return fc.oneof(
        { weight: 4, arbitrary: fc.constant(undefined) },
        { weight: 3, arbitrary: fc.uuid() },
        { weight: 1, arbitrary: generated },
      )
    }
    return fc.oneof({ weight: 1, arbitrary: fc.constant(undefined) }, generated)
  }

  function queryValue(parameter: Parameter) {
    return schemas.cases(parameter.schema).map(({ kind, value }) => ({
      text: typeof value === 'string' ? value : JSON.stringify(value),
      label: `${parameter.name}:${kind}`,
    }))
  }

  const auth = fc.oneof(
    {
      weight: 12,
      arbitrary: fc.constant<[string, string | undefined]>(['admin', world.keys.admin]),
    },
    { weight: 2, arbitrary: fc.constant<[string, string | undefined]>(['read', world.keys.read]) },
    {
      weight: 2,
      arbitrary: fc.constant<[string, string | undefined]>(['generate', world.keys.generate]),
    },
    { weight: 1, arbitrary: fc.constant<[string, string | undefined]>(['none', undefined]) },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom('igk_notakey', 'Basic Zm9vOmJhcg==', 'x'.repeat(600))
        .map((key): [string, string | undefined] => ['bad', key]),
    },
  )

  function jsonBody(schema: Schema): fc.Arbitrary<{ body: FuzzBody; label: string }> {
    const text = (value: string) => new TextEncoder().encode(value)
    return fc.oneof(
      {
        weight: 16,
        arbitrary: schemas.cases(schema).map(({ kind, value }) => ({
          body: { kind: 'json' as const, value },
          label: `body:${kind}`,
        })),
      },
      {
        weight: 1,
        arbitrary: fc
          .constantFrom(
            '{"prompt":',
            '{"a":1}}',
            "{'prompt':'x'}",
            '',
            'null',
            '[]',
            '\u0000',
            '{"__proto__":{"x":1}}',
          )
          .map((raw) => ({
            body: { kind: 'raw' as const, contentType: 'application/json', bytes: text(raw) },
            label: 'body:malformed',
          })),
      },
      {
        weight: 1,
        arbitrary: schemas.valid(schema).chain((value) =>
          fc
            .constantFrom(
              'text/plain',
              'application/x-www-form-urlencoded',
              'multipart/form-data',
              undefined,
            )
            .map((contentType) => ({
              body: { kind: 'raw' as const, contentType, bytes: text(JSON.stringify(value)) },
              label: 'body:content-type',
            })),
        ),
      },
      {
        weight: 1,
        arbitrary: schemas.valid(schema).chain((value) =>
          fc.constantFrom('gzip', 'gzip-real', 'br', 'identity').map((encoding) => ({
            body: {
              kind: 'raw' as const,
              contentType: 'application/json',
              bytes:
                encoding === 'gzip-real'
                  ? new Uint8Array(gzipSync(JSON.stringify(value)))
                  : text(JSON.stringify(value)),
              encoding: encoding === 'gzip-real' ? 'gzip' : encoding,
            },
            label: `body:encoding-${encoding}`,
          })),
        ),
      },
      {
        weight: 1,
        arbitrary: fc.constant({
          body: {
            kind: 'raw' as const,
            contentType: 'application/json',
            bytes: text(`{"prompt":"${'o'.repeat(JSON_LIMIT_BYTES + 1024)}"}`),
          },
          label: 'body:over-limit',
        }),
      },
    )
  }

  // The first three files are sound images; sound files come first half of the time, so that
  // some uploads and edits get past the image checks.
  const anyFile = fc.oneof(
    fc.nat().map((index) => world.files[index % 3] as FilePart),
    fc.nat().map((index) => world.files[index % world.files.length] as FilePart),
  )

  function multipartBody(schema: Schema, withDigest: boolean) {
    const form = schemas.deref(schema)
    const properties = (form.properties ?? {}) as Record<string, Schema>
    const binary = Object.entries(properties).filter(([, property]) =>
      isBinary(property, schemas.deref),
    )
    const textual: Schema = {
      ...form,
      properties: Object.fromEntries(
        Object.entries(properties).filter(([name]) => !binary.some(([file]) => file === name)),
      ),
      required: ((form.required ?? []) as string[]).filter(
        (name) => !binary.some(([file]) => file === name),
      ),
    }
    const required = new Set((form.required ?? []) as string[])
    const files = fc.tuple(
      ...binary.map(([name, property]) => {
        const many = schemas.deref(property).type === 'array'
        // A mask must fit its image; most edits go without one.
        const absent = name === 'mask' ? 3 : 1
        const parts = many ? fc.array(anyFile, { maxLength: 3 }) : anyFile.map((file) => [file])
        return required.has(name)
          ? parts.map((list) => list.map((file) => [name, file] as [string, FilePart]))
          : fc
              .oneof(
                { weight: absent, arbitrary: fc.constant<FilePart[]>([]) },
                { weight: 1, arbitrary: parts },
              )
              .map((list) => list.map((file) => [name, file] as [string, FilePart]))
      }),
    )
    // Sound forms too: the required fields, valid, and one sound image in the first file field.
    // Generated forms almost always trip a rule between fields (a mask file and a mask id, two
    // parents), which the schema cannot state.
    const [firstFile] = binary[0] ?? []
    const requiredOnly: Schema = {
      ...textual,
      properties: Object.fromEntries(
        Object.entries(textual.properties as Record<string, Schema>).filter(([name]) =>
          (textual.required as string[]).includes(name),
        ),
      ),
    }
    const sound = fc.tuple(schemas.valid(requiredOnly), fc.nat()).map(([fields, index]) => {
      const file = world.files[index % 3] as FilePart
      const entries: [string, string | FilePart][] = Object.entries(
        fields as Record<string, unknown>,
      ).map(([name, field]) => [name, formText(field)])
      if (firstFile) {
        entries.push([firstFile, file])
      }
      const headers: Record<string, string> = withDigest
        ? { 'x-content-sha256': world.digestOf(file.bytes) }
        : {}
      return {
        body: { kind: 'multipart' as const, fields: entries },
        headers,
        labels: ['form:sound', `files:${file.filename}`],
      }
    })
    const generated = fc
      .tuple(
        schemas.cases(textual),
        files,
        fc.constantFrom('right', 'right', 'right', 'wrong', 'junk', 'missing'),
      )
      .map(([fields, fileParts, digest]) => {
        const value = fields.value
        const entries: [string, string | FilePart][] =
          value !== null && typeof value === 'object' && !Array.isArray(value)
            ? Object.entries(value).map(([name, field]) => [name, formText(field)])
            : [['form', JSON.stringify(value)]]
        const attached = fileParts.flat()
        const headers: Record<string, string> = {}
        const first = attached[0]?.[1]
        if (withDigest && digest !== 'missing') {
          headers['x-content-sha256'] =
            digest === 'junk'
              ? 'not-a-digest'
              : world.digestOf(digest === 'right' && first ? first.bytes : new Uint8Array([1]))
        }
        return {
          body: { kind: 'multipart' as const, fields: [...entries, ...attached] },
          headers,
          labels: [
            `form:${fields.kind}`,
            `files:${attached.map(([, file]) => file.filename).join('+') || 'none'}`,
            `digest:${digest}`,
          ],
        }
      })
    return fc.oneof({ weight: 3, arbitrary: generated }, { weight: 1, arbitrary: sound })
  }

  /** The arbitrary of requests to `method pathTemplate`. */
  function forOperation(
    pathTemplate: string,
    method: string,
    operation: Operation,
  ): fc.Arbitrary<FuzzRequest> {
    const parameters = operation.parameters ?? []
    const pathParams = parameters.filter((parameter) => parameter.in === 'path')
    const queryParams = parameters.filter((parameter) => parameter.in === 'query')
    const headerParams = parameters.filter(
      (parameter) => parameter.in === 'header' && parameter.name !== 'x-content-sha256',
    )
    const content = operation.requestBody?.content ?? {}
    const jsonSchema = content['application/json']?.schema
    const formSchema = content['multipart/form-data']?.schema
    const noBody = fc.constant({
      body: undefined as FuzzBody | undefined,
      headers: {} as Record<string, string>,
      labels: [] as string[],
    })
    const body = jsonSchema
      ? jsonBody(jsonSchema).map(({ body, label }) => ({
          body: body as FuzzBody | undefined,
          headers: {},
          labels: [label],
        }))
      : formSchema
        ? multipartBody(
            formSchema,
            parameters.some((parameter) => parameter.name === 'x-content-sha256'),
          )
        : noBody
    return fc
      .record({
        path: fc.tuple(
          ...pathParams.map((parameter) => pathValue(method, pathTemplate, parameter)),
        ),
        query: fc.tuple(
          ...queryParams.map((parameter) =>
            fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, queryValue(parameter)),
          ),
        ),
        strayQuery: fc.oneof(
          { weight: 7, arbitrary: fc.constant(undefined) },
          {
            weight: 1,
            arbitrary: fc.constantFrom('unknown=1', 'limit=1&limit=2', '%ZZ=1', 'a[b]=c'),
          },
        ),
        headers: fc.tuple(...headerParams.map(headerValue)),
        auth,
        body,
      })
      .map(({ path, query, strayQuery, headers, auth: [who, key], body }) => {
        let url = pathTemplate
        pathParams.forEach((parameter, index) => {
          url = url.replace(`{${parameter.name}}`, path[index]?.raw ?? '')
        })
        const search = new URLSearchParams()
        queryParams.forEach((parameter, index) => {
          const value = query[index]
          if (value !== undefined) {
            search.append(parameter.name, value.text)
          }
        })
        const queryText = [search.toString(), strayQuery].filter(Boolean).join('&')
        const sent: Record<string, string> = { ...body.headers }
        headerParams.forEach((parameter, index) => {
          const value = headers[index]
          if (value !== undefined) {
            sent[parameter.name.toLowerCase()] = value
          }
        })
        if (key !== undefined) {
          sent.authorization = key.startsWith('Basic ') ? key : `Bearer ${key}`
        }
        return {
          operationId: operation.operationId,
          method: method.toUpperCase(),
          pathTemplate,
          path: queryText === '' ? url : `${url}?${queryText}`,
          headers: sent,
          body: body.body,
          labels: [
            `auth:${who}`,
            ...pathParams.map((parameter, index) => `${parameter.name}:${path[index]?.label}`),
            ...query.flatMap((value) => (value ? [value.label] : [])),
            ...body.labels,
          ],
        }
      })
  }

  return { forOperation }
}

function isBinary(schema: Schema, deref: (schema: Schema) => Schema): boolean {
  const resolved = deref(schema)
  if (resolved.type === 'array') {
    return isBinary(resolved.items as Schema, deref)
  }
  return resolved.format === 'binary'
}

/** A form field's text: a form has no null, so null is the empty field. */
function formText(value: unknown): string {
  if (value === null) {
    return ''
  }
  return typeof value === 'string' ? value : JSON.stringify(value)
}

/** Header values must be latin-1 without line breaks, or fetch refuses to send them at all. */
function headerSafe(value: string): string {
  return value.replace(/[^\u0020-\u007e]/g, '?').slice(0, 4096)
}
