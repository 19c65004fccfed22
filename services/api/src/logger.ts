import pino, { type DestinationStream, type Logger } from 'pino'
import type { Config } from './config.ts'

/**
 * Structured JSON logs. Credentials are redacted by path; request and response bodies are never
 * logged, so no base64 image can reach a log line.
 */
export function createLogger(
  config: Pick<Config, 'logLevel'>,
  destination?: DestinationStream,
): Logger {
  return pino(
    {
      level: config.logLevel,
      base: { service: 'imagegate' },
      redact: {
        paths: ['req.headers.authorization', 'headers.authorization', 'apiKey', 'key', '*.apiKey'],
        censor: '[redacted]',
      },
    },
    destination,
  )
}
