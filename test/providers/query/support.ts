/**
 * @module Shared pieces of the order-query tests: a merchant holding every query key, and an
 * independent (node:crypto) stand-in for the providers' signing of their answers.
 */
import { createSign } from 'node:crypto'
import { expect } from 'vitest'
import keys from '../../fixtures/keys.json'
import type { AlipayConfig } from '../../../src/providers/alipay'
import type { MerchantConfig } from '../../../src/merchants/types'
import type { WechatpayConfig } from '../../../src/providers/wechatpay'
import { QueryFailed, type QueryFailureReason } from '../../../src/providers/core/query-types'

export { keys }

const SECRET = `whsec_${btoa('forward-secret-32-bytes-long!!!!')}`

/** 2026-11-22T10:00:00+08:00. */
export const NOW = Date.parse('2026-11-22T02:00:00Z')
export const NOW_SECONDS = String(NOW / 1000)

export const OUT_TRADE_NO = 'T20261122-0001'

export function merchant(overrides: { wechatpay?: Partial<WechatpayConfig>; alipay?: Partial<AlipayConfig> } = {}): MerchantConfig {
  const { wechatpay, alipay } = keys
  return {
    id: 'query-merchant',
    forward: { url: 'https://merchant.example/hooks/payments', secret: SECRET },
    wechatpay: {
      appid: wechatpay.appid,
      mchid: wechatpay.mchid,
      apiV2Key: wechatpay.apiV2Key,
      v2SignTypes: ['MD5', 'HMAC-SHA256'],
      apiV3Key: wechatpay.apiV3Key,
      platformPublicKeys: { [wechatpay.platformCertA.serial]: wechatpay.platformCertA.publicKeyPem },
      merchantPrivateKey: wechatpay.merchantApi.privateKeyPem,
      merchantSerial: wechatpay.merchantApi.serial,
      ...overrides.wechatpay,
    },
    alipay: {
      appId: alipay.appId,
      sellerId: alipay.sellerId,
      alipayPublicKey: alipay.alipayKey.publicKeyPem,
      signType: 'RSA2',
      appPrivateKey: alipay.appKey.privateKeyPem,
      ...overrides.alipay,
    },
  }
}

export function rsaSha256(privateKeyPem: string, message: string): string {
  return createSign('RSA-SHA256').update(message).sign(privateKeyPem, 'base64')
}

/** Expects `promise` to fail with `QueryFailed(reason)`; returns the error for further checks. */
export async function failure(promise: Promise<unknown>, reason: QueryFailureReason): Promise<QueryFailed> {
  const error: unknown = await promise.then(
    () => null,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(QueryFailed)
  expect((error as QueryFailed).reason).toBe(reason)
  return error as QueryFailed
}
