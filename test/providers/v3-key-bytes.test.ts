import { describe, expect, it } from 'vitest'
import fixtures from '../fixtures/wechatpay-v3.json'
import keys from '../fixtures/keys.json'
import type { MerchantConfig } from '../../src/merchants/types'
import { verifyNotification } from '../../src/providers/pipeline'
import { wechatpayV3 } from '../../src/providers/wechatpay-v3'
import { rawNotification } from './contract'

type CaseName = keyof typeof fixtures.cases
const wx = keys.wechatpay

function raw(name: CaseName) {
  const c: { headers: Record<string, string>; body: string } = fixtures.cases[name]
  return rawNotification(c.body, c.headers, fixtures.now)
}

function merchant(): MerchantConfig {
  return {
    id: 'acme',
    forward: { url: 'https://merchant.example/hooks/payments', secret: 'whsec_dGVzdC1zZWNyZXQ=' },
    wechatpay: {
      appid: wx.appid,
      mchid: wx.mchid,
      v2SignTypes: ['MD5'],
      apiV3Key: wx.apiV3Key,
      platformPublicKeys: { [wx.publicKeyMode.id]: wx.publicKeyMode.publicKeyPem, [wx.platformCertA.serial]: wx.platformCertA.publicKeyPem },
    },
  }
}

describe('the APIv3 key bytes kept with a merchant config', () => {
  it('decrypts every notification of a config with the key it holds, again and again', async () => {
    const config = merchant()
    for (let i = 0; i < 3; i++) {
      const notification = await verifyNotification(wechatpayV3, raw('transactionPublicKey'), config, fixtures.now)
      expect(notification.effect.kind).toBe('payment')
    }
  })

  it('follows a key changed on the same config object instead of reusing the old bytes', async () => {
    const config = merchant()
    await verifyNotification(wechatpayV3, raw('transactionPublicKey'), config, fixtures.now)
    config.wechatpay!.apiV3Key = fixtures.otherApiV3Key
    const rotated = await verifyNotification(wechatpayV3, raw('otherApiV3Key'), config, fixtures.now)
    expect(rotated.notificationId).toBe((JSON.parse(fixtures.cases.otherApiV3Key.body) as { id: string }).id)
    await expect(verifyNotification(wechatpayV3, raw('transactionPublicKey'), config, fixtures.now)).rejects.toMatchObject({ code: 'decrypt_failed' })
  })

  it('keeps two merchants with different keys apart', async () => {
    const a = merchant()
    const b = merchant()
    b.wechatpay!.apiV3Key = fixtures.otherApiV3Key
    await expect(verifyNotification(wechatpayV3, raw('transactionPublicKey'), a, fixtures.now)).resolves.toBeDefined()
    await expect(verifyNotification(wechatpayV3, raw('transactionPublicKey'), b, fixtures.now)).rejects.toMatchObject({ code: 'decrypt_failed' })
    await expect(verifyNotification(wechatpayV3, raw('otherApiV3Key'), b, fixtures.now)).resolves.toBeDefined()
    await expect(verifyNotification(wechatpayV3, raw('otherApiV3Key'), a, fixtures.now)).rejects.toMatchObject({ code: 'decrypt_failed' })
  })
})
