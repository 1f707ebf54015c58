// Size and cold module-load time of the shipped handler bundle, beside the same
// handler with the AWS SDK bundled in and minified.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildSync } from 'esbuild';

const ROOT = path.join(__dirname, '..');
const SHIPPED = path.join(ROOT, 'assets/handler/lifecycle-command.lambda/index.js');
const ENTRY = path.join(ROOT, 'src/handler/lifecycle-command.lambda.ts');

export interface HandlerSizeRow {
  readonly variant: string;
  readonly bytes: number;
  readonly medianLoadMs: number;
  readonly processes: number;
}

/** Builds the handler with the SDK inside, as a consumer-side bundler would. */
function bundleWithSdk(outDir: string): string {
  const outfile = path.join(outDir, 'index.js');
  buildSync({
    entryPoints: [ENTRY],
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node22',
    outfile,
    // Resolve the SDK from the repository's node_modules.
    nodePaths: [path.join(ROOT, 'node_modules')],
    logLevel: 'silent',
  });
  return outfile;
}

/** Loads the module in a fresh Node process and returns the time require() took, in ms. */
function coldLoadMs(file: string): number {
  const script = `const t=process.hrtime.bigint();require(${JSON.stringify(file)});` +
    'process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))';
  const run = spawnSync(process.execPath, ['-e', script], {
    cwd: ROOT,
    env: { ...process.env, AWS_REGION: 'eu-west-1', NODE_PATH: path.join(ROOT, 'node_modules') },
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`loading ${file} failed: ${run.stderr}`);
  return Number(run.stdout);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function measureHandlerSize(processes = 21): HandlerSizeRow[] {
  if (!fs.existsSync(SHIPPED)) throw new Error(`${SHIPPED} is missing: run "npx projen bundle" first`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'handler-bundle-'));
  // A copy outside the repository, so that the shipped bundle's SDK imports
  // resolve through NODE_PATH exactly as Lambda resolves the runtime's SDK.
  const shippedCopy = path.join(dir, 'shipped.js');
  fs.copyFileSync(SHIPPED, shippedCopy);
  const withSdk = bundleWithSdk(path.join(dir, 'with-sdk'));
  const variants: Array<[string, string]> = [
    ['shipped (SDK from the Lambda runtime)', shippedCopy],
    ['SDK bundled and minified', withSdk],
  ];
  return variants.map(([variant, file]) => {
    const times = Array.from({ length: processes }, () => coldLoadMs(file));
    return { variant, bytes: fs.statSync(file).size, medianLoadMs: median(times), processes };
  });
}

if (require.main === module) {
  console.table(measureHandlerSize());
}
