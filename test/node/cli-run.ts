/** @module Runs the admin CLI (`npm run admin -- …`) against a gateway, for the node tests: its exit code and stdout. */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const CLI = fileURLToPath(new URL('../../cli/admin.ts', import.meta.url))

export function runCli(gateway: { url: string; token: string }, ...args: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, PAYGATE_URL: gateway.url, PAYGATE_ADMIN_TOKEN: gateway.token },
      stdio: ['ignore', 'pipe', 'ignore'],
    })
    let stdout = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')))
    child.once('exit', (code) => resolve({ code: code ?? 1, stdout }))
  })
}
