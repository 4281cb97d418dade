import { describe, expect, it } from 'vitest';
import { buildPgDumpCommand, describeConnection, parsePostgresUrl, pgPassFileLine } from '../../src/integrations/postgres/backup-command.js';

const PASSWORD = 's3cr:et\\pa ss@/#';
const url = `postgres://backup:${encodeURIComponent(PASSWORD)}@10.0.0.5:6543/brownie_metadata?sslmode=require`;

describe('buildPgDumpCommand', () => {
  it('passes the connection as options and the password only through PGPASSFILE', () => {
    const command = buildPgDumpCommand({ config: { url, format: 'custom' }, file: '/b/x.dump.partial', passFile: '/tmp/p/pgpass' });
    expect(command.argv).toEqual([
      'pg_dump', '--format=custom', '--no-password', '--file=/b/x.dump.partial',
      '--host=10.0.0.5', '--port=6543', '--username=backup', '--dbname=brownie_metadata',
    ]);
    expect(command.env).toEqual({ PGPASSFILE: '/tmp/p/pgpass', PGSSLMODE: 'require', PGAPPNAME: 'switchboard-backup' });
    const everything = JSON.stringify(command);
    for (const form of [PASSWORD, encodeURIComponent(PASSWORD), 's3cr']) expect(everything).not.toContain(form);
  });

  it('sets no PGPASSFILE when the URL has no password, and leaves out what the URL does not say', () => {
    const command = buildPgDumpCommand({ config: { url: 'postgresql://db.internal/app', format: 'plain' }, file: '/b/x.sql.partial', passFile: undefined, program: '/usr/lib/postgresql/15/bin/pg_dump' });
    expect(command.argv).toEqual(['/usr/lib/postgresql/15/bin/pg_dump', '--format=plain', '--no-password', '--file=/b/x.sql.partial', '--host=db.internal', '--dbname=app']);
    expect(command.env).toEqual({ PGAPPNAME: 'switchboard-backup' });
  });

  it('unwraps IPv6 literals and maps a socket directory to PGHOST', () => {
    expect(parsePostgresUrl('postgres://u@[::1]:5432/db').host).toBe('::1');
    const socket = parsePostgresUrl('postgres:///db?host=/var/run/postgresql&user=backup');
    expect(socket.host).toBeUndefined();
    expect(socket.env).toEqual({ PGHOST: '/var/run/postgresql', PGUSER: 'backup' });
    expect(describeConnection(socket)).toBe('db at /var/run/postgresql');
  });

  it('describes the connection without the password', () => {
    expect(describeConnection(parsePostgresUrl(url))).toBe('brownie_metadata at 10.0.0.5:6543');
  });
});

describe('pgPassFileLine', () => {
  it('matches any server and escapes ":" and "\\" as libpq requires', () => {
    expect(pgPassFileLine(PASSWORD)).toBe('*:*:*:*:s3cr\\:et\\\\pa ss@/#\n');
  });
});
