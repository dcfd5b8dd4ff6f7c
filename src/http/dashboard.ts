/**
 * @module `GET /dashboard`: the operators' console, served by the Worker itself from the bundle committed in
 * `dashboard-bundle.ts` (built from `dashboard/` by `npm run build:dashboard`). The page holds no data: it signs in
 * with the admin token and reads everything through the admin API. Every reply carries a Content-Security-Policy that
 * allows this origin's script and style only, so nothing is loaded from elsewhere and no injected script runs.
 */
import { DASHBOARD_FILES } from './dashboard-bundle'

/** `connect-src 'self'`: the admin API on this origin; `frame-ancestors 'none'`: no other site may frame the console. */
const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

const SECURITY_HEADERS = {
  'content-security-policy': DASHBOARD_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  // Checked on every load (cheap: an ETag match is a 304), so a deploy is seen at once.
  'cache-control': 'no-cache',
}

/** The console's files by path; `/dashboard/` is the page too. */
export function serveDashboard(request: Request): Response | undefined {
  const path = new URL(request.url).pathname
  const file = DASHBOARD_FILES[path === '/dashboard/' ? '/dashboard' : path]
  if (file === undefined) return undefined
  const headers = { ...SECURITY_HEADERS, 'content-type': file.type, etag: file.etag }
  if (request.headers.get('if-none-match') === file.etag) return new Response(null, { status: 304, headers })
  return new Response(file.body, { headers })
}
