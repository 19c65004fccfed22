import { defineConfig } from 'drizzle-kit'

/** The PostgreSQL migrations, generated from src/db/pg-schema like drizzle.config.ts's. */
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/pg-schema/index.ts',
  out: process.env.IMAGEGATE_PG_MIGRATIONS_OUT ?? './drizzle-pg',
  strict: true,
})
