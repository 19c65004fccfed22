import path from 'node:path'
import { z } from 'zod'

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

const booleanString = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes')

/** Every environment variable imagegate reads, with its default. */
const EnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8787),
  HOST: z.string().min(1).default('127.0.0.1'),
  IMAGEGATE_DATA_DIR: z.string().min(1).default('./data'),
  IMAGEGATE_LOG_LEVEL: z.enum(logLevels).default('info'),
  IMAGEGATE_SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(10_000),
  IMAGEGATE_MOCK_IMAGES: booleanString.default(false),
})

export type Config = Readonly<{
  port: number
  host: string
  dataDir: string
  logLevel: (typeof logLevels)[number]
  shutdownGraceMs: number
  mockImages: boolean
}>

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`)
    this.name = 'ConfigError'
  }
}

/**
 * The only reader of the environment. Throws one ConfigError listing every bad variable,
 * so an operator fixes them all in one go.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env)
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = issue.path.join('.')
        return `${name}=${JSON.stringify(env[name] ?? '')}: ${issue.message}`
      }),
    )
  }
  const values = parsed.data
  return Object.freeze({
    port: values.PORT,
    host: values.HOST,
    dataDir: path.resolve(values.IMAGEGATE_DATA_DIR),
    logLevel: values.IMAGEGATE_LOG_LEVEL,
    shutdownGraceMs: values.IMAGEGATE_SHUTDOWN_GRACE_MS,
    mockImages: values.IMAGEGATE_MOCK_IMAGES,
  })
}
