import type { IncomingMessage } from 'node:http'
import type { ServerLimits } from '../../config.ts'

/**
 * Closes the connection of a request whose body arrives slower than
 * `bodyMinBytesPerSecond`, measured over each `bodyRateWindowMs` (slow uploads would otherwise
 * hold a socket, a temp file and a slot until requestTimeout). Only the client is judged: a
 * window in which the server was not reading (nobody consuming yet, or paused for backpressure,
 * or bytes waiting in the request's buffer) does not count. The handler then sees its client
 * gone (a 499).
 */
export function watchBodyRate(
  req: IncomingMessage,
  limits: Pick<ServerLimits, 'bodyMinBytesPerSecond' | 'bodyRateWindowMs'>,
): void {
  if (limits.bodyMinBytesPerSecond === 0 || !hasBody(req)) {
    return
  }
  const socket = req.socket
  const minimumPerWindow = (limits.bodyMinBytesPerSecond * limits.bodyRateWindowMs) / 1000
  let seen = socket.bytesRead
  const timer = setInterval(() => {
    if (req.complete || socket.destroyed) {
      clearInterval(timer)
      return
    }
    const now = socket.bytesRead
    const received = now - seen
    seen = now
    const serverReading = req.readableFlowing === true && req.readableLength === 0
    if (serverReading && received < minimumPerWindow) {
      clearInterval(timer)
      socket.destroy()
    }
  }, limits.bodyRateWindowMs)
  timer.unref()
  const stop = () => clearInterval(timer)
  req.once('end', stop)
  req.once('close', stop)
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length']
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined
}
