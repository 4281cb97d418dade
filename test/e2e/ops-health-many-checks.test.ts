import { getEventListeners } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHealthChecker, HealthCheckList } from '../../src/integrations/health/index.js';
import { startTestSwitchboard, type TestSwitchboard } from '../helpers/test-switchboard.js';

const SERVICES = 4;
const CHECKS_PER_SERVICE = 6;

let healthy: Server;
let port: number;
let t: TestSwitchboard;
const warnings: Error[] = [];
const onWarning = (warning: Error) => void warnings.push(warning);

const checksYaml = () =>
  Array.from({ length: CHECKS_PER_SERVICE }, (_, i) =>
    i % 2 ? `      - { name: port-${i}, kind: tcp, host: 127.0.0.1, port: ${port} }` : `      - { name: http-${i}, kind: http, url: "http://127.0.0.1:${port}/health" }`,
  ).join('\n');

beforeAll(async () => {
  healthy = createServer((_req, res) => res.end('ok'));
  port = await new Promise<number>((resolve) => healthy.listen(0, '127.0.0.1', () => resolve((healthy.address() as AddressInfo).port)));
  const services = Array.from({ length: SERVICES }, (_, s) => `  service-${s}:\n    name: Service ${s}\n    health:\n${checksYaml()}`).join('\n');
  t = await startTestSwitchboard({ catalogYaml: `version: 1\nservices:\n${services}\n` });
  process.on('warning', onWarning);
});

afterAll(async () => {
  process.off('warning', onWarning);
  await t?.close();
  await new Promise((resolve) => healthy?.close(resolve));
});

describe('/ops health with many checks sharing one run', () => {
  it(`runs ${SERVICES * CHECKS_PER_SERVICE} checks without a MaxListenersExceededWarning`, async () => {
    const ack = await t.slash('health', { responseId: 'all' });
    expect(ack.status).toBe(200);
    const answer = await t.responses.waitFor((r) => r.path.endsWith('/all'), 10_000);
    expect(answer.body.text).toContain(`Health of ${SERVICES} services`);
    expect(answer.body.text).toContain(`${CHECKS_PER_SERVICE}/${CHECKS_PER_SERVICE} checks ok`);
    // Node emits warnings on the next tick; one more turn of the event loop lets a late one arrive.
    await new Promise((resolve) => setImmediate(resolve));
    expect(warnings.map((w) => `${w.name}: ${w.message}`)).toEqual([]);
  });

  it("leaves no listener on the caller's signal once the checks are done", async () => {
    const checks = HealthCheckList.parse(Array.from({ length: 15 }, (_, i) => ({ name: `c${i}`, kind: 'http', url: `http://127.0.0.1:${port}/` })));
    const controller = new AbortController();
    const running = createHealthChecker().check(checks, { signal: controller.signal });
    expect(getEventListeners(controller.signal, 'abort').length).toBeLessThanOrEqual(1);
    expect((await running).map((r) => r.status)).toEqual(checks.map(() => 'ok'));
    expect(getEventListeners(controller.signal, 'abort')).toEqual([]);
  });

  it('still reports a cancelled run as cancelled', async () => {
    const checks = HealthCheckList.parse([{ name: 'late', kind: 'http', url: `http://127.0.0.1:${port}/` }]);
    const controller = new AbortController();
    controller.abort(new Error('run timed out'));
    const [result] = await createHealthChecker().check(checks, { signal: controller.signal });
    expect(result).toMatchObject({ status: 'fail', reason: 'cancelled before it finished' });
  });
});
