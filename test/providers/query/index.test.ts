import { describe, expect, it } from 'vitest'
import { defaultRegistry } from '../../../src/providers'
import { merchant } from './support'

describe('choosing the order-query client', () => {
  it('has one client per channel, each naming its channel and provider', () => {
    for (const descriptor of defaultRegistry.providers) {
      const channels = descriptor.channels.map((adapter) => adapter.channel)
      expect(descriptor.queries.map((client) => client.channel).sort()).toEqual([...channels].sort())
      for (const client of descriptor.queries) expect(client.provider).toBe(descriptor.provider)
    }
  })

  it('prefers WeChat Pay v3 when the merchant API key is configured, else v2', () => {
    expect(defaultRegistry.queryClientFor(merchant(), 'wechatpay')?.channel).toBe('wechatpay.v3')
    const v2Only = merchant({ wechatpay: { merchantPrivateKey: undefined, merchantSerial: undefined } })
    expect(defaultRegistry.queryClientFor(v2Only, 'wechatpay')?.channel).toBe('wechatpay.v2')
  })

  it('finds none when the merchant holds no key a query needs', () => {
    const none = merchant({
      wechatpay: { apiV2Key: undefined, v2SignTypes: [], merchantPrivateKey: undefined, merchantSerial: undefined },
      alipay: { appPrivateKey: undefined },
    })
    expect(defaultRegistry.queryClientFor(none, 'wechatpay')).toBeNull()
    expect(defaultRegistry.queryClientFor(none, 'alipay')).toBeNull()
    expect(defaultRegistry.queryClientFor(merchant(), 'alipay')?.channel).toBe('alipay')
  })
})
