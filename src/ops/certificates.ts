/**
 * @module `certificate.expiring`: certificates in merchants' configs (configured platform certificates, and whatever
 * else a provider's section holds) and those the gateway downloaded for them, that expire within 30 days. Checked
 * daily by the cron trigger and whenever a merchant is saved; each certificate is told about once per expiry date,
 * by the merchant's monitor object.
 */
import { errorSummary, log } from '../lib/log'
import { withDownloadedKeys } from '../merchants/downloaded-keys'
import type { MerchantConfig } from '../merchants/types'
import type { ProviderRegistry } from '../providers'
import { listMerchantRows } from '../storage/admin-queries'
import { monitorStub } from './monitor'
import { expiresSoon, type ExpiringCertificate } from './notices'

/** The merchant's certificates expiring within 30 days; reads public fields only (a stored, sealed config works). */
export function expiringCertificates(config: Omit<MerchantConfig, 'id'>, registry: ProviderRegistry, now: number): ExpiringCertificate[] {
  return registry.sectionsOf(config).flatMap(({ descriptor: { provider, config: described }, section }) => {
    if (described.certificates === undefined) return []
    return described
      .certificates(section)
      .filter((certificate) => expiresSoon(certificate.expiresAt, now))
      .map((certificate) => ({ provider, name: certificate.name, expires_at: certificate.expiresAt }))
  })
}

/** Tells the merchant's monitor about its expiring certificates; returns how many notices that made. */
export async function noticeExpiringCertificates(
  env: Env,
  registry: ProviderRegistry,
  merchantId: string,
  config: Omit<MerchantConfig, 'id'>,
  now: number,
): Promise<number> {
  // The downloaded certificates join the section as they do for verification (a replica that does not answer adds none).
  const withDownloads = await withDownloadedKeys(env, { ...config, id: merchantId }, now, { registry })
  const expiring = expiringCertificates(withDownloads, registry, now)
  if (expiring.length === 0) return 0
  return monitorStub(env, merchantId).certificatesExpiring(merchantId, expiring)
}

/**
 * Every merchant, page by page (the daily cron). One whose check fails (its monitor unreachable, say) is logged and
 * counted, and the others are still checked: it is checked again the next day.
 */
export async function checkAllCertificates(
  env: Env,
  registry: ProviderRegistry,
  now: number,
): Promise<{ merchants: number; notices: number; failed: number }> {
  let after: [string, string] | null = null
  let merchants = 0
  let notices = 0
  let failed = 0
  for (;;) {
    const rows = await listMerchantRows(env.DB, { after, limit: 100 })
    for (const row of rows) {
      merchants += 1
      try {
        notices += await noticeExpiringCertificates(env, registry, row.id, JSON.parse(row.config) as Omit<MerchantConfig, 'id'>, now)
      } catch (error) {
        failed += 1
        log('error', { event: 'certificates.check_failed', merchant_id: row.id, error: errorSummary(error) })
      }
    }
    if (rows.length < 100) return { merchants, notices, failed }
    const last = rows[rows.length - 1]!
    after = [last.created_at, last.id]
  }
}
