/** @module Runs the admin CLI (`npm run admin -- …`) against a gateway, for the node tests: its exit code, stdout and stderr. */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const CLI = fileURLToPath(new URL('../../cli/admin.ts', import.meta.url))

export interface CliRun {
  code: number
  stdout: string
  stderr: string
}

/** `env` is added to the gateway's PAYGATE_URL and PAYGATE_ADMIN_TOKEN (INIT_CWD, as `npm run` sets it, say). */
export function runCli(gateway: { url: string; token: string }, ...args: string[]): Promise<CliRun> {
  return runCliWith({}, gateway, ...args)
}

export function runCliWith(env: Record<string, string>, gateway: { url: string; token: string }, ...args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, PAYGATE_URL: gateway.url, PAYGATE_ADMIN_TOKEN: gateway.token, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')))
    child.once('exit', (code) => resolve({ code: code ?? 1, stdout, stderr }))
  })
}
