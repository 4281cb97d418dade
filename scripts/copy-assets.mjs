// Copies what `tsc` does not emit (SQL migrations, the sandbox page) from src/ to dist/, beside the
// compiled modules that read them through import.meta.url.
import { cpSync } from 'node:fs';

cpSync('src', 'dist', {
  recursive: true,
  filter: (path) => !path.endsWith('.ts') && !path.startsWith('src/simulator'),
});
