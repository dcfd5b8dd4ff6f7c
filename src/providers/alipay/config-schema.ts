/** @module The wire shape of a merchant's `alipay` section: checked before `config.ts` parses it, and its OpenAPI schema. */
import * as z from 'zod'
import { strictObject } from '../../lib/validation'

export const alipaySchema = strictObject({
  appId: z.string().meta({ description: 'The Alipay app id.', examples: ['2021000000000001'] }),
  sellerId: z.string().meta({ description: 'The seller (partner) id, 2088…', examples: ['2088000000000001'] }),
  alipayPublicKey: z.string().meta({ description: "Alipay's public key: PEM or bare base64 SPKI." }),
  signType: z.enum(['RSA2', 'RSA'], { error: 'must be "RSA2" or "RSA"' }).optional().meta({ description: 'Default RSA2.' }),
  appPrivateKey: z.string().optional().meta({
    description: 'The app private key (PEM): signs OpenAPI requests such as alipay.trade.query. A secret: sealed, never returned.',
  }),
  gatewayUrl: z.string().optional().meta({ description: 'Another OpenAPI gateway endpoint (the sandbox, or a local stand-in).' }),
}).meta({ description: 'Alipay.' })
