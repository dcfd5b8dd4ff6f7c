/**
 * @module Runs the admin CLI (`npm run admin -- …`) against a gateway, for the node tests: its exit code, stdout and
 * stderr; and a stand-in gateway to run it against.
 */
import { spawn } from 'node:child_process'
import { createServer } from 'node:http'
import { fileURLToPath } from 'node:url'
import { freePort } from './wrangler-dev'

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

/** A request as a stand-in gateway received it. */
export interface StandInRequest {
  method: string
  /** The path and query, as sent. */
  url: string
  authorization: string | undefined
  /** The JSON body, parsed; null without one. */
  body: unknown
}

/** What a stand-in answers: a JSON value (status 200 unless given), or any text with its content type. */
export type StandInReply = { status?: number; json: unknown } | { status?: number; contentType: string; text: string }

const NOT_FOUND: StandInReply = { status: 404, json: { error: { code: 'not_found', message: 'no' } } }

/**
 * A stand-in for the gateway's admin API on loopback, for the CLI's tests: `answer` gives each request's reply (null:
 * the API's 404). What the gateway itself answers is tested against the real Worker; here only the CLI's side.
 */
export async function standInGateway(
  answer: (request: StandInRequest) => StandInReply | null,
): Promise<{ url: string; close: () => Promise<void> }> {
  const port = await freePort()
  const server = createServer((request, response) => {
    let text = ''
    request.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')))
    request.on('end', () => {
      const reply =
        answer({
          method: request.method ?? '',
          url: request.url ?? '',
          authorization: request.headers.authorization,
          body: text === '' ? null : JSON.parse(text),
        }) ?? NOT_FOUND
      if ('json' in reply) response.writeHead(reply.status ?? 200, { 'content-type': 'application/json' }).end(JSON.stringify(reply.json))
      else response.writeHead(reply.status ?? 200, { 'content-type': reply.contentType }).end(reply.text)
    })
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) }
}
