/**
 * The webhook secret rule (`webhookSecretProblem`): the contract refuses secrets of fewer than 16 bytes and patterned
 * ones; any random secret of 16 to 64 bytes is taken, and the secrets it signs with verify in the Standard Webhooks
 * library (someone else's verifier).
 */
import { Webhook } from 'standardwebhooks'
import { describe, expect, it } from 'vitest'
import { signWebhook } from '../../src/delivery/sign'
import { webhookSecretProblem } from '../../src/delivery/webhook-secret'

const secretOf = (bytes: Uint8Array): string => `whsec_${Buffer.from(bytes).toString('base64')}`
const randomSecret = (length: number): string => secretOf(crypto.getRandomValues(new Uint8Array(length)))

describe('webhookSecretProblem', () => {
  it('takes random secrets of 16 to 64 bytes, and refuses 15 and 65', () => {
    for (const length of [16, 17, 23, 24, 32, 64]) expect(webhookSecretProblem(randomSecret(length)), `${length} bytes`).toBeNull()
    expect(webhookSecretProblem(randomSecret(15))).toBe('must decode to 16–64 bytes')
    expect(webhookSecretProblem(randomSecret(65))).toBe('must decode to 16–64 bytes')
  })

  it('refuses no random 16-byte secret among 20,000', () => {
    const refused = Array.from({ length: 20_000 }, () => randomSecret(16)).filter((secret) => webhookSecretProblem(secret) !== null)
    expect(refused).toEqual([])
  })

  it('refuses patterned secrets of 16 bytes as it does longer ones', () => {
    const patterned = 'must be random bytes (this one repeats a few values; generate it with a CSPRNG)'
    expect(webhookSecretProblem(secretOf(new Uint8Array(16)))).toBe(patterned)
    expect(webhookSecretProblem(secretOf(new Uint8Array(16).fill(97)))).toBe(patterned)
    expect(webhookSecretProblem(secretOf(Uint8Array.from({ length: 16 }, (_, i) => i * 3)))).toBe(patterned)
    // Seven values, each two or three times: fewer distinct values than half the key.
    expect(webhookSecretProblem(secretOf(Uint8Array.from({ length: 16 }, (_, i) => (i % 7) * 31 + 7)))).toBe(patterned)
  })

  it('signs with a 16-byte secret that the Standard Webhooks library verifies', async () => {
    const secret = randomSecret(16)
    const body = '{"type":"payment.succeeded"}'
    const headers = await signWebhook({ id: 'msg_1', timestamp: Math.floor(Date.now() / 1000), body, secrets: [secret] })
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body))
  })
})
