/** The local gateway's port: PORT of `.dev.vars`, which `npm run dev`, simulate and the admin CLI all read. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { DevVarsError, gatewayPort, gatewayUrl, listenPort, listenUrl, standinPort, standinUrl } from '../../scripts/lib/dev-vars.mjs'

describe('gatewayPort', () => {
  const dir = mkdtempSync(join(tmpdir(), 'paygate-gateway-port-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  /** A .dev.vars holding `text`, in a fresh file. */
  function devVars(name: string, text: string): string {
    const file = join(dir, name)
    writeFileSync(file, text)
    return file
  }

  it('is 8787 without a .dev.vars, without PORT, or with PORT empty', () => {
    expect(gatewayPort(join(dir, 'missing'))).toBe(8787)
    expect(gatewayPort(devVars('no-port', 'ADMIN_TOKEN=t\n# PORT=9000\n'))).toBe(8787)
    expect(gatewayPort(devVars('empty-port', 'PORT=\n'))).toBe(8787)
  })

  it('is the PORT of .dev.vars when set, and the gateway URL follows it', () => {
    const file = devVars('port', 'ADMIN_TOKEN=t\nPORT=9123\n')
    expect(gatewayPort(file)).toBe(9123)
    expect(gatewayUrl(gatewayPort(file))).toBe('http://localhost:9123')
    expect(gatewayPort(devVars('quoted', 'PORT="1"\n'))).toBe(1)
    expect(gatewayPort(devVars('highest', 'PORT=65535\n'))).toBe(65535)
  })

  it.each(['0', '65536', '80.5', '-1', 'http', '8787x'])('rejects PORT=%s, naming .dev.vars and PORT', (value) => {
    const file = devVars(`bad-${value}`, `PORT=${value}\n`)
    expect(() => gatewayPort(file)).toThrow(DevVarsError)
    expect(() => gatewayPort(file)).toThrow(`.dev.vars: PORT=${value} is not a port number (an integer from 1 to 65535)`)
  })

  it('has a neighbour: the provider stand-in on STANDIN_PORT of .dev.vars, else 8790, checked the same way', () => {
    expect(standinPort(join(dir, 'missing'))).toBe(8790)
    const file = devVars('standin', 'PORT=9123\nSTANDIN_PORT=9124\n')
    expect([gatewayPort(file), standinPort(file)]).toEqual([9123, 9124])
    expect(standinUrl(standinPort(file))).toBe('http://127.0.0.1:9124')
    expect(() => standinPort(devVars('bad-standin', 'STANDIN_PORT=99999\n'))).toThrow(
      '.dev.vars: STANDIN_PORT=99999 is not a port number (an integer from 1 to 65535)',
    )
  })

  it("and another: npm run listen on LISTEN_PORT of .dev.vars, else 4242, in the demo merchants' forward URL", () => {
    expect(listenPort(join(dir, 'missing'))).toBe(4242)
    const file = devVars('listen', 'PORT=9123\nSTANDIN_PORT=9124\nLISTEN_PORT=9125\n')
    expect([gatewayPort(file), standinPort(file), listenPort(file)]).toEqual([9123, 9124, 9125])
    expect(listenUrl(listenPort(file))).toBe('http://localhost:9125/webhooks')
    expect(() => listenPort(devVars('bad-listen', 'LISTEN_PORT=http\n'))).toThrow(
      '.dev.vars: LISTEN_PORT=http is not a port number (an integer from 1 to 65535)',
    )
  })
})
