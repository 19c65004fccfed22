import { type PgTable, getTableConfig as pgTableConfig } from 'drizzle-orm/pg-core'
import { type SQLiteTable, getTableConfig as sqliteTableConfig } from 'drizzle-orm/sqlite-core'
import { describe, expect, it } from 'vitest'
import * as sqliteSchema from '../schema/index.ts'
import * as pgSchema from './index.ts'

type Shape = {
  name: string
  columns: { name: string; notNull: boolean; primary: boolean }[]
  primaryKeys: string[][]
  indexes: { name: string; columns: string[]; unique: boolean; partial: boolean }[]
  checks: string[]
  foreignKeys: string[]
}

const columnName = (column: unknown) => (column as { name: string }).name
const byName = <T extends { name: string }>(items: T[]) =>
  [...items].sort((a, b) => a.name.localeCompare(b.name))

/** What both dialects must agree on; column types differ on purpose (jsonb, bigint, bytea). */
function shapeOf(config: ReturnType<typeof pgTableConfig> | ReturnType<typeof sqliteTableConfig>) {
  return {
    name: config.name,
    columns: byName(
      config.columns.map((column) => ({
        name: column.name,
        notNull: column.notNull,
        primary: column.primary,
      })),
    ),
    primaryKeys: config.primaryKeys.map((key) => key.columns.map(columnName)),
    indexes: byName(
      config.indexes.map((index) => ({
        name: index.config.name ?? '',
        columns: index.config.columns.map(columnName),
        unique: index.config.unique === true,
        partial: index.config.where !== undefined,
      })),
    ),
    checks: config.checks.map((check) => check.name).sort(),
    foreignKeys: config.foreignKeys
      .map((key) => {
        const reference = key.reference()
        return `${reference.columns.map(columnName)} -> ${reference.foreignColumns.map(columnName)}`
      })
      .sort(),
  } satisfies Shape
}

/**
 * Tables only PostgreSQL has, each with why SQLite needs none. Anything else on one side only
 * fails the mirror.
 */
const PG_ONLY_TABLES: Record<string, string> = {
  blob_pins:
    'GC pins shared by instances; on SQLite one process owns the data and pins stay in its memory',
}

/**
 * Indexes only PostgreSQL has, as `table.index`, each with why SQLite needs none. Any other
 * index on one side only fails the mirror.
 */
const PG_ONLY_INDEXES: Record<string, string> = {
  'generations.generations_asset_ids':
    'GIN over the jsonb array for findByAsset (@>); SQLite has no inverted index over JSON, and ' +
    'reads the workspace’s rows through generations_workspace_id',
  'generations.generations_unfinished':
    'failRunning runs in every instance’s periodic sweep on a shared database; SQLite runs it ' +
    'only at start-up and shutdown of its one process, where one scan is fine',
}

const withoutPgOnlyIndexes = (shape: Shape): Shape => ({
  ...shape,
  indexes: shape.indexes.filter((index) => !(`${shape.name}.${index.name}` in PG_ONLY_INDEXES)),
})

const isTable = (value: unknown) =>
  typeof value === 'object' && value !== null && Symbol.for('drizzle:Name') in value

describe('the PostgreSQL schema', () => {
  it('mirrors the SQLite schema: tables, columns, keys, indexes, checks and references', () => {
    const sqliteShapes = Object.values(sqliteSchema)
      .filter(isTable)
      .map((table) => shapeOf(sqliteTableConfig(table as SQLiteTable)))
    const pgShapes = Object.values(pgSchema)
      .filter(isTable)
      .map((table) => shapeOf(pgTableConfig(table as PgTable)))
    const mirrored = pgShapes
      .filter((shape) => !(shape.name in PG_ONLY_TABLES))
      .map(withoutPgOnlyIndexes)
    expect(byName(mirrored)).toEqual(byName(sqliteShapes))
    expect(pgShapes.length).toBeGreaterThanOrEqual(8)
  })

  it('has each PostgreSQL-only table, and SQLite has none of them', () => {
    const names = (schema: object, config: (table: never) => { name: string }) =>
      Object.values(schema)
        .filter(isTable)
        .map((table) => config(table as never).name)
    const pgNames = names(pgSchema, pgTableConfig)
    const sqliteNames = names(sqliteSchema, sqliteTableConfig)
    for (const name of Object.keys(PG_ONLY_TABLES)) {
      expect(pgNames).toContain(name)
      expect(sqliteNames).not.toContain(name)
    }
  })

  it('has each PostgreSQL-only index, and SQLite has none of them', () => {
    const indexNames = (schema: object, config: (table: never) => Shape) =>
      Object.values(schema)
        .filter(isTable)
        .flatMap((table) => {
          const shape = config(table as never)
          return shape.indexes.map((index) => `${shape.name}.${index.name}`)
        })
    const pgIndexes = indexNames(pgSchema, (table) => shapeOf(pgTableConfig(table)))
    const sqliteIndexes = indexNames(sqliteSchema, (table) => shapeOf(sqliteTableConfig(table)))
    for (const name of Object.keys(PG_ONLY_INDEXES)) {
      expect(pgIndexes).toContain(name)
      expect(sqliteIndexes).not.toContain(name)
    }
  })
})
