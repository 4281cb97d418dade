import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Registry } from 'prom-client';
import type { Condition } from './conditions.js';

export interface SystemExporter {
  /** `127.0.0.1:<port>`, a scrape target; the PostgreSQL probe is at /probe/postgres. */
  target: string;
  stop(): Promise<void>;
}

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;
const CPUS = 2;
/** Share of each CPU second spent busy, normally and while `cpu-busy`. */
const BUSY_SHARE = { normal: 0.15, busy: 0.97 };
const MEMORY_TOTAL = 8 * GIB;
const DISK_SIZE = 100 * GIB;
const REDIS_MAX = 256 * MIB;
const POSTGRES_MAX_CONNECTIONS = 100;

/**
 * One system's infrastructure as its rules read it — node_exporter's CPU, memory and
 * filesystem series, Redis up and memory, PostgreSQL connections, and a PostgreSQL probe for
 * `up{job="postgres"}` — simulated from the system's conditions, never measured on this
 * machine, so the demo can drive every rule without loading the host or stopping a server.
 */
export async function startSystemExporter(conditions: () => ReadonlySet<Condition>): Promise<SystemExporter> {
  const registry = new Registry();
  const has = (c: Condition) => conditions().has(c);
  const gauge = (name: string, help: string, value: () => number) =>
    new Gauge({ name, help, registers: [registry], collect() { this.set(value()); } });

  // CPU seconds accumulate at the share the condition gives since the last scrape, so rate() sees the change at once.
  const cpuSeconds = new Counter({ name: 'node_cpu_seconds_total', help: 'Seconds the CPUs spent in each mode (simulated).', labelNames: ['cpu', 'mode'], registers: [registry] });
  let lastCpuAt = Date.now();
  const advanceCpu = () => {
    const now = Date.now();
    const seconds = (now - lastCpuAt) / 1000;
    lastCpuAt = now;
    const busy = has('cpu-busy') ? BUSY_SHARE.busy : BUSY_SHARE.normal;
    for (let cpu = 0; cpu < CPUS; cpu++) {
      cpuSeconds.inc({ cpu: String(cpu), mode: 'user' }, seconds * busy);
      cpuSeconds.inc({ cpu: String(cpu), mode: 'idle' }, seconds * (1 - busy));
    }
  };
  advanceCpu();

  gauge('node_memory_MemTotal_bytes', 'Total memory (simulated).', () => MEMORY_TOTAL);
  gauge('node_memory_MemAvailable_bytes', 'Available memory (simulated).', () => MEMORY_TOTAL * (has('memory-full') ? 0.03 : 0.55));
  const filesystem = (name: string, help: string, value: () => number) =>
    new Gauge({ name, help, labelNames: ['mountpoint'], registers: [registry], collect() { this.set({ mountpoint: '/' }, value()); } });
  filesystem('node_filesystem_size_bytes', 'Filesystem size (simulated).', () => DISK_SIZE);
  filesystem('node_filesystem_free_bytes', 'Filesystem free space (simulated).', () => DISK_SIZE * (has('disk-full') ? 0.05 : 0.6));
  gauge('redis_up', 'Whether Redis answers (simulated).', () => (has('redis-down') ? 0 : 1));
  gauge('redis_memory_used_bytes', 'Memory Redis uses (simulated).', () => (has('redis-down') ? 0 : REDIS_MAX * (has('redis-memory-full') ? 0.9 : 0.12)));
  gauge('redis_memory_max_bytes', 'Redis maxmemory (simulated).', () => REDIS_MAX);
  gauge('postgresql_connections_active', 'Client connections to PostgreSQL (simulated).', () => (has('connections-exhausted') ? 95 : 7));
  gauge('postgresql_connections_max', 'PostgreSQL max_connections (simulated).', () => POSTGRES_MAX_CONNECTIONS);

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      advanceCpu();
      void registry.metrics().then((text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text));
    } else if (path === '/probe/postgres') {
      const up = !has('postgres-down');
      res.writeHead(up ? 200 : 503, { 'content-type': 'text/plain' }).end(up ? 'pg_up 1\n' : 'PostgreSQL does not answer (simulated)\n');
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    target: `127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
