import type { Server, ServerOptions } from 'node:http'
import type { ServerLimits } from '../../config.ts'

/**
 * The Node server's own timeouts. Node checks headersTimeout and requestTimeout only every
 * connectionsCheckingInterval (30 s by default), which would let a slow-header client hold its
 * socket three times the configured time: the check runs at a quarter of the headers timeout
 * (at most once a second, at least every 50 ms).
 */
export function serverOptions(limits: ServerLimits): ServerOptions {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.min(1000, Math.max(50, limits.headersTimeoutMs / 4)),
  }
}

/** What cannot be passed to createServer: the connection cap. */
export function applyConnectionCap(server: Server, limits: ServerLimits): void {
  server.maxConnections = limits.maxConnections
}
