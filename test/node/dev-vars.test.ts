/**
 * `.dev.vars` as `wrangler dev` reads it. Since wrangler.toml declares `[secrets] required`, wrangler dev loads only
 * the listed keys (and `[vars]`) from `.dev.vars`, and drops the rest without a word: a key .dev.vars.example offers
 * but wrangler.toml does not list would be set by a developer and never reach the Worker. Checked with wrangler's own
 * loader (`unstable_getVarsForDev`) on the real wrangler.toml.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { unstable_getVarsForDev, unstable_readConfig } from 'wrangler'
import { afterAll, describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const CONFIG = join(ROOT, 'wrangler.toml')
/**
 * Keys of .dev.vars that only the dev scripts read (PORT: the port `npm run dev` gives `wrangler dev --port`;
 * STANDIN_PORT: the provider stand-in's; LISTEN_PORT: `npm run listen`'s), not Worker secrets: wrangler.toml does not list them, so wrangler dev drops
 * them, as it should.
 */
const DEV_SCRIPT_SETTINGS = ['PORT', 'STANDIN_PORT', 'LISTEN_PORT']

/** Every key .dev.vars.example offers, set or commented out (`# KEY=`). */
function exampleKeys(): string[] {
  const text = readFileSync(join(ROOT, '.dev.vars.example'), 'utf8')
  return [...text.matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((match) => match[1]!)
}

describe('.dev.vars', () => {
  const dir = mkdtempSync(join(tmpdir(), 'paygate-dev-vars-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it("reaches the Worker under wrangler dev for every key .dev.vars.example offers but the dev scripts' own", () => {
    expect(exampleKeys()).toEqual(expect.arrayContaining(DEV_SCRIPT_SETTINGS))
    const keys = exampleKeys().filter((key) => !DEV_SCRIPT_SETTINGS.includes(key))
    expect(keys).toEqual(expect.arrayContaining(['ADMIN_TOKEN', 'MASTER_KEY', 'OPS_WEBHOOK_URL', 'OPS_WEBHOOK_SECRET']))
    const devVars = join(dir, '.dev.vars')
    writeFileSync(devVars, keys.map((key) => `${key}=value-of-${key}`).join('\n'))
    const config = unstable_readConfig({ config: CONFIG })
    const bindings = unstable_getVarsForDev(CONFIG, [devVars], config.vars, undefined, true, config.secrets) as Record<
      string,
      { value: unknown }
    >
    expect(Object.fromEntries(keys.map((key) => [key, bindings[key]?.value]))).toEqual(
      Object.fromEntries(keys.map((key) => [key, `value-of-${key}`])),
    )
  })
})
