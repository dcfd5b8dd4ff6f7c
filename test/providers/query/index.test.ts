import { describe, expect, it } from 'vitest'
import { ORDER_QUERY_CLIENTS, orderQueryClientFor } from '../../../src/providers/query'
import { merchant } from './support'

describe('choosing the order-query client', () => {
  it('has one client per channel, each naming its channel and provider', () => {
    for (const [channel, client] of Object.entries(ORDER_QUERY_CLIENTS)) {
      expect(client.channel).toBe(channel)
      expect(client.provider).toBe(channel.startsWith('wechatpay') ? 'wechatpay' : 'alipay')
    }
  })

  it('prefers WeChat Pay v3 when the merchant API key is configured, else v2', () => {
    expect(orderQueryClientFor(merchant(), 'wechatpay')?.channel).toBe('wechatpay.v3')
    const v2Only = merchant({ wechatpay: { merchantPrivateKey: undefined, merchantSerial: undefined } })
    expect(orderQueryClientFor(v2Only, 'wechatpay')?.channel).toBe('wechatpay.v2')
  })

  it('finds none when the merchant holds no key a query needs', () => {
    const none = merchant({
      wechatpay: { apiV2Key: undefined, v2SignTypes: [], merchantPrivateKey: undefined, merchantSerial: undefined },
      alipay: { appPrivateKey: undefined },
    })
    expect(orderQueryClientFor(none, 'wechatpay')).toBeNull()
    expect(orderQueryClientFor(none, 'alipay')).toBeNull()
    expect(orderQueryClientFor(merchant(), 'alipay')?.channel).toBe('alipay')
  })
})
