import { Redis } from 'ioredis'

/**
 * A connection made for a limiter on the request path: a dead Redis must cost a request
 * milliseconds, never its deadline. So no offline queue (a command while disconnected fails at
 * once instead of waiting for a reconnect), no retry of a command cut off by a disconnect, a
 * command timeout of REDIS_COMMAND_TIMEOUT_MS for a server that hangs, and reconnects every
 * 100 ms growing to 1 s, so the limits are shared again within about a second of Redis coming
 * back. `rediss://` URLs connect over TLS.
 */
export const REDIS_COMMAND_TIMEOUT_MS = 500
const REDIS_CONNECT_TIMEOUT_MS = 2000

export function openRedis(url: string): Redis {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: REDIS_CONNECT_TIMEOUT_MS,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
  })
  // Connection errors surface as failed commands, which fallback-gcra-store.ts logs once per
  // outage; without a listener ioredis would print each reconnect attempt to stderr.
  redis.on('error', () => {})
  return redis
}

/**
 * The first connection, at start-up: resolves once the server answers, or rejects with why it
 * could not be reached (not ioredis's generic "Connection is closed") and stops reconnecting.
 */
export function connectRedis(redis: Redis): Promise<void> {
  const where = `${redis.options.host}:${redis.options.port}`
  return new Promise((resolve, reject) => {
    const onReady = () => {
      redis.off('error', onError)
      resolve()
    }
    const onError = (err: Error) => {
      redis.off('ready', onReady)
      redis.disconnect()
      reject(new Error(`cannot reach Redis at ${where}: ${err.message}`))
    }
    redis.once('ready', onReady)
    redis.once('error', onError)
    // Its rejection says less than the 'error' event above.
    redis.connect().catch(() => {})
  })
}
