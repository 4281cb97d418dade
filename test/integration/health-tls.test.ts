import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:tls';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createHealthChecker, formatCheckLine, HealthCheckConfig } from '../../src/integrations/health/index.js';
import { requires } from '../helpers/requires.js';

const run = promisify(execFile);
const DAY_MS = 86_400_000;

let dir: string;
const servers: Array<Server | ReturnType<typeof createNetServer>> = [];
const sockets = new Set<Socket>();
let soonPort: number;
let laterPort: number;
let silentPort: number;
const seenServernames: string[] = [];

/** A self-signed certificate valid for `days`, made by openssl in the temp dir. */
async function selfSigned(days: number): Promise<{ key: Buffer; cert: Buffer }> {
  const key = join(dir, `key-${days}.pem`);
  const cert = join(dir, `cert-${days}.pem`);
  await run('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', String(days), '-subj', '/CN=localhost',
  ]);
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

function tlsServer(credentials: { key: Buffer; cert: Buffer }): Server {
  // SNICallback runs mid-handshake, before the client can see the certificate, so the record is complete
  // when the check returns; an empty context means "use the server's default".
  return createServer({
    ...credentials,
    SNICallback: (servername, done) => {
      seenServernames.push(servername);
      done(null, undefined);
    },
  }, (socket) => socket.end());
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchboard-health-tls-'));
  soonPort = await listen(tlsServer(await selfSigned(5)));
  laterPort = await listen(tlsServer(await selfSigned(400)));
  silentPort = await listen(createNetServer(() => {}));
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  if (dir) await rm(dir, { recursive: true, force: true });
});

const tls = (port: number, extra: Record<string, unknown> = {}) =>
  HealthCheckConfig.parse({ name: 'cert', kind: 'tls', host: '127.0.0.1', port, ...extra });

requires('openssl')('tls certificate checks against local servers', () => {
  it('warns when the certificate expires within warnDays, and says it is untrusted', async () => {
    const [result] = await createHealthChecker().check([tls(soonPort)]);
    expect(result).toMatchObject({
      name: 'cert',
      kind: 'tls',
      status: 'warn',
      // Issued a moment ago for 5 days, so 4 whole days remain.
      reason: 'certificate expires in 4 days (warn at 30)',
      detail: expect.stringMatching(/^expires \d{4}-\d{2}-\d{2} \(4 days\); untrusted: DEPTH_ZERO_SELF_SIGNED_CERT$/),
    });
    expect(formatCheckLine(result!)).toMatch(/^⚠ cert — \d+ms — expires /);
  });

  it('is ok when expiry is further away than warnDays', async () => {
    const [result] = await createHealthChecker().check([tls(laterPort)]);
    expect(result).toMatchObject({ status: 'ok', detail: expect.stringMatching(/^expires \d{4}-\d{2}-\d{2} \(399 days\)/) });
    expect(result!.reason).toBeUndefined();
  });

  it('fails once the certificate has expired', async () => {
    const tenDaysLater = createHealthChecker({ now: () => Date.now() + 10 * DAY_MS });
    const [result] = await tenDaysLater.check([tls(soonPort)]);
    expect(result).toMatchObject({ status: 'fail', reason: expect.stringMatching(/^certificate expired on \d{4}-\d{2}-\d{2} \(5 days ago\)$/) });
  });

  it('sends the configured servername (SNI)', async () => {
    seenServernames.length = 0;
    await createHealthChecker().check([tls(laterPort, { servername: 'status.example.test' })]);
    expect(seenServernames).toEqual(['status.example.test']);
  });

  it('sends no SNI for an IP address without a servername', async () => {
    seenServernames.length = 0;
    await createHealthChecker().check([tls(laterPort)]);
    expect(seenServernames).toEqual([]);
  });

  it('times out on a server that never completes the handshake', async () => {
    const started = Date.now();
    const [result] = await createHealthChecker().check([tls(silentPort, { timeout: '1s' })]);
    expect(result).toMatchObject({ status: 'fail', reason: 'timed out after 1s' });
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
