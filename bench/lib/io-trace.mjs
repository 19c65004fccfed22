/**
 * A preload for a benchmarked imagegate (`node --import bench/lib/io-trace.mjs`, see
 * bench/scale-trace.ts) that records every PostgreSQL query, pool checkout, S3 command, Redis
 * command and HTTP request of the process with its start and duration, so a run at concurrency 1
 * can be cut into one timeline per request. The records are served on IO_TRACE_PORT:
 * `GET /dump` answers them as JSON and starts a new list. Bench only: nothing here is loaded by
 * imagegate itself.
 */
import { createServer, Server } from 'node:http'
import { createRequire } from 'node:module'
import path from 'node:path'

const fromApi = createRequire(path.resolve(import.meta.dirname, '../../services/api/package.json'))
/** @type {{ kind: string, label: string, start: number, ms: number, rows?: number }[]} */
let events = []
const origin = performance.now()

function record(kind, label, start, extra) {
  events.push({ kind, label, start: start - origin, ms: performance.now() - start, ...extra })
}

/** The first words of a statement with its literals left out: what it is, not its values. */
function labelOf(query) {
  const text = typeof query === 'string' ? query : (query?.text ?? String(query?.name ?? '?'))
  return text.replace(/\s+/g, ' ').trim().slice(0, 90)
}

const pg = fromApi('pg')
const clientQuery = pg.Client.prototype.query
pg.Client.prototype.query = function tracedQuery(config, values, callback) {
  const start = performance.now()
  const label = labelOf(config)
  const args = [config, values, callback]
  const last = args.findLastIndex((arg) => typeof arg === 'function')
  if (last >= 0) {
    const done = args[last]
    args[last] = (error, result) => {
      record('pg', label, start, { rows: result?.rowCount ?? undefined })
      done(error, result)
    }
    return clientQuery.apply(this, args.slice(0, Math.max(1, last + 1)))
  }
  // A Query object (submittable) carries its own callback; the rest answer a promise.
  const result = clientQuery.apply(
    this,
    args.slice(0, args.findLastIndex((a) => a !== undefined) + 1),
  )
  if (result && typeof result.then === 'function') {
    return result.then(
      (answer) => {
        record('pg', label, start, { rows: answer?.rowCount ?? undefined })
        return answer
      },
      (error) => {
        record('pg', label, start)
        throw error
      },
    )
  }
  return result
}
const poolConnect = pg.Pool.prototype.connect
pg.Pool.prototype.connect = function tracedConnect(callback) {
  const start = performance.now()
  if (typeof callback === 'function') {
    return poolConnect.call(this, (error, client, release) => {
      record('pg-checkout', 'pool.connect', start)
      callback(error, client, release)
    })
  }
  return poolConnect.call(this).then((client) => {
    record('pg-checkout', 'pool.connect', start)
    return client
  })
}

const s3 = fromApi('@aws-sdk/client-s3')
const s3Send = s3.S3Client.prototype.send
s3.S3Client.prototype.send = function tracedSend(command, ...rest) {
  const start = performance.now()
  const label = command?.constructor?.name ?? '?'
  const answer = s3Send.call(this, command, ...rest)
  if (answer && typeof answer.then === 'function') {
    return answer.then(
      (result) => {
        record('s3', label, start)
        return result
      },
      (error) => {
        record('s3', `${label} ${error?.name ?? 'error'}`, start)
        throw error
      },
    )
  }
  return answer
}

const { Redis } = fromApi('ioredis')
const sendCommand = Redis.prototype.sendCommand
Redis.prototype.sendCommand = function tracedCommand(command, ...rest) {
  const start = performance.now()
  const answer = sendCommand.call(this, command, ...rest)
  command?.promise?.then(
    () => record('redis', String(command.name), start),
    () => record('redis', `${command.name} error`, start),
  )
  return answer
}

const emit = Server.prototype.emit
Server.prototype.emit = function tracedEmit(event, ...args) {
  const [request, response] = args
  if (event === 'request' && this !== dumpServer) {
    const start = performance.now()
    const label = `${request.method} ${request.url.split('?')[0]}`
    response.once('finish', () => record('http', label, start))
  }
  return emit.call(this, event, ...args)
}

const dumpServer = createServer((_request, response) => {
  const body = JSON.stringify(events)
  events = []
  response.writeHead(200, { 'content-type': 'application/json' }).end(body)
})
dumpServer.listen(Number(process.env.IO_TRACE_PORT), '127.0.0.1')
dumpServer.unref()
