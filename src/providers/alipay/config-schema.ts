/** @module The wire shape of a merchant's `alipay` section: checked before `config.ts` parses it, and its OpenAPI schema. */
import * as z from 'zod'
import { strictObject } from '../../lib/validation'

/** One id, or a list of them. */
const ids = (description: string, example: string) =>
  z
    .union([z.string(), z.array(z.string()).min(1, 'must not be an empty list')], { error: 'must be a string or a list of strings' })
    .meta({ description, examples: [example] })

export const alipaySchema = strictObject({
  appId: ids('The Alipay app id, or a list of the apps of one seller.', '2021000000000001'),
  sellerId: ids('The seller (partner) id, 2088…, or a list; absent: not checked.', '2088000000000001').optional(),
  alipayPublicKey: z
    .union([z.string(), z.array(z.string()).min(1, 'must not be an empty list')], { error: 'must be a string or a list of strings' })
    .optional()
    .meta({
      description:
        "Alipay's public key: PEM or bare base64 SPKI (public-key mode), or a list of keys while Alipay's key changes " +
        '(at most 5, none twice): each one verifies. Returned as PEM.',
    }),
  alipayPublicCert: z
    .string()
    .optional()
    .meta({
      description:
        "Alipay's public-key certificate (PEM): certificate mode, in place of alipayPublicKey. While Alipay renews it, " +
        'the current and the new certificate one after the other (at most 5, none twice, no root certificate): each one ' +
        'verifies a notification; an answer, the one its alipay_cert_sn names.',
    }),
  alipayRootCert: z.string().optional().meta({ description: "Alipay's root certificate file (PEM): certificate-mode queries." }),
  appCert: z.string().optional().meta({ description: "The app's public-key certificate (PEM): certificate-mode queries." }),
  authAppId: ids('Third-party (ISV) app: the merchant apps that authorized it (auth_app_id).', '2021000000000002').optional(),
  appAuthToken: z.string().optional().meta({
    description: 'Third-party (ISV) app: the app_auth_token sent with queries. Needs authAppId. A secret: sealed, never returned.',
  }),
  signType: z.enum(['RSA2', 'RSA'], { error: 'must be "RSA2" or "RSA"' }).optional().meta({ description: 'Default RSA2.' }),
  appPrivateKey: z.string().optional().meta({
    description: 'The app private key (PEM): signs OpenAPI requests such as alipay.trade.query. A secret: sealed, never returned.',
  }),
  gatewayUrl: z.string().optional().meta({ description: 'Another OpenAPI gateway endpoint (the sandbox, or a local stand-in).' }),
}).meta({ description: 'Alipay.' })

const certificateView = z.object({
  sn: z.string().nullable().meta({ description: "Alipay's serial number of the certificate (null where none is computed)." }),
  serial_number: z.string().meta({ description: 'The X.509 serial.' }),
  expires_at: z.string(),
})

/** Fields GET shows beside the section's own: a PUT of GET's reply may carry them back, and they are ignored. */
export const alipayViewOnly = {
  certificates: z
    .object({
      alipayPublicCert: certificateView,
      alipayPublicCerts: z.array(certificateView),
      appCert: certificateView.optional(),
      alipayRootCert: z.object({ sn: z.string(), certificates: z.array(certificateView) }).optional(),
    })
    .meta({ description: 'Certificate mode: each certificate’s serials and expiry.' }),
}
