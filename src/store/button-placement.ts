import type { Queryable } from './db.js';

/** Where an incident's buttons may be clicked: its own message, its thread, or a storm digest that lists it. */
export function createButtonPlacement(db: Queryable) {
  return {
    /**
     * True when the message at `channel`/`messageTs` (a reply in the thread `threadTs`, if any) is
     * one Switchboard posted for `incidentId`: its parent message (`slack_messages`, key
     * `incident:<id>`), a message in that parent's thread, or the digest listing it.
     */
    async isOn(incidentId: string, place: { channel: string; messageTs: string; threadTs?: string | undefined }): Promise<boolean> {
      const { rows } = await db.query(
        `SELECT 1 FROM slack_messages m
          WHERE m.message_key = 'incident:' || $1 AND m.channel = $2 AND (m.ts = $3 OR m.ts = $4)
         UNION ALL
         SELECT 1 FROM storm_incidents s JOIN slack_messages m ON m.message_key = s.message_key
          WHERE s.incident_id::text = $1 AND m.channel = $2 AND m.ts = $3
         LIMIT 1`,
        [incidentId, place.channel, place.messageTs, place.threadTs ?? null],
      );
      return rows.length > 0;
    },
  };
}

export type ButtonPlacement = ReturnType<typeof createButtonPlacement>;
