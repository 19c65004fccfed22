import { z } from 'zod'
import { hasValidChecksum } from './access/api-key-format.ts'
import { booleanString } from './config-values.ts'
import { normalizePrefix } from './storage/s3-keys.ts'

/**
 * The variables that pick where state lives: the metadata database, the blob store, and the
 * secrets every instance of a deployment must share. Parsed by config.ts with the rest.
 */

const SECRET_MIN_LENGTH = 32
const SECRET_MIN_BITS = 128

/** The shortest unit the text repeats (the whole text when it does not repeat). */
function repeatedUnit(chars: string[]): string[] {
  for (let period = 1; period < chars.length; period += 1) {
    if (chars.every((char, index) => index < period || char === chars[index - period])) {
      return chars.slice(0, period)
    }
  }
  return chars
}

/**
 * An estimate of a text's randomness: the length of the unit it repeats times the entropy of
 * that unit's character frequencies. A random hex or base64 string of 32+ characters scores
 * far above 128 bits; a run of one character, a word or a digit sequence repeated to length
 * scores far below.
 */
export function estimatedEntropyBits(text: string): number {
  const unit = repeatedUnit([...text])
  const counts = new Map<string, number>()
  for (const char of unit) {
    counts.set(char, (counts.get(char) ?? 0) + 1)
  }
  let perCharacter = 0
  for (const count of counts.values()) {
    const share = count / unit.length
    perCharacter -= share * Math.log2(share)
  }
  return Math.floor(perCharacter * unit.length)
}

/** Enough for the generation path's few short transactions at a time per instance. */
export const DEFAULT_DATABASE_POOL_SIZE = 10

const databaseUrl = z.url({
  protocol: /^postgres(ql)?$/,
  error: 'must be a postgres:// or postgresql:// URL',
})

const urlSigningSecret = z
  .string()
  .min(
    SECRET_MIN_LENGTH,
    `must be at least ${SECRET_MIN_LENGTH} characters (e.g. \`openssl rand -hex 32\`)`,
  )
  .superRefine((text, context) => {
    const bits = estimatedEntropyBits(text)
    if (text.length >= SECRET_MIN_LENGTH && bits < SECRET_MIN_BITS) {
      context.addIssue({
        code: 'custom',
        message: `looks predictable: about ${bits} bits of entropy, at least ${SECRET_MIN_BITS} needed (e.g. \`openssl rand -hex 32\`)`,
      })
    }
  })

const bootstrapAdminKey = z
  .string()
  .refine(
    hasValidChecksum,
    'must be an imagegate API key: igk_ and 49 letters or digits ending in their checksum (make one with `pnpm new-key`)',
  )

/** AWS's bucket naming rules, which every S3-compatible store accepts. */
const bucketName = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
    'must be 3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit',
  )

const s3Prefix = z.string().transform((prefix, context) => {
  try {
    return normalizePrefix(prefix)
  } catch (error) {
    context.addIssue({ code: 'custom', message: (error as Error).message })
    return z.NEVER
  }
})

export const BackendEnvSchema = {
  IMAGEGATE_DATABASE_URL: databaseUrl.optional(),
  IMAGEGATE_DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(500).optional(),
  IMAGEGATE_BLOB_STORE: z.enum(['fs', 's3']).default('fs'),
  IMAGEGATE_S3_BUCKET: bucketName.optional(),
  IMAGEGATE_S3_PREFIX: s3Prefix.optional(),
  IMAGEGATE_S3_ENDPOINT: z
    .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
    .optional(),
  IMAGEGATE_S3_REGION: z.string().min(1).optional(),
  IMAGEGATE_S3_FORCE_PATH_STYLE: booleanString.optional(),
  IMAGEGATE_URL_SIGNING_SECRET: urlSigningSecret.optional(),
  IMAGEGATE_BOOTSTRAP_ADMIN_KEY: bootstrapAdminKey.optional(),
}

type BackendValues = {
  IMAGEGATE_DATABASE_URL?: string | undefined
  IMAGEGATE_DATABASE_POOL_SIZE?: number | undefined
  IMAGEGATE_BLOB_STORE: 'fs' | 's3'
  IMAGEGATE_S3_BUCKET?: string | undefined
  IMAGEGATE_S3_PREFIX?: string | undefined
  IMAGEGATE_S3_ENDPOINT?: string | undefined
  IMAGEGATE_S3_REGION?: string | undefined
  IMAGEGATE_S3_FORCE_PATH_STYLE?: boolean | undefined
  IMAGEGATE_URL_SIGNING_SECRET?: string | undefined
  IMAGEGATE_BOOTSTRAP_ADMIN_KEY?: string | undefined
}

export type S3BlobStoreConfig = Readonly<{
  kind: 's3'
  bucket: string
  /** Normalized: empty, or path segments ending in `/`. */
  prefix: string
  /** Unset: AWS itself. */
  endpoint: string | undefined
  /** Unset: the AWS SDK's chain (AWS_REGION, the profile's region). */
  region: string | undefined
  forcePathStyle: boolean
}>

export type BlobStoreConfig = Readonly<{ kind: 'fs' }> | S3BlobStoreConfig

export type BackendConfig = {
  /** PostgreSQL for metadata; unset: SQLite in the data dir. */
  databaseUrl: string | undefined
  /** Connections one instance may hold on that database at once. */
  databasePoolSize: number
  blobStore: BlobStoreConfig
  /**
   * The secret that signs asset URLs, shared by every instance. Unset: a random one kept in
   * `<data dir>/url-signing-key`, which suits one instance only, so it is required with
   * PostgreSQL (the sign of several instances, each with its own data dir).
   */
  urlSigningSecret: string | undefined
  /** The first admin key, chosen by the operator; unset: a random one is made and printed. */
  bootstrapAdminKey: string | undefined
}

const S3_ONLY = [
  'IMAGEGATE_S3_BUCKET',
  'IMAGEGATE_S3_PREFIX',
  'IMAGEGATE_S3_ENDPOINT',
  'IMAGEGATE_S3_REGION',
  'IMAGEGATE_S3_FORCE_PATH_STYLE',
] as const

/**
 * The rules between variables, as problems in ConfigError's form. An S3 variable without
 * IMAGEGATE_BLOB_STORE=s3 is refused rather than ignored: the likely cause is a forgotten
 * IMAGEGATE_BLOB_STORE, and ignoring it would put each instance's blobs on its own disk.
 */
export function backendProblems(values: BackendValues): string[] {
  const problems: string[] = []
  if (
    values.IMAGEGATE_DATABASE_POOL_SIZE !== undefined &&
    values.IMAGEGATE_DATABASE_URL === undefined
  ) {
    problems.push(
      'IMAGEGATE_DATABASE_POOL_SIZE: only read when IMAGEGATE_DATABASE_URL is set (SQLite needs no pool)',
    )
  }
  if (values.IMAGEGATE_BLOB_STORE === 's3') {
    if (values.IMAGEGATE_S3_BUCKET === undefined) {
      problems.push('IMAGEGATE_S3_BUCKET="": required when IMAGEGATE_BLOB_STORE=s3')
    }
  } else {
    for (const name of S3_ONLY) {
      if (values[name] !== undefined) {
        problems.push(`${name}: only read when IMAGEGATE_BLOB_STORE=s3 (it is "fs")`)
      }
    }
  }
  if (
    values.IMAGEGATE_DATABASE_URL !== undefined &&
    values.IMAGEGATE_URL_SIGNING_SECRET === undefined
  ) {
    problems.push(
      'IMAGEGATE_URL_SIGNING_SECRET="": required when IMAGEGATE_DATABASE_URL is set, so every instance signs and checks asset URLs with the same secret (e.g. `openssl rand -hex 32`)',
    )
  }
  return problems
}

export function backendConfig(values: BackendValues): BackendConfig {
  const endpoint = values.IMAGEGATE_S3_ENDPOINT?.replace(/\/+$/, '')
  return {
    databaseUrl: values.IMAGEGATE_DATABASE_URL,
    databasePoolSize: values.IMAGEGATE_DATABASE_POOL_SIZE ?? DEFAULT_DATABASE_POOL_SIZE,
    blobStore:
      values.IMAGEGATE_BLOB_STORE === 's3'
        ? {
            kind: 's3',
            bucket: values.IMAGEGATE_S3_BUCKET ?? '',
            prefix: values.IMAGEGATE_S3_PREFIX ?? '',
            endpoint,
            region: values.IMAGEGATE_S3_REGION,
            // Stores other than AWS mostly serve buckets as paths, not as host names.
            forcePathStyle: values.IMAGEGATE_S3_FORCE_PATH_STYLE ?? endpoint !== undefined,
          }
        : { kind: 'fs' },
    urlSigningSecret: values.IMAGEGATE_URL_SIGNING_SECRET,
    bootstrapAdminKey: values.IMAGEGATE_BOOTSTRAP_ADMIN_KEY,
  }
}

/** Variables whose values never appear in an error message. */
const SECRET_VARIABLES = new Set(['IMAGEGATE_URL_SIGNING_SECRET', 'IMAGEGATE_BOOTSTRAP_ADMIN_KEY'])

/**
 * How a bad value is quoted in ConfigError: as given, except secrets (only their length) and
 * a database URL's password.
 */
export function quotedValue(name: string, value: string | undefined): string {
  if (value === undefined || value === '') {
    return '""'
  }
  if (SECRET_VARIABLES.has(name)) {
    return `<${[...value].length} characters, not shown>`
  }
  if (name === 'IMAGEGATE_DATABASE_URL') {
    return JSON.stringify(value.replace(/^([^:/]*:\/\/[^:/@]*:)[^@/]*@/, '$1***@'))
  }
  return JSON.stringify(value)
}
