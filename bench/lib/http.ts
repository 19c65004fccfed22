import { createHash } from 'node:crypto'
import { Agent, type IncomingHttpHeaders, request } from 'node:http'

export type Reply = {
  status: number
  headers: IncomingHttpHeaders
  body: Buffer
  /** From sending the request to the last byte of the answer. */
  ms: number
}

export const keepAlive = (sockets: number) =>
  new Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets })

/**
 * One HTTP request on a keep-alive agent. `body` is written piece by piece with backpressure
 * (a generator never has more than one piece in flight), so bodies of any size stream.
 */
export function send(
  agent: Agent,
  url: string,
  options: {
    method: string
    headers?: Record<string, string | number>
    body?: Iterable<Uint8Array>
    /** Keep the answer's bytes (otherwise only counted). */
    keepBody?: boolean
  },
): Promise<Reply> {
  const started = performance.now()
  return new Promise<Reply>((resolve, reject) => {
    const req = request(url, { method: options.method, agent, headers: options.headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => {
        if (options.keepBody) {
          chunks.push(chunk)
        }
      })
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks),
          ms: performance.now() - started,
        }),
      )
      res.on('error', reject)
    })
    req.on('error', reject)
    const pieces = options.body?.[Symbol.iterator]()
    const pump = () => {
      while (pieces) {
        const next = pieces.next()
        if (next.done) {
          break
        }
        if (!req.write(next.value)) {
          req.once('drain', pump)
          return
        }
      }
      req.end()
    }
    pump()
  })
}

const BOUNDARY = 'imagegate-bench-boundary-7d3f'

/** Multipart framing around one `file` part; the file bytes go in between. */
export function multipartFrame(fileBytes: number) {
  const preamble = Buffer.from(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="bench.png"\r\n` +
      'Content-Type: image/png\r\n\r\n',
  )
  const epilogue = Buffer.from(`\r\n--${BOUNDARY}--\r\n`)
  return {
    preamble,
    epilogue,
    contentType: `multipart/form-data; boundary=${BOUNDARY}`,
    contentLength: preamble.byteLength + fileBytes + epilogue.byteLength,
  }
}

/**
 * POST /v1/assets of `bytes` as one multipart `file` part, their sha256 declared in
 * x-content-sha256, as a client that has the whole file in memory sends it.
 */
export function sendUpload(
  agent: Agent,
  baseUrl: string,
  headers: Record<string, string | number>,
  bytes: Buffer,
  options: { keepBody?: boolean } = {},
): Promise<Reply> {
  const frame = multipartFrame(bytes.byteLength)
  return send(agent, `${baseUrl}/v1/assets`, {
    method: 'POST',
    headers: {
      ...headers,
      'content-type': frame.contentType,
      'content-length': frame.contentLength,
      'x-content-sha256': createHash('sha256').update(bytes).digest('hex'),
    },
    body: [frame.preamble, bytes, frame.epilogue],
    ...options,
  })
}
