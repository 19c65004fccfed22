import { defineConfig } from 'drizzle-kit'

export default defineConfig({
  dialect: 'sqlite',
  schema: './src/db/schema/index.ts',
  out: process.env.IMAGEGATE_MIGRATIONS_OUT ?? './drizzle',
  strict: true,
})
