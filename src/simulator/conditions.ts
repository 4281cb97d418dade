import { readFileSync } from 'node:fs';
import { writeFile, rename } from 'node:fs/promises';

/**
 * What the demo can make true of a system besides its programs' modes. None of them touches
 * this machine: the system's exporter reports simulated host, Redis and PostgreSQL figures, and
 * its stand-ins read the same state, so a "Redis down" system answers its health checks as one.
 */
export const CONDITIONS = {
  'cpu-busy': 'the host CPU is 97% busy',
  'memory-full': 'host memory is 97% used',
  'disk-full': 'the disk is 95% full',
  'redis-down': 'Redis does not answer',
  'redis-memory-full': 'Redis uses 90% of its maxmemory',
  'postgres-down': 'PostgreSQL does not answer',
  'connections-exhausted': 'database connections are at 95% of the maximum',
  'worker-backlog': 'the worker falls behind: 250 tasks queued, one in three fails',
  'certificate-expiring': 'the TLS certificate expires in 3 days',
  'rate-limited': 'clients hit the rate limiter: 2 requests/s answered 429',
} as const;
export type Condition = keyof typeof CONDITIONS;
export const isCondition = (value: string): value is Condition => Object.hasOwn(CONDITIONS, value);

/** Writes a system's conditions where its stand-ins read them; a rename, so no reader sees half a file. */
export async function writeConditions(file: string, conditions: ReadonlySet<Condition>): Promise<void> {
  await writeFile(`${file}.tmp`, JSON.stringify([...conditions]));
  await rename(`${file}.tmp`, file);
}

/**
 * The conditions a stand-in's system is in now. A stand-in reads the file at each use, so a
 * restart does not cure them: restarting the API does not bring Redis back.
 */
export function conditionsReader(file: string | undefined): () => ReadonlySet<Condition> {
  return () => {
    if (!file) return new Set();
    try {
      const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
      return new Set(Array.isArray(parsed) ? parsed.filter((c): c is Condition => typeof c === 'string' && isCondition(c)) : []);
    } catch {
      return new Set();
    }
  };
}
