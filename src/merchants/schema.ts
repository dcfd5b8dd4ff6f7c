/**
 * @module The admin API's merchant body (`PUT /admin/merchants/{id}`): strict validation into a
 * normalized `MerchantInput`. Every failure is a `ValidationError` naming the field; unknown fields
 * are refused, because a typo in a payments config must not be silently ignored. Each provider's
 * section is validated by its own descriptor.
 */
import { outboundUrlProblem } from '../lib/outbound-url'
import { fail, objectAt, stringAt } from '../lib/validation'
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

/** The merchant's on/off settings beside its forward target and provider sections. */
export const MERCHANT_FLAGS = ['requireRegisteredOrders', 'confirmPaymentsByQuery', 'keepRejectedBodies'] as const
export type MerchantFlag = (typeof MERCHANT_FLAGS)[number]

export function isMerchantId(value: string): boolean {
  return MERCHANT_ID.test(value)
}

function webhookSecretAt(value: unknown, path: string): string {
  const secret = stringAt(value, path)
  const problem = webhookSecretProblem(secret)
  if (problem !== null) fail(path, problem)
  return secret
}

function parseForward(value: unknown, options: MerchantSchemaOptions): ForwardConfig {
  const forward = objectAt(value, 'forward', ['url', 'secret', 'previousSecret'])
  const url = stringAt(forward.url, 'forward.url')
  const urlProblem = outboundUrlProblem(url, { allowLoopback: options.allowLoopback })
  if (urlProblem !== null) fail('forward.url', urlProblem)
  const secret = webhookSecretAt(forward.secret, 'forward.secret')
  if (forward.previousSecret === undefined) return { url, secret }
  const previousSecret = webhookSecretAt(forward.previousSecret, 'forward.previousSecret')
  if (previousSecret === secret) fail('forward.previousSecret', 'must differ from forward.secret')
  return { url, secret, previousSecret }
}

/** Validates a PUT body; throws `ValidationError` naming the field. */
export async function parseMerchantInput(
  body: unknown,
  options: MerchantSchemaOptions,
  registry: ProviderRegistry = defaultRegistry,
): Promise<MerchantInput> {
  const providers = registry.providerNames()
  const merchant = objectAt(body, 'body', ['forward', ...providers, ...MERCHANT_FLAGS], '')
  const forward = parseForward(merchant.forward, options)
  if (providers.every((name) => merchant[name] === undefined)) {
    fail('body', `at least one of ${providers.join(', ')} is required`)
  }
  const flags: Partial<Record<MerchantFlag, true>> = {}
  for (const name of MERCHANT_FLAGS) {
    const value = merchant[name]
    if (value !== undefined && typeof value !== 'boolean') fail(name, 'must be true or false')
    // Only `true` is stored: false and absent mean the same.
    if (value === true) flags[name] = true
  }
  const sections: Record<string, unknown> = {}
  for (const descriptor of registry.providers) {
    const section = merchant[descriptor.provider]
    if (section !== undefined) sections[descriptor.provider] = await descriptor.config.parse(section, options)
  }
  return {
    forward,
    ...flags,
    ...sections,
  }
}
