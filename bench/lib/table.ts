/** A table printed to the terminal (aligned columns) and written to Markdown (the docs). */
export interface Table {
  title: string;
  header: string[];
  rows: string[][];
  notes?: string[];
}

export function toText(table: Table): string {
  const widths = table.header.map((h, i) => Math.max(h.length, ...table.rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const out = [table.title, line(table.header), widths.map((w) => '─'.repeat(w)).join('  '), ...table.rows.map(line)];
  for (const note of table.notes ?? []) out.push(`  ${note}`);
  return out.join('\n');
}

const cell = (text: string) => text.replaceAll('|', '\\|');

export function toMarkdown(table: Table, level = '###'): string {
  const out = [`${level} ${table.title}`, '', `| ${table.header.map(cell).join(' | ')} |`, `|${table.header.map(() => '---').join('|')}|`];
  for (const row of table.rows) out.push(`| ${row.map(cell).join(' | ')} |`);
  if (table.notes?.length) out.push('', ...table.notes.map((n) => `- ${n}`));
  return out.join('\n');
}
