import type { BatchableWrite } from './held-writes.js';

/** The SQL surface every repository uses; PostgreSQL (pg) and embedded PGlite both provide it. */
export interface Queryable {
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<{ rows: Row[]; rowCount: number }>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
  /**
   * Only inside a transaction: runs `work` just before COMMIT, once per `key` (the first
   * registered wins). Call it through `beforeCommit`, which outside a transaction runs it at once.
   */
  defer?(key: string, work: (tx: Queryable) => Promise<void>): void;
  /** Only inside a transaction: holds a write for the transaction's next statement. Call it through `write` (held-writes.ts). */
  hold?<Row>(kind: BatchableWrite<Row>, row: Row): void;
}

export interface Db extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
