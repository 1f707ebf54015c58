import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Duration, Stack, aws_autoscaling as autoscaling, aws_ec2 as ec2, aws_kms as kms, aws_s3 as s3, aws_ssm as ssm } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { CommandShell, LifecycleCommandHook, LifecycleCommandHookProps } from '../src';

// A hook that runs an existing Command document or a script in S3 instead of
// inline commands: its own document delegates, so the runtime still knows the
// hook by its document's name.

const ENV = { account: '123456789012', region: 'eu-west-1' };

function newStack(): Stack {
  return new Stack(new App({ context: { '@aws-cdk/aws-autoscaling:generateLaunchTemplateInsteadOfLaunchConfig': true } }), 'Stack', { env: ENV });
}

function ownedGroup(stack: Stack): autoscaling.AutoScalingGroup {
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 1, natGateways: 0 });
  return new autoscaling.AutoScalingGroup(stack, 'Group', {
    vpc,
    vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
    instanceType: new ec2.InstanceType('t3.micro'),
    machineImage: ec2.MachineImage.latestAmazonLinux2023(),
  });
}

type Props = Omit<Partial<LifecycleCommandHookProps>, 'scriptBucket'> & { scriptBucket?: s3.IBucket | 'imported' };

function hook(props: Props, stack = newStack()) {
  const { scriptBucket, ...rest } = props;
  const bucket = scriptBucket === 'imported' ? s3.Bucket.fromBucketName(stack, 'Scripts', 'team-scripts') : scriptBucket;
  const construct = new LifecycleCommandHook(stack, 'Drain', {
    autoScalingGroup: autoscaling.AutoScalingGroup.fromAutoScalingGroupName(stack, 'Imported', 'web-fleet'),
    transition: autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
    timeout: Duration.minutes(5),
    configureInstanceRole: false,
    ...(bucket ? { scriptBucket: bucket } : {}),
    ...rest,
  });
  return { stack, construct, template: Template.fromStack(stack) };
}

function documentContent(template: Template): any {
  const docs = Object.values(template.findResources('AWS::SSM::Document'));
  expect(docs).toHaveLength(1);
  return docs[0].Properties.Content;
}

describe('a hook on an existing Command document', () => {
  test('its own document runs the document in one aws:runDocument step, with the version and parameters given', () => {
    const { template } = hook({
      documentName: 'team-drain',
      documentVersion: '3',
      documentParameters: { mode: 'graceful', services: ['web', 'worker'], timeout: '{{ executionTimeout }}' },
    });
    const content = documentContent(template);
    expect(content.schemaVersion).toBe('2.2');
    // The parameters SendCommand gives every hook's document are declared, so the handler sends it unchanged.
    expect(content.parameters.executionTimeout).toMatchObject({ type: 'String', default: '300' });
    expect(content.mainSteps).toEqual([{
      action: 'aws:runDocument',
      name: 'runDocument',
      inputs: {
        documentType: 'SSMDocument',
        documentPath: 'team-drain:3',
        documentParameters: { mode: 'graceful', services: ['web', 'worker'], timeout: '{{ executionTimeout }}' },
      },
    }]);
  });

  test('an AWS-owned document without a version runs its default version', () => {
    const { template } = hook({ documentName: 'AWS-RunRemoteScript', documentParameters: { sourceType: 'S3' } });
    expect(documentContent(template).mainSteps[0].inputs).toEqual({
      documentType: 'SSMDocument', documentPath: 'AWS-RunRemoteScript', documentParameters: { sourceType: 'S3' },
    });
  });

  test('a document shared by another account is named by its ARN', () => {
    const arn = 'arn:aws:ssm:eu-west-1:210987654321:document/platform-drain';
    const { template } = hook({ documentName: arn, documentVersion: '$LATEST' });
    expect(documentContent(template).mainSteps[0].inputs).toEqual({ documentType: 'SSMDocument', documentPath: `${arn}:$LATEST` });
  });

  test('the hook still has a document of its own, named with the runtime\'s prefix; its role sends that document only', () => {
    const { template, construct } = hook({ documentName: 'AWS-RunRemoteScript' });
    const [docId] = Object.keys(template.findResources('AWS::SSM::Document'));
    const name = template.toJSON().Resources[docId].Properties.Name as string;
    expect(name.startsWith(`${construct.runtime.namePrefix}-`)).toBe(true);
    const roles = template.findResources('AWS::IAM::Role', { Properties: { Path: Match.stringLikeRegexp('cdk-lifecycle-command-hook') } });
    const statements = Object.values(roles).flatMap((r: any) => r.Properties.Policies?.[0]?.PolicyDocument.Statement ?? []);
    const send = statements.filter((s: any) => s.Sid === 'SendHookDocument');
    expect(send).toHaveLength(1);
    // The hook's own document, never AWS-RunRemoteScript: the instance fetches that with its own credentials.
    expect(JSON.stringify(send[0].Resource)).toContain(`document/${name}`);
    expect(JSON.stringify(statements)).not.toContain('AWS-RunRemoteScript');
  });

  test('an owned group\'s instance role gets AmazonSSMManagedInstanceCore, which holds ssm:GetDocument, and nothing for S3', () => {
    const stack = newStack();
    new LifecycleCommandHook(stack, 'Drain', {
      autoScalingGroup: ownedGroup(stack),
      transition: autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
      documentName: 'team-drain',
      timeout: Duration.minutes(5),
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::IAM::Role', {
      ManagedPolicyArns: Match.arrayWith([{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/AmazonSSMManagedInstanceCore']] }]),
    });
    const policies = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    expect(policies).not.toContain('s3:GetObject');
  });
});

describe('a hook on a script in S3', () => {
  test('its document downloads the object by its path-style URL, then runs it with the hook\'s shell', () => {
    const { template } = hook({ scriptBucket: 'imported', scriptKey: 'drain/stop app+flush.sh' });
    const content = documentContent(template);
    expect(Object.keys(content.parameters)).toContain('executionTimeout');
    expect(content.mainSteps).toHaveLength(2);
    expect(content.mainSteps[0]).toEqual({
      action: 'aws:downloadContent',
      name: 'downloadScript',
      inputs: {
        sourceType: 'S3',
        sourceInfo: { path: { 'Fn::Join': ['', ['https://s3.eu-west-1.', { Ref: 'AWS::URLSuffix' }, '/team-scripts/drain/stop%20app%2Bflush.sh']] } },
        destinationPath: 'stop app+flush.sh',
        onFailure: 'exit',
      },
    });
    expect(content.mainSteps[1]).toEqual({
      action: 'aws:runShellScript',
      name: 'runCommands',
      inputs: {
        runCommand: ['set -e', 'LIFECYCLE_COMMAND_SCRIPT="$PWD"/\'stop app+flush.sh\'', 'exec "$LIFECYCLE_COMMAND_SCRIPT"'],
        timeoutSeconds: '{{ executionTimeout }}',
      },
    });
  });

  test('with PowerShell, the .ps1 runs with & under the hook\'s checks; workingDirectory is entered after the path is taken', () => {
    const { template } = hook({ scriptBucket: 'imported', scriptKey: 'drain.ps1', shell: CommandShell.POWERSHELL, workingDirectory: 'C:\\app' });
    const step = documentContent(template).mainSteps[1];
    expect(step.action).toBe('aws:runPowerShellScript');
    expect(step.inputs.workingDirectory).toBeUndefined();
    const lines = step.inputs.runCommand as string[];
    expect(lines).toContain('$LifecycleCommandScript = Join-Path (Get-Location).Path \'drain.ps1\'');
    expect(lines).toContain('Set-Location -LiteralPath \'C:\\app\'');
    const run = lines.indexOf('& $LifecycleCommandScript');
    expect(run).toBeGreaterThan(0);
    expect(lines[run + 1]).toMatch(/^if \(\$global:LASTEXITCODE -ne 0\)/);
  });

  test('the instance role may read that one object, and decrypt with the bucket\'s key', () => {
    const stack = newStack();
    const bucket = new s3.Bucket(stack, 'Scripts', { encryption: s3.BucketEncryption.KMS, encryptionKey: new kms.Key(stack, 'Key') });
    new LifecycleCommandHook(stack, 'Drain', {
      autoScalingGroup: ownedGroup(stack),
      transition: autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
      scriptBucket: bucket,
      scriptKey: 'drain.sh',
      timeout: Duration.minutes(5),
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^GroupInstanceRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          { Effect: 'Allow', Action: 's3:GetObject', Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^Scripts'), 'Arn'] }, '/drain.sh']] } },
          { Effect: 'Allow', Action: 'kms:Decrypt', Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] } },
        ]),
      },
    });
    // Nothing wider: no listing, no other object.
    const instancePolicies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^GroupInstanceRole') }] } });
    expect(Object.keys(instancePolicies)).toHaveLength(1);
    expect(JSON.stringify(instancePolicies)).not.toMatch(/s3:List|s3:GetObject\*|\/\*"/);
  });

  // The lines the agent writes to _script.sh, run as it runs them (sh -c <file>) in the downloads directory.
  function runDownloaded(script: string, workingDirectory?: string) {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hook-work-'));
    try {
      const downloads = path.join(root, 'downloads');
      fs.mkdirSync(downloads);
      fs.writeFileSync(path.join(downloads, 'drain.sh'), script, { mode: 0o700 });
      const { template } = hook({ scriptBucket: 'imported', scriptKey: 'ops/drain.sh', workingDirectory });
      const lines = documentContent(template).mainSteps[1].inputs.runCommand as string[];
      const file = path.join(root, '_script.sh');
      fs.writeFileSync(file, lines.join('\n') + '\n', { mode: 0o700 });
      return spawnSync('/bin/sh', ['-c', file], { cwd: downloads, encoding: 'utf8' });
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  }

  test('on the real sh, the script\'s exit status is the command\'s, whatever its shebang', () => {
    expect(runDownloaded('echo draining\nexit 7\n')).toMatchObject({ status: 7, stdout: 'draining\n' });
    expect(runDownloaded('#!/bin/sh\necho ok\n')).toMatchObject({ status: 0, stdout: 'ok\n' });
    // Its own rules: without set -e, an earlier failing line does not fail it.
    expect(runDownloaded('false\necho still here\n')).toMatchObject({ status: 0, stdout: 'still here\n' });
  });

  test('on the real sh, the script runs in workingDirectory', () => {
    expect(runDownloaded('pwd\n', '/tmp')).toMatchObject({ status: 0, stdout: `${fs.realpathSync('/tmp')}\n` });
  });
});

describe('bad input fails at synth time naming the prop, the value and what is allowed', () => {
  const cases: Array<[string, Props, RegExp]> = [
    ['parameters with inline commands', { commands: ['systemctl stop app'], documentParameters: { mode: 'fast' } },
      /documentParameters given with inline commands; they apply to documentName only. Inline commands take no parameters/],
    ['a version with inline commands', { commands: ['systemctl stop app'], documentVersion: '2' }, /documentVersion given with inline commands/],
    ['parameters with an S3 script', { scriptBucket: 'imported', scriptKey: 'drain.sh', documentParameters: { mode: 'fast' } },
      /documentParameters given with an S3 script; they apply to documentName only/],
    ['commands and a document', { commands: ['true'], documentName: 'team-drain' }, /commands and documentName are both given; give exactly one/],
    ['a document and a script', { documentName: 'team-drain', scriptBucket: 'imported', scriptKey: 'a.sh' },
      /documentName and scriptBucket and scriptKey are both given/],
    ['nothing to run', {}, /none of commands, documentName or scriptBucket is given/],
    ['a document name with a space', { documentName: 'team drain' },
      /documentName "team drain" is not a valid SSM document name; give 3 to 128 letters, digits, '_', '-' or '.' \(e.g. "AWS-RunRemoteScript"\), or the ARN/],
    ['a document name too short', { documentName: 'ab' }, /documentName "ab" is not a valid SSM document name/],
    ['a document name too long', { documentName: 'd'.repeat(129) }, /documentName "d{129}" is not a valid/],
    ['a version that is no version', { documentName: 'team-drain', documentVersion: 'v2' },
      /documentVersion "v2" is not a document version; give "\$DEFAULT", "\$LATEST" or a version number/],
    ['version zero', { documentName: 'team-drain', documentVersion: '0' }, /documentVersion "0" is not a document version/],
    ['a parameter named twice', { documentName: 'team-drain', documentParameters: { commandLine: 'a.sh', CommandLine: 'b.sh' } },
      /documentParameters names the parameter "CommandLine" twice, also as "commandLine"; the agent matches names case-sensitively/],
    ['a parameter name the agent drops', { documentName: 'team-drain', documentParameters: { 'command-line': 'a.sh' } },
      /documentParameters names the parameter "command-line"; a document parameter's name is letters and digits only/],
    ['a parameter that is a number', { documentName: 'team-drain', documentParameters: { retries: 3 as any } },
      /documentParameters.retries is of type number \(3\); give a string .* or a list of strings/],
    ['a parameter with another parameter of the hook\'s document', { documentName: 'team-drain', documentParameters: { target: '{{ InstanceId }}' } },
      /documentParameters.target contains "\{\{ InstanceId \}\}"; the hook's document declares no parameter "InstanceId"/],
    ['shell with a document', { documentName: 'team-drain', shell: CommandShell.POWERSHELL }, /shell is given with documentName/],
    ['workingDirectory with a document', { documentName: 'team-drain', workingDirectory: '/opt' }, /workingDirectory is given with documentName/],
    ['a bucket without a key', { scriptBucket: 'imported' }, /scriptBucket is given without scriptKey/],
    ['a key without a bucket', { scriptKey: 'drain.sh' }, /scriptKey is given without scriptBucket/],
    ['a key that is a folder', { scriptBucket: 'imported', scriptKey: 'scripts/' },
      /scriptKey "scripts\/" names a folder; the SSM agent would download every object under it/],
    ['a key with a wildcard', { scriptBucket: 'imported', scriptKey: 'scripts/*.sh' }, /scriptKey "scripts\/\*.sh" holds "\*" or "\?"/],
    ['a key with a document parameter', { scriptBucket: 'imported', scriptKey: '{{ executionTimeout }}.sh' }, /holds a control character or a "\{\{ name \}\}"/],
    ['a key ending in ..', { scriptBucket: 'imported', scriptKey: 'scripts/..' }, /ends in "..", which is no file name/],
    ['a PowerShell script without .ps1', { scriptBucket: 'imported', scriptKey: 'drain.sh', shell: CommandShell.POWERSHELL },
      /scriptKey "drain.sh" does not end in ".ps1"/],
  ];

  test.each(cases)('%s', (_name, props, message) => {
    expect(() => hook(props)).toThrow(message);
  });

  test('a key that is a token is refused: the grant and the file name need the key', () => {
    const stack = newStack();
    const key = new s3.Bucket(stack, 'Other').bucketName;
    expect(() => hook({ scriptBucket: 'imported', scriptKey: `${key}/drain.sh` }, stack)).toThrow(/scriptKey is a token; give the object's key as text known at synth time/);
  });

  test('a bucket of the same app, whose name is a token, is accepted', () => {
    const stack = newStack();
    const bucket = new s3.Bucket(stack, 'Scripts');
    expect(() => hook({ scriptBucket: bucket, scriptKey: 'drain.sh' }, stack)).not.toThrow();
  });

  test('a document name that is a token (a document of the same app) is accepted', () => {
    const stack = newStack();
    const own = new ssm.CfnDocument(stack, 'TeamDoc', {
      documentType: 'Command',
      content: { schemaVersion: '2.2', mainSteps: [{ action: 'aws:runShellScript', name: 'run', inputs: { runCommand: ['true'] } }] },
    });
    const { template } = hook({ documentName: own.ref }, stack);
    const step = Object.values(template.findResources('AWS::SSM::Document'))
      .map((d: any) => d.Properties.Content).find((c: any) => c.mainSteps[0].action === 'aws:runDocument');
    expect(step.mainSteps[0].inputs.documentPath.Ref).toMatch(/^TeamDoc/);
  });
});
