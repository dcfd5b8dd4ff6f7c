/** @module Vitest inside workerd: the real Worker, D1 and Durable Objects, per-file isolated storage. */
import path from 'node:path'
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin'
import { defineConfig } from 'vitest/config'

export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, 'migrations'))
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: './wrangler.toml' },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            ADMIN_TOKEN: 'test-admin-token',
            // 32 bytes, base64: test-only master key.
            MASTER_KEY: 'dGVzdC1tYXN0ZXIta2V5LTMyLWJ5dGVzLWxvbmchISE=',
            // Operational webhooks go to a stand-in that test/msw.ts answers (and tests may record).
            OPS_WEBHOOK_URL: 'https://ops.example/paygate',
            OPS_WEBHOOK_SECRET: 'whsec_b3BzLXdlYmhvb2stc2VjcmV0LWZvci10ZXN0cy0zMmI=',
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
      include: ['test/**/*.test.ts'],
      setupFiles: ['./test/setup.ts'],
      // Builds what `npm run simulate` sends (in Node) for test/simulate/simulate.test.ts.
      globalSetup: ['./test/simulate/global-setup.mjs'],
    },
  }
})
