/**
 * @module The dead-letter store, where the console's operator looks first: projection records that ran out of queue
 * retries (D1 down for a long time, a shard unlisted) are parked, not lost, and until they are sent again the lists,
 * counts and stats read from D1 are behind the orders. Said on the merchants page with a button that re-drives them.
 */
import { api, type Schemas } from '../api'
import { failure, guardedClick, h, notice, replaceChildren, timeOf } from '../dom'

/** Re-drive calls per click: each sends up to the API's page of records (500); more than this, click again. */
const MAX_REDRIVE_CALLS = 20

const records = (n: number) => `${n} projection ${n === 1 ? 'record is' : 'records are'}`

/** A notice of parked records with a Re-drive button, or an empty region when none is parked (or it cannot be told). */
export async function parkedRecordsNotice(): Promise<HTMLElement> {
  const region = h('div', { 'aria-live': 'polite' })
  const status = await api<Schemas['ProjectionStatus']>('/admin/projection').catch(() => null)
  if (status === null || status.parked === 0) return region
  const redrive = async () => {
    replaceChildren(region, notice('Sending them again…'))
    try {
      let result: Schemas['RedriveResult'] = { redriven: 0, remaining: status.parked }
      let sent = 0
      for (let call = 0; call < MAX_REDRIVE_CALLS && result.remaining > 0; call++) {
        result = await api<Schemas['RedriveResult']>('/admin/projection/redrive', { method: 'POST', body: {} })
        sent += result.redriven
        if (result.redriven === 0) break
      }
      replaceChildren(
        region,
        notice(
          result.remaining === 0
            ? `${records(sent)} back on the projection queue: the lists catch up within a minute (if D1 fails again, they are parked again).`
            : `${records(sent)} back on the projection queue; ${result.remaining} still parked: reload the page and send them again.`,
        ),
      )
    } catch (error) {
      replaceChildren(region, failure(error, 'Send them again'))
    }
  }
  replaceChildren(
    region,
    notice(
      [
        `${records(status.parked)} parked since `,
        timeOf(status.oldest_parked_at),
        ': D1 did not take them, so the lists, counts and stats below may be behind the orders. Nothing is lost. ',
        h('button', { type: 'button', class: 'small', onclick: guardedClick(redrive) }, 'Send them again'),
      ],
      'alert',
    ),
  )
  return region
}
