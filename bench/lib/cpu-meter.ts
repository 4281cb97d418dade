import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import pg from 'pg';

/**
 * Where the CPU went during a measured window, from /proc (Linux): the server under test, its
 * PostgreSQL backends, this process (load generator and fake Slack), and everything else on the
 * machine. Shown in cores (CPU seconds per wall second). Elsewhere it reports nothing.
 */
export interface CpuUse {
  server: number;
  postgres: number;
  loadGenerator: number;
  /** Busy time of the whole machine not accounted for above: other processes (other people's tests on a shared machine), interrupts. */
  other: number;
  /** Time the hypervisor gave these CPUs to other machines (steal): when it is not ~0, the figures of that window are unreliable. */
  stolen: number;
  cores: number;
}

let ticksPerSecond: number | undefined;
const tick = () => (ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100);

/** utime + stime of a process in ms; undefined once it is gone. */
function processMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / tick();
  } catch {
    return undefined;
  }
}

/** Busy (user, nice, system, irq, softirq) and total ms of all CPUs together; steal (another VM's) is neither ours nor idle. */
function machineMs(): { busy: number; total: number; steal: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).slice(1).map(Number);
  const busy = user + nice + system + irq + softirq;
  return { busy: (busy * 1000) / tick(), total: ((busy + idle + iowait + steal) * 1000) / tick(), steal: (steal * 1000) / tick() };
}

async function backendPids(databaseUrl: string | undefined): Promise<number[]> {
  if (!databaseUrl) return [];
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
    return rows.map((r) => r.pid);
  } finally {
    await client.end();
  }
}

export interface CpuMeter {
  start(): Promise<void>;
  stop(): Promise<CpuUse | undefined>;
}

export function createCpuMeter(options: { serverPid: number; databaseUrl?: string }): CpuMeter {
  const available = process.platform === 'linux';
  let begin: { at: number; server: number; postgres: Map<number, number>; self: NodeJS.CpuUsage; machine: { busy: number; total: number; steal: number } } | undefined;
  return {
    async start() {
      if (!available) return;
      const pids = await backendPids(options.databaseUrl);
      begin = {
        at: performance.now(),
        server: processMs(options.serverPid) ?? 0,
        postgres: new Map(pids.map((pid) => [pid, processMs(pid) ?? 0])),
        self: process.cpuUsage(),
        machine: machineMs(),
      };
    },
    async stop() {
      if (!begin) return undefined;
      const wall = performance.now() - begin.at;
      const server = (processMs(options.serverPid) ?? begin.server) - begin.server;
      // Backends that connected during the window count whole: they did their work in it.
      const pids = new Set([...begin.postgres.keys(), ...(await backendPids(options.databaseUrl))]);
      let postgres = 0;
      for (const pid of pids) postgres += Math.max(0, (processMs(pid) ?? begin.postgres.get(pid) ?? 0) - (begin.postgres.get(pid) ?? 0));
      const self = process.cpuUsage(begin.self);
      const loadGenerator = (self.user + self.system) / 1000;
      const machine = machineMs();
      const busy = machine.busy - begin.machine.busy;
      const cores = Math.round((machine.total - begin.machine.total) / wall);
      return {
        server: server / wall,
        postgres: postgres / wall,
        loadGenerator: loadGenerator / wall,
        other: Math.max(0, busy - server - postgres - loadGenerator) / wall,
        stolen: (machine.steal - begin.machine.steal) / wall,
        cores,
      };
    },
  };
}
