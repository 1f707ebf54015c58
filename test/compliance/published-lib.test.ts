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
const NO_RESOURCE_TYPE = ['ssm:DescribeInstanceInformation', 'ssm:ListCommands'];
/** The reconciliation pass's reads: no resource type either. */
const PASS_READS = ['autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribeWarmPool', 'ssm:GetCommandInvocation'];
const HOOKS = ['Owned/Drain/', 'Imported/Bootstrap/'];

const APP = `
const { App, CfnResource, Duration, Stack, aws_autoscaling: autoscaling, aws_ec2: ec2 } = require('aws-cdk-lib');
const { AwsSolutionsChecks } = require('cdk-nag');
const { LifecycleCommandHook } = require('cdk-lifecycle-command-hook');

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
  hookResources: Object.fromEntries([drain, bootstrap].map((hook) => [Stack.of(hook).stackName, hook.node.findAll()
    .filter((c) => CfnResource.isCfnResource(c)).map((r) => Stack.of(r).resolve(r.logicalId))])),
}));
`;

interface Output {
  library: string;
  findings: Array<{ path: string; rule: string; severity: string }>;
  templates: Record<string, { Resources: Record<string, { Type: string; Properties: any; Metadata?: any }> }>;
  /** Logical ids of the hook's resources, by stack. */
  hookResources: Record<string, string[]>;
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

test('AwsSolutions reports nothing on the hooks\' resources, nor on the instance role the hook configures', () => {
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
      if (resource.Type !== 'AWS::IAM::Policy') continue;
      for (const statement of resource.Properties.PolicyDocument.Statement) {
        const actions: string[] = [statement.Action].flat();
        for (const r of [statement.Resource].flat().map(flatten)) {
          if (r === '*') expect([NO_RESOURCE_TYPE, PASS_READS]).toContainEqual(actions.sort());
          else if (r.includes('*')) wildcards.push(`${actions.join(',')} ${r}${statement.Condition ? ' ' + JSON.stringify(statement.Condition) : ''}`);
        }
      }
    }
  }
  // The only other "*" in a resource: instance ids, limited by the group tag, and the group's id in its ARN.
  expect(wildcards.sort()).toEqual([
    'autoscaling:CompleteLifecycleAction,autoscaling:RecordLifecycleActionHeartbeat arn:<AWS::Partition>:autoscaling:<AWS::Region>:<AWS::AccountId>:autoScalingGroup:*:autoScalingGroupName/web-fleet',
    'autoscaling:CompleteLifecycleAction,autoscaling:RecordLifecycleActionHeartbeat arn:<AWS::Partition>:autoscaling:eu-west-1:123456789012:autoScalingGroup:*:autoScalingGroupName/<GroupASG3C6DFE3B>',
    'ssm:SendCommand arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:instance/* {"StringEquals":{"ssm:resourceTag/aws:autoscaling:groupName":"web-fleet"}}',
    'ssm:SendCommand arn:<AWS::Partition>:ec2:eu-west-1:123456789012:instance/* {"StringEquals":{"ssm:resourceTag/aws:autoscaling:groupName":{"Ref":"GroupASG3C6DFE3B"}}}',
  ]);
});

/** A template value as text, `Ref` written `<Name>`. */
function flatten(value: any): string {
  if (typeof value === 'string') return value;
  if (value?.['Fn::Join']) return value['Fn::Join'][1].map(flatten).join(value['Fn::Join'][0]);
  if (value?.Ref) return `<${value.Ref}>`;
  if (value?.['Fn::GetAtt']) return `<${value['Fn::GetAtt'].join('.')}>`;
  throw new Error(`unexpected template value ${JSON.stringify(value)}`);
}
