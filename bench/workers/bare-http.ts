/**
 * The HTTP baseline: a bare node:http server (no framework, no database, no verification).
 * GET /asset serves one buffer from memory with an ETag (If-None-Match → 304); POST /sink
 * streams the request body into a file and fsyncs it (the RSS baseline for a big upload).
 */
import { createHash } from 'node:crypto'
import { createWriteStream, readFileSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'

type Input = { assetFile: string; sinkDir: string }

const input = JSON.parse(process.argv[2] ?? '{}') as Input
const asset = readFileSync(input.assetFile)
const etag = `"${createHash('sha256').update(asset).digest('hex')}"`
let sinks = 0

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/asset') {
    const headers = {
      etag,
      'cache-control': 'private, max-age=31536000, immutable',
      'content-type': 'image/png',
    }
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, headers).end()
      return
    }
    res.writeHead(200, { ...headers, 'content-length': asset.byteLength }).end(asset)
    return
  }
  if (req.method === 'POST' && req.url === '/sink') {
    const file = path.join(input.sinkDir, `sink-${sinks++}.bin`)
    pipeline(req, createWriteStream(file))
      .then(async () => {
        const handle = await open(file, 'r')
        await handle.sync()
        await handle.close()
        res.writeHead(201, { 'content-type': 'application/json' }).end('{}')
      })
      .catch((err: unknown) => res.writeHead(500).end(String(err)))
    return
  }
  if (req.method === 'GET' && req.url === '/healthz') {
    res.writeHead(200).end('ok')
    return
  }
  res.writeHead(404).end()
})
server.keepAliveTimeout = 60_000
server.listen(0, '127.0.0.1', () => {
  console.log(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)
})
process.on('SIGTERM', () => {
  server.closeAllConnections()
  server.close(() => process.exit(0))
})
