import type { loadSpecValidator } from '../support/spec-validator.ts'
import type { FuzzRequest, Operation } from './requests.ts'

export type Answer = {
  status: number
  headers: Record<string, string>
  contentType: string
  bytes: Uint8Array
  text: string
  ms: number
}

/** How long one request may take before the run counts it as a hang. */
const REQUEST_TIMEOUT_MS = 20_000

export async function send(baseUrl: string, request: FuzzRequest): Promise<Answer> {
  const headers = new Headers(request.headers)
  let body: BodyInit | undefined
  const sent = request.body
  if (sent?.kind === 'json') {
    headers.set('content-type', 'application/json')
    body = JSON.stringify(sent.value)
  } else if (sent?.kind === 'raw') {
    if (sent.contentType !== undefined) {
      headers.set('content-type', sent.contentType)
    }
    if (sent.encoding !== undefined) {
      headers.set('content-encoding', sent.encoding)
    }
    body = new Blob([sent.bytes as Uint8Array<ArrayBuffer>], { type: sent.contentType ?? '' })
  } else if (sent?.kind === 'multipart') {
    const form = new FormData()
    for (const [name, value] of sent.fields) {
      if (typeof value === 'string') {
        form.append(name, value)
      } else {
        const blob = new Blob([value.bytes as Uint8Array<ArrayBuffer>], { type: value.type })
        form.append(name, blob, value.filename)
      }
    }
    body = form
  }
  const started = performance.now()
  const response = await fetch(`${baseUrl}${request.path}`, {
    method: request.method,
    headers,
    body,
    redirect: 'manual',
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  })
  const bytes = new Uint8Array(await response.arrayBuffer())
  return {
    status: response.status,
    headers: Object.fromEntries(response.headers),
    contentType: (response.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '',
    bytes,
    text: new TextDecoder().decode(bytes),
    ms: performance.now() - started,
  }
}

type Validator = ReturnType<typeof loadSpecValidator>

/**
 * What is wrong with an answer: a server error, a status the operation does not declare, a
 * content type or body off the declared schema (strict), an error not in the one error shape.
 */
export function answerProblems(
  validator: Validator,
  operation: Operation,
  request: FuzzRequest,
  answer: Answer,
): string[] {
  const problems: string[] = []
  if (answer.status >= 500) {
    problems.push(`server error ${answer.status}`)
  }
  const declared = operation.responses[String(answer.status)]
  if (answer.status === 431 && headBytes(request) > NODE_MAX_HEADER_BYTES) {
    // Node's parser refuses a request line or headers past its limit before any route is
    // chosen: an answer of the transport, not of the operation, still in the one error shape.
    return request.method === 'HEAD'
      ? problems
      : [...problems, ...validator.componentProblems('Error', safeJson(answer.text))]
  }
  if (declared === undefined) {
    return [...problems, `status ${answer.status} is not declared`]
  }
  const contentTypes = Object.keys(declared.content ?? {})
  if (request.method === 'HEAD' || contentTypes.length === 0) {
    if (answer.bytes.length > 0) {
      problems.push(`${answer.status} declares no body, got ${answer.bytes.length} bytes`)
    }
    return problems
  }
  if (!contentTypes.includes(answer.contentType)) {
    return [
      ...problems,
      `content type "${answer.contentType}" is not one of ${contentTypes.join(', ')}`,
    ]
  }
  if (answer.contentType !== 'application/json') {
    return problems
  }
  let body: unknown
  try {
    body = JSON.parse(answer.text)
  } catch {
    return [...problems, 'the JSON answer does not parse']
  }
  problems.push(
    ...validator.problems(
      request.method,
      request.pathTemplate,
      answer.status,
      body,
      answer.contentType,
    ),
  )
  if (answer.status >= 400) {
    const shape =
      request.pathTemplate === '/v1/skills/image-generate' ? 'ImageGenerateSkillFailure' : 'Error'
    problems.push(
      ...validator
        .componentProblems(shape, body)
        .map((problem) => `not the ${shape} shape: ${problem}`),
    )
  }
  return problems
}

/** Node's default `maxHeaderSize`: the request line and headers together. */
const NODE_MAX_HEADER_BYTES = 16 * 1024

function headBytes(request: FuzzRequest): number {
  const headers = Object.entries(request.headers).map(([name, value]) => `${name}: ${value}`)
  return Buffer.byteLength([`${request.method} ${request.path} HTTP/1.1`, ...headers].join('\r\n'))
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/** The request and its answer, as a failure report someone can replay with curl. */
export function reproduction(request: FuzzRequest, answer: Answer | undefined, problems: string[]) {
  const lines = [
    `operation: ${request.operationId} (${request.labels.join(', ')})`,
    `problems: ${problems.join('; ')}`,
    `request: ${request.method} ${clip(request.path, 300)}`,
    ...Object.entries(request.headers).map(([name, value]) => `  ${name}: ${value.slice(0, 200)}`),
  ]
  const body = request.body
  if (body?.kind === 'json') {
    lines.push(`  content-type: application/json`, `  body: ${clip(JSON.stringify(body.value))}`)
  } else if (body?.kind === 'raw') {
    lines.push(
      `  content-type: ${body.contentType ?? '(none)'}`,
      `  content-encoding: ${body.encoding ?? '(none)'}`,
      `  body (${body.bytes.length} bytes): ${clip(new TextDecoder().decode(body.bytes))}`,
    )
  } else if (body?.kind === 'multipart') {
    for (const [name, value] of body.fields) {
      lines.push(
        typeof value === 'string'
          ? `  form ${name} = ${clip(value)}`
          : `  form ${name} = file ${value.filename} ${value.type} ${value.bytes.length} bytes base64:${clip(Buffer.from(value.bytes).toString('base64'))}`,
      )
    }
  }
  if (answer) {
    lines.push(
      `answer: ${answer.status} ${answer.contentType} in ${Math.round(answer.ms)} ms`,
      `  body: ${clip(answer.contentType.startsWith('image/') ? `(${answer.bytes.length} image bytes)` : answer.text)}`,
    )
  }
  return lines.join('\n')
}

function clip(text: string, max = 1500) {
  return text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text
}
