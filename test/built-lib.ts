// The compiled library and the bundled handler, as tests that use them need
// them: built from the current src/.
import { readdirSync, statSync } from 'fs';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..');

/** The package is made from lib/ and assets/: they must be built from the current src/. */
export function assertBuilt() {
  const stale: string[] = [];
  const newest = (dir: string, test: (f: string) => boolean): number => Math.max(0, ...readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter(test).map((f) => statSync(path.join(dir, f)).mtimeMs));
  const mtime = (file: string) => { try { return statSync(file).mtimeMs; } catch { return 0; } };
  for (const file of readdirSync(path.join(ROOT, 'src'), { recursive: true, encoding: 'utf8' })) {
    if (!file.endsWith('.ts') || file.endsWith('.lambda.ts')) continue;
    const compiled = path.join(ROOT, 'lib', file.replace(/\.ts$/, '.js'));
    if (mtime(compiled) < mtime(path.join(ROOT, 'src', file))) stale.push(`lib/${file.replace(/\.ts$/, '.js')}`);
  }
  const bundle = path.join(ROOT, 'assets', 'handler', 'lifecycle-command.lambda', 'index.js');
  // The bundle holds the handler's code; the projen-generated *-function.ts is not part of it.
  if (mtime(bundle) < newest(path.join(ROOT, 'src', 'handler'), (f) => f.endsWith('.ts') && !f.endsWith('-function.ts'))) stale.push('assets/handler/lifecycle-command.lambda/index.js');
  if (stale.length) {
    throw new Error(`older than src/, so the package would not be what src/ builds: ${stale.join(', ')}. Run \`npx projen bundle && npx projen compile\` first.`);
  }
}
