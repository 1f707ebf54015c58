// The library as users install it: the package `npm pack` makes from the
// compiled lib/ and bundled assets/, unpacked into a directory outside the
// repository next to this repository's aws-cdk-lib, constructs and cdk-nag
// (linked, so nothing is fetched), and used by a plain JavaScript app there.
import { execFileSync } from 'child_process';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { assertBuilt } from '../built-lib';

const ROOT = path.resolve(__dirname, '..', '..');
/** The runtime's reads, by statement: actions that have no resource type, for which IAM accepts only "*". */
const NO_RESOURCE_TYPE = [
  ['ssm:GetCommandInvocation', 'ssm:ListCommands'],
  ['autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribeAutoScalingInstances', 'autoscaling:DescribeWarmPool'],
  ['ssm:DescribeInstanceInformation'],
];
/** The hooks and each stack's runtime. */
const HOOKS = ['Owned/Drain/', 'Imported/Bootstrap/', 'Owned/LifecycleCommandRuntime/', 'Imported/LifecycleCommandRuntime/'];

const APP = `
const { App, CfnResource, Duration, Stack, aws_autoscaling: autoscaling, aws_ec2: ec2 } = require('aws-cdk-lib');
const { AwsSolutionsChecks } = require('cdk-nag');
const { LifecycleCommandHook, LifecycleCommandRuntime } = require('cdk-lifecycle-command-hook');

const app = new App({
  outdir: process.argv[2],
  context: { '@aws-cdk/aws-autoscaling:generateLaunchTemplateInsteadOfLaunchConfig': true },
});

// A group of the app with a terminate hook.
const owned = new Stack(app, 'Owned', { env: { account: '123456789012', region: 'eu-west-1' } });
const vpc = ec2.Vpc.fromVpcAttributes(owned, 'Vpc', {
  vpcId: 'vpc-0a1b2c3d4e5f60718',
  availabilityZones: ['eu-west-1a'],
  privateSubnetIds: ['subnet-0a1b2c3d4e5f60718'],
});
const group = new autoscaling.AutoScalingGroup(owned, 'Group', {
  vpc,
  instanceType: new ec2.InstanceType('t3.micro'),
  machineImage: ec2.MachineImage.latestAmazonLinux2023(),
});
const drain = new LifecycleCommandHook(owned, 'Drain', {
  autoScalingGroup: group,
  transition: autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
  commands: ['systemctl stop application'],
  timeout: Duration.minutes(5),
});

// An imported group with a launch hook.
const imported = new Stack(app, 'Imported');
const bootstrap = new LifecycleCommandHook(imported, 'Bootstrap', {
  autoScalingGroup: autoscaling.AutoScalingGroup.fromAutoScalingGroupName(imported, 'Fleet', 'web-fleet'),
  transition: autoscaling.LifecycleTransition.INSTANCE_LAUNCHING,
  commands: ['/opt/app/bootstrap.sh'],
  timeout: Duration.minutes(10),
});

const assembly = app.synth();
const report = new AwsSolutionsChecks().validateScope(app);
process.stdout.write(JSON.stringify({
  library: require.resolve('cdk-lifecycle-command-hook'),
  findings: report.violations.flatMap((v) => v.violatingResources.map((r) => ({ path: r.constructPath, rule: v.ruleName, severity: v.severity }))),
  templates: Object.fromEntries(assembly.stacks.map((s) => [s.stackName, s.template])),
  hookResources: Object.fromEntries([drain, bootstrap].map((hook) => [Stack.of(hook).stackName, [hook, hook.runtime].flatMap((c) => c.node.findAll())
    .filter((c) => CfnResource.isCfnResource(c)).map((r) => Stack.of(r).resolve(r.logicalId))])),
  prefixes: Object.fromEntries([drain, bootstrap].map((hook) => [Stack.of(hook).stackName, hook.runtime.namePrefix])),
  sharedRuntime: [drain, bootstrap].every((hook) => hook.runtime === LifecycleCommandRuntime.of(hook)),
}));
`;

interface Output {
  library: string;
  findings: Array<{ path: string; rule: string; severity: string }>;
  templates: Record<string, { Resources: Record<string, { Type: string; Properties: any; Metadata?: any }> }>;
  /** Logical ids of the hook's resources and its runtime's, by stack. */
  hookResources: Record<string, string[]>;
  /** The name prefix of each stack's runtime. */
  prefixes: Record<string, string>;
  /** Whether each hook is served by its stack's shared runtime. */
  sharedRuntime: boolean;
}

let workdir: string;
let packageJson: any;
let packedFiles: string[];
let output: Output;

beforeAll(() => {
  assertBuilt();
  workdir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'lifecycle-command-hook-user-')));
  const [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', workdir], { cwd: ROOT, encoding: 'utf8' }));
  packedFiles = packed.files.map((f: { path: string }) => f.path);
  execFileSync('tar', ['-xzf', path.join(workdir, packed.filename), '-C', workdir]);
  const modules = path.join(workdir, 'node_modules');
  mkdirSync(modules);
  renameSync(path.join(workdir, 'package'), path.join(modules, 'cdk-lifecycle-command-hook'));
  for (const dependency of ['aws-cdk-lib', 'constructs', 'cdk-nag']) {
    symlinkSync(path.join(ROOT, 'node_modules', dependency), path.join(modules, dependency), 'dir');
  }
  packageJson = JSON.parse(readFileSync(path.join(modules, 'cdk-lifecycle-command-hook', 'package.json'), 'utf8'));
  writeFileSync(path.join(workdir, 'app.js'), APP);
  output = JSON.parse(execFileSync(process.execPath, ['app.js', path.join(workdir, 'cdk.out')], {
    cwd: workdir,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, NODE_PATH: '' },
  }));
}, 120_000);

afterAll(() => {
  if (workdir) rmSync(workdir, { recursive: true, force: true });
});

test('the app outside the repository loads the packed library, which does not depend on cdk-nag', () => {
  expect(output.library.startsWith(path.join(workdir, 'node_modules', 'cdk-lifecycle-command-hook') + path.sep)).toBe(true);
  expect(packedFiles).toEqual(expect.arrayContaining(['lib/index.js', 'lib/nag-suppressions.js', 'assets/handler/lifecycle-command.lambda/index.js']));
  expect(packedFiles.filter((f) => f.startsWith('src/') || f.startsWith('test/'))).toEqual([]);
  for (const field of ['dependencies', 'peerDependencies', 'bundledDependencies', 'optionalDependencies']) {
    expect(Object.keys(packageJson[field] ?? {})).not.toContain('cdk-nag');
  }
});

test('AwsSolutions reports nothing on the hooks\' resources, their runtimes\', nor on the instance role the hook configures', () => {
  expect(output.sharedRuntime).toBe(true);
  const onHooks = output.findings.filter((f) => HOOKS.some((h) => f.path.startsWith(h)) || f.path.startsWith('Owned/Group/InstanceRole/'));
  expect(onHooks).toEqual([]);
  // The app's own group still gets its findings: the packs ran.
  expect(output.findings.map((f) => f.path)).toContain('Owned/Group/ASG');
});

test('no wildcard resource on an action that has a resource type', () => {
  const wildcards: string[] = [];
  expect(Object.keys(output.hookResources).sort()).toEqual(['Imported', 'Owned']);
  for (const [stackName, template] of Object.entries(output.templates)) {
    for (const logicalId of output.hookResources[stackName]) {
      const resource = template.Resources[logicalId];
      // Policies, and roles' inline policies (the hooks' roles).
      const documents = resource.Type === 'AWS::IAM::Policy' ? [resource.Properties.PolicyDocument]
        : resource.Type === 'AWS::IAM::Role' ? (resource.Properties.Policies ?? []).map((p: any) => p.PolicyDocument) : [];
      for (const statement of documents.flatMap((d: any) => d.Statement)) {
        const actions: string[] = [statement.Action].flat();
        for (const r of [statement.Resource].flat().map(flatten)) {
          if (r === '*') expect(NO_RESOURCE_TYPE).toContainEqual([...actions].sort());
          else if (r.includes('*')) wildcards.push(`${actions.join(',')} ${r}${statement.Condition ? ' ' + JSON.stringify(statement.Condition) : ''}`);
        }
      }
    }
  }
  // The only other "*" in a resource: instance ids, limited by the group tag, and the group's id in its ARN (the hooks'
  // roles); the hooks' settings and roles, under the runtime's own path (the function's role).
  const { Owned: owned, Imported: imported } = output.prefixes;
  // The tag the hook places on the group of the app, and so on its instances: named by the hook's document.
  const tags = Object.values(output.templates.Owned.Resources).filter((r) => r.Type === 'AWS::AutoScaling::AutoScalingGroup')
    .flatMap((r) => r.Properties.Tags ?? []).filter((t: any) => String(t.Key).startsWith('cdk-lifecycle-command-hook:'));
  expect(tags).toEqual([{ Key: expect.stringMatching(/^cdk-lifecycle-command-hook:[0-9a-f]{12}$/), Value: expect.stringMatching(new RegExp(`^${owned}-`)), PropagateAtLaunch: true }]);
  const [tag] = tags;
  expect(wildcards.sort()).toEqual([
    `ssm:GetParameter,ssm:GetParametersByPath arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter/cdk-lifecycle-command-hook/${imported}/*`,
    `ssm:GetParameter,ssm:GetParametersByPath arn:<AWS::Partition>:ssm:eu-west-1:123456789012:parameter/cdk-lifecycle-command-hook/${owned}/*`,
    `sts:AssumeRole arn:<AWS::Partition>:iam::123456789012:role/cdk-lifecycle-command-hook/${owned}/*`,
    `sts:AssumeRole arn:<AWS::Partition>:iam::<AWS::AccountId>:role/cdk-lifecycle-command-hook/${imported}/*`,
    'autoscaling:CompleteLifecycleAction,autoscaling:RecordLifecycleActionHeartbeat arn:<AWS::Partition>:autoscaling:<AWS::Region>:<AWS::AccountId>:autoScalingGroup:*:autoScalingGroupName/web-fleet',
    // The group of the app is known by the hook's tag, on the group and on its instances, not by its name.
    `autoscaling:CompleteLifecycleAction,autoscaling:RecordLifecycleActionHeartbeat arn:<AWS::Partition>:autoscaling:eu-west-1:123456789012:autoScalingGroup:*:autoScalingGroupName/* {"StringEquals":{"autoscaling:ResourceTag/${tag.Key}":"${tag.Value}"}}`,
    'ssm:SendCommand arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:instance/* {"StringEquals":{"ssm:resourceTag/aws:autoscaling:groupName":"web-fleet"}}',
    `ssm:SendCommand arn:<AWS::Partition>:ec2:eu-west-1:123456789012:instance/* {"StringEquals":{"ssm:resourceTag/${tag.Key}":"${tag.Value}"}}`,
  ].sort());
});

/** A template value as text, `Ref` written `<Name>`. */
function flatten(value: any): string {
  if (typeof value === 'string') return value;
  if (value?.['Fn::Join']) return value['Fn::Join'][1].map(flatten).join(value['Fn::Join'][0]);
  if (value?.Ref) return `<${value.Ref}>`;
  if (value?.['Fn::GetAtt']) return `<${value['Fn::GetAtt'].join('.')}>`;
  throw new Error(`unexpected template value ${JSON.stringify(value)}`);
}
