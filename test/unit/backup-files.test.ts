import { describe, expect, it } from 'vitest';
import { backupFileName, formatStamp, matchBackupFiles, selectExpired } from '../../src/integrations/backup/backup-files.js';

const at = (iso: string) => new Date(iso);
const DAY = 86_400_000;

describe('backup file names', () => {
  it('stamps UTC to the second', () => {
    expect(formatStamp(at('2024-05-01T02:00:07.123Z'))).toBe('20240501T020007Z');
    expect(backupFileName('brownie', 'database', at('2024-05-01T02:00:07Z'), 'dump')).toBe('brownie-database-20240501T020007Z.dump');
  });

  it('matches only this service and backup name, in both formats', () => {
    const names = [
      'brownie-database-20240501T020000Z.dump',
      'brownie-database-20240502T020000Z.sql',
      'brownie-database-20240503T020000Z.dump.partial',
      'brownie-database-main-20240501T020000Z.dump',
      'other-database-20240501T020000Z.dump',
      'brownie-database-latest.dump',
      'brownie-database-20240501T020000Z.dump.sha256',
      'notes.txt',
    ];
    expect(matchBackupFiles(names, 'brownie', 'database')).toEqual([
      { name: 'brownie-database-20240501T020000Z.dump', takenAt: at('2024-05-01T02:00:00Z') },
      { name: 'brownie-database-20240502T020000Z.sql', takenAt: at('2024-05-02T02:00:00Z') },
    ]);
  });
});

describe('selectExpired', () => {
  const now = at('2024-05-10T03:00:00Z');
  const files = [1, 2, 3, 4, 5].map((daysAgo) => ({ name: `s-db-${daysAgo}`, takenAt: new Date(now.getTime() - daysAgo * DAY) }));
  const names = (list: { name: string }[]) => list.map((f) => f.name).sort();

  it('keeps the newest N', () => {
    expect(names(selectExpired(files, { keep: 2 }, now))).toEqual(['s-db-3', 's-db-4', 's-db-5']);
  });

  it('keeps what is younger than N days', () => {
    expect(names(selectExpired(files, { days: 3.5 }, now))).toEqual(['s-db-4', 's-db-5']);
  });

  it('with both rules, keeps a file that either rule keeps', () => {
    expect(names(selectExpired(files, { keep: 4, days: 2.5 }, now))).toEqual(['s-db-5']);
    expect(names(selectExpired(files, { keep: 1, days: 2.5 }, now))).toEqual(['s-db-3', 's-db-4', 's-db-5']);
  });

  it('never removes the protected file, whatever its stamp says', () => {
    expect(names(selectExpired(files, { keep: 1 }, now, 's-db-5'))).toEqual(['s-db-2', 's-db-3', 's-db-4']);
  });
});
