import { describe, expect, it } from 'vitest';
import { BackupConfig, BackupList, cronProblem } from '../../src/integrations/backup/schema.js';

function problems(input: unknown): string[] {
  const parsed = BackupConfig.safeParse(input);
  return parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

const pg = { name: 'database', kind: 'postgres', url: 'postgres://backup@127.0.0.1:5432/brownie_metadata', folder: '/var/backups/brownie' };

describe('BackupConfig', () => {
  it('parses the three kinds as written in the catalog, with defaults', () => {
    expect(BackupConfig.parse({ ...pg, retention: { keep: 7 }, timeout: '30m', schedule: '0 2 * * *', timezone: 'UTC' })).toEqual({
      ...pg, format: 'custom', retention: { keep: 7 }, timeout: 1_800_000, schedule: '0 2 * * *', timezone: 'UTC',
    });
    expect(BackupConfig.parse(pg)).toEqual({ ...pg, format: 'custom', timeout: 1_800_000 });
    expect(BackupConfig.parse({ ...pg, format: 'plain', retention: { days: 14, keep: 3 } })).toMatchObject({ format: 'plain', retention: { days: 14, keep: 3 } });
    expect(BackupConfig.parse({ name: 'redis', kind: 'redis', url: 'redis://127.0.0.1:6379/0' })).toEqual({
      name: 'redis', kind: 'redis', url: 'redis://127.0.0.1:6379/0', timeout: 300_000,
    });
    expect(BackupConfig.parse({
      name: 'full', kind: 'command', argv: ['./scripts/backup.sh', '--skip-logs'], cwd: '/opt/dried-fruits', env: { KEY: 'value' }, timeout: '1h',
    })).toEqual({ name: 'full', kind: 'command', argv: ['./scripts/backup.sh', '--skip-logs'], cwd: '/opt/dried-fruits', env: { KEY: 'value' }, timeout: 3_600_000 });
  });

  it('accepts sslmode and a socket directory in the URL', () => {
    expect(problems({ ...pg, url: 'postgresql://backup:pw@db.internal/brownie?sslmode=verify-full&connect_timeout=10' })).toEqual([]);
    expect(problems({ ...pg, url: 'postgres:///brownie?host=/var/run/postgresql&user=backup' })).toEqual([]);
  });

  it.each([
    ['a bad name', { ...pg, name: 'Database' }, 'name: use lowercase letters, digits, "_" or "-" (at most 63, starting with a letter or digit)'],
    ['a name with a dot', { ...pg, name: 'db.main' }, 'name: use lowercase letters, digits, "_" or "-" (at most 63, starting with a letter or digit)'],
    ['an unknown kind', { ...pg, kind: 'mysql' }, 'kind: kind must be one of: postgres, redis, command'],
    ['an unknown key', { ...pg, foldr: '/x' }, ': unknown key "foldr" (allowed: name, kind, url, folder, format, retention, timeout, schedule, timezone)'],
    ['a redis key on a postgres backup', { ...pg, argv: ['x'] }, ': unknown key "argv" (allowed: name, kind, url, folder, format, retention, timeout, schedule, timezone)'],
    ['a mysql URL', { ...pg, url: 'mysql://h/db' }, 'url: must be a valid postgres:// or postgresql:// URL'],
    ['a URL without database', { ...pg, url: 'postgres://backup@127.0.0.1:5432/' }, 'url: must name the database, e.g. postgres://backup@127.0.0.1:5432/brownie_metadata'],
    ['a URL without host', { ...pg, url: 'postgres:///brownie' }, 'url: must name the host, e.g. postgres://backup@127.0.0.1:5432/brownie_metadata'],
    ['a database that reads as a connection string', { ...pg, url: 'postgres://h/host%3Devil' }, 'url: the database name must not contain "=" or "/"'],
    ['an unknown URL parameter', { ...pg, url: 'postgres://h/db?options=-c%20x' }, 'url: unsupported URL parameter "options" (allowed: sslmode, sslrootcert, sslcert, sslkey, connect_timeout, host, user)'],
    ['an empty folder', { ...pg, folder: '' }, 'folder: must be a folder such as /var/backups/brownie'],
    ['a format pg_restore cannot list', { ...pg, format: 'tar' }, 'format: Invalid option: expected one of "custom"|"plain"'],
    ['an empty retention', { ...pg, retention: {} }, 'retention: give keep (newest N backups), days (backups younger than N days), or both'],
    ['keep 0', { ...pg, retention: { keep: 0 } }, 'retention.keep: must keep at least 1 backup'],
    ['an unknown retention key', { ...pg, retention: { weeks: 4 } }, 'retention: unknown key "weeks" (allowed: keep, days)'],
    ['a bad timeout', { ...pg, timeout: 'forever' }, 'timeout: "forever" is not a duration; write it like "500ms", "5s", "15m", "4h" or "1d"'],
    ['a timeout over a day', { ...pg, timeout: '2d' }, 'timeout: must be at most 24h'],
    ['a 6-field schedule', { ...pg, schedule: '0 0 2 * * *' }, 'schedule: "0 0 2 * * *" has 6 fields; write 5: minute hour day-of-month month day-of-week, e.g. "0 2 * * *"'],
    ['an hour out of range', { ...pg, schedule: '0 25 * * *' }, 'schedule: the hour field "25" must stay within 0-23'],
    ['an unknown time zone', { ...pg, timezone: 'Mars/Olympus' }, 'timezone: must be an IANA time zone such as "UTC" or "Europe/Berlin"'],
    ['a redis URL with http scheme', { name: 'r', kind: 'redis', url: 'http://h:6379' }, 'url: must be a valid redis:// or rediss:// URL'],
    ['an empty argv', { name: 'full', kind: 'command', argv: [] }, 'argv: give at least the program, e.g. [./scripts/backup.sh]'],
    ['a bad env name', { name: 'full', kind: 'command', argv: ['x'], env: { 'A-B': 'v' } }, 'env.A-B: "A-B" is not a valid environment variable name'],
  ])('rejects %s', (_, input, problem) => {
    expect(problems(input)).toContain(problem);
  });

  it('never echoes the URL (it may hold a password) in its messages', () => {
    const messages = problems({ ...pg, url: 'postgres://backup:hunter2secret@127.0.0.1:5432/?options=x' }).join('\n');
    expect(messages).not.toBe('');
    expect(messages).not.toContain('hunter2secret');
  });

  it('rejects duplicate names within a service', () => {
    const parsed = BackupList.safeParse([pg, { ...pg, folder: '/tmp/x' }]);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual(['1.name: duplicate backup name "database"']);
  });
});

describe('cronProblem', () => {
  it.each(['0 2 * * *', '*/15 * * * *', '0 9-17/2 * * MON-FRI', '30 4 1,15 JAN,JUL 0', '0 0 * * 7'])('accepts %s', (expression) => {
    expect(cronProblem(expression)).toBeUndefined();
  });

  it.each([
    ['60 * * * *', 'the minute field "60" must stay within 0-59'],
    ['* * 0 * *', 'the day of month field "0" must stay within 1-31'],
    ['* * * 13 *', 'the month field "13" must stay within 1-12'],
    ['* * * * 8', 'the day of week field "8" must stay within 0-7'],
    ['0 2 * * * *', '"0 2 * * * *" has 6 fields; write 5: minute hour day-of-month month day-of-week, e.g. "0 2 * * *"'],
    ['0 2;rm * * *', 'the hour field "2;rm" is not valid cron syntax'],
  ])('rejects %s', (expression, problem) => {
    expect(cronProblem(expression)).toBe(problem);
  });
});

describe('backup folders', () => {
  it('resolves a relative folder from where Switchboard starts', () => {
    const parsed = BackupConfig.parse({ name: 'db', kind: 'postgres', url: 'postgres://u@127.0.0.1:5432/db', folder: './.data/backups' });
    expect(parsed.kind === 'postgres' && parsed.folder).toBe(`${process.cwd()}/.data/backups`);
  });
});
