import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:tls';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createOutbox } from '../../src/alerts/outbox.js';
import type { Dispatcher } from '../../src/commands/dispatch.js';
import { parseCatalog } from '../../src/config/load-catalog.js';
import { createJobScheduler } from '../../src/jobs/create-job-scheduler.js';
import type { Db } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';
import { createPgliteDb } from '../../src/store/pglite-db.js';
import { requires } from '../helpers/requires.js';

const run = promisify(execFile);
const silent = pino({ level: 'silent' });
// The certificate check runs no action; a dispatch here would be a bug.
const noDispatch: Dispatcher = {
  dispatch: () => Promise.reject(new Error('the certificate check must not dispatch')),
  drain: () => Promise.resolve(),
};

let dir: string;
let db: Db;
const servers: Array<Server | ReturnType<typeof createNetServer>> = [];
const sockets = new Set<Socket>();
const ports: Record<'soon' | 'month' | 'later', number> = { soon: 0, month: 0, later: 0 };
let closedPort: number;

async function selfSigned(days: number): Promise<{ key: Buffer; cert: Buffer }> {
  const key = join(dir, `key-${days}.pem`);
  const cert = join(dir, `cert-${days}.pem`);
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', String(days), '-subj', '/CN=localhost']);
  return { key: await readFile(key), cert: await readFile(cert) };
}

async function listen(server: Server | ReturnType<typeof createNetServer>): Promise<number> {
  servers.push(server);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchboard-jobs-certs-'));
  ports.soon = await listen(createServer(await selfSigned(5), (socket) => socket.end()));
  ports.month = await listen(createServer(await selfSigned(20), (socket) => socket.end()));
  ports.later = await listen(createServer(await selfSigned(400), (socket) => socket.end()));
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  closedPort = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  db = await createPgliteDb(undefined);
  await migrate(db);
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  await db?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const tls = (name: string, port: number) => `      - { name: ${name}, kind: tls, host: 127.0.0.1, port: ${port}, timeout: 5s }\n`;

function scheduler(services: string, jobs = '') {
  const catalog = parseCatalog(`version: 1\nservices:\n${services}defaultRoute: { channel: C0OPS }\njobs:\n  healthReport: { enabled: false }\n  escalationAudit: { enabled: false }\n  notificationRetention: { enabled: false }\n${jobs}`, 'certs.yml', {});
  return createJobScheduler({ db, catalog, dispatcher: noDispatch, outbox: createOutbox(), logger: silent, instanceId: 'instance-certs' });
}

const outboxPost = async (key: string) =>
  (await db.query<{ channel: string; priority: number; payload: { text: string } }>('SELECT channel, priority, payload FROM outbox WHERE message_key = $1', [key])).rows;
const jobRun = async (slot: string) =>
  (await db.query<{ status: string; summary: string }>(`SELECT status, summary FROM job_runs WHERE job = 'certificateCheck' AND slot = $1`, [slot])).rows[0];

requires('openssl')('certificate check', () => {
  it('lists every certificate under a threshold, or unreadable, in one message, most urgent first', async () => {
    const jobs = scheduler(
      `  api:\n    name: API\n    health:\n${tls('cert', ports.soon)}  app:\n    name: App\n    health:\n${tls('cert', ports.month)}${tls('cdn', ports.later)}  edge:\n    name: Edge\n    health:\n${tls('cert', closedPort)}`,
    );
    const slot = '2026-01-15T08:00:00.000Z';
    const result = await jobs.runNow('certificateCheck', new Date(slot));
    expect(result).toMatchObject({ status: 'succeeded', summary: '3 of 4 certificates need attention (1 failed)' });

    const [post] = await outboxPost(`job:certificateCheck:${slot}`);
    expect(post).toMatchObject({ channel: 'C0OPS', priority: 1 });
    const lines = post!.payload.text.split('\n');
    expect(lines[0]).toBe('*3 certificates need attention*');
    expect(lines[1]).toMatch(/^✗ `edge` cert: connection refused/);
    // Issued a moment ago for 5 and 20 days: 4 and 19 whole days remain.
    expect(lines[2]).toMatch(/^⚠ `api` cert: under 7 days, expires \d{4}-\d{2}-\d{2} \(4 days\)/);
    expect(lines[3]).toMatch(/^⚠ `app` cert: under 30 days, expires \d{4}-\d{2}-\d{2} \(19 days\)/);
    expect(lines).toHaveLength(4);
    expect(await jobRun(slot)).toMatchObject({ status: 'succeeded' });
  });

  it('takes its thresholds from the catalog', async () => {
    const jobs = scheduler(`  app:\n    name: App\n    health:\n${tls('cert', ports.month)}`, '  certificateCheck: { warnDays: [14, 3] }\n');
    const slot = '2026-01-16T08:00:00.000Z';
    expect((await jobs.runNow('certificateCheck', new Date(slot))).summary).toBe('1 certificate ok');
    expect(await outboxPost(`job:certificateCheck:${slot}`)).toEqual([]);
  });

  it('posts nothing when every certificate is fine, and records the run', async () => {
    const jobs = scheduler(`  app:\n    name: App\n    health:\n${tls('cdn', ports.later)}`);
    const slot = '2026-01-17T08:00:00.000Z';
    expect(await jobs.runNow('certificateCheck', new Date(slot))).toMatchObject({ status: 'succeeded', summary: '1 certificate ok' });
    expect(await outboxPost(`job:certificateCheck:${slot}`)).toEqual([]);
    expect(await jobRun(slot)).toEqual({ status: 'succeeded', summary: '1 certificate ok' });
  });

  it('is not scheduled when no service has a tls check', () => {
    expect(scheduler('  app:\n    name: App\n').jobs).toEqual([]);
  });
});
