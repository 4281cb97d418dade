import type { Queryable } from './db.js';

/**
 * A kind of write a transaction may hold back and send with the others of its kind as one
 * statement. `statement` writes every row given (one or many, duplicates included) and returns
 * nothing; `param` adds a parameter and answers its placeholder (`$3`).
 */
export interface BatchableWrite<Row> {
  readonly name: string;
  statement(rows: readonly Row[], param: (value: unknown) => string): string;
}

/**
 * Writes `row`: inside a transaction (`hold`) with the next statement the transaction sends,
 * otherwise at once. For writes nothing reads back before the transaction's next statement: every
 * statement of the transaction, and COMMIT, first sends what is held.
 */
export async function write<Row>(tx: Queryable, kind: BatchableWrite<Row>, row: Row): Promise<void> {
  if (tx.hold) return tx.hold(kind, row);
  const params: unknown[] = [];
  await tx.query(kind.statement([row], paramsInto(params)), params);
}

const paramsInto = (params: unknown[]) => (value: unknown) => `$${params.push(value)}`;

/**
 * What a transaction holds, by kind. `take` empties it and answers the one statement that writes
 * it all: several kinds become data-modifying CTEs of one statement (one round trip), which
 * PostgreSQL runs in no set order; no held write reads what another one writes, and the order
 * of the rows is kept only within a kind (an outbox post and its replies are one kind).
 */
export function createHeldWrites() {
  let held = new Map<BatchableWrite<unknown>, unknown[]>();
  return {
    hold<Row>(kind: BatchableWrite<Row>, row: Row): void {
      const rows = held.get(kind as BatchableWrite<unknown>);
      if (rows) rows.push(row);
      else held.set(kind as BatchableWrite<unknown>, [row]);
    },
    /** `what` names the held writes (`outbox updates, incident routes`), for the error when they fail. */
    take(): { sql: string; params: unknown[]; what: string } | undefined {
      if (held.size === 0) return undefined;
      const kinds = held;
      held = new Map();
      const params: unknown[] = [];
      const statements = [...kinds].map(([kind, rows]) => kind.statement(rows, paramsInto(params)));
      const what = [...kinds.keys()].map((kind) => kind.name).join(', ');
      if (statements.length === 1) return { sql: statements[0]!, params, what };
      return { sql: `WITH ${statements.map((s, i) => `w${i} AS (${s})`).join(', ')} SELECT`, params, what };
    },
  };
}
