/**
 * @module The rules for the notices the monitor sends once: a spike of rejected notifications (≥ 20 within 5
 * minutes, told at most once per 5 minutes), and each certificate that expires within 30 days (once per expiry).
 */
import type { MonitorStore } from '../storage/monitor'

export const SPIKE_THRESHOLD = 20
export const SPIKE_WINDOW_MINUTES = 5
export const CERTIFICATE_NOTICE_DAYS = 30

/**
 * Counts the rejection; returns the spike's data when this one makes a spike not yet told about, and there is someone
 * to tell (`canTell`): a spike nobody was told of is not remembered as told.
 */
export function rejectionSpike(store: MonitorStore, reason: string, at: number, canTell: boolean): Record<string, unknown> | null {
  const second = Math.floor(at / 1000)
  // The seconds from 5 minutes before this one's: any 20 within 5 minutes are in it (at most a second more is).
  const since = second - SPIKE_WINDOW_MINUTES * 60
  // Kept a window longer: a report that comes late (behind others' waitUntil) still finds its own window's rows.
  store.countRejection(second, reason, since - SPIKE_WINDOW_MINUTES * 60)
  const byReason = store.rejectionsSince(since)
  const rejected = Object.values(byReason).reduce((sum, n) => sum + n, 0)
  if (rejected < SPIKE_THRESHOLD || !canTell) return null
  const lastSent = store.noticeSentAt('rejected_spike')
  if (lastSent !== null && at - lastSent < SPIKE_WINDOW_MINUTES * 60_000) return null
  store.rememberNotice('rejected_spike', at)
  return {
    rejected,
    window_minutes: SPIKE_WINDOW_MINUTES,
    since: new Date(since * 1000).toISOString(),
    until: new Date(at).toISOString(),
    rejected_by_reason: byReason,
  }
}

export interface ExpiringCertificate {
  provider: string
  /** The certificate in the section's words (`platformPublicKeys.<serial>`), or `downloaded.<serial>` for a downloaded one. */
  name: string
  expires_at: string
}

/** The certificates not yet told about for this expiry (each remembered as told). */
export function expiringCertificateNotices(
  store: MonitorStore,
  certificates: readonly ExpiringCertificate[],
  now: number,
): ExpiringCertificate[] {
  return certificates.filter((certificate) => {
    const key = `certificate:${certificate.provider}.${certificate.name}:${certificate.expires_at}`
    if (store.noticeSentAt(key) !== null) return false
    store.rememberNotice(key, now)
    return true
  })
}

/** Whether a certificate expiring at `expiresAt` is due a notice at `now`. */
export function expiresSoon(expiresAt: string, now: number): boolean {
  return Date.parse(expiresAt) - now <= CERTIFICATE_NOTICE_DAYS * 24 * 3600_000
}
