/// <reference types="vite/client" />
// Checks the order-query signing against published figures, read at test time from the shared
// reference folder (protocols.md §7): WeChat's official APIv3 request-signature example and the
// Alipay SDK's response-sign vector. Nothing is copied into the project; without the folder the
// suites are skipped.
import { describe, expect, it } from 'vitest'
import { spkiFromPublicKeyText } from '../../src/crypto/x509'
import { readAlipayResponse, verifyAlipayResponseSign } from '../../src/providers/alipay/response'
import { signV3Request, v3Authorization, v3RequestMessage } from '../../src/providers/wechatpay/v3-query'

interface V3RequestSignVector {
  private_key_pem: string
  method: string
  url: string
  timestamp: string
  nonce: string
  body: string
  expected_signature: string
}

interface AlipayResponseSignVector {
  public_key_pem: string
  raw_response: string
  signed_substring: string
}

const files = import.meta.glob<unknown>(
  [
    '../../../shared/reference/vectors/wechat_v3_request_sign_official.json',
    '../../../shared/reference/vectors/alipay_response_sign_published.json',
  ],
  { eager: true, import: 'default' },
)

function vectorFile<T>(suffix: string): T | undefined {
  const entry = Object.entries(files).find(([path]) => path.endsWith(suffix))
  return entry?.[1] as T | undefined
}

const v3RequestSign = vectorFile<V3RequestSignVector>('wechat_v3_request_sign_official.json')
const alipayResponseSign = vectorFile<AlipayResponseSignVector>('alipay_response_sign_published.json')

describe.skipIf(v3RequestSign === undefined)('WeChat Pay v3 request signature: the official example', () => {
  const vector = v3RequestSign!
  const request = () => ({
    method: vector.method,
    pathAndQuery: vector.url,
    timestamp: vector.timestamp,
    nonce: vector.nonce,
    body: vector.body,
  })

  it('reproduces the published signature from its method, URL, timestamp, nonce and body', async () => {
    expect(await signV3Request(request(), vector.private_key_pem)).toBe(vector.expected_signature)
  })

  it('builds the five-line message the signature covers, each line ending in \\n', () => {
    expect(v3RequestMessage(request())).toBe(`${vector.method}\n${vector.url}\n${vector.timestamp}\n${vector.nonce}\n${vector.body}\n`)
  })

  it('gives a different signature when any signed part changes', async () => {
    const changed = await signV3Request({ ...request(), body: `${vector.body} ` }, vector.private_key_pem)
    expect(changed).not.toBe(vector.expected_signature)
  })

  it('carries the signature in the Authorization header with mchid, nonce, timestamp and serial', () => {
    const header = v3Authorization('1900000109', '3775B6A45ACD588826D15E583A95F5DD23ED8C0E', request(), vector.expected_signature)
    expect(header).toBe(
      `WECHATPAY2-SHA256-RSA2048 mchid="1900000109",nonce_str="${vector.nonce}",signature="${vector.expected_signature}",` +
        `timestamp="${vector.timestamp}",serial_no="3775B6A45ACD588826D15E583A95F5DD23ED8C0E"`,
    )
  })
})

describe.skipIf(alipayResponseSign === undefined)('Alipay response sign: the SDK vector', () => {
  const vector = alipayResponseSign!
  const responseKey = 'alipay_open_file_upload_response'

  it('cuts out exactly the signed substring of the response', () => {
    const response = readAlipayResponse(vector.raw_response, responseKey)
    expect(response.content).toBe(vector.signed_substring)
    expect(response.sign).not.toBeNull()
  })

  it('verifies the published sign over it with the published key', async () => {
    const response = readAlipayResponse(vector.raw_response, responseKey)
    const spki = spkiFromPublicKeyText(vector.public_key_pem)
    expect(await verifyAlipayResponseSign(response.content, response.sign!, spki, 'RSA2')).toBe(true)
  })

  it('refuses the same sign once one byte of the response changes', async () => {
    const tampered = vector.raw_response.replace('"code":"10000"', '"code":"10001"')
    expect(tampered).not.toBe(vector.raw_response)
    const response = readAlipayResponse(tampered, responseKey)
    const spki = spkiFromPublicKeyText(vector.public_key_pem)
    expect(await verifyAlipayResponseSign(response.content, response.sign!, spki, 'RSA2')).toBe(false)
  })
})
