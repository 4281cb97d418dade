import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { IntegrationError } from '../../src/integrations/integration-error.js';
import { redisBgsave } from '../../src/integrations/redis/index.js';

/**
 * Replies the real test Redis cannot be made to give (a failed write, a failed fork, a running AOF
 * rewrite), from a local server speaking RESP with the exact wording of Redis 7.
 */
type Handler = (command: string[]) => string;

const simple = (text: string) => `+${text}\r\n`;
const error = (text: string) => `-${text}\r\n`;
const integer = (n: number) => `:${n}\r\n`;
const bulk = (text: string) => `$${Buffer.byteLength(text)}\r\n${text}\r\n`;
const persistence = (inProgress: 0 | 1, status: 'ok' | 'err') => bulk(`# Persistence\r\nloading:0\r\nrdb_bgsave_in_progress:${inProgress}\r\nrdb_last_bgsave_status:${status}\r\naof_rewrite_in_progress:0\r\n`);

let server: Server | undefined;
const sockets = new Set<Socket>();

async function fakeRedis(handler: Handler): Promise<string> {
  server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let buffered = '';
    socket.on('data', (chunk) => {
      buffered += chunk.toString('utf8');
      for (;;) {
        const parsed = parseCommand(buffered);
        if (!parsed) break;
        buffered = buffered.slice(parsed.length);
        socket.write(handler(parsed.command.map((part, i) => (i === 0 ? part.toUpperCase() : part))));
      }
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `redis://127.0.0.1:${(server!.address() as AddressInfo).port}`;
}

/** One RESP array of bulk strings, as clients send commands; undefined until it is complete. */
function parseCommand(text: string): { command: string[]; length: number } | undefined {
  const header = /^\*(\d+)\r\n/.exec(text);
  if (!header) return undefined;
  let offset = header[0].length;
  const command: string[] = [];
  for (let i = 0; i < Number(header[1]); i++) {
    const size = /^\$(\d+)\r\n/.exec(text.slice(offset));
    if (!size) return undefined;
    const start = offset + size[0].length;
    const end = start + Number(size[1]);
    if (text.length < end + 2) return undefined;
    command.push(text.slice(start, end));
    offset = end + 2;
  }
  return { command, length: offset };
}

afterEach(async () => {
  for (const socket of sockets) socket.destroy();
  if (server) await new Promise((resolve) => server!.close(resolve));
  server = undefined;
});

describe('redisBgsave reads what Redis reports', () => {
  it("says 'err' when the save fails to write, and keeps the last good LASTSAVE", async () => {
    let polls = 0;
    const url = await fakeRedis(([name]) => {
      if (name === 'LASTSAVE') return integer(1_716_998_520);
      if (name === 'BGSAVE') return simple('Background saving started');
      if (name === 'INFO') return persistence(++polls < 3 ? 1 : 0, polls < 3 ? 'ok' : 'err');
      return error(`ERR unknown command '${name}'`);
    });
    const progress: number[] = [];
    const result = await redisBgsave(url, { timeoutMs: 5_000, pollMs: 10, onProgress: (elapsed) => progress.push(elapsed) });
    expect(result).toEqual({
      lastSave: new Date('2024-05-29T16:02:00Z'),
      status: 'err',
      durationMs: expect.any(Number),
      joined: false,
      reason: 'Redis could not write the snapshot (see the Redis log; often the `dir` is not writable or the disk is full)',
    });
    expect(progress).toHaveLength(2);
  });

  it("says 'err' when Redis cannot fork", async () => {
    const url = await fakeRedis(([name]) => (name === 'LASTSAVE' ? integer(1_716_998_520) : error('ERR')));
    expect(await redisBgsave(url, { timeoutMs: 5_000 })).toMatchObject({ status: 'err', joined: false, reason: expect.stringMatching(/could not fork/) });
  });

  it('waits for a save that is already running', async () => {
    let polls = 0;
    const url = await fakeRedis(([name]) => {
      if (name === 'LASTSAVE') return integer(polls > 1 ? 1_716_998_530 : 1_716_998_520);
      if (name === 'BGSAVE') return error('ERR Background save already in progress');
      return persistence(++polls < 2 ? 1 : 0, 'ok');
    });
    expect(await redisBgsave(url, { timeoutMs: 5_000, pollMs: 10 })).toMatchObject({ status: 'ok', joined: true, lastSave: new Date('2024-05-29T16:02:10Z') });
  });

  it.each([
    'ERR Another child process is active (AOF?): can\'t BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.',
    "ERR An AOF log rewriting in progress: can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.",
    "ERR Can't BGSAVE while AOF log rewriting is in progress",
  ])('explains an AOF rewrite in the way: %s', async (reply) => {
    const url = await fakeRedis(([name]) => (name === 'LASTSAVE' ? integer(1) : error(reply)));
    const failure = await redisBgsave(url, { timeoutMs: 5_000 }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(IntegrationError);
    expect((failure as IntegrationError).message).toMatch(/^Redis at 127\.0\.0\.1:\d+ refused BGSAVE: an AOF rewrite \(or another child process\) is running\.$/);
    expect((failure as IntegrationError).options.hint).toMatch(/aof_rewrite_in_progress:0/);
  });

  it('passes on any other refusal in one line', async () => {
    const url = await fakeRedis(([name]) => (name === 'LASTSAVE' ? integer(1) : error("NOPERM User switchboard has no permissions to run the 'bgsave' command")));
    await expect(redisBgsave(url, { timeoutMs: 5_000 })).rejects.toThrow(/^Redis at 127\.0\.0\.1:\d+ refused BGSAVE: NOPERM User switchboard has no permissions/);
  });
});
