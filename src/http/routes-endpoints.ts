/** @module The endpoint-health route as a spec: each merchant's endpoint at a glance, for the dashboard's merchant list. */
import * as z from 'zod'
import { named, route } from './route-spec'
import { nextCursor, pageQuery } from './schemas'

const endpointHealth = z.object({
  merchant_id: z.string(),
  url: z.string(),
  disabled_at: z.string().nullable(),
  disabled_reason: z.enum(['gone', 'failing', 'manual']).nullable(),
  failing_since: z.string().nullable().meta({ description: 'Since when every attempt has failed; null while it answers.' }),
  last_attempt_at: z.string().nullable().meta({ description: 'The last attempt, successful or not; null when nothing was sent yet.' }),
  last_success_at: z.string().nullable(),
  last_failure_at: z.string().nullable(),
  last_24h: z
    .object({
      delivered: z.number().int(),
      failed: z.number().int().meta({ description: 'Deliveries that failed for good.' }),
      attempts: z.number().int(),
      attempt_success_rate: z.number().nullable().meta({ description: 'delivered / attempts; null when nothing was attempted.' }),
    })
    .meta({ description: 'Counted per minute by the D1 projection, so a few seconds behind.' }),
})

export function endpointRoutes() {
  return {
    listEndpointHealth: route({
      method: 'get',
      path: '/admin/endpoints',
      tag: 'endpoint',
      summary: "Each merchant's endpoint health, newest merchant first",
      description:
        'Disabled or not, failing since when, the last attempt, and the last 24 hours of deliveries: one call per page of merchants.',
      query: pageQuery,
      responses: {
        200: {
          description: 'A page of endpoints.',
          schema: named('EndpointHealthList', z.object({ endpoints: z.array(endpointHealth), next_cursor: nextCursor })),
        },
      },
      errors: ['invalid_request'],
    }),
  }
}
