/**
 * @module The admin API's merchant body (`PUT /admin/merchants/{id}`): one zod schema, built from the
 * provider registry, checks its shape and documents it (OpenAPI); the checks that need more than a
 * shape (URLs, secrets, keys) follow, into a normalized `MerchantInput`. Every failure is a
 * `ValidationError` naming the field; unknown fields are refused, because a typo in a payments config
 * must not be silently ignored.
 */
import * as z from 'zod'
import { outboundUrlProblem } from '../lib/outbound-url'
import { fail, objectAt, stringAt, strictObject, validate } from '../lib/validation'
import { defaultRegistry, type ProviderRegistry } from '../providers'
import { webhookSecretProblem } from '../delivery/webhook-secret'
import type { ForwardConfig, MerchantConfig } from './types'

/** A merchant's configuration as submitted, validated and normalized; the id comes from the path. */
export type MerchantInput = Omit<MerchantConfig, 'id'>

export interface MerchantSchemaOptions {
  /** Allow `http://localhost` forward and provider API URLs: only while the Worker runs locally. */
  allowLoopback: boolean
}

const MERCHANT_ID = /^[A-Za-z0-9_-]{1,64}$/
export const MERCHANT_ID_PATTERN = MERCHANT_ID.source

/** The merchant's on/off settings beside its forward target and provider sections, as the API documents them. */
const MERCHANT_FLAG_DESCRIPTIONS = {
  requireRegisteredOrders:
    'Every order is registered first: a payment for an unregistered one is confirmed by a query before it counts ' +
    '(refused, so the provider retries, until then; without query keys, until the order is registered).',
  confirmPaymentsByQuery: 'Every payment notification is confirmed by an order query before it is forwarded.',
  keepRejectedBodies: 'Keep the raw body of rejected notifications (signatures cut short; bounded in size and age).',
} as const
export type MerchantFlag = keyof typeof MERCHANT_FLAG_DESCRIPTIONS
export const MERCHANT_FLAGS = Object.keys(MERCHANT_FLAG_DESCRIPTIONS) as MerchantFlag[]

/** The flags a merchant has on: only `true` is stored or shown (false and absent mean the same). */
export function flagsOf(merchant: Partial<Record<MerchantFlag, unknown>>): Partial<Record<MerchantFlag, true>> {
  return Object.fromEntries(MERCHANT_FLAGS.filter((flag) => merchant[flag] === true).map((flag) => [flag, true]))
}

/** Each flag as an optional boolean, with its description; `error` says what a wrong value is told. */
export function flagSchemas(error?: string): Record<MerchantFlag, z.ZodOptional<z.ZodBoolean>> {
  const schemaOf = (description: string) => (error === undefined ? z.boolean() : z.boolean({ error })).optional().meta({ description })
  return Object.fromEntries(
    Object.entries(MERCHANT_FLAG_DESCRIPTIONS).map(([flag, description]) => [flag, schemaOf(description)]),
  ) as Record<MerchantFlag, z.ZodOptional<z.ZodBoolean>>
}

export function isMerchantId(value: string): boolean {
  return MERCHANT_ID.test(value)
}

const webhookSecret = (description: string) =>
  z
    .string()
    .meta({ description: `${description} \`whsec_\` + base64 of 16–64 random bytes (32 recommended); sealed at rest, never returned.` })

const disabledReason = z
  .enum(['gone', 'failing', 'manual'])
  .meta({ description: '`gone`: it answered 410; `failing`: every attempt failed for 5 days; `manual`: an operator disabled it.' })

/** What GET adds to `forward`: set while the endpoint is disabled. */
export const forwardViewOnly = {
  disabled_at: z.string().meta({ description: 'Set while the endpoint is disabled: nothing is sent to it.' }),
  disabled_reason: disabledReason,
}

/** What GET adds beside the sections: the endpoint's health. */
export const merchantViewOnly = {
  endpoint_health: z
    .object({ failing_since: z.string().nullable(), last_failure_at: z.string().nullable(), last_success_at: z.string().nullable() })
    .meta({
      description: 'Once something was sent: since when every attempt has failed (null: it answers), the last failure and success.',
    }),
}

/**
 * Fields GET shows and no PUT sets, as a body may carry them back (GET's reply, secrets added, saved again): each
 * optional and `readOnly`, and ignored. Anything else unknown is still refused.
 */
function readOnlyFields(shape: z.ZodRawShape = {}): Record<string, z.ZodType> {
  return Object.fromEntries(
    Object.entries(shape).map(([field, schema]) => [field, (schema as z.ZodType).optional().meta({ readOnly: true })]),
  )
}

/** `section` without the fields named in `shape` (the body's own object is not changed). */
function withoutFields(section: unknown, shape: z.ZodRawShape = {}): unknown {
  if (typeof section !== 'object' || section === null || Array.isArray(section)) return section
  const kept = { ...section } as Record<string, unknown>
  for (const field of Object.keys(shape)) delete kept[field]
  return kept
}

// Read-only fields are added by `extend`, which keeps the strict object's message: it names the fields to send.
export const forwardSchema = strictObject({
  url: z.string().meta({ description: 'Where events are POSTed: https, a public address, no port.', format: 'uri' }),
  secret: webhookSecret('The Standard Webhooks signing secret.'),
  previousSecret: webhookSecret('The secret being rotated out: while set, every event carries a signature for each.').optional(),
}).extend(readOnlyFields(forwardViewOnly))

const schemas = new WeakMap<ProviderRegistry, z.ZodObject>()

/** The PUT body's schema for a gateway's providers: `forward`, one optional section per provider, `requireRegisteredOrders`. */
export function merchantInputSchema(registry: ProviderRegistry = defaultRegistry): z.ZodObject {
  let schema = schemas.get(registry)
  if (schema === undefined) {
    const sections = Object.fromEntries(
      registry.providers.map(({ provider, config }) => [
        provider,
        config.schema
          .extend(readOnlyFields(config.viewOnly))
          .meta(z.globalRegistry.get(config.schema) ?? {})
          .optional(),
      ]),
    )
    schema = strictObject({
      forward: forwardSchema,
      ...sections,
      ...flagSchemas('must be true or false'),
    })
      .extend(readOnlyFields(merchantViewOnly))
      .meta({ description: `A merchant: where its events go, and at least one of ${registry.providerNames().join(', ')}.` })
    schemas.set(registry, schema)
  }
  return schema
}

function webhookSecretAt(value: unknown, path: string): string {
  const secret = stringAt(value, path)
  const problem = webhookSecretProblem(secret)
  if (problem !== null) fail(path, problem)
  return secret
}

function parseForward(value: unknown, options: MerchantSchemaOptions): ForwardConfig {
  const forward = objectAt(value, 'forward', Object.keys(forwardSchema.shape))
  const url = stringAt(forward.url, 'forward.url')
  const urlProblem = outboundUrlProblem(url, { allowLoopback: options.allowLoopback })
  if (urlProblem !== null) fail('forward.url', urlProblem)
  const secret = webhookSecretAt(forward.secret, 'forward.secret')
  if (forward.previousSecret === undefined) return { url, secret }
  const previousSecret = webhookSecretAt(forward.previousSecret, 'forward.previousSecret')
  if (previousSecret === secret) fail('forward.previousSecret', 'must differ from forward.secret')
  return { url, secret, previousSecret }
}

/** Validates a PUT body (its shape by the schema, then what a shape cannot say); throws `ValidationError` naming the field. */
export async function parseMerchantInput(
  body: unknown,
  options: MerchantSchemaOptions,
  registry: ProviderRegistry = defaultRegistry,
): Promise<MerchantInput> {
  const providers = registry.providerNames()
  validate(merchantInputSchema(registry), body)
  // The body itself from here, not zod's copy: a copy built by assignment loses keys such as `__proto__`,
  // which the checks below must still see (and refuse).
  const merchant = body as Record<string, unknown>
  const forward = parseForward(merchant.forward, options)
  if (providers.every((name) => merchant[name] === undefined)) {
    fail('body', `at least one of ${providers.join(', ')} is required`)
  }
  const flags = flagsOf(merchant)
  const sections: Record<string, unknown> = {}
  for (const descriptor of registry.providers) {
    const section = withoutFields(merchant[descriptor.provider], descriptor.config.viewOnly)
    if (section !== undefined) sections[descriptor.provider] = await descriptor.config.parse(section, options)
  }
  return {
    forward,
    ...flags,
    ...sections,
  }
}
