/** How the minimal servers (bench/workers/minimal-*.ts) serve. */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * Serves `handle` on a free loopback port and prints its URL as the first line (what
 * `startService` waits for); a failure is a 500 with its message. On SIGTERM: stops, calls
 * `close`, exits.
 */
export function serveOnLoopback(
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  close: () => void,
) {
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      res.writeHead(500).end(String(error))
    })
  })
  server.listen(0, '127.0.0.1', () => {
    console.log(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)
  })
  process.on('SIGTERM', () => {
    server.close(() => {
      close()
      process.exit(0)
    })
    server.closeAllConnections()
  })
}
