import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { generateApiKey } from './access/api-key-format.ts'
import { ConfigError, loadConfig } from './config.ts'
import { estimatedEntropyBits } from './config-backends.ts'

/** The problems loadConfig reports for `env`; fails the test when it accepts it. */
function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env)
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    return (err as ConfigError).problems
  }
  throw new Error(`accepted ${JSON.stringify(env)}`)
}

const SECRET = 'c0ffee5b1b8e4f2a9d3c7e6f10a2b4c8d9e1f3a5b7c9d0e2f4a6b8c0d2e4f6a8'
const S3 = { IMAGEGATE_BLOB_STORE: 's3', IMAGEGATE_S3_BUCKET: 'imagegate-blobs' }

describe('the embedded default', () => {
  it('is SQLite and local disk, with the signing secret and admin key made at first start', () => {
    expect(loadConfig({})).toMatchObject({
      databaseUrl: undefined,
      blobStore: { kind: 'fs' },
      urlSigningSecret: undefined,
      bootstrapAdminKey: undefined,
    })
    expect(loadConfig({ IMAGEGATE_BLOB_STORE: 'fs' }).blobStore).toEqual({ kind: 'fs' })
  })
})

describe('IMAGEGATE_DATABASE_URL', () => {
  it('takes postgres:// and postgresql:// URLs', () => {
    for (const url of [
      'postgres://imagegate:pw@db.internal:5432/imagegate',
      'postgresql://127.0.0.1/imagegate?sslmode=require',
    ]) {
      expect(
        loadConfig({ IMAGEGATE_DATABASE_URL: url, IMAGEGATE_URL_SIGNING_SECRET: SECRET })
          .databaseUrl,
      ).toBe(url)
    }
  })

  it('refuses other schemes and non-URLs, without echoing the password', () => {
    const problems = problemsOf({
      IMAGEGATE_DATABASE_URL: 'mysql://root:hunter2@db/imagegate',
      IMAGEGATE_URL_SIGNING_SECRET: SECRET,
    })
    expect(problems).toEqual([
      'IMAGEGATE_DATABASE_URL="mysql://root:***@db/imagegate": must be a postgres:// or postgresql:// URL',
    ])
    expect(
      problemsOf({ IMAGEGATE_DATABASE_URL: 'imagegate', IMAGEGATE_URL_SIGNING_SECRET: SECRET }),
    ).toEqual(['IMAGEGATE_DATABASE_URL="imagegate": must be a postgres:// or postgresql:// URL'])
  })

  it('requires a shared URL signing secret', () => {
    const problems = problemsOf({ IMAGEGATE_DATABASE_URL: 'postgres://127.0.0.1/imagegate' })
    expect(problems).toHaveLength(1)
    expect(problems[0]).toMatch(
      /^IMAGEGATE_URL_SIGNING_SECRET="": required when IMAGEGATE_DATABASE_URL is set, so every instance/,
    )
  })

  it('takes a pool size with it, 10 connections by default', () => {
    const url = { IMAGEGATE_DATABASE_URL: 'postgres://127.0.0.1/imagegate' }
    const secret = { IMAGEGATE_URL_SIGNING_SECRET: SECRET }
    expect(loadConfig({ ...url, ...secret }).databasePoolSize).toBe(10)
    expect(
      loadConfig({ ...url, ...secret, IMAGEGATE_DATABASE_POOL_SIZE: '40' }).databasePoolSize,
    ).toBe(40)
    expect(problemsOf({ ...url, ...secret, IMAGEGATE_DATABASE_POOL_SIZE: '0' })).toHaveLength(1)
    expect(problemsOf({ IMAGEGATE_DATABASE_POOL_SIZE: '20' })).toEqual([
      'IMAGEGATE_DATABASE_POOL_SIZE: only read when IMAGEGATE_DATABASE_URL is set (SQLite needs no pool)',
    ])
  })
})

describe('IMAGEGATE_BLOB_STORE and IMAGEGATE_S3_*', () => {
  it('refuses a store that does not exist', () => {
    expect(problemsOf({ IMAGEGATE_BLOB_STORE: 'gcs' })).toEqual([
      'IMAGEGATE_BLOB_STORE="gcs": Invalid option: expected one of "fs"|"s3"',
    ])
  })

  it('requires a bucket for s3', () => {
    expect(problemsOf({ IMAGEGATE_BLOB_STORE: 's3' })).toEqual([
      'IMAGEGATE_S3_BUCKET="": required when IMAGEGATE_BLOB_STORE=s3',
    ])
  })

  it('uses AWS with virtual-hosted buckets when no endpoint is given', () => {
    expect(loadConfig(S3).blobStore).toEqual({
      kind: 's3',
      bucket: 'imagegate-blobs',
      prefix: '',
      endpoint: undefined,
      region: undefined,
      forcePathStyle: false,
    })
  })

  it('uses path style with an endpoint unless told otherwise', () => {
    const minio = loadConfig({
      ...S3,
      IMAGEGATE_S3_ENDPOINT: 'http://127.0.0.1:9000/',
      IMAGEGATE_S3_REGION: 'us-east-1',
      IMAGEGATE_S3_PREFIX: 'prod/imagegate',
    }).blobStore
    expect(minio).toEqual({
      kind: 's3',
      bucket: 'imagegate-blobs',
      prefix: 'prod/imagegate/',
      endpoint: 'http://127.0.0.1:9000',
      region: 'us-east-1',
      forcePathStyle: true,
    })
    const r2 = loadConfig({
      ...S3,
      IMAGEGATE_S3_ENDPOINT: 'https://account.r2.cloudflarestorage.com',
      IMAGEGATE_S3_REGION: 'auto',
      IMAGEGATE_S3_FORCE_PATH_STYLE: 'false',
    }).blobStore
    expect(r2).toMatchObject({ forcePathStyle: false, region: 'auto' })
    expect(loadConfig({ ...S3, IMAGEGATE_S3_FORCE_PATH_STYLE: 'yes' }).blobStore).toMatchObject({
      forcePathStyle: true,
    })
  })

  it('names every bad S3 value', () => {
    const problems = problemsOf({
      IMAGEGATE_BLOB_STORE: 's3',
      IMAGEGATE_S3_BUCKET: 'My_Bucket',
      IMAGEGATE_S3_PREFIX: '../escape',
      IMAGEGATE_S3_ENDPOINT: 'ftp://store.internal',
      IMAGEGATE_S3_REGION: '',
      IMAGEGATE_S3_FORCE_PATH_STYLE: 'sometimes',
    })
    expect(problems).toHaveLength(5)
    expect(problems[0]).toMatch(/^IMAGEGATE_S3_BUCKET="My_Bucket": must be 3 to 63 lowercase/)
    expect(problems[1]).toMatch(/^IMAGEGATE_S3_PREFIX="\.\.\/escape": S3 prefix .* must be path/)
    expect(problems[2]).toBe(
      'IMAGEGATE_S3_ENDPOINT="ftp://store.internal": must be an http:// or https:// URL',
    )
    expect(problems[3]).toMatch(/^IMAGEGATE_S3_REGION="": /)
    expect(problems[4]).toMatch(/^IMAGEGATE_S3_FORCE_PATH_STYLE="sometimes": /)
  })

  it('refuses S3 settings when the blob store is not s3', () => {
    expect(
      problemsOf({ IMAGEGATE_S3_BUCKET: 'imagegate-blobs', IMAGEGATE_S3_REGION: 'eu-west-1' }),
    ).toEqual([
      'IMAGEGATE_S3_BUCKET: only read when IMAGEGATE_BLOB_STORE=s3 (it is "fs")',
      'IMAGEGATE_S3_REGION: only read when IMAGEGATE_BLOB_STORE=s3 (it is "fs")',
    ])
  })
})

describe('IMAGEGATE_URL_SIGNING_SECRET', () => {
  it('takes a random secret of 32 characters or more', () => {
    expect(loadConfig({ IMAGEGATE_URL_SIGNING_SECRET: SECRET }).urlSigningSecret).toBe(SECRET)
    const base64 = randomBytes(32).toString('base64')
    expect(loadConfig({ IMAGEGATE_URL_SIGNING_SECRET: base64 }).urlSigningSecret).toBe(base64)
  })

  it('refuses short and predictable secrets, without showing them', () => {
    expect(problemsOf({ IMAGEGATE_URL_SIGNING_SECRET: 'hunter2' })).toEqual([
      'IMAGEGATE_URL_SIGNING_SECRET=<7 characters, not shown>: must be at least 32 characters (e.g. `openssl rand -hex 32`)',
    ])
    for (const predictable of ['a'.repeat(64), 'password'.repeat(4), '0123456789'.repeat(4)]) {
      const problems = problemsOf({ IMAGEGATE_URL_SIGNING_SECRET: predictable })
      expect(problems).toHaveLength(1)
      expect(problems[0]).toMatch(
        /^IMAGEGATE_URL_SIGNING_SECRET=<\d+ characters, not shown>: looks predictable: about \d+ bits of entropy, at least 128 needed/,
      )
      expect(problems[0]).not.toContain(predictable.slice(0, 8))
    }
  })

  it('estimates entropy from the text itself', () => {
    expect(estimatedEntropyBits('')).toBe(0)
    expect(estimatedEntropyBits('aaaa')).toBe(0)
    expect(estimatedEntropyBits('abab')).toBe(2)
    expect(estimatedEntropyBits('abcd')).toBe(8)
    expect(estimatedEntropyBits(SECRET)).toBeGreaterThan(200)
  })
})

describe('IMAGEGATE_BOOTSTRAP_ADMIN_KEY', () => {
  it('takes a key in imagegate format', () => {
    const { key } = generateApiKey((size) => randomBytes(size))
    expect(loadConfig({ IMAGEGATE_BOOTSTRAP_ADMIN_KEY: key }).bootstrapAdminKey).toBe(key)
  })

  it('refuses a made-up or mistyped key, without showing it', () => {
    const { key } = generateApiKey((size) => randomBytes(size))
    const mistyped = `${key.slice(0, 10)}${key[10] === 'A' ? 'B' : 'A'}${key.slice(11)}`
    for (const bad of [mistyped, 'sk-live-0123456789abcdef', `${key}x`]) {
      const problems = problemsOf({ IMAGEGATE_BOOTSTRAP_ADMIN_KEY: bad })
      expect(problems).toEqual([
        `IMAGEGATE_BOOTSTRAP_ADMIN_KEY=<${bad.length} characters, not shown>: must be an imagegate API key: igk_ and 49 letters or digits ending in their checksum (make one with \`pnpm new-key\`)`,
      ])
    }
  })
})
