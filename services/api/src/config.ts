import path from 'node:path'
import { z } from 'zod'
import { CREDIT_UNIT, isWholeCreditUnits } from './access/credit-units.ts'
import type { IpRange } from './access/ip-ranges.ts'
import { parseTrustedProxies } from './access/trusted-proxies.ts'
import {
  type BackendConfig,
  BackendEnvSchema,
  backendConfig,
  backendProblems,
  quotedValue,
} from './config-backends.ts'
import { booleanString } from './config-values.ts'

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

const perMinute = z.coerce.number().int().min(1).max(1_000_000_000)

/** Comma-separated addresses and CIDR blocks; one issue per bad entry. */
const ipRanges = z.string().transform((text, context) => {
  const { ranges, problems } = parseTrustedProxies(text)
  for (const problem of problems) {
    context.addIssue({ code: 'custom', message: problem })
  }
  return ranges
})

/** What a reverse proxy in front of imagegate would use: the defaults of the server's limits. */
export const DEFAULT_SERVER_LIMITS: ServerLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 300_000,
  bodyMinBytesPerSecond: 1024,
  bodyRateWindowMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 1024,
}

/** Every environment variable imagegate reads, with its default. */
const EnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8787),
  HOST: z.string().min(1).default('127.0.0.1'),
  IMAGEGATE_DATA_DIR: z.string().min(1).default('./data'),
  IMAGEGATE_LOG_LEVEL: z.enum(logLevels).default('info'),
  IMAGEGATE_SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(10_000),
  IMAGEGATE_MOCK_IMAGES: booleanString.default(false),
  IMAGEGATE_MAX_UPLOAD_BYTES: z.coerce
    .number()
    .int()
    .min(1)
    .default(50 * 1024 * 1024),
  IMAGEGATE_MAX_PIXELS: z.coerce.number().int().min(1).default(50_000_000),
  IMAGEGATE_MAX_JSON_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
  IMAGEGATE_HEADERS_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(1)
    .default(DEFAULT_SERVER_LIMITS.headersTimeoutMs),
  IMAGEGATE_REQUEST_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(1)
    .default(DEFAULT_SERVER_LIMITS.requestTimeoutMs),
  IMAGEGATE_BODY_MIN_BYTES_PER_SECOND: z.coerce
    .number()
    .int()
    .min(0)
    .default(DEFAULT_SERVER_LIMITS.bodyMinBytesPerSecond),
  IMAGEGATE_BODY_RATE_WINDOW_MS: z.coerce
    .number()
    .int()
    .min(1)
    .default(DEFAULT_SERVER_LIMITS.bodyRateWindowMs),
  IMAGEGATE_KEEP_ALIVE_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(1)
    .default(DEFAULT_SERVER_LIMITS.keepAliveTimeoutMs),
  IMAGEGATE_MAX_CONNECTIONS: z.coerce
    .number()
    .int()
    .min(1)
    .default(DEFAULT_SERVER_LIMITS.maxConnections),
  IMAGEGATE_GC_GRACE_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(60 * 60 * 1000),
  IMAGEGATE_GC_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(15 * 60 * 1000),
  IMAGEGATE_PUBLIC_URL: z.url().optional(),
  IMAGEGATE_DEFAULT_MODEL: z.string().min(1).optional(),
  IMAGEGATE_MODELS_FILE: z.string().min(1).optional(),
  IMAGEGATE_OPENAI_BASE_URL: z.url().default('https://api.openai.com/v1'),
  IMAGEGATE_OPENAI_API_KEY: z.string().min(1).optional(),
  IMAGEGATE_GEMINI_BASE_URL: z.url().default('https://generativelanguage.googleapis.com/v1beta'),
  IMAGEGATE_GEMINI_API_KEY: z.string().min(1).optional(),
  IMAGEGATE_BOOTSTRAP_CREDITS: z.coerce
    .number()
    .min(0)
    .refine(isWholeCreditUnits, `must be a multiple of ${CREDIT_UNIT} (the ledger's unit)`)
    .default(1000),
  IMAGEGATE_KEY_REQUESTS_PER_MINUTE: perMinute.default(60),
  IMAGEGATE_KEY_IMAGES_PER_MINUTE: perMinute.default(30),
  IMAGEGATE_WORKSPACE_REQUESTS_PER_MINUTE: perMinute.default(600),
  IMAGEGATE_WORKSPACE_IMAGES_PER_MINUTE: perMinute.default(300),
  IMAGEGATE_AUTH_FAILURES_PER_MINUTE: perMinute.default(10),
  IMAGEGATE_TRUSTED_PROXIES: ipRanges.default([]),
  IMAGEGATE_IDEMPOTENCY_LEASE_MS: z.coerce.number().int().min(1000).optional(),
  IMAGEGATE_REDIS_URL: z
    .url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' })
    .optional(),
  IMAGEGATE_REDIS_KEY_PREFIX: z.string().min(1).default('imagegate:'),
  IMAGEGATE_JOB_CONCURRENCY: z.coerce.number().int().min(1).max(10_000).default(8),
  IMAGEGATE_JOB_WORKSPACE_CONCURRENCY: z.coerce.number().int().min(1).max(10_000).default(4),
  IMAGEGATE_JOB_LEASE_MS: z.coerce.number().int().min(300).default(30_000),
  IMAGEGATE_SIGNED_URL_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .default(7 * 24 * 60 * 60),
  ...BackendEnvSchema,
  IMAGEGATE_WEBHOOKS_ALLOW_LOOPBACK: booleanString.default(false),
  IMAGEGATE_WEBHOOKS_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(8),
  IMAGEGATE_WEBHOOKS_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  IMAGEGATE_STREAM_KEEPALIVE_MS: z.coerce.number().int().min(10).default(15_000),
})

export type Config = Readonly<{
  port: number
  host: string
  dataDir: string
  logLevel: (typeof logLevels)[number]
  shutdownGraceMs: number
  mockImages: boolean
  maxUploadBytes: number
  maxPixels: number
  /** Largest JSON body any route reads; more is refused (413) before it is buffered. */
  maxJsonBytes: number
  /** How the Node server treats slow, idle and too many clients (http/server/limits.ts). */
  server: ServerLimits
  /** Unreferenced blobs younger than this survive a GC pass (an upload may be about to reference them). */
  gcGraceMs: number
  /** 0 disables the periodic GC (it still runs once at start). */
  gcIntervalMs: number
  /** Origin used for absolute asset URLs (`response_format=url`); defaults to the request's own. */
  publicUrl: string | undefined
  defaultModel: string | undefined
  modelsFile: string | undefined
  openai: { baseUrl: string; apiKey: string | undefined }
  gemini: { baseUrl: string; apiKey: string | undefined }
  /** Credits of workspace `default` when the first start creates it. */
  bootstrapCredits: number
  /** Limits of keys created without their own, and of every workspace (per minute). */
  rateLimits: {
    key: { requestsPerMinute: number; imagesPerMinute: number }
    workspace: { requestsPerMinute: number; imagesPerMinute: number }
  }
  /** Failed authentications one client address may make per minute before it is locked out. */
  authFailuresPerMinute: number
  /**
   * Peers whose X-Forwarded-For is believed (reverse proxies, load balancers); empty: the
   * connection's peer is the client.
   */
  trustedProxies: readonly IpRange[]
  /**
   * How long an Idempotency-Key claim holds the key before a retry may take it over (a crash
   * mid-flight). Undefined: the longest model deadline plus a minute (deps.ts).
   */
  idempotencyLeaseMs: number | undefined
  /** Lifetime of signed asset URLs; longer than the 24 h replay window, so replays stay valid. */
  signedUrlTtlSeconds: number
  /**
   * Where rate limits and failed-authentication throttling are shared by every instance (keys
   * under `keyPrefix`); undefined: in this process only, the embedded default.
   */
  redis: { url: string; keyPrefix: string } | undefined
  webhooks: {
    /**
     * Also allows http, and loopback addresses, as webhook targets: for local development and
     * tests only (a webhook to loopback reaches services on the gateway's own host).
     */
    allowLoopback: boolean
    /** Deliveries one instance sends at once. */
    concurrency: number
    /** One delivery attempt's limit, connection to answer. */
    attemptTimeoutMs: number
  }
  /** Asynchronous generations (`Prefer: respond-async`), see services/jobs. */
  jobs: Readonly<{
    /** Jobs one instance runs at once. */
    concurrency: number
    /** Running jobs of one workspace at once, over every instance on the database. */
    workspaceConcurrency: number
    /** A job whose worker has not renewed its lease for this long is taken over; renewed every third of it. */
    leaseMs: number
  }>
  /**
   * A streamed answer idle this long gets a comment line, so that proxies which close idle
   * connections (often at 60–100 s) keep it open while the model works.
   */
  streamKeepAliveMs: number
}> &
  Readonly<BackendConfig>

export type ServerLimits = Readonly<{
  /** A request's headers must arrive within this. */
  headersTimeoutMs: number
  /** The whole request (headers and body) must arrive within this; the answer may take longer. */
  requestTimeoutMs: number
  /**
   * A body must arrive at least this fast, measured over each window of bodyRateWindowMs while
   * the server is reading it; 0 turns the check off.
   */
  bodyMinBytesPerSecond: number
  bodyRateWindowMs: number
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number
  /** Connections past this many are refused (closed at once). */
  maxConnections: number
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
        return `${name}=${quotedValue(name, env[name])}: ${issue.message}`
      }),
    )
  }
  const values = parsed.data
  const problems = backendProblems(values)
  if (problems.length > 0) {
    throw new ConfigError(problems)
  }
  if (values.IMAGEGATE_HEADERS_TIMEOUT_MS > values.IMAGEGATE_REQUEST_TIMEOUT_MS) {
    throw new ConfigError([
      `IMAGEGATE_HEADERS_TIMEOUT_MS=${values.IMAGEGATE_HEADERS_TIMEOUT_MS}: must not exceed IMAGEGATE_REQUEST_TIMEOUT_MS (${values.IMAGEGATE_REQUEST_TIMEOUT_MS})`,
    ])
  }
  return Object.freeze({
    port: values.PORT,
    host: values.HOST,
    dataDir: path.resolve(values.IMAGEGATE_DATA_DIR),
    logLevel: values.IMAGEGATE_LOG_LEVEL,
    shutdownGraceMs: values.IMAGEGATE_SHUTDOWN_GRACE_MS,
    mockImages: values.IMAGEGATE_MOCK_IMAGES,
    maxUploadBytes: values.IMAGEGATE_MAX_UPLOAD_BYTES,
    maxPixels: values.IMAGEGATE_MAX_PIXELS,
    maxJsonBytes: values.IMAGEGATE_MAX_JSON_BYTES,
    server: {
      headersTimeoutMs: values.IMAGEGATE_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: values.IMAGEGATE_REQUEST_TIMEOUT_MS,
      bodyMinBytesPerSecond: values.IMAGEGATE_BODY_MIN_BYTES_PER_SECOND,
      bodyRateWindowMs: values.IMAGEGATE_BODY_RATE_WINDOW_MS,
      keepAliveTimeoutMs: values.IMAGEGATE_KEEP_ALIVE_TIMEOUT_MS,
      maxConnections: values.IMAGEGATE_MAX_CONNECTIONS,
    },
    gcGraceMs: values.IMAGEGATE_GC_GRACE_MS,
    gcIntervalMs: values.IMAGEGATE_GC_INTERVAL_MS,
    publicUrl: values.IMAGEGATE_PUBLIC_URL?.replace(/\/+$/, ''),
    defaultModel: values.IMAGEGATE_DEFAULT_MODEL,
    modelsFile: values.IMAGEGATE_MODELS_FILE,
    openai: {
      baseUrl: values.IMAGEGATE_OPENAI_BASE_URL.replace(/\/+$/, ''),
      apiKey: values.IMAGEGATE_OPENAI_API_KEY,
    },
    gemini: {
      baseUrl: values.IMAGEGATE_GEMINI_BASE_URL.replace(/\/+$/, ''),
      apiKey: values.IMAGEGATE_GEMINI_API_KEY,
    },
    bootstrapCredits: values.IMAGEGATE_BOOTSTRAP_CREDITS,
    rateLimits: {
      key: {
        requestsPerMinute: values.IMAGEGATE_KEY_REQUESTS_PER_MINUTE,
        imagesPerMinute: values.IMAGEGATE_KEY_IMAGES_PER_MINUTE,
      },
      workspace: {
        requestsPerMinute: values.IMAGEGATE_WORKSPACE_REQUESTS_PER_MINUTE,
        imagesPerMinute: values.IMAGEGATE_WORKSPACE_IMAGES_PER_MINUTE,
      },
    },
    authFailuresPerMinute: values.IMAGEGATE_AUTH_FAILURES_PER_MINUTE,
    trustedProxies: values.IMAGEGATE_TRUSTED_PROXIES,
    idempotencyLeaseMs: values.IMAGEGATE_IDEMPOTENCY_LEASE_MS,
    signedUrlTtlSeconds: values.IMAGEGATE_SIGNED_URL_TTL_SECONDS,
    redis: values.IMAGEGATE_REDIS_URL
      ? { url: values.IMAGEGATE_REDIS_URL, keyPrefix: values.IMAGEGATE_REDIS_KEY_PREFIX }
      : undefined,
    ...backendConfig(values),
    webhooks: {
      allowLoopback: values.IMAGEGATE_WEBHOOKS_ALLOW_LOOPBACK,
      concurrency: values.IMAGEGATE_WEBHOOKS_CONCURRENCY,
      attemptTimeoutMs: values.IMAGEGATE_WEBHOOKS_TIMEOUT_MS,
    },
    jobs: {
      concurrency: values.IMAGEGATE_JOB_CONCURRENCY,
      workspaceConcurrency: values.IMAGEGATE_JOB_WORKSPACE_CONCURRENCY,
      leaseMs: values.IMAGEGATE_JOB_LEASE_MS,
    },
    streamKeepAliveMs: values.IMAGEGATE_STREAM_KEEPALIVE_MS,
  })
}

/**
 * The AWS SDK warns once per process, on Node 20, that its releases from 2027 on need Node 22.
 * imagegate pins a release that runs on Node 20 (the lockfile), so on every start of an S3
 * deployment that warning would be noise; an operator who wants it sets the variable to false.
 */
export function quietAwsNodeVersionWarning(env: NodeJS.ProcessEnv = process.env): void {
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
}
