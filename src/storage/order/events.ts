/** @module Statements on `events`: one row per state change, in the order they happened. */
import type { ChannelName } from '../../providers/core/types'
import { num, str, type Row } from './columns'
import type { EventRow, EventType } from './records'

function toEvent(r: Row): EventRow {
  return {
    seq: num(r.seq),
    id: str(r.id),
    type: str(r.type) as EventType,
    channel: str(r.channel) as ChannelName,
    body: str(r.body),
    createdAt: str(r.created_at),
  }
}

export class EventTable {
  constructor(private readonly sql: SqlStorage) {}

  /** Returns the new event's `seq`, the key its delivery refers to. */
  add(event: Omit<EventRow, 'seq'>): number {
    return num(
      this.sql
        .exec<Row>(
          'INSERT INTO events (id, type, channel, body, created_at) VALUES (?, ?, ?, ?, ?) RETURNING seq',
          event.id,
          event.type,
          event.channel,
          event.body,
          event.createdAt,
        )
        .one().seq,
    )
  }

  all(): EventRow[] {
    return this.sql.exec<Row>('SELECT * FROM events ORDER BY seq').toArray().map(toEvent)
  }

  get(seq: number): EventRow {
    return toEvent(this.sql.exec<Row>('SELECT * FROM events WHERE seq = ?', seq).one())
  }
}
