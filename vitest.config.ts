/**
 * @module Two projects: `workerd`, the real Worker, D1 and Durable Objects with per-file isolated storage (nearly
 * every test), and `node`, for what needs Node itself: the OpenAPI validator (it compiles schemas, which workerd
 * forbids) and the admin CLI against a real `wrangler dev`.
 */
import path from 'node:path'
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin'
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config'

/** The workerd project; `test` overrides its test options (the fuzz run's `include`, say). */
export async function workerdProject(
  test: NonNullable<TestProjectInlineConfiguration['test']> = {},
): Promise<TestProjectInlineConfiguration> {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, 'migrations'))
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: './wrangler.toml' },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            ADMIN_TOKEN: 'test-admin-token-32-characters-long',
            // 32 bytes, base64: test-only master key.
            MASTER_KEY: 'dGVzdC1tYXN0ZXIta2V5LTMyLWJ5dGVzLWxvbmchISE=',
            // Operational webhooks go to a stand-in that test/msw.ts answers (and tests may record).
            OPS_WEBHOOK_URL: 'https://ops.example/paygate',
            OPS_WEBHOOK_SECRET: 'whsec_b3BzLXdlYmhvb2stc2VjcmV0LWZvci10ZXN0cy0zMmI=',
          },
          // A second shard, for the test that spreads merchants over two (test/storage/projection-queue.test.ts).
          d1Databases: ['DB', 'DB_SHARD_1'],
          // The same queues as wrangler.toml, delivering each batch at once instead of waiting up to a second to
          // fill it: tests read what the projection wrote a moment after the alarm.
          queueConsumers: {
            'paygate-projection': { maxBatchSize: 100, maxBatchTimeout: 0, maxRetries: 10, deadLetterQueue: 'paygate-projection-dead' },
            'paygate-projection-dead': { maxBatchSize: 100, maxBatchTimeout: 0, maxRetries: 100 },
          },
        },
      }),
    ],
    resolve: {
      alias: {
        // See test/support/inert-client-request-interceptor.ts for why.
        '@mswjs/interceptors/ClientRequest': path.join(import.meta.dirname, 'test/support/inert-client-request-interceptor.ts'),
      },
    },
    test: {
      name: 'workerd',
      include: ['test/**/*.test.ts'],
      exclude: ['test/node/**'],
      setupFiles: ['./test/setup.ts'],
      // Builds what `npm run simulate` sends (in Node) for test/simulate/simulate.test.ts.
      globalSetup: ['./test/simulate/global-setup.mjs'],
      ...test,
    },
  }
}

export default defineConfig(async () => ({
  test: {
    // Each failing test shows its log lines; passing ones stay quiet (their lines are still checked for leaks).
    silent: 'passed-only',
    projects: [
      await workerdProject(),
      {
        test: {
          name: 'node',
          environment: 'node',
          include: ['test/node/**/*.test.ts'],
          // `wrangler dev` takes a while to start on a busy machine.
          hookTimeout: 180_000,
          testTimeout: 120_000,
        },
      },
    ],
  },
}))
