import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'

export type ReceivedWebhook = { headers: IncomingHttpHeaders; body: string; at: number }

/** What the receiver does with a request: answer a status (after a delay), or never answer. */
export type ReceiverAnswer =
  | { status: number; delayMs?: number; headers?: Record<string, string> }
  | 'hang'

/**
 * A webhook receiver on loopback that records every request and answers as its script says
 * (`answer` is asked per request; default 200).
 */
export async function startReceiver(
  answer: (received: ReceivedWebhook, index: number) => ReceiverAnswer = () => ({ status: 200 }),
) {
  const received: ReceivedWebhook[] = []
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const entry = {
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      }
      received.push(entry)
      const reply = answer(entry, received.length - 1)
      if (reply === 'hang') {
        return
      }
      setTimeout(() => {
        response.writeHead(reply.status, reply.headers)
        response.end('ok')
      }, reply.delayMs ?? 0)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  return {
    url: `http://127.0.0.1:${port}/hook`,
    port,
    received,
    async close() {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

export type Receiver = Awaited<ReturnType<typeof startReceiver>>
