/** @module The wire shape of a merchant's `wechatpay` section: checked before `config.ts` parses it, and its OpenAPI schema. */
import * as z from 'zod'
import { strictObject } from '../../lib/validation'

const SIGN_TYPE_PROBLEM = 'must be "MD5", "HMAC-SHA256" or a list of them'
const signType = z.enum(['MD5', 'HMAC-SHA256'], { error: SIGN_TYPE_PROBLEM })
/** One id, or a list of them (one mchid serves an official account, a mini program and an app). */
const ids = (description: string, example: string) =>
  z
    .union([z.string(), z.array(z.string()).min(1, 'must not be an empty list')], { error: 'must be a string or a list of strings' })
    .meta({ description, examples: [example] })
const secret = (description: string) => z.string().meta({ description: `${description} A secret: sealed at rest, never returned.` })

export const wechatpaySchema = strictObject({
  appid: ids(
    'The appid of the merchant (official account, mini program, app), or a list of them; in partner mode the service provider’s.',
    'wx8888888888888888',
  ),
  mchid: z.string().meta({ description: 'The WeChat Pay merchant id; in partner mode the service provider’s.', examples: ['1900000109'] }),
  subMchid: z.string().optional().meta({ description: 'Partner mode (服务商): this merchant is this sub-merchant of mchid.' }),
  subAppid: ids('Partner mode: the sub-merchant’s own appid, or a list of them.', 'wx7777777777777777').optional(),
  apiV2Key: secret('APIv2 key (32 characters).').optional(),
  v2SignType: z
    .union([signType, z.array(signType).min(1, 'must not be an empty list')], { error: SIGN_TYPE_PROBLEM })
    .optional()
    .meta({ description: 'The APIv2 sign types allowed (default: both). Needs apiV2Key.' }),
  apiV3Key: secret('APIv3 key (32 characters): decrypts APIv3 resources.').optional(),
  platformPublicKeys: z
    .record(z.string(), z.string())
    .optional()
    .meta({
      description:
        'Platform verification keys by Wechatpay-Serial: certificate serials (hex) and PUB_KEY_ID_… ids side by side. ' +
        'Values are PEM public keys or certificates.',
    }),
  merchantPrivateKey: secret(
    'Merchant API private key (PEM): signs APIv3 requests such as order queries. Needs merchantSerial.',
  ).optional(),
  merchantSerial: z
    .string()
    .optional()
    .meta({ description: 'Serial (hex) of the merchant API certificate that goes with merchantPrivateKey.' }),
  apiBaseUrl: z.string().optional().meta({ description: 'Another origin for the WeChat Pay API (a sandbox or a local stand-in).' }),
  autoPlatformCertificates: z.boolean({ error: 'must be true or false' }).optional().meta({
    description: 'Download the platform certificates (GET /v3/certificates). Needs apiV3Key, merchantPrivateKey, merchantSerial.',
  }),
}).meta({ description: 'WeChat Pay (APIv2 and APIv3).' })

/** Fields GET shows beside the section's own: a PUT of GET's reply may carry them back, and they are ignored. */
export const wechatpayViewOnly = {
  platformKeys: z
    .array(
      z.object({
        serial: z.string(),
        source: z.enum(['configured', 'downloaded']),
        expires_at: z.string().nullable().meta({ description: 'When its certificate expires; null for a bare public key.' }),
      }),
    )
    .meta({ description: 'Every platform key the merchant verifies with: configured ones first, then downloaded.' }),
}
