/**
 * @module The merchant's forward settings as an order object keeps them: sealed under MASTER_KEY
 * before a transaction, saved inside it (never over a newer merchant version), opened per delivery.
 */
import { isoNow } from '../lib/ids'
import { errorName, log } from '../lib/log'
import { masterKeyring } from '../merchants/master-keys'
import { loadVersionedMerchant } from '../merchants/store'
import type { ForwardConfig } from '../merchants/types'
import type { ForwardTargetRow } from '../storage/order'
import type { OrderContext } from './context'

/** Where the merchant wants its events, as of one version of its settings. */
export interface ForwardSettings {
  forward: ForwardConfig
  /** The merchant row's version: settings with a lower one never replace newer ones. */
  version: number
}

/** Saves sealed settings; called inside the caller's transaction. Does nothing when the stored copy is as new. */
export type SaveForwardTarget = (now: string) => void

const KEEP_STORED: SaveForwardTarget = () => {}

/**
 * Seals the settings when they are newer than the stored copy. Sealing awaits, so it comes before the transaction.
 *
 * `resend`: an operator sends deliveries again (replay, recover), having found the endpoint enabled. A stored copy
 * of these very settings that this object disabled itself, on a 410 Gone whose merchant-wide disable never followed
 * (the monitor or D1 unreachable then), is enabled again: otherwise nothing would ever be sent for this order until
 * the merchant is saved, the resend included (each fails at once as `endpoint_disabled`).
 */
export async function sealForwardTarget(
  ctx: OrderContext,
  merchantId: string,
  settings: ForwardSettings,
  options: { resend?: boolean } = {},
): Promise<SaveForwardTarget> {
  const stored = ctx.store.forwardTarget.get()
  if (stored !== null && stored.merchantVersion >= settings.version) {
    const disabledHere =
      stored.merchantVersion === settings.version && stored.disabledAt !== null && settings.forward.disabledAt === undefined
    return options.resend === true && disabledHere ? (now) => ctx.store.forwardTarget.enable(now) : KEEP_STORED
  }
  const { forward } = settings
  const keys = masterKeyring(ctx.env)
  const target: ForwardTargetRow = {
    url: forward.url,
    sealedSecret: await keys.seal(merchantId, forward.secret),
    sealedPreviousSecret: forward.previousSecret === undefined ? null : await keys.seal(merchantId, forward.previousSecret),
    merchantVersion: settings.version,
    disabledAt: forward.disabledAt ?? null,
  }
  return (now) => ctx.store.forwardTarget.save(target, now)
}

/** The secrets every delivery is signed with: the current one, then the previous one during a rotation. */
export async function openForwardSecrets(
  env: Env,
  merchantId: string,
  target: Pick<ForwardTargetRow, 'sealedSecret' | 'sealedPreviousSecret'>,
): Promise<string[]> {
  const keys = masterKeyring(env)
  const secrets = [await keys.open(merchantId, target.sealedSecret)]
  if (target.sealedPreviousSecret !== null) secrets.push(await keys.open(merchantId, target.sealedPreviousSecret))
  return secrets
}

/**
 * Stores the merchant's current forward settings, when they can be read: retries that run for days
 * follow a changed URL or secret. Without D1 or the replica, the stored copy serves. `fresh`: read past this isolate's
 * cache of merchants (a change made elsewhere moments ago, such as the monitor's breaker trip, must be seen).
 */
export async function refreshForwardTarget(ctx: OrderContext, merchantId: string, options: { fresh?: boolean } = {}): Promise<void> {
  try {
    const merchant = await loadVersionedMerchant(ctx.env, merchantId, { fresh: options.fresh === true })
    if (merchant === null) return
    const saveForwardTarget = await sealForwardTarget(ctx, merchantId, { forward: merchant.config.forward, version: merchant.version })
    saveForwardTarget(isoNow(Date.now()))
  } catch (error) {
    log('warn', { event: 'forward_target.refresh_failed', merchant_id: merchantId, error: errorName(error) })
  }
}
