import { defineConfig } from 'vitest/config'

// The workspace runs @imagegate/client from its TypeScript source (the `@imagegate/source`
// condition of its exports); test/package/ installs the packed build instead. The rest are
// Vitest's own server conditions, which leave out `module`.
const sourceFirst = ['@imagegate/source', 'node', 'development|production']

export default defineConfig({
  ssr: { resolve: { conditions: sourceFirst } },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: [
            'services/*/src/**/*.test.ts',
            'packages/*/src/**/*.test.ts',
            'scripts/**/*.test.ts',
            'test/fakes/**/*.test.ts',
            'test/support/**/*.test.ts',
            'bench/**/*.test.ts',
          ],
          testTimeout: 20_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'contract',
          include: ['test/contract/**/*.test.ts'],
          globalSetup: ['test/contract/prism.setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        // The spec-driven fuzz suite (test/fuzz/spec.fuzz.test.ts): one server process, every
        // operation in turn; each operation stops generating cases after a few seconds.
        extends: true,
        test: {
          name: 'fuzz',
          include: ['test/fuzz/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        // Packs the client and installs the tarball into a temp project, as another team would.
        // It runs after the other projects: npm, tsc and Chromium at once would take the CPU
        // that the timing-sensitive e2e tests count on.
        test: {
          name: 'package',
          include: ['test/package/**/*.test.ts'],
          sequence: { groupOrder: 1 },
          testTimeout: 60_000,
          hookTimeout: 90_000,
        },
      },
    ],
  },
})
