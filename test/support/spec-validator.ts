import { readFileSync } from 'node:fs'
import path from 'node:path'
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js'
import ajvFormats from 'ajv-formats'
import { repoRoot } from './processes.ts'

type Json = Record<string, unknown>
type Operation = { responses: Record<string, { content?: Record<string, { schema?: Json }> }> }
type Spec = { paths: Record<string, Record<string, Operation>>; components: { schemas: Json } }

const SCHEMA_ID = 'imagegate-openapi'

// A CommonJS module whose export is the plugin itself; its types describe an ES namespace.
const addFormats = ajvFormats as unknown as (ajv: Ajv2020) => Ajv2020

/** `#/components/schemas/X` → a reference into the one schema ajv holds (`$defs`). */
function rebased(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(rebased)
  }
  if (value === null || typeof value !== 'object') {
    return value
  }
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      key,
      key === '$ref' && typeof inner === 'string'
        ? inner.replace('#/components/schemas/', `${SCHEMA_ID}#/$defs/`)
        : rebased(inner),
    ]),
  )
}

/**
 * Strict JSON Schema (2020-12) validation of answers against the committed document, with ajv:
 * every closed object stays closed, every format is checked. `multipleOfPrecision` makes ajv
 * check `multipleOf: 0.001` on the decimal value (0.07 / 0.001 is not whole in floating point).
 */
export function loadSpecValidator(file = path.join(repoRoot, 'openapi/openapi.json')) {
  const spec = JSON.parse(readFileSync(file, 'utf8')) as Spec
  const ajv = new Ajv2020({ strict: true, allErrors: true, multipleOfPrecision: 9 })
  addFormats(ajv)
  // OpenAPI's own annotations, which are no JSON Schema vocabulary.
  ajv.addVocabulary(['example', 'discriminator', 'xml', 'externalDocs'])
  ajv.addSchema({ $id: SCHEMA_ID, $defs: rebased(spec.components.schemas) as Json })
  const compiled = new Map<string, ValidateFunction>()

  function validatorFor(schema: Json, key: string): ValidateFunction {
    let validate = compiled.get(key)
    if (validate === undefined) {
      validate = ajv.compile(rebased(schema) as Json)
      compiled.set(key, validate)
    }
    return validate
  }

  return {
    spec,
    /**
     * Problems of one answer of `method path` (the path template): an undeclared status, or a
     * JSON body that the declared schema refuses. Empty when the answer is on spec.
     */
    problems(
      method: string,
      pathTemplate: string,
      status: number,
      body: unknown,
      contentType = 'application/json',
    ): string[] {
      const operation = spec.paths[pathTemplate]?.[method.toLowerCase()]
      if (operation === undefined) {
        return [`${method} ${pathTemplate} is not in the document`]
      }
      const response = operation.responses[String(status)]
      if (response === undefined) {
        return [`${method} ${pathTemplate} does not declare ${status}`]
      }
      const schema = response.content?.[contentType]?.schema
      if (schema === undefined) {
        return body === undefined || body === ''
          ? []
          : [`${status} of ${method} ${pathTemplate} declares no ${contentType} body`]
      }
      const validate = validatorFor(schema, `${method} ${pathTemplate} ${status} ${contentType}`)
      return validate(body) ? [] : describe(validate.errors)
    },
    /** Problems of `value` under any schema of the document (its `$ref`s into components). */
    schemaProblems(schema: Json, value: unknown): string[] {
      const validate = validatorFor(schema, `schema ${JSON.stringify(schema)}`)
      return validate(value) ? [] : describe(validate.errors)
    },
    /** Problems of `value` under a component schema (for examples). */
    componentProblems(name: string, value: unknown): string[] {
      const validate = validatorFor({ $ref: `#/components/schemas/${name}` }, `component ${name}`)
      return validate(value) ? [] : describe(validate.errors)
    },
  }
}

function describe(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map(
    (error) =>
      `${error.instancePath || '/'} ${error.message ?? ''} ${JSON.stringify(error.params)}`,
  )
}
