import { applyD1Migrations } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { afterAll, afterEach, beforeAll } from 'vitest'
import { network } from './msw'
import { capturedLines, captureConsole } from './support/console-capture'
import { findLeaks, knownSecrets } from './support/leaks'

await applyD1Migrations(env.DB, env.TEST_MIGRATIONS)

beforeAll(() => network.listen({ onUnhandledFrame: 'error' }))
afterEach(() => network.resetHandlers())
// No close(): order objects' alarms may still fire after the last test; they must keep hitting the
// mock network (and failing as unhandled), never the real one.

// Log capture over the whole suite: every file's console output (Worker, Durable Objects, tests) is checked when
// the file is done. No secret, key, full signature or decrypted resource may be in any line (contract, "Logs").
captureConsole()
afterAll(() => {
  const leaks = findLeaks(
    capturedLines,
    knownSecrets({ ADMIN_TOKEN: env.ADMIN_TOKEN, MASTER_KEY: env.MASTER_KEY, OPS_WEBHOOK_SECRET: env.OPS_WEBHOOK_SECRET }),
  )
  if (leaks.length > 0) throw new Error(`secrets in this file's log output:\n  ${[...new Set(leaks)].join('\n  ')}`)
})
