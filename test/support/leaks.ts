/**
 * @module What must never appear in a log line (contract, "Logs"): the secrets and keys the tests hand the gateway,
 * full signatures, and decrypted provider resources. Known values from the fixtures, plus the shapes of what the
 * tests generate on the fly (webhook secrets, private keys, webhook and RSA signatures). Pure: used in workerd
 * (test/setup.ts, over every test file's console) and in Node (the CLI test, over `wrangler dev`'s output).
 */
import keys from '../fixtures/keys.json'
import alipayFixtures from '../fixtures/alipay.json'
import v2Fixtures from '../fixtures/wechatpay-v2.json'
import v3Fixtures from '../fixtures/wechatpay-v3.json'

interface Fixture {
  body?: string
  headers?: Record<string, string>
  resource?: unknown
}

/** The lines of a PEM private key's base64 body: any one of them in a log means the key leaked. */
function privateKeyLines(pem: string): string[] {
  return (
    pem
      .split('\n')
      .filter((line) => line.length >= 40 && !line.startsWith('-----'))
      // The first line of every PKCS#8 RSA key starts alike; from the second on, each is the key's own.
      .slice(1)
  )
}

function collectPrivateKeys(node: unknown, found: string[]): string[] {
  if (typeof node === 'object' && node !== null) {
    for (const [name, value] of Object.entries(node)) {
      if (name === 'privateKeyPem' && typeof value === 'string') found.push(...privateKeyLines(value))
      else collectPrivateKeys(value, found)
    }
  }
  return found
}

function fixtureSignatures(): string[] {
  const signatures: string[] = []
  const cases = [alipayFixtures.cases, v2Fixtures.cases, v3Fixtures.cases].flatMap((set) => Object.values(set) as Fixture[])
  for (const fixture of cases) {
    const v3 = fixture.headers?.['Wechatpay-Signature']
    if (v3 !== undefined) signatures.push(v3)
    const alipay = new URLSearchParams(fixture.body ?? '').get('sign')
    if (alipay !== null && alipay.length > 20) signatures.push(alipay)
    const v2 = /<sign><!\[CDATA\[([^\]]+)\]\]><\/sign>|<sign>([^<]+)<\/sign>/.exec(fixture.body ?? '')
    const v2Sign = v2?.[1] ?? v2?.[2]
    if (v2Sign !== undefined && v2Sign.length >= 32) signatures.push(v2Sign)
  }
  return signatures
}

/** Decrypted v3 resources as the fixtures hold them, and the buyer ids inside them. */
function decryptedResources(): string[] {
  const found: string[] = []
  for (const fixture of Object.values(v3Fixtures.cases) as Fixture[]) {
    if (fixture.resource === undefined) continue
    found.push(JSON.stringify(fixture.resource))
    const openid = (fixture.resource as { payer?: { openid?: string } }).payer?.openid
    if (openid !== undefined) found.push(openid)
  }
  return found
}

/** Every known secret, by a name that says what leaked (never the value itself). */
export function knownSecrets(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const values: Record<string, string> = {
    'wechatpay.apiV2Key': keys.wechatpay.apiV2Key,
    'wechatpay.apiV3Key': keys.wechatpay.apiV3Key,
    'fixtures.otherApiV2Key': v2Fixtures.otherApiV2Key,
    'fixtures.otherApiV3Key': v3Fixtures.otherApiV3Key,
  }
  collectPrivateKeys(keys, []).forEach((line, i) => {
    values[`private key line ${i}`] = line
  })
  fixtureSignatures().forEach((signature, i) => {
    values[`fixture signature ${i}`] = signature
  })
  decryptedResources().forEach((resource, i) => {
    values[`decrypted resource ${i}`] = resource
  })
  for (const [name, value] of Object.entries(extra)) if (value !== undefined && value !== '') values[name] = value
  return values
}

/** Shapes that are secrets whatever their value. */
const SECRET_SHAPES: [string, RegExp][] = [
  ['a webhook secret (whsec_…)', /whsec_[A-Za-z0-9+/]{20,}/],
  ['a PEM private key', /-----BEGIN (?:RSA |EC )?PRIVATE KEY-----/],
  ['a webhook signature (v1,…)', /\bv1,[A-Za-z0-9+/]{43}=/],
  ['an RSA signature or key (a long base64 run)', /[A-Za-z0-9+/]{300,}={0,2}/],
]

/** Where a leak was, without quoting the line: its structured log event when it has one, else its position. */
function describe(line: string, index: number): string {
  try {
    const event = (JSON.parse(line) as { event?: unknown }).event
    if (typeof event === 'string') return `log line ${index} (event ${event})`
  } catch {
    // not a structured line
  }
  return `log line ${index}`
}

/** What leaked in `lines`: one description per leak, naming the secret and the line, never quoting either. */
export function findLeaks(lines: readonly string[], secrets: Record<string, string>): string[] {
  const leaks: string[] = []
  lines.forEach((line, index) => {
    for (const [name, value] of Object.entries(secrets)) {
      if (value.length >= 8 && line.includes(value)) leaks.push(`${name} in ${describe(line, index)}`)
    }
    for (const [name, shape] of SECRET_SHAPES) if (shape.test(line)) leaks.push(`${name} in ${describe(line, index)}`)
  })
  return leaks
}
