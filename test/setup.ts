import { applyD1Migrations } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { afterEach, beforeAll } from 'vitest'
import { network } from './msw'

await applyD1Migrations(env.DB, env.TEST_MIGRATIONS)

beforeAll(() => network.listen({ onUnhandledFrame: 'error' }))
afterEach(() => network.resetHandlers())
// No close(): order objects' alarms may still fire after the last test; they must keep hitting the
// mock network (and failing as unhandled), never the real one.
