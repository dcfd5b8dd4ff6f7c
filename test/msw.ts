/** @module Network-level mock of everything the Worker fetches (merchant origins, provider APIs, the ops webhook). */
import { http, HttpResponse } from 'msw'
import { setupServer } from 'msw/node'

/** OPS_WEBHOOK_URL in the tests (vitest.config.ts): answered 204 unless a test installs its own handler. */
export const OPS_URL = 'https://ops.example/paygate'

export const network = setupServer(http.post(OPS_URL, () => new HttpResponse(null, { status: 204 })))
