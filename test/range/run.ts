// Proves the aws-cdk-lib range the package declares, at both ends: the floor
// (the lowest version of package.json's peer range) and the newest version
// given as the first argument. For each version, in an app directory outside
// the repository:
//   1. npm installs that aws-cdk-lib with the packed library, strict about peer
//      dependencies and without --legacy-peer-deps, as a user's app would;
//   2. src/ type-checks against that version's declarations (an older
//      aws-cdk-lib ignores a property it does not know at run time, so only the
//      compiler sees that a property came later than the floor);
//   3. a TypeScript app using the installed package compiles and synthesizes;
//      below the aws-cdk-lib versions cdk-nag 3 supports, cdk-nag 2 checks it
//      too, and finds nothing on the hooks' resources (the suppressions in their
//      metadata);
//   4. the construct's jest tests and the compliance stacks (test/range/*.range.ts)
//      run with that aws-cdk-lib mapped in place of the repository's.
// Usage: ts-node --project tsconfig.dev.json test/range/run.ts <newest> [--only=<version>] [--keep]
import { spawnSync, SpawnSyncOptions } from 'child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..');
const PACKAGE = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const JEST = path.join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js');
/** cdk-nag 2, for the aws-cdk-lib versions below those cdk-nag 3 supports: its peer range starts at 2.116.0. */
const CDK_NAG_2 = '2.28.98';

interface Result { version: string; tests: string; seconds: number }

function main() {
  const args = process.argv.slice(2);
  const newest = args.find((a) => !a.startsWith('--'));
  if (!newest || !/^2\.\d+\.\d+$/.test(newest)) throw new Error(`usage: run.ts <newest aws-cdk-lib version, e.g. 2.276.0>; got ${JSON.stringify(newest)}`);
  const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length);
  const keep = args.includes('--keep');

  const floor = lowestOf('aws-cdk-lib');
  checkFloorPins(floor);
  if (compareVersions(newest, floor) < 0) throw new Error(`the newest version ${newest} is below the floor ${floor}`);
  const versions = [floor, newest].filter((v, i, all) => all.indexOf(v) === i && (!only || v === only));
  if (versions.length === 0) throw new Error(`--only=${only} is neither the floor ${floor} nor the newest ${newest}`);

  assertBuilt();
  const scratch = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'lifecycle-command-hook-range-')));
  const results: Result[] = [];
  try {
    const tarball = pack(scratch);
    for (const version of versions) {
      const started = Date.now();
      console.log(`\n== aws-cdk-lib ${version}${version === floor ? ' (the floor)' : ' (the newest)'}`);
      const app = path.join(scratch, `app-${version}`);
      const nag2 = !nag3Admits(version);
      installApp(app, version, tarball, nag2);
      typeCheckSource(app, version);
      synthesizeApp(app, version, nag2);
      const tests = runJest(app, version);
      results.push({ version, tests, seconds: Math.round((Date.now() - started) / 1000) });
    }
  } finally {
    if (keep) console.log(`kept ${scratch}`);
    else rmSync(scratch, { recursive: true, force: true });
  }
  console.log('\n| aws-cdk-lib | install, type-check, app synth | jest | seconds |\n|---|---|---|---|');
  for (const r of results) console.log(`| ${r.version} | ok | ${r.tests} | ${r.seconds} |`);
}

/** The lowest version of a peer dependency's range, which must be `^x.y.z`. */
function lowestOf(name: string): string {
  const range: string | undefined = PACKAGE.peerDependencies?.[name];
  const match = range?.match(/^\^(\d+\.\d+\.\d+)$/);
  if (!match) throw new Error(`package.json: peerDependencies["${name}"] is ${JSON.stringify(range)}; expected "^x.y.z"`);
  return match[1];
}

/** The consumer suites of the other languages pin the floor too; a floor raised or lowered must move them. */
function checkFloorPins(floor: string) {
  const python = readFileSync(path.join(ROOT, 'test', 'python', 'requirements.txt'), 'utf8');
  const pinned = python.match(/^aws-cdk-lib==(\S+)$/m)?.[1];
  if (pinned !== floor) {
    throw new Error(`test/python/requirements.txt pins aws-cdk-lib==${pinned}, but the floor in package.json is ${floor}; pin the floor there.`);
  }
}

function pack(scratch: string): string {
  const out = run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', scratch], { cwd: ROOT });
  const [packed] = JSON.parse(out);
  console.log(`packed ${packed.filename} (${packed.entryCount} files)`);
  return path.join(scratch, packed.filename);
}

/**
 * npm installs the app's dependencies as a user's `npm install` would, with
 * `--strict-peer-deps` so that any peer-dependency conflict in the tree fails.
 */
function installApp(app: string, version: string, tarball: string, nag2: boolean) {
  const constructs = lowestOf('constructs');
  writeJson(path.join(app, 'package.json'), {
    name: `range-app-${version}`,
    version: '0.0.0',
    private: true,
    dependencies: {
      'aws-cdk-lib': version,
      'constructs': constructs,
      'cdk-lifecycle-command-hook': `file:${tarball}`,
      ...(nag2 ? { 'cdk-nag': CDK_NAG_2 } : {}),
    },
  });
  const install = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--strict-peer-deps', '--legacy-peer-deps=false'], {
    cwd: app, encoding: 'utf8', env: npmEnv(),
  });
  if (install.status !== 0) {
    throw new Error(`npm install of aws-cdk-lib ${version} with the packed library failed (a peer-dependency error means package.json's range does not admit it):\n${install.stdout}\n${install.stderr}`);
  }
  const installed = JSON.parse(readFileSync(path.join(app, 'node_modules', 'aws-cdk-lib', 'package.json'), 'utf8')).version;
  if (installed !== version) throw new Error(`asked for aws-cdk-lib ${version}, npm installed ${installed}`);
  const nested = path.join(app, 'node_modules', 'cdk-lifecycle-command-hook', 'node_modules', 'aws-cdk-lib');
  if (existsSync(nested)) throw new Error(`npm installed a second aws-cdk-lib for the library (${nested}): it must use the app's`);
  console.log(`installed aws-cdk-lib ${installed}, constructs ${constructs}${nag2 ? `, cdk-nag ${CDK_NAG_2}` : ''} and the packed library without peer-dependency errors`);
}

/** npm's configuration from the environment (npx passes its own) must not loosen the install. */
function npmEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_config_(legacy_peer_deps|strict_peer_deps|force)$/i.test(k)));
}

/** src/ against this version's declarations instead of the repository's. */
function typeCheckSource(app: string, version: string) {
  const modules = path.join(app, 'node_modules');
  const tsconfig = path.join(app, 'tsconfig.src.json');
  writeJson(tsconfig, {
    extends: path.join(ROOT, 'tsconfig.dev.json'),
    compilerOptions: {
      noEmit: true,
      typeRoots: [path.join(ROOT, 'node_modules', '@types')],
      paths: {
        'aws-cdk-lib': [path.join(modules, 'aws-cdk-lib')],
        'aws-cdk-lib/*': [path.join(modules, 'aws-cdk-lib', '*')],
        'constructs': [path.join(modules, 'constructs')],
      },
    },
    include: [],
    files: [path.join(ROOT, 'src', 'index.ts')],
  });
  const check = spawnSync(process.execPath, [TSC, '-p', tsconfig], { cwd: app, encoding: 'utf8' });
  if (check.status !== 0) {
    throw new Error(`src/ does not compile against aws-cdk-lib ${version}: it uses an API that version lacks, so the floor in package.json is too low.\n${check.stdout}${check.stderr}`);
  }
  console.log(`src/ type-checks against aws-cdk-lib ${version}`);
}

const APP = `import { App, Aspects, CfnOutput, Duration, Stack, aws_autoscaling as autoscaling, aws_ec2 as ec2 } from 'aws-cdk-lib';
import { LifecycleCommandHook } from 'cdk-lifecycle-command-hook';

const app = new App({ outdir: 'cdk.out' });
const stack = new Stack(app, 'Hooks', { env: { account: '123456789012', region: 'eu-west-1' } });
const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
  vpcId: 'vpc-0a1b2c3d4e5f60718',
  availabilityZones: ['eu-west-1a'],
  privateSubnetIds: ['subnet-0a1b2c3d4e5f60718'],
});
const group = new autoscaling.AutoScalingGroup(stack, 'Group', {
  vpc,
  instanceType: new ec2.InstanceType('t3.micro'),
  machineImage: ec2.MachineImage.latestAmazonLinux2023(),
});
const drain: LifecycleCommandHook = new LifecycleCommandHook(stack, 'Drain', {
  autoScalingGroup: group,
  transition: autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
  commands: ['systemctl stop application'],
  timeout: Duration.minutes(5),
});
new LifecycleCommandHook(stack, 'Bootstrap', {
  autoScalingGroup: autoscaling.AutoScalingGroup.fromAutoScalingGroupName(stack, 'Fleet', 'web-fleet'),
  transition: autoscaling.LifecycleTransition.INSTANCE_LAUNCHING,
  commands: ['/opt/app/bootstrap.sh'],
  timeout: Duration.minutes(10),
  registrationTimeout: Duration.minutes(5),
});
// The library's declarations, typed against this aws-cdk-lib's.
const heartbeat: Duration = drain.heartbeatTimeout;
new CfnOutput(stack, 'DrainHeartbeatSeconds', { value: String(heartbeat.toSeconds()) });
if (process.env.CDK_NAG_2) {
  const { AwsSolutionsChecks } = require('cdk-nag');
  Aspects.of(app).add(new AwsSolutionsChecks());
}
const assembly = app.synth();
// cdk-nag 2 reports each finding as an error annotation: "<path> <rule>".
const findings = assembly.stacks.flatMap((s) => s.messages
  .filter((m) => m.level === 'error')
  .map((m) => m.id + ' ' + String(m.entry.data).split(':')[0]));
console.log(JSON.stringify(findings));
`;

/**
 * A TypeScript app, compiled strictly against the installed declarations,
 * synthesizes the hooks; with cdk-nag 2, its AwsSolutions pack finds nothing on
 * the hooks' resources nor on the instance role a hook configures.
 */
function synthesizeApp(app: string, version: string, nag2: boolean) {
  writeFileSync(path.join(app, 'app.ts'), APP);
  writeJson(path.join(app, 'tsconfig.json'), {
    compilerOptions: {
      target: 'ES2022',
      module: 'commonjs',
      strict: true,
      skipLibCheck: true,
      typeRoots: [path.join(ROOT, 'node_modules', '@types')],
      types: ['node'],
    },
    files: ['app.ts'],
  });
  const compiled = spawnSync(process.execPath, [TSC, '-p', 'tsconfig.json'], { cwd: app, encoding: 'utf8' });
  if (compiled.status !== 0) throw new Error(`the TypeScript app does not compile with aws-cdk-lib ${version}:\n${compiled.stdout}${compiled.stderr}`);
  // NODE_PATH cleared: the app must find everything in its own node_modules.
  const env = { ...process.env, NODE_PATH: '', CDK_NAG_2: nag2 ? '1' : '' };
  const findings: string[] = JSON.parse(run(process.execPath, ['app.js'], { cwd: app, env }));
  if (nag2) {
    const onHooks = findings.filter((f) => /^\/Hooks\/(Drain|Bootstrap|LifecycleCommandRuntime|Group\/InstanceRole)\//.test(f));
    if (onHooks.length) throw new Error(`cdk-nag ${CDK_NAG_2} reports findings on the hooks' resources with aws-cdk-lib ${version}:\n${onHooks.join('\n')}`);
    // The app's own group still gets its findings: the pack ran.
    if (!findings.some((f) => f.startsWith('/Hooks/Group/'))) throw new Error(`cdk-nag ${CDK_NAG_2} reported nothing at all with aws-cdk-lib ${version}: did its pack run?`);
    console.log(`cdk-nag ${CDK_NAG_2} finds nothing on the hooks' resources (${findings.length} findings on the app's own group)`);
  }

  const template = JSON.parse(readFileSync(path.join(app, 'cdk.out', 'Hooks.template.json'), 'utf8'));
  const resources = Object.values(template.Resources) as Array<{ Type: string; Properties: any }>;
  const ofType = (type: string) => resources.filter((r) => r.Type === type);
  const problems: string[] = [];
  // The hook on the imported group is a lifecycle hook of its own; the one on the app's group is
  // in the group's own definition (LifecycleHookSpecificationList), and the group carries its tag.
  const separateHooks = ofType('AWS::AutoScaling::LifecycleHook');
  if (separateHooks.length !== 1 || separateHooks[0].Properties.AutoScalingGroupName !== 'web-fleet'
    || separateHooks[0].Properties.LifecycleTransition !== 'autoscaling:EC2_INSTANCE_LAUNCHING') {
    problems.push(`one lifecycle hook resource, the imported group's (got ${JSON.stringify(separateHooks)})`);
  }
  const groups = ofType('AWS::AutoScaling::AutoScalingGroup');
  const specs = groups.flatMap((g) => g.Properties.LifecycleHookSpecificationList ?? []);
  if (groups.length !== 1 || specs.length !== 1 || specs[0].LifecycleTransition !== 'autoscaling:EC2_INSTANCE_TERMINATING'
    || specs[0].DefaultResult !== 'CONTINUE' || specs[0].HeartbeatTimeout !== 900) {
    problems.push(`the drain hook in the group's LifecycleHookSpecificationList (got ${JSON.stringify(specs)})`);
  }
  const hookTags = groups.flatMap((g) => g.Properties.Tags ?? []).filter((t: any) => /^cdk-lifecycle-command-hook:[0-9a-f]{12}$/.test(t.Key));
  if (hookTags.length !== 1 || hookTags[0].PropagateAtLaunch !== true) problems.push(`the drain hook's tag on the group and its instances (got ${JSON.stringify(hookTags)})`);
  // Both hooks name no runtime: the stack's shared runtime serves them with one function.
  const handlers = ofType('AWS::Lambda::Function').filter((f) => f.Properties.Runtime === 'nodejs24.x');
  if (handlers.length !== 1 || ofType('AWS::Lambda::Function').length !== 1) problems.push('one shared handler function on nodejs24.x');
  for (const f of handlers) {
    const logging = f.Properties.LoggingConfig ?? {};
    if (logging.LogFormat !== 'JSON' || logging.ApplicationLogLevel !== 'INFO' || logging.SystemLogLevel !== 'WARN' || !logging.LogGroup) {
      problems.push(`JSON logging with levels and its own log group on the handler (got ${JSON.stringify(logging)})`);
    }
    // Staged as asset.<hash> plus the bundle directory's extension.
    const hash = f.Properties.Code?.S3Key?.replace(/\.zip$/, '');
    const staged = readdirSync(path.join(app, 'cdk.out')).find((d) => hash && d.startsWith(`asset.${hash}`));
    if (!staged || !existsSync(path.join(app, 'cdk.out', staged, 'index.js'))) problems.push(`the handler bundle in cdk.out (S3Key ${f.Properties.Code?.S3Key})`);
  }
  if (ofType('AWS::SSM::Document').filter((d) => d.Properties.UpdateMethod === 'NewVersion').length !== 2) problems.push('two SSM documents updated as new versions');
  // The launch hook's registration wait is the runtime's, and each hook has a role that the function assumes.
  if (ofType('AWS::StepFunctions::StateMachine').length !== 1) problems.push('the runtime\'s registration wait state machine');
  const hookRoles = ofType('AWS::IAM::Role').filter((r) => (r.Properties.Path ?? '').startsWith('/cdk-lifecycle-command-hook/'));
  if (hookRoles.length !== 2) problems.push('a role of its own for each hook');
  if (problems.length) throw new Error(`the app synthesized with aws-cdk-lib ${version} lacks: ${problems.join('; ')}`);
  console.log(`a TypeScript app compiles and synthesizes both hooks with aws-cdk-lib ${version}`);
}

/**
 * The construct's jest tests (those that import aws-cdk-lib) and
 * test/range/*.range.ts, with aws-cdk-lib and constructs resolved from the app.
 * Tests that use cdk-nag run only where its peer range admits the version.
 * published-lib.test.ts is left to the main suite: it links the repository's
 * aws-cdk-lib into an app of its own, which the app here stands in for.
 */
function runJest(app: string, version: string): string {
  const modules = path.join(app, 'node_modules');
  const nagAdmits = nag3Admits(version);
  const all = testFiles(path.join(ROOT, 'test'));
  const skipped: string[] = [];
  const files = all.filter((file) => {
    if (file.endsWith('.range.ts')) return true;
    const imported = importedModules(file);
    if (!imported.has('aws-cdk-lib') || path.basename(file) === 'published-lib.test.ts') return false;
    if (!nagAdmits && imported.has('cdk-nag')) {
      skipped.push(path.relative(ROOT, file));
      return false;
    }
    return true;
  });
  if (skipped.length) console.log(`the repository's cdk-nag does not admit aws-cdk-lib ${version}; not run: ${skipped.join(', ')}`);
  const config = {
    ...PACKAGE.jest,
    rootDir: ROOT,
    testMatch: ['<rootDir>/test/**/*.test.ts', '<rootDir>/test/range/**/*.range.ts'],
    collectCoverage: false,
    reporters: ['default'],
    moduleNameMapper: {
      '^aws-cdk-lib$': path.join(modules, 'aws-cdk-lib'),
      '^aws-cdk-lib/(.*)$': path.join(modules, 'aws-cdk-lib', '$1'),
      '^constructs$': path.join(modules, 'constructs'),
    },
  };
  const jest = spawnSync(process.execPath, [JEST, '--config', JSON.stringify(config), '--ci', '--runTestsByPath', ...files], {
    cwd: ROOT, encoding: 'utf8', env: { ...process.env, RANGE_AWS_CDK_LIB_VERSION: version, RANGE_NODE_MODULES: modules },
  });
  process.stdout.write(jest.stderr.split('\n').filter((l) => /^(PASS|FAIL|Tests:)/.test(l)).join('\n') + '\n');
  if (jest.status !== 0) throw new Error(`the jest tests fail with aws-cdk-lib ${version}:\n${jest.stdout}${jest.stderr}`);
  const summary = jest.stderr.match(/^Tests:\s+(.*)$/m)?.[1] ?? '';
  return `${files.length} files, ${summary}`;
}

/** The packages a file imports, itself or through the repository's files it imports. */
function importedModules(file: string, seen = new Set<string>()): Set<string> {
  const modules = new Set<string>();
  if (seen.has(file)) return modules;
  seen.add(file);
  for (const [, specifier] of readFileSync(file, 'utf8').matchAll(/^(?:import|export)\b[^;]*?from '([^']+)'/gms)) {
    if (!specifier.startsWith('.')) {
      modules.add(specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]);
      continue;
    }
    const base = path.resolve(path.dirname(file), specifier);
    const resolved = [`${base}.ts`, path.join(base, 'index.ts')].find(existsSync);
    if (resolved) importedModules(resolved, seen).forEach((m) => modules.add(m));
  }
  return modules;
}

/** Whether the repository's cdk-nag (3) admits this aws-cdk-lib version in its peer range `^x.y.z`. */
function nag3Admits(version: string): boolean {
  const peer: string = JSON.parse(readFileSync(path.join(ROOT, 'node_modules', 'cdk-nag', 'package.json'), 'utf8')).peerDependencies['aws-cdk-lib'];
  return compareVersions(version, peer.replace(/^\^/, '')) >= 0;
}

function testFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => !f.split(path.sep).includes('node_modules') && (f.endsWith('.test.ts') || f.endsWith('.range.ts')))
    .map((f) => path.join(dir, f))
    .sort();
}

/** The package is made from lib/ and assets/: they must be built from the current src/. */
function assertBuilt() {
  const mtime = (file: string) => (existsSync(file) ? statSync(file).mtimeMs : 0);
  const stale = readdirSync(path.join(ROOT, 'src'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.lambda.ts'))
    .filter((f) => mtime(path.join(ROOT, 'lib', f.replace(/\.ts$/, '.js'))) < mtime(path.join(ROOT, 'src', f)));
  if (!existsSync(path.join(ROOT, 'assets', 'handler', 'lifecycle-command.lambda', 'index.js'))) stale.push('assets/ (the handler bundle)');
  if (stale.length) throw new Error(`lib/ is older than src/ (${stale.join(', ')}): run \`npx projen bundle && npx projen compile\` first.`);
}

function compareVersions(a: string, b: string): number {
  const [pa, pb] = [a, b].map((v) => v.split('.').map(Number));
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i] - pb[i];
  return 0;
}

function run(command: string, args: string[], options: SpawnSyncOptions): string {
  const result = spawnSync(command, args, { encoding: 'utf8', ...options });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed:\n${result.stdout}${result.stderr}`);
  return String(result.stdout);
}

function writeJson(file: string, value: unknown) {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(value, null, 2) + '\n');
}

main();
