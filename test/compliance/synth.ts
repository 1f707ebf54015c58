// Writes the templates of the compliance stacks to a directory (default
// test/compliance/cdk.out) for cfn-lint and checkov:
//   ts-node --project tsconfig.dev.json test/compliance/synth.ts [outdir]
import { rmSync } from 'fs';
import * as path from 'path';
import { buildComplianceApp } from './stacks';

const outdir = path.resolve(process.argv[2] ?? path.join(__dirname, 'cdk.out'));
rmSync(outdir, { recursive: true, force: true });
const { app } = buildComplianceApp(outdir);
const assembly = app.synth();
for (const stack of assembly.stacks) {
  console.log(path.relative(process.cwd(), path.join(outdir, stack.templateFile)));
}
