/**
 * The log capture behind the whole suite's leak check (test/setup.ts): it sees the Worker's and the Durable Objects'
 * lines, and its checker finds each kind of secret, naming it without quoting it. The check itself runs after every
 * test file, over that file's output.
 */
import { runDurableObjectAlarm } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import keys from '../fixtures/keys.json'
import v3Fixtures from '../fixtures/wechatpay-v3.json'
import { orderStub } from '../../src/order/order-key'
import { capturedLines } from '../support/console-capture'
import { findLeaks, knownSecrets } from '../support/leaks'
import { forwardUrl, freshPayment, notify, registerMerchant } from './harness'
import { merchantEndpoint } from '../support/operations'

describe('the log capture', () => {
  it("sees the gateway's structured lines, from the Worker and from the order objects", async () => {
    await registerMerchant('capture')
    merchantEndpoint(forwardUrl('capture'), () => 200)
    const payment = freshPayment('alipay')
    const before = capturedLines.length
    await notify('alipay', 'capture', payment)
    await runDurableObjectAlarm(orderStub(env, { merchantId: 'capture', provider: 'alipay', outTradeNo: payment.outTradeNo }))
    const events = capturedLines.slice(before).map((line) => JSON.parse(line) as { event: string; out_trade_no?: string })
    expect(events).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ event: 'notification', out_trade_no: payment.outTradeNo }),
        expect.objectContaining({ event: 'delivery.attempt', out_trade_no: payment.outTradeNo }),
      ]),
    )
  })

  it('finds every kind of secret, and names the line without quoting the secret', () => {
    const secrets = knownSecrets({ ADMIN_TOKEN: 'an-admin-token-value' })
    const planted = [
      JSON.stringify({ event: 'a', key: keys.wechatpay.apiV3Key }),
      `whsec_${'A'.repeat(32)}`,
      'v1,K7gNU3sdo+OL0wNhqoVWhr3g6s1xYv72ol/pe/Unols=',
      keys.alipay.appKey.privateKeyPem,
      JSON.stringify(v3Fixtures.cases.transactionCertA.resource),
      v3Fixtures.cases.transactionCertA.headers['Wechatpay-Signature'],
      'the token is an-admin-token-value',
      JSON.stringify({ event: 'notification', out_trade_no: 'T1', outcome: 'accepted' }),
    ]
    const leaks = findLeaks(planted, secrets)
    for (const index of [0, 1, 2, 3, 4, 5, 6]) expect(leaks.some((leak) => leak.includes(`log line ${index}`))).toBe(true)
    expect(leaks.some((leak) => leak.includes('log line 7'))).toBe(false)
    expect(leaks[0]).toBe('wechatpay.apiV3Key in log line 0 (event a)')
    for (const leak of leaks) expect(leak).not.toContain(keys.wechatpay.apiV3Key)
  })
})
