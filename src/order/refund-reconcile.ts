/**
 * @module Refund queries for one order: registered refunds not settled yet, and held refunds whose own
 * amount is in doubt, asked about on the order query's schedule (or at once, with `force`). A settled
 * answer is applied like the refund's notification (`source: "query"`), in one transaction per refund.
 * When the queries end without an answer (the keys no longer allow them, or the week is over), a held
 * refund is settled as for a merchant without query keys: by its running total, when the order of
 * arrival leaves no doubt. Held for good, it would never reach the merchant.
 */
import { isoNow } from '../lib/ids'
import type { RefundRow } from '../storage/order'
import type { OrderContext } from './context'
import { applyNotification } from './ingest'
import { nextQueryAt, REFUND_LIFETIME_MS } from './reconcile-schedule'
import { queryRefund } from './refund-query'
import { settleHeldRefunds } from './refund-registration'
import { PAID_STATES } from './state-machine'

/** At most this many refund queries per run, so one alarm stays well inside its wall time. */
const QUERIES_PER_RUN = 5

/** A refund a query can still settle: known to the merchant (registered) or notified and held, and not final. */
function unsettled(row: RefundRow): boolean {
  return (row.status === 'pending' || row.status === 'failed') && (row.registeredAmount !== null || row.held !== null)
}

/** One round of refund queries: what it returns, whether it asks about every unsettled refund, whom it has asked. */
interface RefundRound {
  done: Promise<string[]>
  forced: boolean
  asked: Set<string>
}

const NONE: ReadonlySet<string> = new Set()

/** Shares the run in flight: an alarm and an admin sync arriving together make one round of provider calls. */
export class RefundReconciler {
  private inFlight: RefundRound | null = null

  /**
   * Queries due refunds (every unsettled one, with `force`, but those in `except`); returns a summary per refund asked
   * about. A forced run that finds the alarm's round out waits for it, then asks about the refunds that round did not.
   */
  run(ctx: OrderContext, nowMs: number, options: { force?: boolean; except?: ReadonlySet<string> } = {}): Promise<string[]> {
    const force = options.force === true
    const current = this.inFlight
    if (current !== null) {
      if (!force || current.forced) return current.done
      return current.done.then(async (first) => [...first, ...(await this.run(ctx, Date.now(), { force, except: current.asked }))])
    }
    const asked = new Set<string>()
    const done = queryDueRefunds(ctx, nowMs, force, options.except ?? NONE, asked).finally(() => {
      this.inFlight = null
    })
    this.inFlight = { done, forced: force, asked }
    return done
  }
}

async function queryDueRefunds(
  ctx: OrderContext,
  nowMs: number,
  force: boolean,
  except: ReadonlySet<string>,
  askedAbout: Set<string>,
): Promise<string[]> {
  const { store } = ctx
  const order = store.order.get()
  if (order === null) return []
  const due = force
    ? store.refunds
        .rows()
        .filter((row) => unsettled(row) && !except.has(row.outRefundNo))
        .slice(0, QUERIES_PER_RUN)
    : store.refunds.due(nowMs, QUERIES_PER_RUN)
  const summaries: string[] = []
  for (const refund of due) {
    askedAbout.add(refund.outRefundNo)
    const asked = store.refunds.get(refund.outRefundNo) ?? refund
    const answer = await queryRefund(ctx.env, ctx.registry, order, refund, Date.now())
    const finishedAt = Date.now()
    const summary = ctx.store.transaction(() => {
      // A report of this refund that came in while the query was out (held, or asking at once) is not answered by it.
      const reportedMeanwhile = reportedSince(asked, store.refunds.get(refund.outRefundNo) ?? asked)
      let text = answer.summary
      if (answer.notification !== null) {
        // The answer came from this merchant's refund-query client: a held refund may be asked about again.
        const applied = applyNotification(store, answer.notification, {
          receivedAt: finishedAt,
          source: 'query',
          nowMs: finishedAt,
          canQueryRefunds: true,
        })
        text = `${text} (${applied.verdict}${applied.reason === null ? '' : `: ${applied.reason}`})`
      }
      const current = store.refunds.get(refund.outRefundNo) ?? refund
      const settled = current.status === 'succeeded' || current.status === 'closed'
      const expiresAt = current.expiresAt ?? finishedAt + REFUND_LIFETIME_MS
      const scheduled = settled || answer.final ? null : nextQueryAt(current.queriesMade + 1, finishedAt, expiresAt)
      // Its query is due at once, then, not on this answer's schedule.
      const next = scheduled !== null && reportedMeanwhile ? finishedAt : scheduled
      store.refunds.save(
        { ...current, queriesMade: current.queriesMade + 1, lastQueryAt: finishedAt, lastResult: text, nextQueryAt: next, expiresAt },
        isoNow(finishedAt),
      )
      const order = store.order.get()!
      if (!settled && next === null && current.held !== null && PAID_STATES.has(order.status)) {
        // Only refunds whose queries have ended: another still being asked about waits for its answer.
        settleHeldRefunds(store, order, true, finishedAt)
        const after = store.refunds.get(refund.outRefundNo)!
        if (after.status === 'succeeded') {
          text = `${text}; queries ended: settled by the order of arrival`
          store.refunds.save({ ...after, lastResult: text }, isoNow(finishedAt))
        }
      }
      return `${refund.outRefundNo}: ${text}`
    })
    summaries.push(summary)
  }
  return summaries
}

/**
 * Whether an RPC changed the refund between `before` and `after` the way a report does: held it, or brought its query
 * forward (a row not yet due when a sync asked about it).
 */
function reportedSince(before: RefundRow, after: RefundRow): boolean {
  if (before.held === null && after.held !== null) return true
  return after.nextQueryAt !== null && (before.nextQueryAt === null || after.nextQueryAt < before.nextQueryAt)
}
