/** @module The daily cron run: certificates that expire within 30 days (`certificate.expiring`), and stats past retention pruned. */
import { errorSummary, log } from '../lib/log'
import type { ProviderRegistry } from '../providers'
import { pruneStats } from '../storage/stats'
import { checkAllCertificates } from './certificates'
import { allShards } from '../storage/shards'

export async function dailyMaintenance(env: Env, registry: ProviderRegistry, now: number): Promise<void> {
  try {
    const { merchants, notices } = await checkAllCertificates(env, registry, now)
    log('info', { event: 'certificates.checked', outcome: 'done', merchants, notices })
  } catch (error) {
    log('error', { event: 'certificates.check_failed', error: errorSummary(error) })
  }
  try {
    for (const db of allShards(env)) await pruneStats(db, now)
  } catch (error) {
    log('warn', { event: 'stats.prune_failed', error: errorSummary(error) })
  }
}
