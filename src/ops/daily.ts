/** @module The daily cron run: certificates that expire within 30 days (`certificate.expiring`), and stats past retention pruned. */
import { errorSummary, log } from '../lib/log'
import type { ProviderRegistry } from '../providers'
import { checkAllCertificates } from './certificates'
import { pruneStats } from './stats-prune'

export async function dailyMaintenance(env: Env, registry: ProviderRegistry, now: number): Promise<void> {
  try {
    const { merchants, notices, failed } = await checkAllCertificates(env, registry, now)
    log(failed > 0 ? 'warn' : 'info', {
      event: 'certificates.checked',
      outcome: failed > 0 ? 'partial' : 'done',
      merchants,
      notices,
      failed,
    })
  } catch (error) {
    log('error', { event: 'certificates.check_failed', error: errorSummary(error) })
  }
  try {
    // Each shard on its own: one that fails is logged (stats.prune_failed, with the shard) and the others are pruned.
    const { merchants, rows, failedShards } = await pruneStats(env, now)
    log('info', { event: 'stats.pruned', outcome: failedShards.length > 0 ? 'partial' : 'done', merchants, rows })
  } catch (error) {
    // The merchants could not be read from the control database: nothing was pruned.
    log('error', { event: 'stats.prune_failed', error: errorSummary(error) })
  }
}
