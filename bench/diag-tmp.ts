import { performance } from 'node:perf_hooks';
import { createIntake } from '../src/alerts/intake.js';
import { createOutbox } from '../src/alerts/outbox.js';
import { createIncidentProjector } from '../src/alerts/project-incident.js';
import { parseNotification } from '../src/alerts/webhook-schema.js';
import { allActions } from '../src/commands/actions/index.js';
import { createRegistry } from '../src/commands/registry.js';
import { parseCatalog } from '../src/config/load-catalog.js';
import type { Db, Queryable } from '../src/store/db.js';
import { migrate } from '../src/store/migrate.js';
import { createPostgresDb } from '../src/store/postgres-db.js';
import { createTempDatabase } from '../test/helpers/temp-database.js';
import { INGEST_CATALOG, INGEST_MIX } from './ingest.js';
import { createNotificationMix } from './lib/notifications.js';

const temp = await createTempDatabase('sb_bench_diag');
const inner = createPostgresDb(temp.url, { max: 2 });
await migrate(inner);
const stats = new Map<string, { n: number; ms: number }>();
const timed = (q: Queryable): Queryable => ({
  async query(sql, params) {
    const t = performance.now();
    try { return await q.query(sql, params); } finally {
      const k = sql.replace(/\s+/g, ' ').trim().slice(0, 70);
      const s = stats.get(k) ?? { n: 0, ms: 0 }; s.n++; s.ms += performance.now() - t; stats.set(k, s);
    }
  },
  exec: (sql) => q.exec(sql),
});
const db: Db = { ...inner, ...timed(inner), kind: inner.kind, close: inner.close, transaction: async (fn) => {
  const outer = performance.now(); let body = 0;
  try { return await inner.transaction(async (tx) => {
    const t = performance.now();
    try { return await fn(timed(tx)); } finally { body = performance.now() - t; const s0 = stats.get('tx body') ?? { n: 0, ms: 0 }; s0.n++; s0.ms += body; stats.set('tx body', s0); }
  }); } finally { const s1 = stats.get('connect+BEGIN+COMMIT') ?? { n: 0, ms: 0 }; s1.n++; s1.ms += performance.now() - outer - body; stats.set('connect+BEGIN+COMMIT', s1); }
} };
const catalog = parseCatalog(INGEST_CATALOG, 'c.yml', {});
const projector = createIncidentProjector({ catalog, registry: createRegistry(allActions), outbox: createOutbox(), now: () => new Date() });
const intake = createIntake({ db, now: () => new Date(), onIncidentChanged: projector });
const mix = createNotificationMix({ seed: 1, runId: 'diag', ...INGEST_MIX });
const N = 1500;
let t0 = 0;
for (let i = 0; i < N; i++) {
  if (i === 300) { stats.clear(); t0 = performance.now(); }
  const o = mix.next();
  const p = parseNotification(JSON.parse(o.body));
  if (!p.ok) throw new Error('bad');
  await intake.receive(p.notification, { json: JSON.parse(o.body), sha256: 'a'.repeat(64) });
  o.release();
}
const per = (performance.now() - t0) / (N - 300);
console.log(`sequential: ${per.toFixed(2)} ms per notification (${(1000 / per).toFixed(0)}/s on one connection)`);
for (const [k, s] of [...stats].sort((a, b) => b[1].ms - a[1].ms)) console.log(`${(s.ms / (N - 300)).toFixed(3).padStart(7)} ms/notif  ${String(s.n).padStart(5)}×  ${(s.ms / s.n).toFixed(3)} ms each  ${k}`);
await inner.close(); await temp.drop();
