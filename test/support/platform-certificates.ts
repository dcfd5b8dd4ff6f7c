/**
 * @module Downloaded WeChat Pay platform certificates as the e2e tests stand them in: a merchant with
 * `autoPlatformCertificates` at a test API base, WeChat's `GET /v3/certificates` (wechatpay-axios-plugin's fixture
 * bodies in test/fixtures/wechatpay-v3.json, re-signed with node:crypto at the current clock) and its v3 order query
 * (a paid transaction, signed live), and the merchant replica's schedule and rate limit moved by hand.
 */
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { http, HttpResponse } from 'msw'
import { expect } from 'vitest'
import fixtures from '../fixtures/wechatpay-v3.json'
import keys from '../fixtures/keys.json'
import { network } from '../msw'
import { merchantReplica } from '../../src/merchants/merchant-replica'
import { admin, FORWARD_SECRET } from './gateway'
import { ownIds, v3SignedHeaders, v3SuccessTransaction, type V3Signer } from '../security/signing'

const wx = keys.wechatpay
export const API = 'https://api.wechatpay.test'

/** Each merchant has a WeChat Pay identity of its own (`ownIds`), with the fixtures' keys. */
export function autoMerchant(id: string): Record<string, unknown> {
  return {
    forward: { url: `https://merchant.example/hooks/${id}`, secret: FORWARD_SECRET },
    wechatpay: {
      appid: ownIds(id).wechat.appid,
      mchid: ownIds(id).wechat.mchid,
      apiV3Key: wx.apiV3Key,
      merchantPrivateKey: wx.merchantApi.privateKeyPem,
      merchantSerial: wx.merchantApi.serial,
      apiBaseUrl: API,
      autoPlatformCertificates: true,
    },
  }
}

export async function putMerchant(id: string, body: Record<string, unknown>): Promise<void> {
  const response = await admin(`/admin/merchants/${id}`, { method: 'PUT', body: JSON.stringify(body) })
  expect(response.status).toBe(201)
}

export type CertificatesAnswer = keyof typeof fixtures.certificates | 'unavailable' | 'onlyC'

/** The `rotated` answer without certificate A: WeChat no longer lists it (the fixture's own encrypted entry for C). */
function onlyCertificateC(): string {
  const rotated = JSON.parse(fixtures.certificates.rotated.body) as { data: { serial_no: string }[] }
  return JSON.stringify({ data: rotated.data.filter((entry) => entry.serial_no === wx.platformCertC.serial) })
}

/** WeChat's side of `GET /v3/certificates`: a fixture body signed now (or a 500), counting the requests. */
export function certificatesEndpoint(initial: CertificatesAnswer, signer: V3Signer = 'platformCertC') {
  const state = { answer: initial, signer, requests: 0 }
  network.use(
    http.get(`${API}/v3/certificates`, () => {
      state.requests += 1
      if (state.answer === 'unavailable') return HttpResponse.json({ code: 'SYSTEM_ERROR', message: '系统繁忙' }, { status: 500 })
      const body = state.answer === 'onlyC' ? onlyCertificateC() : fixtures.certificates[state.answer].body
      // badSignature: a stranger's key under certificate C's serial.
      const headers = v3SignedHeaders(body, state.answer === 'badSignature' ? 'stranger' : state.signer)
      if (state.answer === 'badSignature') headers['Wechatpay-Serial'] = wx.platformCertC.serial
      return new HttpResponse(body, { headers: { 'content-type': 'application/json', ...headers } })
    }),
  )
  return state
}

/**
 * WeChat's side of the v3 order query (`GET /v3/pay/transactions/out-trade-no/{no}`) for merchant `id`: every order
 * in `paid` is a SUCCESS transaction of its amount, signed now with `signer`'s key under its serial (any other order
 * is 404 ORDER_NOT_EXIST, signed the same way). `asked` lists the orders asked about.
 */
export function v3OrderQueryAnswers(id: string, paid: Readonly<Record<string, number>>, signer: V3Signer) {
  const state = { signer, asked: [] as string[] }
  network.use(
    http.get(`${API}/v3/pay/transactions/out-trade-no/:outTradeNo`, ({ params }) => {
      const outTradeNo = decodeURIComponent(String(params.outTradeNo))
      state.asked.push(outTradeNo)
      const amount = paid[outTradeNo]
      const body = JSON.stringify(
        amount === undefined
          ? { code: 'ORDER_NOT_EXIST', message: '订单不存在' }
          : v3SuccessTransaction(
              { appid: ownIds(id).wechat.appid, mchid: ownIds(id).wechat.mchid },
              outTradeNo,
              amount,
              `4200${outTradeNo.replace(/\D/g, '').slice(-20)}`,
            ),
      )
      const headers = { 'content-type': 'application/json', ...v3SignedHeaders(body, state.signer) }
      return new HttpResponse(body, { status: amount === undefined ? 404 : 200, headers })
    }),
  )
  return state
}

export interface PlatformKeyView {
  serial: string
  source: string
  expires_at: string | null
}

export async function platformKeys(id: string): Promise<PlatformKeyView[]> {
  const response = await admin(`/admin/merchants/${id}`)
  return ((await response.json()) as { wechatpay: { platformKeys: PlatformKeyView[] } }).wechatpay.platformKeys
}

/** Runs the replica's scheduled download now (the alarm set when the merchant was saved, if still pending). */
export async function scheduledDownload(id: string): Promise<void> {
  await runDurableObjectAlarm(merchantReplica(env, id))
}

/** "A minute later": the replica's record of the last download attempt moved back by `ms`. */
export async function minutesPass(id: string, ms: number): Promise<void> {
  await runInDurableObject(merchantReplica(env, id), (_replica, state) => {
    state.storage.sql.exec('UPDATE key_downloads SET attempted_at = attempted_at - ?', ms)
  })
}
