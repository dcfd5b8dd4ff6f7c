/**
 * @module Admin maintenance: resealing stored secrets under the current MASTER_KEY, re-driving parked projection records,
 * and the OpenAPI document.
 */
import { log } from '../lib/log'
import { resealMerchants } from '../merchants/reseal'
import { deadLetterStub } from '../ops/dead-letters'
import { cursorText, isTextPair, walkPosition, type CursorScope } from './list-params'
import { openApiDocument } from './openapi'
import { json } from './responses'
import type { Handler } from './route-spec'
import type { AdminRoutes } from './routes'
import { MAX_REDRIVE_RECORDS, MAX_RESEAL_MERCHANTS } from './routes-operations'

/** The reseal walk goes through every merchant, as the merchants list does, but takes only its own cursors. */
const RESEAL: CursorScope = { list: 'reseal', merchantId: null }

export const resealSecrets: Handler<AdminRoutes['resealSecrets']> = async ({ body, env }) => {
  const page = await resealMerchants(env, {
    after: walkPosition(body.cursor, RESEAL, isTextPair),
    limit: body.limit ?? MAX_RESEAL_MERCHANTS,
  })
  const { resealed, unchanged, unreadable } = page
  log(unreadable.length > 0 ? 'error' : 'info', {
    event: 'secrets.resealed',
    outcome: unreadable.length > 0 ? 'unreadable' : 'done',
    resealed,
    unchanged,
    unreadable: unreadable.length,
  })
  return json({
    resealed,
    unchanged,
    unreadable,
    next_cursor: page.next === null ? null : cursorText(RESEAL, page.next),
  })
}

export const getProjectionStatus: Handler<AdminRoutes['getProjectionStatus']> = async ({ env }) => {
  const { parked, oldestParkedAt } = await deadLetterStub(env).status()
  return json({ parked, oldest_parked_at: oldestParkedAt === null ? null : new Date(oldestParkedAt).toISOString() })
}

export const redriveProjection: Handler<AdminRoutes['redriveProjection']> = async ({ body, env }) => {
  const result = await deadLetterStub(env).redrive(body.limit ?? MAX_REDRIVE_RECORDS)
  log('info', { event: 'projection.redriven', outcome: 'done', redriven: result.redriven, remaining: result.remaining })
  return json(result)
}

export const getOpenApi: Handler<AdminRoutes['getOpenApi']> = async ({ registry }) => json(openApiDocument(registry))
