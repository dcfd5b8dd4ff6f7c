/**
 * @module Admin maintenance: resealing stored secrets under the current MASTER_KEY, re-driving parked projection records,
 * and the OpenAPI document.
 */
import { log } from '../lib/log'
import { resealMerchants } from '../merchants/reseal'
import { deadLetterStub } from '../ops/dead-letters'
import { decodeCursor, encodeCursor } from './list-params'
import { openApiDocument } from './openapi'
import { AdminError, json } from './responses'
import type { Handler } from './route-spec'
import type { AdminRoutes } from './routes'
import { MAX_REDRIVE_RECORDS, MAX_RESEAL_MERCHANTS } from './routes-operations'
import type { Cursor } from './schemas'

function readCursor(cursor: string): Cursor {
  const after = decodeCursor(cursor)
  if (after === null) throw new AdminError('invalid_request', 'cursor: not a cursor returned by this endpoint')
  return after
}

export const resealSecrets: Handler<AdminRoutes['resealSecrets']> = async ({ body, env }) => {
  const page = await resealMerchants(env, {
    after: body.cursor === undefined ? null : readCursor(body.cursor),
    limit: body.limit ?? MAX_RESEAL_MERCHANTS,
  })
  log('info', { event: 'secrets.resealed', outcome: 'done', resealed: page.resealed, unchanged: page.unchanged })
  return json({ resealed: page.resealed, unchanged: page.unchanged, next_cursor: page.next === null ? null : encodeCursor(page.next) })
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
