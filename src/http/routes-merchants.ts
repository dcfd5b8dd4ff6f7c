/**
 * @module The merchant routes as specs: list, create or replace, read, patch, the endpoint's lifecycle and a
 * test event. Provider sections come from the registry's descriptors, in requests and replies alike.
 */
import * as z from 'zod'
import { strictObject } from '../lib/validation'
import { flagSchemas, forwardViewOnly, merchantInputSchema, merchantViewOnly } from '../merchants/schema'
import type { ProviderRegistry } from '../providers'
import { named, route } from './route-spec'
import { merchantIdParam, nextCursor, pageQuery } from './schemas'

const merchantParams = z.object({ merchantId: merchantIdParam })

const forwardView = z.object({
  url: z.string(),
  ...optionalFields(forwardViewOnly),
})

function optionalFields(shape: z.ZodRawShape): Record<string, z.ZodType> {
  return Object.fromEntries(Object.entries(shape).map(([field, schema]) => [field, (schema as z.ZodType).optional()]))
}

/** A provider section as GET shows it: the request's section without its secret fields, and what GET adds. */
function publicSection(registry: ProviderRegistry, provider: string): z.ZodType {
  const { schema, secretFields, viewOnly = {} } = registry.provider(provider)!.config
  const secrets: readonly string[] = secretFields
  const shown = Object.entries(schema.shape).filter(([field]) => !secrets.includes(field))
  return z
    .looseObject({ ...Object.fromEntries(shown), ...optionalFields(viewOnly) })
    .meta(z.globalRegistry.get(schema) ?? {})
    .optional()
}

function merchantView(registry: ProviderRegistry): z.ZodType {
  const sections = Object.fromEntries(registry.providerNames().map((name) => [name, publicSection(registry, name)]))
  return z
    .object({
      forward: forwardView,
      ...flagSchemas(),
      ...sections,
      ...optionalFields(merchantViewOnly),
    })
    .loose()
    .meta({ description: 'The merchant as saved, every secret left out.' })
}

/** A merge patch of a schema: every member optional, `null` removes it; objects (and maps) patch member by member. */
export function mergePatchOf(schema: z.ZodType): z.ZodType {
  const inner = schema instanceof z.ZodOptional ? (schema.unwrap() as z.ZodType) : schema
  if (inner instanceof z.ZodObject) {
    const members = Object.entries(inner.shape as Record<string, z.ZodType>)
    // Each member keeps its description (and readOnly mark), which the patch's wrappers would not carry.
    const patchOf = ([key, value]: [string, z.ZodType]) => [key, withMetaOf(mergePatchOf(value).nullable().optional(), value)]
    // Read-only members (what GET shows, ignored when sent back) are accepted, not named among the fields to send.
    const readOnly = ([, value]: [string, z.ZodType]) => z.globalRegistry.get(value)?.readOnly === true
    const patch = strictObject(Object.fromEntries(members.filter((m) => !readOnly(m)).map(patchOf))).extend(
      Object.fromEntries(members.filter(readOnly).map(patchOf)),
    )
    return withMetaOf(patch, inner)
  }
  if (inner instanceof z.ZodRecord) return z.record(z.string(), (inner.valueType as z.ZodType).nullable())
  return inner
}

/** `schema` with the documentation `source` carries itself (a new schema: neither is changed). */
function withMetaOf(schema: z.ZodType, source: z.ZodType): z.ZodType {
  const meta = z.globalRegistry.get(source)
  return meta === undefined ? schema : schema.meta({ ...meta })
}

const merchantSummary = z.object({
  id: z.string(),
  forward: z.object({ url: z.string(), disabled_at: z.string().nullable() }),
  providers: z.array(z.string()).meta({ description: 'The providers the merchant has a section for.' }),
  created_at: z.string(),
  updated_at: z.string(),
})

const testEventResult = z.object({
  event_id: z.string().meta({ description: "The event's `webhook-id`." }),
  delivered: z.boolean(),
  status_code: z.number().int().nullable(),
  duration_ms: z.number().int(),
  error: z.string().nullable(),
  response_snippet: z.string().meta({ description: 'The first 1 KiB of the reply.' }),
})

export function merchantRoutes(registry: ProviderRegistry) {
  const view = named('Merchant', merchantView(registry))
  const input = named('MerchantInput', merchantInputSchema(registry))
  return {
    listMerchants: route({
      method: 'get',
      path: '/admin/merchants',
      tag: 'merchants',
      summary: 'List merchants, newest first',
      query: pageQuery,
      responses: {
        200: {
          description: 'A page of merchants.',
          schema: named('MerchantList', z.object({ merchants: z.array(merchantSummary), next_cursor: nextCursor })),
        },
      },
      errors: ['invalid_request'],
    }),
    putMerchant: route({
      method: 'put',
      path: '/admin/merchants/{merchantId}',
      tag: 'merchants',
      summary: 'Create or replace a merchant',
      description: 'Secrets are sealed under MASTER_KEY and never returned. Replacing a merchant enables its endpoint again.',
      params: merchantParams,
      body: input,
      responses: { 200: { description: 'Replaced.', schema: view }, 201: { description: 'Created.', schema: view } },
      errors: ['invalid_request', 'conflict'],
    }),
    getMerchant: route({
      method: 'get',
      path: '/admin/merchants/{merchantId}',
      tag: 'merchants',
      summary: 'Read a merchant (secrets left out)',
      params: merchantParams,
      responses: { 200: { description: 'The merchant.', schema: view } },
      errors: ['not_found'],
    }),
    patchMerchant: route({
      method: 'patch',
      path: '/admin/merchants/{merchantId}',
      tag: 'merchants',
      summary: 'Change some fields of a merchant (JSON merge patch)',
      description:
        'RFC 7396 over the PUT body: absent fields keep their value, null removes an optional one. The result is ' +
        'validated as a whole. The endpoint stays enabled or disabled as it was.',
      params: merchantParams,
      body: named(
        'MerchantPatch',
        mergePatchOf(input).meta({ description: 'A JSON merge patch (RFC 7396) of MerchantInput: absent members stay as they are.' }),
      ),
      mergePatch: true,
      responses: { 200: { description: 'The merchant after the patch.', schema: view } },
      errors: ['invalid_request', 'not_found', 'conflict'],
    }),
    disableEndpoint: route({
      method: 'post',
      path: '/admin/merchants/{merchantId}/endpoint/disable',
      tag: 'endpoint',
      summary: "Stop sending to the merchant's endpoint",
      description: 'New events wait as `failed` with reason `endpoint_disabled`, for recovery.',
      params: merchantParams,
      responses: { 200: { description: 'The endpoint, disabled.', schema: z.object({ forward: forwardView }) } },
      errors: ['not_found'],
    }),
    enableEndpoint: route({
      method: 'post',
      path: '/admin/merchants/{merchantId}/endpoint/enable',
      tag: 'endpoint',
      summary: "Send to the merchant's endpoint again",
      description: 'Sends nothing by itself: `…/deliveries/recover` sends what failed meanwhile.',
      params: merchantParams,
      responses: { 200: { description: 'The endpoint, enabled.', schema: z.object({ forward: forwardView }) } },
      errors: ['not_found'],
    }),
    sendTestEvent: route({
      method: 'post',
      path: '/admin/merchants/{merchantId}/test-event',
      tag: 'endpoint',
      summary: 'Send a signed `webhook.test` event and report the attempt',
      description:
        'One attempt, never retried. While the endpoint is disabled nothing is sent to it, this event included: `409`. ' +
        'A `410` reply disables the endpoint (reason `gone`), as a delivery’s does; a `2xx` shows in its health ' +
        '(`last_success_at`, and a failing streak ends), as a delivery’s success does. ' +
        'Enabling sends nothing by itself, so enable, send the test event, then recover.',
      params: merchantParams,
      responses: { 200: { description: "The attempt's outcome.", schema: named('TestEventResult', testEventResult) } },
      errors: ['not_found', 'invalid_request', 'conflict'],
    }),
  }
}
