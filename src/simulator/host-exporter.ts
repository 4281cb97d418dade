import { statfs } from 'node:fs/promises';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, freemem, totalmem } from 'node:os';
import { Redis } from 'ioredis';
import pg from 'pg';
import { Gauge, Registry } from 'prom-client';

export interface HostExporter {
  /** `127.0.0.1:<port>`, a scrape target; the PostgreSQL probe is at /probe/postgres. */
  target: string;
  stop(): Promise<void>;
}

const CPU_MODES = ['user', 'nice', 'sys', 'idle', 'irq'] as const;
const NODE_MODE: Record<(typeof CPU_MODES)[number], string> = { user: 'user', nice: 'nice', sys: 'system', idle: 'idle', irq: 'irq' };

async function memAvailable(): Promise<number> {
  const text = await readFile('/proc/meminfo', 'utf8').catch(() => '');
  const kb = /^MemAvailable:\s+(\d+) kB/m.exec(text)?.[1];
  return kb ? Number(kb) * 1024 : freemem();
}

/**
 * The infrastructure metrics the seeds' rules read, measured on this machine: node_exporter's
 * memory, CPU and filesystem series, Redis up and memory, PostgreSQL connections. The Prometheus
 * job "postgres" scrapes /probe/postgres, which fails while PostgreSQL does not answer.
 */
export async function startHostExporter(options: { redisUrl?: string; databaseUrl?: string }): Promise<HostExporter> {
  const registry = new Registry();
  const redis = options.redisUrl ? new Redis(options.redisUrl, { maxRetriesPerRequest: 1, connectTimeout: 2_000, commandTimeout: 2_000 }) : undefined;
  redis?.on('error', () => undefined);
  const pool = options.databaseUrl ? new pg.Pool({ connectionString: options.databaseUrl, max: 1, connectionTimeoutMillis: 2_000 }) : undefined;
  pool?.on('error', () => undefined);
  const gauge = (name: string, help: string, collect: (g: Gauge) => Promise<void> | void, labelNames: string[] = []) =>
    new Gauge({ name, help, labelNames, registers: [registry], async collect() { await collect(this); } });

  gauge('node_memory_MemTotal_bytes', 'Total memory.', (g) => g.set(totalmem()));
  gauge('node_memory_MemAvailable_bytes', 'Available memory.', async (g) => g.set(await memAvailable()));
  gauge('node_cpu_seconds_total', 'Seconds the CPUs spent in each mode.', (g) => {
    cpus().forEach((cpu, i) => CPU_MODES.forEach((mode) => g.set({ cpu: String(i), mode: NODE_MODE[mode] }, cpu.times[mode] / 1000)));
  }, ['cpu', 'mode']);
  const disk = async () => statfs('/').then((s) => ({ size: s.blocks * s.bsize, free: s.bavail * s.bsize }));
  gauge('node_filesystem_size_bytes', 'Filesystem size.', async (g) => g.set({ mountpoint: '/' }, (await disk()).size), ['mountpoint']);
  gauge('node_filesystem_free_bytes', 'Filesystem free space.', async (g) => g.set({ mountpoint: '/' }, (await disk()).free), ['mountpoint']);
  if (redis) {
    const info = async () => redis.info('memory').then((text) => ({ up: 1, used: Number(/used_memory:(\d+)/.exec(text)?.[1] ?? 0), max: Number(/maxmemory:(\d+)/.exec(text)?.[1] ?? 0) }), () => ({ up: 0, used: 0, max: 0 }));
    gauge('redis_up', 'Whether Redis answers.', async (g) => g.set((await info()).up));
    gauge('redis_memory_used_bytes', 'Memory Redis uses.', async (g) => g.set((await info()).used));
    gauge('redis_memory_max_bytes', 'Redis maxmemory (0: none).', async (g) => g.set((await info()).max));
  }
  if (pool) {
    const connections = async () =>
      pool.query<{ active: string; max: string }>("SELECT count(*) AS active, current_setting('max_connections') AS max FROM pg_stat_activity WHERE backend_type = 'client backend'").then((r) => r.rows[0]!, () => undefined);
    gauge('postgresql_connections_active', 'Client connections to PostgreSQL.', async (g) => void ((c) => c && g.set(Number(c.active)))(await connections()));
    gauge('postgresql_connections_max', 'PostgreSQL max_connections.', async (g) => void ((c) => c && g.set(Number(c.max)))(await connections()));
  }

  const server = createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      res.writeHead(200, { 'content-type': registry.contentType }).end(await registry.metrics());
    } else if (path === '/probe/postgres') {
      const up = pool ? await pool.query('SELECT 1').then(() => true, () => false) : false;
      res.writeHead(up ? 200 : 503, { 'content-type': 'text/plain' }).end(up ? 'pg_up 1\n' : 'PostgreSQL does not answer\n');
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    target: `127.0.0.1:${port}`,
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      redis?.disconnect();
      await pool?.end().catch(() => undefined);
    },
  };
}
