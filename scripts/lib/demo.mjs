// The local demo merchant shared by `npm run dev`, `listen` and `simulate`: where its throwaway keys
// live (.demo/, gitignored), the admin body that configures it, and the local addresses (the gateway's is
// gatewayUrl(), from PORT of .dev.vars: see dev-vars.mjs).
import { randomBytes } from 'node:crypto'
import { appendFileSync, chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { makeKeys } from '../../test/fixtures/signers/keys.mjs'
import { DEV_VARS_FILE, parseDevVars, readDevVarsIfPresent } from './dev-vars.mjs'

export {
  DEV_VARS_FILE,
  DevVarsError,
  gatewayPort,
  gatewayUrl,
  LISTEN_PATH,
  listenPort,
  listenUrl,
  standinPort,
  standinUrl,
} from './dev-vars.mjs'

export const ROOT = fileURLToPath(new URL('../../', import.meta.url))
export const DEMO_DIR = new URL('../../.demo/', import.meta.url)
export const KEYS_FILE = new URL('keys.json', DEMO_DIR)
export const FORWARD_SECRET_FILE = new URL('forward-secret', DEMO_DIR)
export const SIMULATOR_STATE_FILE = new URL('simulator-state.json', DEMO_DIR)
export const DEV_VARS_EXAMPLE_FILE = new URL('../../.dev.vars.example', import.meta.url)

export const DEMO_MERCHANT_ID = 'demo'
/** The demo service provider's sub-merchant (服务商 partner mode): its own paygate merchant, on the demo's WeChat keys. */
export const DEMO_SUB_MERCHANT_ID = 'demo-sub'
export const DEMO_PARTNER = { subMchid: '1900000999', subAppid: 'wx9999999999999999' }
/** Where on the stand-in Alipay's OpenAPI gateway is: the demo merchant's `alipay.gatewayUrl`. */
export const ALIPAY_GATEWAY_PATH = '/gateway.do'

/** `.demo/` relative to the project, for messages. */
export const DEMO_DIR_NAME = '.demo/'

/** Thrown when a file the demo needs is missing: tells the user which command makes it. */
export class DemoSetupError extends Error {
  name = 'DemoSetupError'
}

/**
 * Creates `.dev.vars` from the committed example when missing. In one made from an older example, adds the keys the
 * example now sets, empty (off): wrangler dev warns about each listed secret it does not find. Returns what it did.
 */
export function ensureDevVars() {
  if (!existsSync(DEV_VARS_FILE)) {
    copyFileSync(DEV_VARS_EXAMPLE_FILE, DEV_VARS_FILE)
    return { created: true, added: [] }
  }
  const present = readDevVars()
  const added = Object.keys(parseDevVars(readFileSync(DEV_VARS_EXAMPLE_FILE, 'utf8'))).filter((key) => !Object.hasOwn(present, key))
  if (added.length > 0) {
    appendFileSync(
      DEV_VARS_FILE,
      `\n# Added by npm run dev, empty (off): see .dev.vars.example.\n${added.map((key) => `${key}=\n`).join('')}`,
    )
  }
  return { created: false, added }
}

/** `KEY=value` lines of `.dev.vars` (comments and blank lines skipped). */
export function readDevVars() {
  if (!existsSync(DEV_VARS_FILE)) throw new DemoSetupError('.dev.vars is missing: run `npm run dev` first')
  return readDevVarsIfPresent()
}

/**
 * Generates the demo merchant's throwaway keys and forward secret into `.demo/` on first run; later runs
 * reuse them. Returns `{ keys, forwardSecret, created: string[] }`.
 */
export function ensureDemoFiles() {
  mkdirSync(DEMO_DIR, { recursive: true, mode: 0o700 })
  const created = []
  if (!existsSync(KEYS_FILE)) {
    writePrivate(
      KEYS_FILE,
      `${JSON.stringify({ ...makeKeys(), note: 'Throwaway sandbox keys for the local demo merchant. Never real ones.' }, null, 2)}\n`,
    )
    created.push('keys.json')
  }
  if (!existsSync(FORWARD_SECRET_FILE)) {
    writePrivate(FORWARD_SECRET_FILE, `whsec_${randomBytes(32).toString('base64')}\n`)
    created.push('forward-secret')
  }
  return { ...loadDemo(), created }
}

/** The demo keys and forward secret; throws `DemoSetupError` when `npm run dev` has not made them yet. */
export function loadDemo() {
  if (!existsSync(KEYS_FILE) || !existsSync(FORWARD_SECRET_FILE)) {
    throw new DemoSetupError(`the demo merchant's keys are not in ${DEMO_DIR_NAME} yet: run \`npm run dev\` first`)
  }
  return {
    keys: JSON.parse(readFileSync(KEYS_FILE, 'utf8')),
    forwardSecret: readFileSync(FORWARD_SECRET_FILE, 'utf8').trim(),
  }
}

/**
 * The demo merchant's apps, by provider: an official account (the keys' appid), a mini program and an app on one
 * WeChat Pay mchid; two Alipay apps of one seller. `npm run simulate -- … --appid <n>` picks the n-th.
 */
export function demoApps(keys) {
  return {
    wechatpay: [keys.wechatpay.appid, 'wx8888888888888802', 'wx8888888888888803'],
    alipay: [keys.alipay.appId, '2021000000000002'],
  }
}

/**
 * The `PUT /admin/merchants/{id}` body for a merchant holding `keys` (makeKeys() shape): WeChat Pay v2 and
 * v3 (both platform certificates and the PUB_KEY_ID key side by side, as during WeChat's migration) and Alipay.
 * With `providerApi` (the stand-in's origin, `standinUrl()`) it also holds what order queries need: the keys
 * that sign requests (merchant API key, Alipay app key) and the stand-in as both providers' API.
 */
export function demoMerchantBody(keys, forward, { providerApi } = {}) {
  const wx = keys.wechatpay
  const queries = providerApi !== undefined
  return {
    forward: { url: forward.url, secret: forward.secret },
    wechatpay: {
      appid: demoApps(keys).wechatpay,
      mchid: wx.mchid,
      apiV2Key: wx.apiV2Key,
      v2SignType: ['MD5', 'HMAC-SHA256'],
      apiV3Key: wx.apiV3Key,
      platformPublicKeys: {
        [wx.platformCertA.serial]: wx.platformCertA.certificatePem,
        [wx.platformCertB.serial]: wx.platformCertB.certificatePem,
        [wx.publicKeyMode.id]: wx.publicKeyMode.publicKeyPem,
      },
      ...(queries
        ? { merchantPrivateKey: wx.merchantApi.privateKeyPem, merchantSerial: wx.merchantApi.serial, apiBaseUrl: providerApi }
        : {}),
    },
    alipay: {
      appId: demoApps(keys).alipay,
      sellerId: keys.alipay.sellerId,
      alipayPublicKey: keys.alipay.alipayKey.publicKeyPem,
      signType: 'RSA2',
      ...(queries ? { appPrivateKey: keys.alipay.appKey.privateKeyPem, gatewayUrl: `${providerApi}${ALIPAY_GATEWAY_PATH}` } : {}),
    },
  }
}

/**
 * The body of the demo's sub-merchant: partner mode on the demo's WeChat Pay account (its mchid, apps and keys are
 * the service provider's). With `providerApi` it downloads the platform certificates from the stand-in
 * (`autoPlatformCertificates`) and configures only the WeChat Pay public key; without, it lists all three keys.
 */
export function demoSubMerchantBody(keys, forward, { providerApi } = {}) {
  const wx = keys.wechatpay
  const publicKey = { [wx.publicKeyMode.id]: wx.publicKeyMode.publicKeyPem }
  return {
    forward: { url: forward.url, secret: forward.secret },
    wechatpay: {
      appid: demoApps(keys).wechatpay,
      mchid: wx.mchid,
      subMchid: DEMO_PARTNER.subMchid,
      subAppid: DEMO_PARTNER.subAppid,
      apiV2Key: wx.apiV2Key,
      v2SignType: ['MD5', 'HMAC-SHA256'],
      apiV3Key: wx.apiV3Key,
      ...(providerApi === undefined
        ? {
            platformPublicKeys: {
              [wx.platformCertA.serial]: wx.platformCertA.certificatePem,
              [wx.platformCertB.serial]: wx.platformCertB.certificatePem,
              ...publicKey,
            },
          }
        : {
            platformPublicKeys: publicKey,
            merchantPrivateKey: wx.merchantApi.privateKeyPem,
            merchantSerial: wx.merchantApi.serial,
            apiBaseUrl: providerApi,
            autoPlatformCertificates: true,
          }),
    },
  }
}

/**
 * What the simulator remembers between runs, and the provider stand-in reads as "the orders the providers know
 * were paid": `orders` paid with a notification (so `refund` knows what to refund), `paidWithoutNotify` paid with
 * `--no-notify`, both keyed `${provider}:${outTradeNo}` (an order of the sub-merchant records its `subMchid`, a
 * combined payment's sub-order its `combineOutTradeNo`: ./simulator-orders.mjs); `last[provider]` the last notified
 * order (`last['wechatpay@demo-sub']` the sub-merchant's), `lastWithoutNotify` the key of the last `--no-notify` one
 * (what `sync` asks about by default).
 */
export function readSimulatorState(file = SIMULATOR_STATE_FILE) {
  const empty = { orders: {}, last: {}, paidWithoutNotify: {}, lastWithoutNotify: null }
  if (!existsSync(file)) return empty
  try {
    const state = JSON.parse(readFileSync(file, 'utf8'))
    return {
      orders: state.orders ?? {},
      last: state.last ?? {},
      paidWithoutNotify: state.paidWithoutNotify ?? {},
      lastWithoutNotify: state.lastWithoutNotify ?? null,
    }
  } catch {
    return empty
  }
}

export function writeSimulatorState(state) {
  mkdirSync(DEMO_DIR, { recursive: true, mode: 0o700 })
  // Keep the file small: the 50 most recent orders of each kind are plenty for a demo.
  const recent = (orders) =>
    Object.fromEntries(
      Object.entries(orders ?? {})
        .sort(([, a], [, b]) => b.updatedAt - a.updatedAt)
        .slice(0, 50),
    )
  const kept = {
    orders: recent(state.orders),
    last: state.last,
    paidWithoutNotify: recent(state.paidWithoutNotify),
    lastWithoutNotify: state.lastWithoutNotify ?? null,
  }
  writePrivate(SIMULATOR_STATE_FILE, `${JSON.stringify(kept, null, 2)}\n`)
}

/** Writes atomically with owner-only permissions: these files hold private keys and secrets. */
function writePrivate(url, text) {
  const temporary = new URL(`${url.pathname.split('/').pop()}.tmp-${process.pid}`, url)
  writeFileSync(temporary, text, { mode: 0o600 })
  chmodSync(temporary, 0o600)
  renameSync(temporary, url)
}
