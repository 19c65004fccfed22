import { readFileSync } from 'node:fs'
import type { Fetch } from '../http-errors.ts'
import { UpstreamFailure } from '../types.ts'

/** Test support: a fetch that records what an adapter sent and answers from a script. */

export type RecordedCall = {
  url: string
  method: string
  headers: Record<string, string>
  /** The parsed JSON body, or undefined for a body-less or multipart request. */
  body: unknown
  /** A multipart body, as the adapter built it. */
  form?: FormData
}

export type Responder = (
  call: RecordedCall,
  index: number,
  init: RequestInit,
) => Response | Promise<Response>

export function recordingFetch(respond: Responder): { fetch: Fetch; calls: RecordedCall[] } {
  const calls: RecordedCall[] = []
  const fetch: Fetch = async (url, init) => {
    const call: RecordedCall = {
      url,
      method: init.method ?? 'GET',
      headers: Object.fromEntries(new Headers(init.headers).entries()),
      body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
    }
    if (init.body instanceof FormData) {
      call.form = init.body
    }
    calls.push(call)
    return respond(call, calls.length - 1, init)
  }
  return { fetch, calls }
}

export function jsonResponse(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): Response {
  return new Response(typeof body === 'string' ? body : JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  })
}

export function fixtureText(name: string): string {
  return readFileSync(new URL(`../__fixtures__/${name}`, import.meta.url), 'utf8')
}

export function fixture(name: string): unknown {
  return JSON.parse(fixtureText(name))
}

export type FormEntry =
  | { name: string; value: string }
  | {
      name: string
      filename: string
      type: string
      bytes: Uint8Array
    }

/** A recorded form's entries in order, files read into bytes, for `toEqual` assertions. */
export async function formEntries(form: FormData): Promise<FormEntry[]> {
  const entries: FormEntry[] = []
  for (const [name, value] of form.entries()) {
    entries.push(
      typeof value === 'string'
        ? { name, value }
        : {
            name,
            filename: value.name,
            type: value.type,
            bytes: new Uint8Array(await value.arrayBuffer()),
          },
    )
  }
  return entries
}

/** A fetch that never answers until its signal aborts, then fails the way undici does. */
export function hangingResponder(): Responder {
  return (_call, _index, init) =>
    new Promise((_resolve, reject) => {
      init.signal?.addEventListener('abort', () => reject(init.signal?.reason), { once: true })
    })
}

/** undici's shape for socket-level failures: `TypeError: fetch failed` wrapping a coded error. */
export function fetchFailed(code: string): TypeError {
  return new TypeError('fetch failed', {
    cause: Object.assign(new Error(`${code} (simulated)`), { code }),
  })
}

/** A 200 whose body breaks after the first bytes, as when the connection resets mid-answer. */
export function bodyResetResponse(): Response {
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(
        new TextEncoder().encode('{"created":1713833628,"data":[{"b64_json":"iVBO'),
      )
      controller.error(fetchFailed('UND_ERR_SOCKET'))
    },
  })
  return new Response(stream, { status: 200, headers: { 'content-type': 'application/json' } })
}

/** The UpstreamFailure a call rejected with; throws (failing the test) when it did anything else. */
export async function failureOf(promise: Promise<unknown>): Promise<UpstreamFailure> {
  const outcome = await promise.then(
    (value: unknown) => ({ resolved: value }),
    (reason: unknown) => ({ rejected: reason }),
  )
  if (!('rejected' in outcome) || !(outcome.rejected instanceof UpstreamFailure)) {
    throw new Error(
      `expected a rejection with an UpstreamFailure, got ${'rejected' in outcome ? String(outcome.rejected) : 'a resolved value'}`,
    )
  }
  return outcome.rejected
}
