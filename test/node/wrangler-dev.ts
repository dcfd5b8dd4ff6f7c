/**
 * @module A real `wrangler dev` for the node tests (the admin CLI's, the dashboard's): loopback only, on free ports,
 * with its own temporary state directory (D1 migrated first), offline (no metrics, no `request.cf` download), and an
 * admin token and master key of its own. Its output is kept, so the test can check it for leaks like every other log line.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const WRANGLER = join(ROOT, 'node_modules/wrangler/bin/wrangler.js')
const START_TIMEOUT_MS = 150_000

const OFFLINE = { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_HIDE_BANNER: 'true' }

/** A gateway's throwaway secrets for one test file: the admin token (prefixed, to tell files apart), a master key, a forward secret. */
export function throwawaySecrets(prefix: string): { adminToken: string; masterKey: string; forwardSecret: string } {
  return {
    adminToken: `${prefix}-${randomBytes(12).toString('hex')}`,
    masterKey: randomBytes(32).toString('base64'),
    forwardSecret: `whsec_${randomBytes(32).toString('base64')}`,
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/** Runs a check until it passes (or the time is up): the admin API's lists follow the order objects a little behind. */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      return await check()
    } catch (error) {
      if (Date.now() > deadline) throw error
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
  }
}

export interface WranglerDev {
  url: string
  adminToken: string
  /** Everything wrangler and the Worker printed so far, line by line. */
  output: string[]
  stop(): Promise<void>
}

/** A request to the admin API of a gateway started here, with its admin token (and a JSON body, if any). */
export function adminFetch(gateway: WranglerDev, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${gateway.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${gateway.adminToken}`, 'content-type': 'application/json', ...init.headers },
  })
}

export async function startWranglerDev(vars: Record<string, string>): Promise<WranglerDev> {
  const state = mkdtempSync(join(tmpdir(), 'paygate-cli-test-'))
  const migrate = spawnSync(process.execPath, [WRANGLER, 'd1', 'migrations', 'apply', 'DB', '--local', '--persist-to', state], {
    cwd: ROOT,
    env: OFFLINE,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  if (migrate.status !== 0) throw new Error(`migrations failed: ${migrate.stdout}${migrate.stderr}`)
  const [port, inspectorPort] = [await freePort(), await freePort()]
  const args = [WRANGLER, 'dev', '--local', '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(inspectorPort)]
  args.push('--persist-to', state, '--show-interactive-dev-session=false')
  for (const [name, value] of Object.entries(vars)) args.push('--var', `${name}:${value}`)
  const child: ChildProcess = spawn(process.execPath, args, { cwd: ROOT, env: OFFLINE, stdio: ['ignore', 'pipe', 'pipe'] })
  const output: string[] = []
  const keep = (chunk: Buffer) =>
    output.push(
      ...chunk
        .toString('utf8')
        .split('\n')
        .filter((line) => line.trim() !== ''),
    )
  child.stdout!.on('data', keep)
  child.stderr!.on('data', keep)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const url = `http://127.0.0.1:${port}`
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    await exited
    rmSync(state, { recursive: true, force: true })
  }
  const deadline = Date.now() + START_TIMEOUT_MS
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited: ${output.join('\n')}`)
    try {
      await fetch(`${url}/`, { signal: AbortSignal.timeout(2_000) })
      return { url, adminToken: vars.ADMIN_TOKEN!, output, stop }
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
  }
  await stop()
  throw new Error(`wrangler dev did not answer within ${START_TIMEOUT_MS / 1000} s: ${output.join('\n')}`)
}
