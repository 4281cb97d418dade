import { describe, expect, it } from 'vitest';
import { infoNumber, parseRedisInfo } from '../../src/integrations/redis/info.js';

const SAMPLE = [
  '# Memory',
  'used_memory:1049368',
  'used_memory_human:1.00M',
  'maxmemory:0',
  'maxmemory_policy:noeviction',
  'mem_fragmentation_ratio:12.16',
  '',
  '# Server',
  'executable:/usr/bin/redis-server',
  'config_file:',
  '# Keyspace',
  'db0:keys=3,expires=0,avg_ttl=0',
  '',
].join('\r\n');

describe('parseRedisInfo', () => {
  it('reads field:value lines, skips headers and blanks, splits on the first colon only', () => {
    expect(parseRedisInfo(SAMPLE)).toEqual({
      used_memory: '1049368',
      used_memory_human: '1.00M',
      maxmemory: '0',
      maxmemory_policy: 'noeviction',
      mem_fragmentation_ratio: '12.16',
      executable: '/usr/bin/redis-server',
      config_file: '',
      db0: 'keys=3,expires=0,avg_ttl=0',
    });
  });

  it('accepts LF-only text and ignores lines without a field name', () => {
    expect(parseRedisInfo('a:1\n:oops\nnot a field\nb:2')).toEqual({ a: '1', b: '2' });
  });
});

describe('infoNumber', () => {
  it.each([
    ['1049368', 1049368],
    ['12.16', 12.16],
    ['', undefined],
    ['noeviction', undefined],
  ])('reads %j as %j', (text, expected) => {
    expect(infoNumber({ field: text }, 'field')).toBe(expected);
  });

  it('is undefined for a missing field', () => {
    expect(infoNumber({}, 'field')).toBeUndefined();
  });
});
