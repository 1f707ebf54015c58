import { createHash } from 'node:crypto';
import { Annotations as CoreAnnotations, App, CfnParameter, Duration, Stack, aws_autoscaling as autoscaling, aws_ec2 as ec2, aws_iam as iam, aws_lambda as lambda, aws_logs as logs } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { IConstruct } from 'constructs';
import { LifecycleCommandHook, LifecycleCommandHookProps, LifecycleCommandRuntime } from '../src';

const ENV = { account: '123456789012', region: 'eu-west-1' };

function ownedGroup(stack: Stack): autoscaling.AutoScalingGroup {
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 1, natGateways: 0 });
  return new autoscaling.AutoScalingGroup(stack, 'Group', {
    vpc,
    vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
    instanceType: new ec2.InstanceType('t3.micro'),
    machineImage: ec2.MachineImage.latestAmazonLinux2023(),
  });
}

function importedGroup(stack: Stack): autoscaling.IAutoScalingGroup {
  return autoscaling.AutoScalingGroup.fromAutoScalingGroupName(stack, 'Imported', 'web-fleet');
}

function newStack(): Stack {
  return new Stack(new App({ context: { '@aws-cdk/aws-autoscaling:generateLaunchTemplateInsteadOfLaunchConfig': true } }), 'Stack', { env: ENV });
}

function hookTemplate(props: Partial<LifecycleCommandHookProps> & { group?: 'owned' | 'imported' } = {}) {
  const stack = newStack();
  const group = props.group === 'owned' ? ownedGroup(stack) : importedGroup(stack);
  const hook = new LifecycleCommandHook(stack, 'Drain', {
    autoScalingGroup: group,
    transition: autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
    commands: ['systemctl stop application'],
    timeout: Duration.minutes(5),
    ...props,
  });
  return { stack, hook, template: Template.fromStack(stack) };
}

/** The logical id of the one resource of this type whose id matches `pattern`. */
function onlyId(template: Template, type: string, pattern: RegExp = /./): string {
  const ids = Object.keys(template.findResources(type)).filter((id) => pattern.test(id));
  expect(ids).toHaveLength(1);
  return ids[0];
}

/** The runtime's function, not its role, policy or log group. */
const HANDLER_ID = /^LifecycleCommandRuntimeHandler[0-9A-F]{8}$/;

function handlerId(template: Template): string {
  return onlyId(template, 'AWS::Lambda::Function', HANDLER_ID);
}

function actionTableId(template: Template): string {
  return onlyId(template, 'AWS::DynamoDB::Table');
}

function handlerVariables(template: Template): Record<string, unknown> {
  return template.toJSON().Resources[handlerId(template)].Properties.Environment.Variables;
}

/**
 * Parses a JSON text the template builds with Fn::Join, each token part
 * (`{ Ref }`, `{ Fn::GetAtt }`) put back as the object it is; a token inside a
 * longer string stays a `@@n@@` marker, and fails the comparison that meets it.
 */
function joinedJson(value: unknown, replace: Record<string, string> = {}): any {
  const tokens: unknown[] = [];
  let text: string;
  if (typeof value === 'string') {
    text = value;
  } else {
    const [separator, parts] = (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
    expect(separator).toBe('');
    text = parts.map((part) => (typeof part === 'string' ? part : `@@${tokens.push(part) - 1}@@`)).join('');
  }
  for (const [from, to] of Object.entries(replace)) text = text.split(from).join(to);
  const restore = (x: unknown): unknown => {
    if (typeof x === 'string') {
      const marker = /^@@(\d+)@@$/.exec(x);
      return marker ? tokens[Number(marker[1])] : x;
    }
    if (Array.isArray(x)) return x.map(restore);
    if (x !== null && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, restore(v)]));
    return x;
  };
  return restore(JSON.parse(text));
}

/** The hook's settings as its AWS::SSM::Parameter holds them, and the parameter's name. */
function hookParameter(template: Template, hookId = 'Drain') {
  const id = onlyId(template, 'AWS::SSM::Parameter', new RegExp(`^${hookId}Settings`));
  const properties = template.toJSON().Resources[id].Properties;
  return { name: properties.Name as string, settings: joinedJson(properties.Value) };
}

/**
 * The input the hook's lifecycle rule gives the function: `{ hook: settings, event: <the event> }`.
 * Each placeholder of the input transformer is put back as a string naming what EventBridge puts
 * there: `"<the event>"` for the whole event ($), `"<$.detail.AutoScalingGroupName>"` for the
 * group's name. A placeholder must stand unquoted in the template (EventBridge quotes a string it
 * inserts there), and each path of the map must be used, once.
 */
function lifecycleRuleInput(template: Template, hookId = 'Drain') {
  const id = onlyId(template, 'AWS::Events::Rule', new RegExp(`^${hookId}LifecycleActionRule`));
  const [target] = template.toJSON().Resources[id].Properties.Targets;
  const paths: Record<string, string> = target.InputTransformer.InputPathsMap;
  // Only the whole event, and for a group of the same app its name, are taken from the event.
  expect(Object.values(paths).filter((path) => path !== '$' && path !== '$.detail.AutoScalingGroupName')).toEqual([]);
  expect(Object.values(paths).filter((path) => path === '$')).toHaveLength(1);
  const templateText = JSON.stringify(target.InputTransformer.InputTemplate);
  for (const name of Object.keys(paths)) expect(templateText.split(`<${name}>`)).toHaveLength(2);
  const replace = Object.fromEntries(Object.entries(paths).map(([name, path]) => [`<${name}>`, JSON.stringify(path === '$' ? '<the event>' : `<${path}>`)]));
  return joinedJson(target.InputTransformer.InputTemplate, replace);
}

/** The input path that fills the group's name in the lifecycle rule's wrapper, as `lifecycleRuleInput` shows it. */
const GROUP_NAME_FROM_EVENT = '<$.detail.AutoScalingGroupName>';

/** What `hookTemplate`'s terminate hook on the imported group carries, with `overrides`. */
function terminateSettings(overrides: Record<string, unknown> = {}) {
  return {
    groupName: 'web-fleet',
    hookName: expect.stringMatching(/^Stack-Drain-[0-9A-F]{8}$/),
    documentName: expect.stringMatching(/^lch-[0-9a-f]{10}-Stack-Drain-[0-9A-F]{8}$/),
    transition: 'terminate',
    failureResult: 'CONTINUE',
    outputLogGroupName: { Ref: expect.stringMatching(/^DrainOutputLogGroup/) },
    registrationTimeoutSeconds: 0,
    deliveryTimeoutSeconds: 60,
    executionTimeoutSeconds: 300,
    heartbeatTimeoutSeconds: 900,
    stages: 'return-to-warm-pool,terminate',
    roleArn: { 'Fn::GetAtt': [expect.stringMatching(/^DrainRole/), 'Arn'] },
    ...overrides,
  };
}

/** Both places the function learns a hook's settings from hold the same `expected` settings. */
function expectSettings(template: Template, expected: Record<string, unknown>, hookId = 'Drain') {
  const { settings } = hookParameter(template, hookId);
  expect(settings).toEqual(expected);
  expect(lifecycleRuleInput(template, hookId)).toEqual({ hook: settings, event: '<the event>' });
}

/**
 * Both places the function learns the settings of a hook on a group of the same app from hold
 * `expected`, which names the group by its tag, not by its name: the rule's wrapper adds the
 * group's name from the lifecycle event.
 */
function expectOwnedGroupSettings(template: Template, expected: Record<string, unknown>, hookId = 'Drain') {
  const { settings } = hookParameter(template, hookId);
  expect(settings).toEqual(expected);
  expect(settings).not.toHaveProperty('groupName');
  expect(settings.groupTag).toEqual(groupTagOf(settings.documentName));
  expect(lifecycleRuleInput(template, hookId)).toEqual({ hook: { ...settings, groupName: GROUP_NAME_FROM_EVENT }, event: '<the event>' });
}

/** The tag the construct places on a group of the same app for the hook of this document. */
function groupTagOf(documentName: string) {
  return { key: `cdk-lifecycle-command-hook:${createHash('sha256').update(documentName).digest('hex').slice(0, 12)}`, value: documentName };
}

/** The logical id of the stack's one Auto Scaling group, and its resource. */
function groupResource(template: Template): { id: string; group: any } {
  const id = onlyId(template, 'AWS::AutoScaling::AutoScalingGroup');
  return { id, group: template.toJSON().Resources[id] };
}

/** The statements of every AWS::IAM::Policy attached to the role with this logical id. */
function policyStatementsOfRole(template: Template, roleId: string): any[] {
  const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: Match.arrayWith([{ Ref: roleId }]) } });
  return Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement);
}

/** Every policy document of the stack's IAM policies and roles, as text (not their metadata, whose nag reasons name actions). */
function policyDocumentsText(template: Template): string {
  const policies = Object.values(template.findResources('AWS::IAM::Policy')).map((p) => p.Properties.PolicyDocument);
  const inRoles = Object.values(template.findResources('AWS::IAM::Role')).flatMap((r) => (r.Properties.Policies ?? []).map((p: { PolicyDocument: unknown }) => p.PolicyDocument));
  const documents = [...policies, ...inRoles];
  expect(documents.length).toBeGreaterThan(0);
  return JSON.stringify(documents);
}

function runtimePolicyStatements(template: Template): any[] {
  const id = onlyId(template, 'AWS::IAM::Policy', /^LifecycleCommandRuntimeHandlerPolicy/);
  return template.toJSON().Resources[id].Properties.PolicyDocument.Statement;
}

function partitionArn(rest: string) {
  return { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, rest]] };
}

/** The runtime policy's statements shared by launch and terminate hooks, for the runtime of `prefix`. */
function commonRuntimeStatements(template: Template, prefix: string) {
  return [
    { Sid: 'ReadCommands', Effect: 'Allow', Action: ['ssm:ListCommands', 'ssm:GetCommandInvocation'], Resource: '*' },
    { Sid: 'ReadGroups', Effect: 'Allow', Action: ['autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribeAutoScalingInstances', 'autoscaling:DescribeWarmPool'], Resource: '*' },
    {
      Sid: 'HookSettings',
      Effect: 'Allow',
      Action: ['ssm:GetParameter', 'ssm:GetParametersByPath'],
      Resource: [
        partitionArn(`:ssm:eu-west-1:123456789012:parameter/cdk-lifecycle-command-hook/${prefix}`),
        partitionArn(`:ssm:eu-west-1:123456789012:parameter/cdk-lifecycle-command-hook/${prefix}/*`),
      ],
    },
    {
      Sid: 'AssumeHookRoles',
      Effect: 'Allow',
      Action: 'sts:AssumeRole',
      Resource: partitionArn(`:iam::123456789012:role/cdk-lifecycle-command-hook/${prefix}/*`),
    },
    {
      Sid: 'ActionRecords',
      Effect: 'Allow',
      Action: ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
      Resource: { 'Fn::GetAtt': [actionTableId(template), 'Arn'] },
    },
  ];
}

function namePrefix(template: Template): string {
  return handlerVariables(template).RUNTIME_NAME_PREFIX as string;
}

describe('terminate hook on an imported group', () => {
  const { template } = hookTemplate({ group: 'imported' });

  test('creates the lifecycle hook with a heartbeat of the command\'s timeout plus 10 minutes', () => {
    template.hasResourceProperties('AWS::AutoScaling::LifecycleHook', {
      AutoScalingGroupName: 'web-fleet',
      LifecycleHookName: Match.stringLikeRegexp('^Stack-Drain-[0-9A-F]{8}$'),
      LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
      // max(timeout 300, registration 0) + 600 for delivery, completion and a pass that repairs a lost status event.
      HeartbeatTimeout: 300 + 600,
      DefaultResult: 'CONTINUE',
    });
    template.resourceCountIs('AWS::AutoScaling::LifecycleHook', 1);
  });

  test('a terminate hook has no registration wait: no state machine, no Step Functions right', () => {
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 0);
    expect(JSON.stringify(template.toJSON())).not.toMatch(/states:|RUNTIME_REGISTRATION_WAIT/);
    // Nor the read of the agents' registration, which only a launch hook needs.
    expect(policyDocumentsText(template)).not.toContain('ssm:DescribeInstanceInformation');
  });

  test('creates a schema 2.2 shell document with the commands and their timeout as its execution timeout', () => {
    template.hasResourceProperties('AWS::SSM::Document', {
      DocumentType: 'Command',
      UpdateMethod: 'NewVersion',
      Content: {
        schemaVersion: '2.2',
        description: 'Commands run by a lifecycle hook as instances terminate.',
        parameters: {
          executionTimeout: Match.objectLike({ type: 'String', default: '300' }),
        },
        mainSteps: [{
          action: 'aws:runShellScript',
          name: 'runCommands',
          inputs: { runCommand: ['set -e', 'systemctl stop application'], timeoutSeconds: '{{ executionTimeout }}' },
        }],
      },
    });
  });

  test('declares the action\'s context as ENV_VAR parameters, each defaulting to empty, that no line of the script names', () => {
    const content = template.toJSON().Resources[onlyId(template, 'AWS::SSM::Document')].Properties.Content;
    const context = ['EC2InstanceId', 'AutoScalingGroupName', 'LifecycleHookName', 'LifecycleTransition', 'Origin', 'Destination', 'NotificationMetadata'];
    expect(Object.keys(content.parameters).sort()).toEqual(['executionTimeout', ...context].sort());
    for (const name of context) {
      expect(content.parameters[name]).toEqual({
        type: 'String',
        default: '',
        interpolationType: 'ENV_VAR',
        description: expect.stringContaining(`environment variable SSM_${name}.`),
      });
    }
    expect(content.parameters.executionTimeout).not.toHaveProperty('interpolationType');
    expect(JSON.stringify(content.mainSteps)).not.toMatch(/\{\{\s*(EC2InstanceId|AutoScalingGroupName|LifecycleHookName|LifecycleTransition|Origin|Destination|NotificationMetadata)/);
  });

  test('the notification metadata is the default of its context parameter, as the hook has it', () => {
    const metadata = '{"drain": "$(reboot)"}\n`id`; \'quoted\'';
    const { template: withMetadata } = hookTemplate({ notificationMetadata: metadata });
    withMetadata.hasResourceProperties('AWS::SSM::Document', {
      Content: Match.objectLike({ parameters: Match.objectLike({ NotificationMetadata: Match.objectLike({ default: metadata, interpolationType: 'ENV_VAR' }) }) }),
    });
    withMetadata.hasResourceProperties('AWS::AutoScaling::LifecycleHook', { NotificationMetadata: metadata });
  });

  test('the document is named with the runtime\'s prefix, and the hook\'s parameter under the runtime\'s path by that name', () => {
    const documentName = template.toJSON().Resources[onlyId(template, 'AWS::SSM::Document')].Properties.Name as string;
    const variables = handlerVariables(template);
    expect(variables.RUNTIME_NAME_PREFIX).toMatch(/^lch-[0-9a-f]{10}$/);
    expect(documentName.startsWith(`${variables.RUNTIME_NAME_PREFIX}-`)).toBe(true);
    // SSM allows 128 characters in a document name.
    expect(documentName.length).toBeLessThanOrEqual(128);
    const { name, settings } = hookParameter(template);
    expect(settings.documentName).toBe(documentName);
    // The function finds a status event's hook at <path><document name>.
    expect(name).toBe(`${variables.RUNTIME_HOOK_PARAMETERS}${documentName}`);
    expect(name).toBe(`/cdk-lifecycle-command-hook/${variables.RUNTIME_NAME_PREFIX}/${documentName}`);
    template.hasResourceProperties('AWS::SSM::Parameter', { Name: name, Type: 'String', Tier: 'Standard' });
  });

  test('the hook is created after, and deleted before, its rule, role, parameter and document, and the runtime\'s function, rights and rules', () => {
    const [hook] = Object.values(template.findResources('AWS::AutoScaling::LifecycleHook'));
    const dependsOn: string[] = hook.DependsOn;
    for (const prefix of [
      'DrainLifecycleActionRule', 'DrainRole', 'DrainSettings', 'DrainDocument',
      'LifecycleCommandRuntimeCommandStatusRule', 'LifecycleCommandRuntimeReconciliationRule', 'LifecycleCommandRuntimeHandlerPolicy',
    ]) {
      expect(dependsOn.some((id) => id.startsWith(prefix))).toBe(true);
    }
    expect(dependsOn).toContain(handlerId(template));
    // The one invoke permission, for every rule of the runtime, which the function holds.
    const permissions = Object.keys(template.findResources('AWS::Lambda::Permission'));
    expect(permissions).toHaveLength(1);
    expect(dependsOn).toEqual(expect.arrayContaining(permissions));
  });

  test('the lifecycle rule matches exactly this group, hook and transition, and is named with the runtime\'s prefix', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      Name: Match.stringLikeRegexp(`^${namePrefix(template)}-`),
      EventPattern: {
        'source': ['aws.autoscaling'],
        'detail-type': ['EC2 Instance-terminate Lifecycle Action'],
        'detail': {
          AutoScalingGroupName: ['web-fleet'],
          LifecycleHookName: [Match.stringLikeRegexp('^Stack-Drain-[0-9A-F]{8}$')],
        },
      },
    });
    for (const rule of Object.values(template.findResources('AWS::Events::Rule'))) {
      // EventBridge allows 64 characters in a rule name.
      expect(rule.Properties.Name.length).toBeLessThanOrEqual(64);
    }
  });

  test('the lifecycle rule wraps the event with the hook\'s settings, the same as its parameter holds', () => {
    expectSettings(template, terminateSettings());
  });

  test('the runtime\'s status rule matches the runtime\'s documents by prefix, and terminal statuses only', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      Name: `${namePrefix(template)}-command-status`,
      EventPattern: {
        'source': ['aws.ssm'],
        'detail-type': ['EC2 Command Invocation Status-change Notification'],
        'detail': {
          'document-name': [{ prefix: `${namePrefix(template)}-` }],
          'status': ['Success', 'Failed', 'TimedOut', 'Cancelled', 'Undeliverable', 'Terminated'],
        },
      },
    });
    // The hook's lifecycle rule, the runtime's status rule and its schedule.
    template.resourceCountIs('AWS::Events::Rule', 3);
  });

  test('the reconciliation rule invokes the handler every 6 minutes, without retries: the next pass does the same work', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(6 minutes)',
      Targets: [Match.objectLike({
        Arn: { 'Fn::GetAtt': [handlerId(template), 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 360 },
      })],
    });
  });

  test('both event rule targets retry and dead-letter to the encrypted queue, which takes messages from the runtime\'s rules only', () => {
    const rules = template.findResources('AWS::Events::Rule', { Properties: { EventPattern: Match.anyValue() } });
    expect(Object.keys(rules)).toHaveLength(2);
    const queueId = onlyId(template, 'AWS::SQS::Queue');
    // A lifecycle event is worth delivering while its action may be pending (the heartbeat timeout);
    // a status event, while the longest heartbeat timeout of any hook of the runtime.
    const maxAge: Record<string, number> = { 'aws.autoscaling': 900, 'aws.ssm': 7200 };
    for (const rule of Object.values(rules)) {
      expect(rule.Properties.Targets).toEqual([expect.objectContaining({
        Arn: { 'Fn::GetAtt': [handlerId(template), 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: maxAge[rule.Properties.EventPattern.source[0]] },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } },
      })]);
    }
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600 });
    template.resourceCountIs('AWS::SQS::QueuePolicy', 1);
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: [
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sqs:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
          {
            Sid: 'RulesOfThisRuntime',
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: 'sqs:SendMessage',
            Resource: { 'Fn::GetAtt': [queueId, 'Arn'] },
            Condition: { ArnLike: { 'aws:SourceArn': partitionArn(`:events:eu-west-1:123456789012:rule/${namePrefix(template)}-*`) } },
          },
        ],
      },
    });
  });

  test('EventBridge may invoke the function from the runtime\'s rules of this account only', () => {
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [handlerId(template), 'Arn'] },
      Principal: 'events.amazonaws.com',
      SourceAccount: '123456789012',
      SourceArn: partitionArn(`:events:eu-west-1:123456789012:rule/${namePrefix(template)}-*`),
    });
  });

  test('the handler runs Node.js 24 with JSON logs, its own log group and the runtime\'s settings', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Handler: 'index.handler',
      Timeout: 60,
      MemorySize: 256,
      LoggingConfig: Match.objectLike({
        LogFormat: 'JSON',
        ApplicationLogLevel: 'INFO',
        LogGroup: { Ref: Match.stringLikeRegexp('^LifecycleCommandRuntimeHandlerLogGroup') },
      }),
      DeadLetterConfig: { TargetArn: { 'Fn::GetAtt': [onlyId(template, 'AWS::SQS::Queue'), 'Arn'] } },
      Environment: {
        Variables: {
          RUNTIME_ACTION_TABLE: { Ref: actionTableId(template) },
          RUNTIME_PASS_PERIOD_SECONDS: '360',
          RUNTIME_HOOK_PARAMETERS: Match.stringLikeRegexp('^/cdk-lifecycle-command-hook/lch-[0-9a-f]{10}/$'),
          RUNTIME_NAME_PREFIX: Match.stringLikeRegexp('^lch-[0-9a-f]{10}$'),
        },
      },
    });
    // Nothing of the hook is in the shared function's environment: it comes with the events and from the parameter.
    expect(JSON.stringify(handlerVariables(template))).not.toMatch(/web-fleet|Drain/);
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 7200 });
  });

  test('the table of action records is keyed by hook and instance, then by action', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'HookInstance', KeyType: 'HASH' },
        { AttributeName: 'LifecycleActionToken', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'ExpiresAt', Enabled: true },
    });
  });

  test('log groups keep events for one month', () => {
    const groups = template.findResources('AWS::Logs::LogGroup');
    expect(Object.keys(groups)).toHaveLength(2);
    for (const group of Object.values(groups)) expect(group.Properties.RetentionInDays).toBe(30);
  });

  test('the runtime\'s role holds exactly the rights that are no one hook\'s', () => {
    const roleId = onlyId(template, 'AWS::IAM::Role', /^LifecycleCommandRuntimeHandlerRole/);
    // Reads without a resource type, the hooks' settings, assuming the hooks' roles, the action records: nothing of a group.
    expect(runtimePolicyStatements(template)).toEqual(commonRuntimeStatements(template, namePrefix(template)));
    const statements = policyStatementsOfRole(template, roleId);
    // Besides those five: writing its own log group and dead-lettering, nothing else.
    const others = statements.filter((s: { Sid?: string }) => !s.Sid);
    const otherActions = others.flatMap((s: { Action: string | string[] }) => [s.Action].flat()).sort();
    expect(otherActions).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents', 'sqs:SendMessage']);
    for (const s of others) expect(s.Resource).not.toEqual('*');
    expect(statements).toHaveLength(5 + others.length);
    expect(JSON.stringify(statements)).not.toMatch(/iam:PassRole|ssm:SendCommand|autoscaling:CompleteLifecycleAction|web-fleet/);
  });

  test('the hook\'s role holds exactly its document, its group\'s instances and its group\'s actions; only the runtime\'s role assumes it', () => {
    const prefix = namePrefix(template);
    const documentName = hookParameter(template).settings.documentName;
    const roleId = onlyId(template, 'AWS::IAM::Role', /^DrainRole/);
    const role = template.toJSON().Resources[roleId];
    expect(role.Properties.Path).toBe(`/cdk-lifecycle-command-hook/${prefix}/`);
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([{
      Effect: 'Allow',
      Action: 'sts:AssumeRole',
      Principal: { AWS: { 'Fn::GetAtt': [onlyId(template, 'AWS::IAM::Role', /^LifecycleCommandRuntimeHandlerRole/), 'Arn'] } },
    }]);
    expect(role.Properties.Policies).toEqual([{
      PolicyName: 'Hook',
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'SendHookDocument',
            Effect: 'Allow',
            Action: 'ssm:SendCommand',
            Resource: partitionArn(`:ssm:eu-west-1:123456789012:document/${documentName}`),
          },
          {
            Sid: 'SendToGroupInstances',
            Effect: 'Allow',
            Action: 'ssm:SendCommand',
            Resource: partitionArn(':ec2:eu-west-1:123456789012:instance/*'),
            Condition: { StringEquals: { 'ssm:resourceTag/aws:autoscaling:groupName': 'web-fleet' } },
          },
          {
            Sid: 'GroupLifecycleActions',
            Effect: 'Allow',
            Action: ['autoscaling:CompleteLifecycleAction', 'autoscaling:RecordLifecycleActionHeartbeat'],
            Resource: partitionArn(':autoscaling:eu-west-1:123456789012:autoScalingGroup:*:autoScalingGroupName/web-fleet'),
          },
        ],
      },
    }]);
    // No managed policy, and no other policy attached to it.
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    expect(policyStatementsOfRole(template, roleId)).toEqual([]);
    // The role the runtime assumes is in the settings it reads.
    expect(hookParameter(template).settings.roleArn).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
  });

  test('an imported group\'s instance role is left to its owner, and a warning says what to grant', () => {
    // The runtime's role and the hook's: no instance role.
    template.resourceCountIs('AWS::IAM::Role', 2);
    template.resourcePropertiesCountIs('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'ec2.amazonaws.com' } })] },
    }, 0);
    const { stack } = hookTemplate({ group: 'imported' });
    Annotations.fromStack(stack).hasWarning('/Stack/Drain', Match.stringLikeRegexp(
      'configureInstanceRole: the group is imported.*AmazonSSMManagedInstanceCore.*the group\'s owner must grant them',
    ));
  });

  test('an explicit lifecycleHookName on a group of the stack warns of the upgrade that would delete it; the default name and an imported group do not', () => {
    const { stack } = hookTemplate({ group: 'owned', lifecycleHookName: 'drain' });
    Annotations.fromStack(stack).hasWarning('/Stack/Drain', Match.stringLikeRegexp(
      'lifecycleHookName "drain" names a hook in the group\'s own list.*cleanup deletes that hook by name.*Give a new name in that deploy, or none',
    ));
    Annotations.fromStack(hookTemplate({ group: 'owned' }).stack).hasNoWarning('/Stack/Drain', Match.stringLikeRegexp('lifecycleHookName'));
    Annotations.fromStack(hookTemplate({ group: 'imported', lifecycleHookName: 'drain', configureInstanceRole: false }).stack)
      .hasNoWarning('*', Match.anyValue());
  });

  test('the warning of an explicit lifecycleHookName can be acknowledged', () => {
    const stack = newStack();
    const hook = new LifecycleCommandHook(stack, 'Drain', {
      autoScalingGroup: ownedGroup(stack),
      transition: autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
      commands: ['systemctl stop application'],
      timeout: Duration.minutes(5),
      lifecycleHookName: 'drain',
    });
    CoreAnnotations.of(hook).acknowledgeWarning('cdk-lifecycle-command-hook:hookNameOnOwnGroup', 'renamed in the upgrade');
    Annotations.fromStack(stack).hasNoWarning('/Stack/Drain', Match.stringLikeRegexp('lifecycleHookName'));
  });

  test('configureInstanceRole: true on an imported group fails at synth time', () => {
    expect(() => hookTemplate({ group: 'imported', configureInstanceRole: true }))
      .toThrow(/configureInstanceRole: the group is imported, not an AutoScalingGroup of this app/);
  });

  test('configureInstanceRole: false on an imported group says nothing', () => {
    const { stack } = hookTemplate({ group: 'imported', configureInstanceRole: false });
    Annotations.fromStack(stack).hasNoWarning('*', Match.anyValue());
  });
});

describe('launch hook on an owned group', () => {
  const { template, hook } = hookTemplate({
    group: 'owned',
    transition: autoscaling.LifecycleTransition.INSTANCE_LAUNCHING,
    commands: ['/opt/app/bootstrap.sh', 'systemctl start application'],
    timeout: Duration.minutes(10),
    lifecycleHookName: 'bootstrap',
    workingDirectory: '/opt/app',
    notificationMetadata: '{"env":"prod"}',
  });

  test('the heartbeat covers the longer of the command and the SSM registration wait; failures abandon by default', () => {
    // The hook is in the group's own definition, not a resource of its own.
    template.resourceCountIs('AWS::AutoScaling::LifecycleHook', 0);
    expect(groupResource(template).group.Properties.LifecycleHookSpecificationList).toEqual([{
      LifecycleHookName: 'bootstrap',
      LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
      // max(timeout 600, registration 180) + 600.
      HeartbeatTimeout: 600 + 600,
      DefaultResult: 'ABANDON',
      NotificationMetadata: '{"env":"prod"}',
    }]);
    expect(hook.heartbeatTimeout.toSeconds()).toBe(1200);
  });

  test('the document runs the commands in the working directory', () => {
    template.hasResourceProperties('AWS::SSM::Document', {
      Content: Match.objectLike({
        mainSteps: [Match.objectLike({
          inputs: { runCommand: ['set -e', '/opt/app/bootstrap.sh', 'systemctl start application'], timeoutSeconds: '{{ executionTimeout }}', workingDirectory: '/opt/app' },
        })],
        parameters: { executionTimeout: Match.objectLike({ default: '600' }) },
      }),
    });
  });

  test('the lifecycle rule matches the launch event of this hook name, without naming the group (which waits for the rule)', () => {
    const ruleId = onlyId(template, 'AWS::Events::Rule', /^DrainLifecycleActionRule/);
    expect(template.toJSON().Resources[ruleId].Properties.EventPattern).toEqual({
      'source': ['aws.autoscaling'],
      'detail-type': ['EC2 Instance-launch Lifecycle Action'],
      'detail': { LifecycleHookName: ['bootstrap'] },
    });
  });

  test('the hook\'s settings: launch, ABANDON on failure, the registration wait, every launch stage', () => {
    expectOwnedGroupSettings(template, {
      groupTag: { key: expect.stringMatching(/^cdk-lifecycle-command-hook:[0-9a-f]{12}$/), value: expect.stringMatching(/^lch-[0-9a-f]{10}-Stack-Drain-[0-9A-F]{8}$/) },
      hookName: 'bootstrap',
      documentName: expect.stringMatching(/^lch-[0-9a-f]{10}-Stack-Drain-[0-9A-F]{8}$/),
      transition: 'launch',
      failureResult: 'ABANDON',
      outputLogGroupName: { Ref: expect.stringMatching(/^DrainOutputLogGroup/) },
      registrationTimeoutSeconds: 180,
      deliveryTimeoutSeconds: 60,
      executionTimeoutSeconds: 600,
      heartbeatTimeoutSeconds: 1200,
      stages: 'enter-warm-pool,leave-warm-pool,launch-into-group',
      roleArn: { 'Fn::GetAtt': [expect.stringMatching(/^DrainRole/), 'Arn'] },
    });
    // The lifecycle rule gives up delivering once the action's heartbeat timeout has run out.
    const ruleId = onlyId(template, 'AWS::Events::Rule', /^DrainLifecycleActionRule/);
    expect(template.toJSON().Resources[ruleId].Properties.Targets[0].RetryPolicy)
      .toEqual({ MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 1200 });
  });

  test('the handler checks registration without waiting itself: its environment names the registration wait', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 60,
      Environment: {
        Variables: Match.objectLike({
          RUNTIME_REGISTRATION_WAIT: {
            'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, Match.stringLikeRegexp('^:states:eu-west-1:123456789012:stateMachine:[-A-Za-z0-9]*RegistrationWait')]],
          },
        }),
      },
    });
  });

  test('an Express state machine waits the seconds its input names, then invokes the handler asynchronously with that input', () => {
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
    expect(machine.Properties.StateMachineType).toBe('EXPRESS');
    const functionId = handlerId(template);
    // The definition, with the handler's ARN put back where the template joins it in.
    const parts = machine.Properties.DefinitionString['Fn::Join'][1] as unknown[];
    const definition = JSON.parse(parts.map((p) => (typeof p === 'string' ? p : JSON.stringify(p).includes(functionId) ? 'HANDLER_ARN' : '?')).join(''));
    expect(definition).toEqual({
      Comment: expect.any(String),
      StartAt: 'Wait',
      States: {
        Wait: { Type: 'Wait', SecondsPath: '$.waitSeconds', Next: 'Check' },
        Check: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke',
          Parameters: { 'FunctionName': 'HANDLER_ARN', 'InvocationType': 'Event', 'Payload.$': '$' },
          Retry: [expect.objectContaining({ ErrorEquals: expect.arrayContaining(['Lambda.TooManyRequestsException']) })],
          End: true,
        },
      },
    });
    // Its name is the one the handler's environment names.
    const name = machine.Properties.StateMachineName as string;
    expect(name).toMatch(/RegistrationWait/);
    expect(name.length).toBeLessThanOrEqual(80);
    expect(handlerVariables(template).RUNTIME_REGISTRATION_WAIT).toEqual(partitionArn(`:states:eu-west-1:123456789012:stateMachine:${name}`));
  });

  test('the handler may start executions of that one state machine and read registrations; the state machine may invoke only the handler', () => {
    const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
    const name = machine.Properties.StateMachineName as string;
    expect(runtimePolicyStatements(template)).toEqual([
      ...commonRuntimeStatements(template, namePrefix(template)),
      {
        Sid: 'StartRegistrationWait',
        Effect: 'Allow',
        Action: 'states:StartExecution',
        Resource: partitionArn(`:states:eu-west-1:123456789012:stateMachine:${name}`),
      },
      { Sid: 'ReadRegistration', Effect: 'Allow', Action: 'ssm:DescribeInstanceInformation', Resource: '*' },
    ]);
    const roleId = machine.Properties.RoleArn['Fn::GetAtt'][0];
    template.hasResourceProperties('AWS::IAM::Role', {
      // aws-cdk-lib before 2.15x writes Step Functions' regional service principal; IAM accepts both.
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: Match.stringLikeRegexp('^states(\\.eu-west-1)?\\.amazonaws\\.com$') } })] },
    });
    const machinePolicies = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } }));
    expect(machinePolicies).toHaveLength(1);
    expect(machinePolicies[0].Properties.PolicyDocument.Statement).toEqual([{
      Effect: 'Allow',
      Action: 'lambda:InvokeFunction',
      Resource: { 'Fn::GetAtt': [handlerId(template), 'Arn'] },
    }]);
  });

  test('the group, which holds the hook, waits for the registration wait before Auto Scaling sends it actions', () => {
    expect(groupResource(template).group.DependsOn).toContain(onlyId(template, 'AWS::StepFunctions::StateMachine'));
  });

  test('the hook\'s role is scoped to the owned group by the hook\'s tag, which the group carries, not by its name', () => {
    const roleId = onlyId(template, 'AWS::IAM::Role', /^DrainRole/);
    const [policy] = template.toJSON().Resources[roleId].Properties.Policies;
    const documentName = hookParameter(template).settings.documentName;
    const tag = groupTagOf(documentName);
    expect(policy.PolicyDocument.Statement).toEqual([
      {
        Sid: 'SendHookDocument',
        Effect: 'Allow',
        Action: 'ssm:SendCommand',
        Resource: partitionArn(`:ssm:eu-west-1:123456789012:document/${documentName}`),
      },
      {
        Sid: 'SendToGroupInstances',
        Effect: 'Allow',
        Action: 'ssm:SendCommand',
        Resource: partitionArn(':ec2:eu-west-1:123456789012:instance/*'),
        Condition: { StringEquals: { [`ssm:resourceTag/${tag.key}`]: tag.value } },
      },
      {
        Sid: 'GroupLifecycleActions',
        Effect: 'Allow',
        Action: ['autoscaling:CompleteLifecycleAction', 'autoscaling:RecordLifecycleActionHeartbeat'],
        Resource: partitionArn(':autoscaling:eu-west-1:123456789012:autoScalingGroup:*:autoScalingGroupName/*'),
        Condition: { StringEquals: { [`autoscaling:ResourceTag/${tag.key}`]: tag.value } },
      },
    ]);
    // The group and its instances carry that tag.
    expect(groupResource(template).group.Properties.Tags).toContainEqual({ Key: tag.key, Value: tag.value, PropagateAtLaunch: true });
  });

  test('the instance role gets SSM core and the right to write the output log group', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'ec2.amazonaws.com' } })] },
      ManagedPolicyArns: Match.arrayWith([
        { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/AmazonSSMManagedInstanceCore']] },
      ]),
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^GroupInstanceRole') }],
      PolicyDocument: {
        Statement: [{
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
          Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DrainOutputLogGroup'), 'Arn'] },
        }, {
          // The agent creates the group before each upload, and takes "already exists" as success.
          Effect: 'Allow',
          Action: 'logs:CreateLogGroup',
          Resource: [{
            'Fn::Join': ['', [
              'arn:', { Ref: 'AWS::Partition' }, ':logs:eu-west-1:123456789012:log-group:',
              { Ref: Match.stringLikeRegexp('^DrainOutputLogGroup') },
            ]],
          }, { 'Fn::GetAtt': [Match.stringLikeRegexp('^DrainOutputLogGroup'), 'Arn'] }],
        }],
      },
    });
  });

  test('the public members point at the created resources', () => {
    const stack = Stack.of(hook);
    // The group's own definition holds the hook: there is no hook resource to point at.
    expect(hook.lifecycleHook).toBeUndefined();
    expect(hook.lifecycleHookName).toBe('bootstrap');
    expect(stack.resolve(hook.documentName)).toEqual({ Ref: expect.stringMatching(/^DrainDocument/) });
    expect(stack.resolve(hook.handler.functionName)).toEqual({ Ref: handlerId(template) });
    expect(stack.resolve(hook.role.roleArn)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^DrainRole/), 'Arn'] });
    expect(stack.resolve(hook.outputLogGroup.logGroupName)).toEqual({ Ref: expect.stringMatching(/^DrainOutputLogGroup/) });
    expect(stack.resolve(hook.deadLetterQueue.queueUrl)).toEqual({ Ref: onlyId(template, 'AWS::SQS::Queue') });
    // The stack's shared runtime, whose function, queue and period the hook's members are.
    expect(hook.runtime).toBe(LifecycleCommandRuntime.of(stack));
    expect(hook.handler).toBe(hook.runtime.handler);
    expect(hook.deadLetterQueue).toBe(hook.runtime.deadLetterQueue);
    expect(hook.reconciliationPeriod.toSeconds()).toBe(360);
  });
});

describe('options', () => {
  test('configureInstanceRole: false leaves the instance role alone', () => {
    const { template } = hookTemplate({ group: 'owned', configureInstanceRole: false });
    const roles = template.findResources('AWS::IAM::Role', {
      Properties: { AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'ec2.amazonaws.com' } })] } },
    });
    expect(Object.keys(roles)).toHaveLength(1);
    for (const role of Object.values(roles)) expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    template.resourcePropertiesCountIs('AWS::IAM::Policy', { Roles: [{ Ref: Match.stringLikeRegexp('^GroupInstanceRole') }] }, 0);
  });

  test('a given output log group is used, not created; logRetention applies only to an output log group the hook creates', () => {
    const stack = newStack();
    const outputLogGroup = new logs.LogGroup(stack, 'Shared', { retention: logs.RetentionDays.ONE_YEAR });
    const hook = new LifecycleCommandHook(stack, 'Drain', {
      autoScalingGroup: importedGroup(stack),
      transition: autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
      commands: ['true'],
      timeout: Duration.seconds(30),
      outputLogGroup,
      logRetention: logs.RetentionDays.ONE_WEEK,
    });
    const template = Template.fromStack(stack);
    // The given group and the runtime's handler log group, with the runtime's default retention: the hook's logRetention is ignored.
    template.resourceCountIs('AWS::Logs::LogGroup', 2);
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
    const handlerLogGroup = onlyId(template, 'AWS::Logs::LogGroup', /^LifecycleCommandRuntimeHandlerLogGroup/);
    expect(template.toJSON().Resources[handlerLogGroup].Properties.RetentionInDays).toBe(30);
    template.resourcePropertiesCountIs('AWS::Logs::LogGroup', { RetentionInDays: 7 }, 0);
    expect(hook.outputLogGroup).toBe(outputLogGroup);
    expect(hookParameter(template).settings.outputLogGroupName).toEqual({ Ref: expect.stringMatching(/^Shared/) });
    expect(lifecycleRuleInput(template).hook.outputLogGroupName).toEqual({ Ref: expect.stringMatching(/^Shared/) });
  });

  test('logRetention sets the hook\'s own output log group; the handler log group keeps the runtime\'s', () => {
    const { template } = hookTemplate({ logRetention: logs.RetentionDays.ONE_WEEK });
    const output = onlyId(template, 'AWS::Logs::LogGroup', /^DrainOutputLogGroup/);
    const handlerLogGroup = onlyId(template, 'AWS::Logs::LogGroup', /^LifecycleCommandRuntimeHandlerLogGroup/);
    expect(template.toJSON().Resources[output].Properties.RetentionInDays).toBe(7);
    expect(template.toJSON().Resources[handlerLogGroup].Properties.RetentionInDays).toBe(30);
  });

  test('the runtime\'s logRetention sets the handler log group', () => {
    const stack = newStack();
    const runtime = new LifecycleCommandRuntime(stack, 'Runtime', { logRetention: logs.RetentionDays.ONE_YEAR });
    new LifecycleCommandHook(stack, 'Drain', {
      autoScalingGroup: importedGroup(stack),
      transition: autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
      commands: ['true'],
      timeout: Duration.minutes(1),
      runtime,
    });
    const template = Template.fromStack(stack);
    const handlerLogGroup = onlyId(template, 'AWS::Logs::LogGroup', /^RuntimeHandlerLogGroup/);
    expect(template.toJSON().Resources[handlerLogGroup].Properties.RetentionInDays).toBe(365);
    const output = onlyId(template, 'AWS::Logs::LogGroup', /^DrainOutputLogGroup/);
    expect(template.toJSON().Resources[output].Properties.RetentionInDays).toBe(30);
  });

  test('defaultResult overrides the per-transition default on the hook and in its settings', () => {
    const { template } = hookTemplate({ defaultResult: autoscaling.DefaultResult.ABANDON });
    template.hasResourceProperties('AWS::AutoScaling::LifecycleHook', { DefaultResult: 'ABANDON' });
    expectSettings(template, terminateSettings({ failureResult: 'ABANDON' }));
  });

  test('a 24-hour command: the heartbeat stays at 7200 s, a scheduled pass keeps the action alive, the heartbeat scoped to the group', () => {
    const { template } = hookTemplate({ timeout: Duration.hours(24) });
    template.hasResourceProperties('AWS::AutoScaling::LifecycleHook', { HeartbeatTimeout: 7200 });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(6 minutes)', State: 'ENABLED' });
    expect(handlerVariables(template).RUNTIME_PASS_PERIOD_SECONDS).toBe('360');
    expectSettings(template, terminateSettings({ heartbeatTimeoutSeconds: 7200, executionTimeoutSeconds: 86400 }));
    const roleId = onlyId(template, 'AWS::IAM::Role', /^DrainRole/);
    template.hasResourceProperties('AWS::IAM::Role', {
      Policies: [Match.objectLike({
        PolicyDocument: Match.objectLike({
          Statement: Match.arrayWith([Match.objectLike({
            Sid: 'GroupLifecycleActions',
            Action: ['autoscaling:CompleteLifecycleAction', 'autoscaling:RecordLifecycleActionHeartbeat'],
            Resource: partitionArn(':autoscaling:eu-west-1:123456789012:autoScalingGroup:*:autoScalingGroupName/web-fleet'),
          })]),
        }),
      })],
    });
    expect(Object.keys(template.findResources('AWS::IAM::Role', { Properties: { Policies: Match.anyValue() } }))).toEqual([roleId]);
  });

  test('the heartbeat is the longer of the command\'s timeout and the registration wait, plus 10 minutes', () => {
    const heartbeat = (props: Partial<LifecycleCommandHookProps>) => hookTemplate(props).hook.heartbeatTimeout.toSeconds();
    const launch = autoscaling.LifecycleTransition.INSTANCE_LAUNCHING;
    expect(heartbeat({ timeout: Duration.minutes(5) })).toBe(900);
    // The default registration wait, 3 minutes: max(300, 180) + 600.
    expect(heartbeat({ transition: launch, timeout: Duration.minutes(5) })).toBe(900);
    // A command shorter than the registration wait: max(60, 180) + 600.
    expect(heartbeat({ transition: launch, timeout: Duration.minutes(1) })).toBe(780);
    expect(heartbeat({ timeout: Duration.minutes(1) })).toBe(660);
  });

  test('the longest terminate timeout: 48 hours less delivery, completion and one period', () => {
    const { template } = hookTemplate({ timeout: Duration.seconds(172_320) });
    template.hasResourceProperties('AWS::AutoScaling::LifecycleHook', { HeartbeatTimeout: 7200 });
    expect(hookParameter(template).settings.executionTimeoutSeconds).toBe(172_320);
  });

  test('the longest launch timeout with the default registration wait: 48 hours less registration, delivery, completion and one period', () => {
    const { template } = hookTemplate({ transition: autoscaling.LifecycleTransition.INSTANCE_LAUNCHING, timeout: Duration.seconds(172_140) });
    template.hasResourceProperties('AWS::AutoScaling::LifecycleHook', { HeartbeatTimeout: 7200 });
    expect(() => hookTemplate({ transition: autoscaling.LifecycleTransition.INSTANCE_LAUNCHING, timeout: Duration.seconds(172_141) }))
      .toThrow(/timeout is 172141 seconds; .* from 30 to 172140/);
  });

  test('a custom registration timeout sets the launch heartbeat; the handler\'s timeout does not grow with it', () => {
    const { template } = hookTemplate({
      transition: autoscaling.LifecycleTransition.INSTANCE_LAUNCHING,
      registrationTimeout: Duration.minutes(10),
      timeout: Duration.minutes(1),
    });
    // max(timeout 60, registration 600) + 600: the registration wait sets it.
    template.hasResourceProperties('AWS::AutoScaling::LifecycleHook', { HeartbeatTimeout: 1200 });
    template.hasResourceProperties('AWS::Lambda::Function', { Timeout: 60 });
    const { settings } = hookParameter(template);
    expect(settings.registrationTimeoutSeconds).toBe(600);
    expect(settings.heartbeatTimeoutSeconds).toBe(1200);
    // A long command with it stays at Auto Scaling's 7200 s ceiling.
    const long = hookTemplate({
      transition: autoscaling.LifecycleTransition.INSTANCE_LAUNCHING,
      registrationTimeout: Duration.minutes(10),
      timeout: Duration.seconds(6900),
    });
    long.template.hasResourceProperties('AWS::AutoScaling::LifecycleHook', { HeartbeatTimeout: 7200 });
  });

  test('two hooks on one group get separate documents, rules, roles and parameters, and share one function, table and queue', () => {
    const stack = newStack();
    const group = ownedGroup(stack);
    for (const [id, transition] of [['Boot', autoscaling.LifecycleTransition.INSTANCE_LAUNCHING], ['Drain', autoscaling.LifecycleTransition.INSTANCE_TERMINATING]] as const) {
      new LifecycleCommandHook(stack, id, { autoScalingGroup: group, transition, commands: ['true'], timeout: Duration.minutes(1) });
    }
    const template = Template.fromStack(stack);
    // Both hooks are in the group's own definition.
    template.resourceCountIs('AWS::AutoScaling::LifecycleHook', 0);
    const specs: Array<{ LifecycleTransition: string }> = groupResource(template).group.Properties.LifecycleHookSpecificationList;
    expect(specs.map((spec) => spec.LifecycleTransition)).toEqual(['autoscaling:EC2_INSTANCE_LAUNCHING', 'autoscaling:EC2_INSTANCE_TERMINATING']);
    template.resourceCountIs('AWS::SSM::Document', 2);
    template.resourceCountIs('AWS::SSM::Parameter', 2);
    // A lifecycle rule each, and the runtime's status rule and schedule.
    template.resourceCountIs('AWS::Events::Rule', 4);
    for (const id of ['Boot', 'Drain']) {
      onlyId(template, 'AWS::Events::Rule', new RegExp(`^${id}LifecycleActionRule`));
      onlyId(template, 'AWS::IAM::Role', new RegExp(`^${id}Role`));
    }
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.resourceCountIs('AWS::SQS::Queue', 1);
    template.resourceCountIs('AWS::Lambda::Permission', 1);
    // Each hook's records are kept apart in the one table by its document's name, which differs.
    const boot = hookParameter(template, 'Boot').settings;
    const drain = hookParameter(template, 'Drain').settings;
    expect(boot.documentName).not.toEqual(drain.documentName);
    expect(boot.roleArn).not.toEqual(drain.roleArn);
    expect([boot.transition, drain.transition]).toEqual(['launch', 'terminate']);
    for (const id of ['Boot', 'Drain']) {
      const ruleId = onlyId(template, 'AWS::Events::Rule', new RegExp(`^${id}LifecycleActionRule`));
      expect(template.toJSON().Resources[ruleId].Properties.Targets[0].Arn).toEqual({ 'Fn::GetAtt': [handlerId(template), 'Arn'] });
    }
  });
});

describe('validation', () => {
  const cases: Array<[string, Partial<LifecycleCommandHookProps>, RegExp]> = [
    ['no commands', { commands: [] }, /commands is empty/],
    ['a blank command', { commands: ['echo ok', '   '] }, /commands\[1\] is blank \(" {3}"\)/],
    ['a command with an undeclared document parameter', { commands: ['echo {{ InstanceId }}'] },
      /commands\[0\] contains "\{\{ InstanceId \}\}", which SSM would replace with the document parameter "InstanceId", and the document declares no such parameter. To give the shell the braces, put an empty quoted string between them: \{''\{ InstanceId \}\} \(inside double quotes: \{""\{ InstanceId \}\}\)/],
    ['commands over the 64 KB document limit', { commands: Array.from({ length: 70 }, () => 'x'.repeat(1000)) },
      /commands make an SSM document of \d+ bytes; SSM accepts at most 65536/],
    ['a timeout under 30 s', { timeout: Duration.seconds(10) }, /timeout is 10 seconds; it must be a whole number of seconds from 30 to 172320/],
    ['a terminate timeout a second over its longest', { timeout: Duration.seconds(172_321) },
      /timeout is 172321 seconds; .* from 30 to 172320 \(Auto Scaling's 172800-second global timeout of a lifecycle action less 120 seconds for delivery and completion and 360 seconds for the reconciliation pass/],
    ['48 hours and a second', { timeout: Duration.seconds(172_801) },
      /timeout is 172801 seconds; .* from 30 to 172320 \(Auto Scaling's 172800-second global timeout of a lifecycle action less 120 seconds for delivery and completion and 360 seconds for the reconciliation pass/],
    ['a launch timeout over the global timeout less registration', {
      transition: autoscaling.LifecycleTransition.INSTANCE_LAUNCHING,
      timeout: Duration.hours(48),
    }, /timeout is 172800 seconds; .* from 30 to 172140 \(Auto Scaling's 172800-second global timeout of a lifecycle action less 300 seconds for SSM registration, delivery and completion and 360 seconds/],
    ['a launch timeout with the longest registration wait', {
      transition: autoscaling.LifecycleTransition.INSTANCE_LAUNCHING,
      registrationTimeout: Duration.minutes(14),
      timeout: Duration.hours(48),
    }, /from 30 to 171480 \(Auto Scaling's 172800-second global timeout of a lifecycle action less 960 seconds for SSM registration, delivery and completion/],
    ['a fractional timeout', { timeout: Duration.millis(45_500) }, /timeout is 45.5 seconds/],
    ['a hook name with a space', { lifecycleHookName: 'drain hook' }, /lifecycleHookName "drain hook" is not a valid lifecycle hook name; use 1 to 255 letters, digits/],
    ['a hook name too long', { lifecycleHookName: 'h'.repeat(256) }, /lifecycleHookName "h{256}" is not a valid/],
    ['an empty hook name', { lifecycleHookName: '' }, /lifecycleHookName "" is not a valid/],
    ['a blank working directory', { workingDirectory: ' ' }, /workingDirectory is blank/],
    ['notification metadata too long', { notificationMetadata: 'x'.repeat(4001) },
      /notificationMetadata is 4001 characters long; Auto Scaling accepts 1 to 4000 characters, each printable ASCII/],
    ['empty notification metadata', { notificationMetadata: '' }, /notificationMetadata is 0 characters long; Auto Scaling accepts 1 to 4000/],
    ['notification metadata with a control character', { notificationMetadata: '{"env":\u001b"prod"}' },
      /notificationMetadata has "\\u001b" \(U\+001B\) at character 7; Auto Scaling accepts 1 to 4000 characters, each printable ASCII \(space to "~"\), a tab or a line break; encode anything else/],
    ['notification metadata with a non-ASCII character', { notificationMetadata: 'café' }, /notificationMetadata has "é" \(U\+00E9\) at character 3/],
    ['commands as a string', { commands: 'systemctl stop app' as any },
      /commands is of type string \("systemctl stop app"\); give a list of shell lines, e.g. \["systemctl stop app"\]/],
    ['commands missing, and nothing else to run', { commands: undefined as any },
      /none of commands, documentName or scriptBucket is given; give exactly one: commands \(shell lines\), documentName \(an existing Command document\) or scriptBucket with scriptKey/],
    ['a command that is not a string', { commands: ['echo ok', 42] as any },
      /commands\[1\] is of type number \(42\); every command must be a string, one shell line/],
    ['a registration timeout on a terminate hook', { registrationTimeout: Duration.minutes(1) }, /registrationTimeout applies to launch hooks only/],
    ['a registration timeout over 14 minutes', {
      transition: autoscaling.LifecycleTransition.INSTANCE_LAUNCHING,
      registrationTimeout: Duration.minutes(15),
    }, /registrationTimeout is 900 seconds; it must be a whole number of seconds from 10 to 840/],
  ];

  test.each(cases)('%s fails at synth time naming the prop and the value', (_name, props, message) => {
    expect(() => hookTemplate(props)).toThrow(message);
  });

  test('unresolved tokens in commands and the hook name pass unchecked', () => {
    const stack = newStack();
    const name = new CfnParameter(stack, 'HookName').valueAsString;
    const command = new CfnParameter(stack, 'Command').valueAsString;
    expect(() => new LifecycleCommandHook(stack, 'Drain', {
      autoScalingGroup: importedGroup(stack),
      transition: autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
      commands: [command],
      timeout: Duration.minutes(1),
      lifecycleHookName: name,
    })).not.toThrow();
  });

  test('a list token for commands is refused: the construct must see the first line', () => {
    const stack = newStack();
    const commands = new CfnParameter(stack, 'Commands', { type: 'CommaDelimitedList' }).valueAsList;
    expect(() => new LifecycleCommandHook(stack, 'Drain', {
      autoScalingGroup: importedGroup(stack),
      transition: autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
      commands,
      timeout: Duration.minutes(1),
      configureInstanceRole: false,
    })).toThrow(/commands is a list token; give a list known at synth time/);
  });

  test('notification metadata of 4,000 characters with tabs and line breaks is accepted', () => {
    const json = '{\r\n\t"env": "prod"\r\n}';
    const metadata = json.padEnd(4000, ' ');
    const { template } = hookTemplate({ notificationMetadata: metadata });
    template.hasResourceProperties('AWS::AutoScaling::LifecycleHook', { NotificationMetadata: metadata });
  });

  test.each(['EC2InstanceId', 'AutoScalingGroupName', 'NotificationMetadata'])('a command naming the context parameter %s as {{ }} is refused: it would make the value script text', (name) => {
    expect(() => hookTemplate({ commands: [`drain --group {{ ${name} }}`] }))
      .toThrow(`commands[0] contains "{{ ${name} }}", which would put the value of the action's context into the script's text`);
    expect(() => hookTemplate({ commands: ['true', `echo {{${name}}}`] })).toThrow(`Read the environment variable instead, quoted: "$SSM_${name}"`);
  });

  test('Parameter Store and CloudFormation references in commands are allowed', () => {
    expect(() => hookTemplate({
      commands: [
        'echo {{ssm:/app/stage}}',
        'echo {{resolve:ssm:/app/stage}}',
        'awk "{print $1}"',
        "docker inspect -f '{{.State.Health.Status}}' app",
        "jq '{a:{b:1}}'",
        'echo "timeout {{ executionTimeout }}"',
      ],
    })).not.toThrow();
  });
});

describe('an owned group whose launch template does not expose its role', () => {
  function groupWithoutRole(stack: Stack) {
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 1, natGateways: 0 });
    const launchTemplate = new ec2.LaunchTemplate(stack, 'Template', {
      instanceType: new ec2.InstanceType('t3.micro'),
      machineImage: ec2.MachineImage.latestAmazonLinux2023(),
    });
    return new autoscaling.AutoScalingGroup(stack, 'Group', { vpc, launchTemplate });
  }
  const props = {
    transition: autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
    commands: ['true'],
    timeout: Duration.minutes(1),
  };

  test('by default, a warning says what to grant', () => {
    const stack = newStack();
    new LifecycleCommandHook(stack, 'Drain', { ...props, autoScalingGroup: groupWithoutRole(stack) });
    Annotations.fromStack(stack).hasWarning('/Stack/Drain', Match.stringLikeRegexp(
      'configureInstanceRole: the group\'s launch template does not expose its role.*AmazonSSMManagedInstanceCore',
    ));
  });

  test('configureInstanceRole: true fails at synth time', () => {
    const stack = newStack();
    expect(() => new LifecycleCommandHook(stack, 'Drain', { ...props, autoScalingGroup: groupWithoutRole(stack), configureInstanceRole: true }))
      .toThrow(/configureInstanceRole: the group's launch template does not expose its role/);
  });
});

describe('every command line counts', () => {
  function runCommand(commands: string[]) {
    const { template, stack } = hookTemplate({ commands, configureInstanceRole: false });
    const [document] = Object.values(template.findResources('AWS::SSM::Document'));
    return { lines: document.Properties.Content.mainSteps[0].inputs.runCommand as string[], annotations: Annotations.fromStack(stack) };
  }

  test('the lines run under set -e', () => {
    expect(runCommand(['/opt/app/bootstrap.sh', 'curl --fail http://localhost/health']).lines)
      .toEqual(['set -e', '/opt/app/bootstrap.sh', 'curl --fail http://localhost/health']);
  });

  test.each([
    ['#!/bin/bash'],
    ['#!/bin/sh -x'],
    ['#! /usr/bin/zsh'],
    ['#!/usr/bin/env bash'],
    ['#!/usr/bin/env -S bash -o pipefail'],
    ['#!/usr/bin/env -i PATH=/usr/bin dash'],
  ])('a shebang for a POSIX shell (%s) stays first, set -e follows it', (shebang) => {
    const { lines, annotations } = runCommand([shebang, 'false', 'echo ok']);
    expect(lines).toEqual([shebang, 'set -e', 'false', 'echo ok']);
    annotations.hasNoWarning('*', Match.anyValue());
  });

  test.each([
    ['#!/usr/bin/env python3', 'python3'],
    ['#!/usr/bin/perl -w', 'perl'],
    ['#!/usr/bin/fish', 'fish'],
  ])('a shebang for another interpreter (%s) keeps the lines as they are, with a warning', (shebang, interpreter) => {
    const { lines, annotations } = runCommand([shebang, 'print("ok")']);
    expect(lines).toEqual([shebang, 'print("ok")']);
    annotations.hasWarning('/Stack/Drain', Match.stringLikeRegexp(
      `commands\\[0\\] is a shebang for ${interpreter}, not a POSIX shell: .* its exit status alone decides the command's result`,
    ));
  });

  test('a shebang anywhere but the first line is a comment, and set -e comes first', () => {
    expect(runCommand(['echo start', '#!/usr/bin/env python3']).lines).toEqual(['set -e', 'echo start', '#!/usr/bin/env python3']);
  });
});

/** `count` hooks, each on an imported group of its own (Auto Scaling allows 50 hooks per group), with ids Hook0, Hook1, ... */
function hooksStack(count: number, transitionOf: (i: number) => autoscaling.LifecycleTransition, groupNameOf = (i: number) => `fleet-${i}`) {
  const stack = newStack();
  const hooks = Array.from({ length: count }, (_, i) => new LifecycleCommandHook(stack, `Hook${i}`, {
    autoScalingGroup: autoscaling.AutoScalingGroup.fromAutoScalingGroupName(stack, `Group${i}`, groupNameOf(i)),
    transition: transitionOf(i),
    commands: ['systemctl stop application'],
    timeout: Duration.minutes(5),
    configureInstanceRole: false,
  }));
  const launches = hooks.filter((_, i) => transitionOf(i) === autoscaling.LifecycleTransition.INSTANCE_LAUNCHING).length;
  return { stack, hooks, launches, template: Template.fromStack(stack) };
}

const TERMINATE = () => autoscaling.LifecycleTransition.INSTANCE_TERMINATING;
const LAUNCH = () => autoscaling.LifecycleTransition.INSTANCE_LAUNCHING;
/** Launch hooks at even positions, terminate hooks at odd ones. */
const ALTERNATE = (i: number) => (i % 2 === 0 ? LAUNCH() : TERMINATE());
/** The longest name Auto Scaling allows a group, for the longest hook role policy. */
const LONGEST_GROUP_NAME = `fleet-${'g'.repeat(249)}`;

function resourceCount(template: Template): number {
  return Object.keys(template.toJSON().Resources).length;
}

function resourcesOf(template: Template, idPrefix: RegExp): Record<string, unknown> {
  return Object.fromEntries(Object.entries(template.toJSON().Resources).filter(([id]) => idPrefix.test(id)));
}

/**
 * The characters of every inline policy of `role` (the policies inside the
 * role and every AWS::IAM::Policy attached to it), as IAM counts them against
 * its 10,240-character limit per role: the JSON without whitespace. Tokens are
 * resolved with stack.resolve, so they are measured as the JSON of what
 * CloudFormation receives ({"Ref":...}, {"Fn::GetAtt":...}, {"Fn::Join":...}),
 * not as the ARNs and names they deploy to: a partition reference is longer
 * than "aws", a table's ARN may be longer than its {"Fn::GetAtt":...}.
 */
function inlinePolicyCharacters(stack: Stack, role: iam.IRole): number {
  const cfnRole = role.node.defaultChild as iam.CfnRole;
  const own = ((stack.resolve(cfnRole.policies) ?? []) as Array<Record<string, unknown>>)
    .map((policy) => policy.policyDocument ?? policy.PolicyDocument);
  const roleRef = JSON.stringify(stack.resolve(role.roleName));
  const attached = stack.node.findAll()
    .filter((c: IConstruct): c is iam.CfnPolicy => c instanceof iam.CfnPolicy)
    .filter((policy) => ((stack.resolve(policy.roles) ?? []) as unknown[]).some((r) => JSON.stringify(r) === roleRef))
    .map((policy) => stack.resolve(policy.policyDocument));
  const documents = [...own, ...attached];
  for (const document of documents) expect(document).toEqual(expect.objectContaining({ Statement: expect.any(Array) }));
  return documents.reduce((sum: number, document) => sum + JSON.stringify(document).length, 0);
}

/** IAM's limit on the inline policies of one role, all together. */
const IAM_INLINE_POLICY_LIMIT = 10_240;
/** Lambda's limit on a function's environment variables, all together. */
const LAMBDA_ENVIRONMENT_LIMIT = 4 * 1024;

describe('one runtime serves every hook of the stack', () => {
  const stacks = {
    'one terminate hook': hooksStack(1, TERMINATE),
    'two terminate hooks': hooksStack(2, TERMINATE),
    'one launch hook': hooksStack(1, LAUNCH),
    'two launch hooks': hooksStack(2, LAUNCH),
    'sixty terminate hooks': hooksStack(60, TERMINATE),
    'sixty launch and terminate hooks': hooksStack(60, ALTERNATE, (i) => (i === 59 ? LONGEST_GROUP_NAME : `fleet-${i}`)),
  };
  type Name = keyof typeof stacks;
  const names = Object.keys(stacks) as Name[];

  test.each(names)('%s: one function, table, queue and invoke permission, at most one state machine', (name) => {
    const { template, hooks, launches } = stacks[name];
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.resourceCountIs('AWS::SQS::Queue', 1);
    template.resourceCountIs('AWS::SQS::QueuePolicy', 1);
    template.resourceCountIs('AWS::Lambda::Permission', 1);
    // The lifecycle rules of the hooks, and the runtime's status rule and schedule.
    template.resourceCountIs('AWS::Events::Rule', hooks.length + 2);
    template.resourceCountIs('AWS::StepFunctions::StateMachine', launches > 0 ? 1 : 0);
    // Every hook is served by that one function, its queue and its schedule.
    const runtime = LifecycleCommandRuntime.of(hooks[0]);
    for (const hook of hooks) {
      expect(hook.runtime).toBe(runtime);
      expect(hook.handler).toBe(runtime.handler);
    }
  });

  test.each(names)('%s: each hook brings exactly its document, log group, role, parameter, rule and lifecycle hook', (name) => {
    const { template, hooks } = stacks[name];
    for (const type of ['AWS::SSM::Document', 'AWS::SSM::Parameter', 'AWS::AutoScaling::LifecycleHook']) {
      template.resourceCountIs(type, hooks.length);
    }
    // The runtime's handler log group beside the hooks' output log groups; the runtime's role beside the hooks'.
    template.resourceCountIs('AWS::Logs::LogGroup', hooks.length + 1);
    const hookRoles = template.findResources('AWS::IAM::Role', { Properties: { Path: Match.stringLikeRegexp('^/cdk-lifecycle-command-hook/lch-') } });
    expect(Object.keys(hookRoles)).toHaveLength(hooks.length);
    // Names CloudFormation would refuse to create twice are unique to each hook.
    for (const type of ['AWS::SSM::Document', 'AWS::SSM::Parameter', 'AWS::Events::Rule']) {
      const resourceNames = Object.values(template.findResources(type)).map((r) => r.Properties.Name);
      expect(new Set(resourceNames).size).toBe(resourceNames.length);
    }
  });

  test('each hook after the first of the same transition adds at most 6 resources', () => {
    const count = (name: Name) => resourceCount(stacks[name].template);
    expect(count('two terminate hooks') - count('one terminate hook')).toBeLessThanOrEqual(6);
    expect(count('two launch hooks') - count('one launch hook')).toBeLessThanOrEqual(6);
    expect(count('sixty terminate hooks') - count('one terminate hook')).toBeLessThanOrEqual(59 * 6);
    // The first launch hook brings the runtime's registration wait; every later hook, of either transition, at most 6.
    expect(count('sixty launch and terminate hooks') - count('one launch hook')).toBeLessThanOrEqual(59 * 6);
  });

  test('60 hooks stay under CloudFormation\'s 500 resources per stack', () => {
    expect(resourceCount(stacks['sixty terminate hooks'].template)).toBeLessThan(500);
    expect(resourceCount(stacks['sixty launch and terminate hooks'].template)).toBeLessThan(500);
  });

  test('with 60 hooks, the runtime role\'s inline policies stay under IAM\'s 10,240 characters, and do not grow with the hooks', () => {
    for (const name of names) {
      const { stack, hooks } = stacks[name];
      const characters = inlinePolicyCharacters(stack, hooks[0].runtime.role);
      expect(characters).toBeGreaterThan(0);
      expect(characters).toBeLessThan(IAM_INLINE_POLICY_LIMIT);
    }
    const runtimeCharacters = (name: Name) => inlinePolicyCharacters(stacks[name].stack, stacks[name].hooks[0].runtime.role);
    expect(runtimeCharacters('sixty terminate hooks')).toBe(runtimeCharacters('one terminate hook'));
    expect(runtimeCharacters('sixty launch and terminate hooks')).toBe(runtimeCharacters('one launch hook'));
  });

  test('with 60 hooks, each hook role\'s inline policy stays under IAM\'s 10,240 characters, even for a 255-character group name', () => {
    const { stack, hooks } = stacks['sixty launch and terminate hooks'];
    const characters = hooks.map((hook) => inlinePolicyCharacters(stack, hook.role));
    for (const c of characters) {
      expect(c).toBeGreaterThan(0);
      expect(c).toBeLessThan(IAM_INLINE_POLICY_LIMIT);
    }
    // The group's name is in the policy twice: the longest name makes the longest policy.
    expect(Math.max(...characters)).toBe(characters[59]);
  });

  test('with 60 hooks, the function\'s environment stays under Lambda\'s 4 KB, and does not grow with the hooks', () => {
    const environment = (name: Name) => {
      const { stack, hooks } = stacks[name];
      const fn = hooks[0].runtime.node.findChild('Handler').node.defaultChild as lambda.CfnFunction;
      // Keys and values as JSON, tokens resolved as above: quotes and separators count too, more than Lambda does.
      return JSON.stringify((stack.resolve(fn.environment) as { variables: Record<string, unknown> }).variables);
    };
    for (const name of names) expect(environment(name).length).toBeLessThan(LAMBDA_ENVIRONMENT_LIMIT);
    expect(environment('sixty terminate hooks')).toBe(environment('one terminate hook'));
    expect(environment('sixty launch and terminate hooks')).toBe(environment('one launch hook'));
  });

  test('adding a hook changes neither the runtime\'s policy, queue policy and permission, nor another hook\'s role', () => {
    const pairs: Array<[Name, Name]> = [
      ['one terminate hook', 'two terminate hooks'],
      ['one terminate hook', 'sixty terminate hooks'],
      ['one launch hook', 'two launch hooks'],
      ['one launch hook', 'sixty launch and terminate hooks'],
    ];
    for (const [before, after] of pairs) {
      const [one, more] = [stacks[before].template, stacks[after].template];
      for (const id of [/^LifecycleCommandRuntimeHandlerPolicy/, /^LifecycleCommandRuntimeHandlerRole/, /^LifecycleCommandRuntimeDeadLetterQueuePolicy/]) {
        const resources = resourcesOf(one, id);
        expect(Object.keys(resources).length).toBeGreaterThan(0);
        expect(resourcesOf(more, id)).toEqual(resources);
      }
      expect(more.findResources('AWS::Lambda::Permission')).toEqual(one.findResources('AWS::Lambda::Permission'));
      const firstHookRole = resourcesOf(one, /^Hook0Role/);
      expect(Object.keys(firstHookRole)).toHaveLength(1);
      expect(resourcesOf(more, /^Hook0Role/)).toEqual(firstHookRole);
      // Nor anything else of the first hook, nor the runtime's function and rules.
      expect(resourcesOf(more, /^(Hook0[A-Z]|LifecycleCommandRuntime)/)).toEqual(resourcesOf(one, /^(Hook0[A-Z]|LifecycleCommandRuntime)/));
    }
  });

  test('a terminate-only runtime may not start the registration wait nor read registrations; with a launch hook it may', () => {
    const actions = (name: Name) => runtimePolicyStatements(stacks[name].template).flatMap((s: { Action: string | string[] }) => [s.Action].flat());
    for (const name of ['one terminate hook', 'two terminate hooks', 'sixty terminate hooks'] as Name[]) {
      expect(actions(name)).not.toContain('ssm:DescribeInstanceInformation');
      expect(actions(name)).not.toContain('states:StartExecution');
      // Nor anywhere else in the stack's policies.
      expect(policyDocumentsText(stacks[name].template)).not.toMatch(/ssm:DescribeInstanceInformation|states:StartExecution/);
    }
    for (const name of ['one launch hook', 'two launch hooks', 'sixty launch and terminate hooks'] as Name[]) {
      expect(actions(name)).toEqual(expect.arrayContaining(['ssm:DescribeInstanceInformation', 'states:StartExecution']));
    }
  });

  test('a terminate hook added after a launch hook keeps the launch rights; a launch hook added after a terminate hook brings them', () => {
    const actionsAfter = (transitions: autoscaling.LifecycleTransition[]) => {
      const { template } = hooksStack(transitions.length, (i) => transitions[i]);
      return runtimePolicyStatements(template).flatMap((s: { Action: string | string[] }) => [s.Action].flat());
    };
    expect(actionsAfter([TERMINATE(), LAUNCH()])).toEqual(expect.arrayContaining(['ssm:DescribeInstanceInformation', 'states:StartExecution']));
    expect(actionsAfter([LAUNCH(), TERMINATE()])).toEqual(expect.arrayContaining(['ssm:DescribeInstanceInformation', 'states:StartExecution']));
  });
});

describe('a runtime of one\'s own', () => {
  const stack = newStack();
  const group = importedGroup(stack);
  const shared = new LifecycleCommandHook(stack, 'Drain', {
    autoScalingGroup: group,
    transition: autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
    commands: ['true'],
    timeout: Duration.minutes(1),
  });
  const own = new LifecycleCommandRuntime(stack, 'Own');
  const apart = new LifecycleCommandHook(stack, 'Apart', {
    autoScalingGroup: group,
    transition: autoscaling.LifecycleTransition.INSTANCE_LAUNCHING,
    commands: ['true'],
    timeout: Duration.minutes(1),
    runtime: own,
  });
  const template = Template.fromStack(stack);

  test('gives the hooks that name it a second function, table, queue, schedule and status rule', () => {
    expect(apart.runtime).toBe(own);
    expect(shared.runtime).toBe(LifecycleCommandRuntime.of(stack));
    expect(own).not.toBe(shared.runtime);
    template.resourceCountIs('AWS::Lambda::Function', 2);
    template.resourceCountIs('AWS::DynamoDB::Table', 2);
    template.resourceCountIs('AWS::SQS::Queue', 2);
    template.resourceCountIs('AWS::Lambda::Permission', 2);
    template.resourcePropertiesCountIs('AWS::Events::Rule', { ScheduleExpression: 'rate(6 minutes)' }, 2);
    // Only the own runtime serves a launch hook.
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    onlyId(template, 'AWS::StepFunctions::StateMachine', /^OwnRegistrationWait/);
  });

  test('the hook\'s document, rule, role and parameter bear the own runtime\'s prefix, and its rule invokes the own function', () => {
    expect(own.namePrefix).toMatch(/^lch-[0-9a-f]{10}$/);
    expect(own.namePrefix).not.toBe(shared.runtime.namePrefix);
    const ownFunction = onlyId(template, 'AWS::Lambda::Function', /^OwnHandler[0-9A-F]{8}$/);
    const { name, settings } = hookParameter(template, 'Apart');
    expect(settings.documentName.startsWith(`${own.namePrefix}-`)).toBe(true);
    expect(name).toBe(`${own.hookParameterPath}${settings.documentName}`);
    const ruleId = onlyId(template, 'AWS::Events::Rule', /^ApartLifecycleActionRule/);
    const rule = template.toJSON().Resources[ruleId].Properties;
    expect(rule.Name.startsWith(`${own.namePrefix}-`)).toBe(true);
    expect(rule.Targets[0].Arn).toEqual({ 'Fn::GetAtt': [ownFunction, 'Arn'] });
    expect(rule.Targets[0].DeadLetterConfig.Arn).toEqual({ 'Fn::GetAtt': [onlyId(template, 'AWS::SQS::Queue', /^Own/), 'Arn'] });
    const roleId = onlyId(template, 'AWS::IAM::Role', /^ApartRole/);
    expect(template.toJSON().Resources[roleId].Properties.Path).toBe(own.hookRolePath);
    expect(template.toJSON().Resources[roleId].Properties.AssumeRolePolicyDocument.Statement[0].Principal)
      .toEqual({ AWS: { 'Fn::GetAtt': [onlyId(template, 'AWS::IAM::Role', /^OwnHandlerRole/), 'Arn'] } });
    // The own function's environment names the own runtime's table and prefix.
    const variables = template.toJSON().Resources[ownFunction].Properties.Environment.Variables;
    expect(variables.RUNTIME_NAME_PREFIX).toBe(own.namePrefix);
    expect(variables.RUNTIME_ACTION_TABLE).toEqual({ Ref: onlyId(template, 'AWS::DynamoDB::Table', /^Own/) });
    // The shared runtime's status rule does not match the own runtime's documents, nor the other way round.
    template.hasResourceProperties('AWS::Events::Rule', { EventPattern: Match.objectLike({ detail: Match.objectLike({ 'document-name': [{ prefix: `${own.namePrefix}-` }] }) }) });
    template.hasResourceProperties('AWS::Events::Rule', { EventPattern: Match.objectLike({ detail: Match.objectLike({ 'document-name': [{ prefix: `${shared.runtime.namePrefix}-` }] }) }) });
  });
});

/** What the runtime brings that every hook waits for: its function (with its retry configuration and invoke permission), its policy, its status rule and its schedule. */
const RUNTIME_NEEDS: Array<[string, RegExp]> = [
  ['AWS::Lambda::Function', HANDLER_ID],
  ['AWS::Lambda::EventInvokeConfig', /^LifecycleCommandRuntimeHandlerEventInvokeConfig/],
  ['AWS::Lambda::Permission', /^LifecycleCommandRuntimeHandlerInvokedByRules/],
  ['AWS::IAM::Policy', /^LifecycleCommandRuntimeHandlerPolicy/],
  ['AWS::Events::Rule', /^LifecycleCommandRuntimeCommandStatusRule/],
  ['AWS::Events::Rule', /^LifecycleCommandRuntimeReconciliationRule/],
];
/** What a launch hook also waits for: the runtime's registration wait. */
const LAUNCH_NEEDS: Array<[string, RegExp]> = [['AWS::StepFunctions::StateMachine', /^LifecycleCommandRuntimeRegistrationWait[0-9A-F]{8}$/]];

/** What the hook of this id brings and waits for: its rule, role, parameter and document, and with `instancePolicy` its instance output policy. */
function hookNeeds(hookId: string, instancePolicy: boolean): Array<[string, RegExp]> {
  return [
    ['AWS::Events::Rule', new RegExp(`^${hookId}LifecycleActionRule`)],
    ['AWS::IAM::Role', new RegExp(`^${hookId}Role`)],
    ['AWS::SSM::Parameter', new RegExp(`^${hookId}Settings`)],
    ['AWS::SSM::Document', new RegExp(`^${hookId}Document`)],
    ...(instancePolicy ? [['AWS::IAM::Policy', new RegExp(`^${hookId}InstanceOutputPolicy`)] as [string, RegExp]] : []),
  ];
}

/** The logical ids of these resources, each the one of its type whose id matches, sorted and without repeats. */
function idsOf(template: Template, needs: Array<[string, RegExp]>): string[] {
  return [...new Set(needs.map(([type, pattern]) => onlyId(template, type, pattern)))].sort();
}

/** The logical ids a value refers to: Ref, Fn::GetAtt and Fn::Sub's ${...}. */
function referencedIds(value: unknown): string[] {
  const found: string[] = [];
  const walk = (x: unknown): void => {
    if (Array.isArray(x)) {
      x.forEach(walk);
      return;
    }
    if (x === null || typeof x !== 'object') return;
    for (const [key, v] of Object.entries(x)) {
      if (key === 'Ref' && typeof v === 'string') {
        found.push(v);
      } else if (key === 'Fn::GetAtt') {
        found.push(Array.isArray(v) ? String(v[0]) : String(v).split('.')[0]);
      } else if (key === 'Fn::Sub') {
        const [text, variables] = Array.isArray(v) ? v : [v, undefined];
        for (const m of String(text).matchAll(/\$\{([^}.!]+)/g)) found.push(m[1]);
        walk(variables);
      } else {
        walk(v);
      }
    }
  };
  walk(value);
  return found;
}

/** Every resource reachable from `start` through references and DependsOn, `start` excluded. */
function reachableFrom(template: Template, start: string): Set<string> {
  const resources = template.toJSON().Resources as Record<string, any>;
  const edges = (id: string) => {
    const r = resources[id];
    return [...referencedIds(r), ...[r.DependsOn ?? []].flat()].filter((to: string) => to in resources);
  };
  const seen = new Set<string>();
  const queue = edges(start);
  while (queue.length > 0) {
    const id = queue.shift()!;
    if (seen.has(id)) continue;
    seen.add(id);
    queue.push(...edges(id));
  }
  return seen;
}

/** The group waits for exactly `needs`, and none of them waits for, or refers to, the group, directly or through others. */
function expectGroupWaitsFor(template: Template, needs: string[]) {
  const { id: groupId, group } = groupResource(template);
  expect([...group.DependsOn].sort()).toEqual(needs);
  // The walk sees the group's own references and dependencies: its launch template, and each need.
  const fromGroup = reachableFrom(template, groupId);
  expect(fromGroup.has(onlyId(template, 'AWS::EC2::LaunchTemplate'))).toBe(true);
  for (const need of needs) expect(fromGroup.has(need)).toBe(true);
  const resources = template.toJSON().Resources as Record<string, any>;
  for (const need of needs) {
    expect(referencedIds(resources[need])).not.toContain(groupId);
    expect([resources[need].DependsOn ?? []].flat()).not.toContain(groupId);
    expect(reachableFrom(template, need).has(groupId)).toBe(false);
  }
}

describe('a hook on a group of the same app sits in the group\'s own definition', () => {
  function ownedHook(props: Partial<LifecycleCommandHookProps> = {}, groupProps: Partial<autoscaling.AutoScalingGroupProps> = {}) {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 1, natGateways: 0 });
    const group = new autoscaling.AutoScalingGroup(stack, 'Group', {
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      instanceType: new ec2.InstanceType('t3.micro'),
      machineImage: ec2.MachineImage.latestAmazonLinux2023(),
      ...groupProps,
    });
    const hook = new LifecycleCommandHook(stack, 'Drain', {
      autoScalingGroup: group,
      transition: autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
      commands: ['systemctl stop application'],
      timeout: Duration.minutes(5),
      ...props,
    });
    return { stack, group, hook, template: Template.fromStack(stack) };
  }

  describe('a terminate hook with the default name', () => {
    const { hook, template } = ownedHook();

    test('the group\'s LifecycleHookSpecificationList holds the hook, and there is no AWS::AutoScaling::LifecycleHook', () => {
      template.resourceCountIs('AWS::AutoScaling::LifecycleHook', 0);
      expect(groupResource(template).group.Properties.LifecycleHookSpecificationList).toEqual([{
        LifecycleHookName: hook.lifecycleHookName,
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
        // max(timeout 300, registration 0) + 600.
        HeartbeatTimeout: 900,
        DefaultResult: 'CONTINUE',
      }]);
      expect(hook.lifecycleHook).toBeUndefined();
    });

    test('the hook\'s default name is the runtime\'s prefix and the hook\'s unique name, within Auto Scaling\'s 255 characters', () => {
      const prefix = namePrefix(template);
      expect(hook.lifecycleHookName).toMatch(new RegExp(`^${prefix}-Stack-Drain-[0-9A-F]{8}$`));
      expect(hook.lifecycleHookName.length).toBeLessThanOrEqual(255);
      expect(hookParameter(template).settings.hookName).toBe(hook.lifecycleHookName);
    });

    test('the group and its instances carry the hook\'s tag: 12 hex digits of the SHA-256 of the document\'s name, and that name', () => {
      const documentName = hookParameter(template).settings.documentName;
      const tag = groupTagOf(documentName);
      expect(tag.key).toMatch(/^cdk-lifecycle-command-hook:[0-9a-f]{12}$/);
      const tags = groupResource(template).group.Properties.Tags;
      expect(tags).toEqual([
        { Key: tag.key, Value: documentName, PropagateAtLaunch: true },
        { Key: 'Name', Value: 'Stack/Group', PropagateAtLaunch: true },
      ]);
      // The tag is the group's: no other resource of the stack gets it.
      const tagged = Object.entries(template.toJSON().Resources as Record<string, any>)
        .filter(([, r]) => JSON.stringify(r.Properties?.Tags ?? []).includes(tag.key)).map(([id]) => id);
      expect(tagged).toEqual([groupResource(template).id]);
    });

    test('the settings name the group by its tag, never by its name; the rule\'s wrapper adds the name from the lifecycle event', () => {
      expectOwnedGroupSettings(template, {
        groupTag: groupTagOf(hookParameter(template).settings.documentName),
        hookName: hook.lifecycleHookName,
        documentName: expect.stringMatching(/^lch-[0-9a-f]{10}-Stack-Drain-[0-9A-F]{8}$/),
        transition: 'terminate',
        failureResult: 'CONTINUE',
        outputLogGroupName: { Ref: expect.stringMatching(/^DrainOutputLogGroup/) },
        registrationTimeoutSeconds: 0,
        deliveryTimeoutSeconds: 60,
        executionTimeoutSeconds: 300,
        heartbeatTimeoutSeconds: 900,
        stages: 'return-to-warm-pool,terminate',
        roleArn: { 'Fn::GetAtt': [expect.stringMatching(/^DrainRole/), 'Arn'] },
      });
      const ruleId = onlyId(template, 'AWS::Events::Rule', /^DrainLifecycleActionRule/);
      const [target] = template.toJSON().Resources[ruleId].Properties.Targets;
      expect(Object.values(target.InputTransformer.InputPathsMap).sort()).toEqual(['$', '$.detail.AutoScalingGroupName']);
    });

    test('the rule matches the hook\'s name alone, which bears the runtime\'s prefix', () => {
      const ruleId = onlyId(template, 'AWS::Events::Rule', /^DrainLifecycleActionRule/);
      expect(template.toJSON().Resources[ruleId].Properties.EventPattern).toEqual({
        'source': ['aws.autoscaling'],
        'detail-type': ['EC2 Instance-terminate Lifecycle Action'],
        'detail': { LifecycleHookName: [hook.lifecycleHookName] },
      });
    });

    test('the hook\'s role names no group: its conditions are on the tag the group carries', () => {
      const roleId = onlyId(template, 'AWS::IAM::Role', /^DrainRole/);
      const role = template.toJSON().Resources[roleId];
      const { id: groupId, group } = groupResource(template);
      expect(referencedIds(role)).not.toContain(groupId);
      const statements = role.Properties.Policies[0].PolicyDocument.Statement as any[];
      const bySid = Object.fromEntries(statements.map((s) => [s.Sid, s]));
      expect(Object.keys(bySid).sort()).toEqual(['GroupLifecycleActions', 'SendHookDocument', 'SendToGroupInstances']);
      // Any group, but only the one with the tag: the ARN ends in "*".
      expect(bySid.GroupLifecycleActions.Resource).toEqual(partitionArn(':autoscaling:eu-west-1:123456789012:autoScalingGroup:*:autoScalingGroupName/*'));
      const conditionTag = (condition: Record<string, Record<string, string>>, prefix: string) => {
        const entries = Object.entries(condition.StringEquals);
        expect(Object.keys(condition)).toEqual(['StringEquals']);
        expect(entries).toHaveLength(1);
        const [[key, value]] = entries;
        expect(key.startsWith(prefix)).toBe(true);
        return { Key: key.slice(prefix.length), Value: value, PropagateAtLaunch: true };
      };
      const groupTags = group.Properties.Tags;
      expect(groupTags).toContainEqual(conditionTag(bySid.SendToGroupInstances.Condition, 'ssm:resourceTag/'));
      expect(groupTags).toContainEqual(conditionTag(bySid.GroupLifecycleActions.Condition, 'autoscaling:ResourceTag/'));
      expect(conditionTag(bySid.SendToGroupInstances.Condition, 'ssm:resourceTag/').Key).not.toBe('Name');
    });

    test('the group waits for exactly what the hook needs, and none of it refers to the group: no cycle', () => {
      expectGroupWaitsFor(template, idsOf(template, [...hookNeeds('Drain', true), ...RUNTIME_NEEDS]));
      // A terminate hook needs no registration wait.
      template.resourceCountIs('AWS::StepFunctions::StateMachine', 0);
    });
  });

  test('a launch hook: the group waits for the registration wait too, and the app synthesizes', () => {
    const { stack, template } = ownedHook({ transition: autoscaling.LifecycleTransition.INSTANCE_LAUNCHING });
    expectGroupWaitsFor(template, idsOf(template, [...hookNeeds('Drain', true), ...RUNTIME_NEEDS, ...LAUNCH_NEEDS]));
    expect(() => App.of(stack)!.synth({ force: true })).not.toThrow();
  });

  test('configureInstanceRole: false: the group waits for the hook\'s needs, without an instance policy', () => {
    const { template } = ownedHook({ configureInstanceRole: false });
    expect(Object.keys(template.findResources('AWS::IAM::Policy')).filter((id) => /^DrainInstanceOutputPolicy/.test(id))).toEqual([]);
    expectGroupWaitsFor(template, idsOf(template, [...hookNeeds('Drain', false), ...RUNTIME_NEEDS]));
  });

  test('a group with a creation policy (signals) still synthesizes, and waits for the hook\'s needs', () => {
    const { stack, template } = ownedHook(
      { transition: autoscaling.LifecycleTransition.INSTANCE_LAUNCHING },
      { signals: autoscaling.Signals.waitForAll() },
    );
    const { group } = groupResource(template);
    expect(group.CreationPolicy).toEqual({ ResourceSignal: expect.objectContaining({ Count: 1 }) });
    expect(group.Properties.LifecycleHookSpecificationList).toEqual([expect.objectContaining({ LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING' })]);
    expectGroupWaitsFor(template, idsOf(template, [...hookNeeds('Drain', true), ...RUNTIME_NEEDS, ...LAUNCH_NEEDS]));
    expect(() => App.of(stack)!.synth({ force: true })).not.toThrow();
  });

  test('a LifecycleHookSpecificationList entry the group already has is kept beside the hook\'s', () => {
    const stack = newStack();
    const group = ownedGroup(stack);
    const own = { lifecycleHookName: 'own-warmup', lifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING', heartbeatTimeout: 120, defaultResult: 'CONTINUE' };
    (group.node.defaultChild as autoscaling.CfnAutoScalingGroup).lifecycleHookSpecificationList = [own];
    const hook = new LifecycleCommandHook(stack, 'Drain', {
      autoScalingGroup: group,
      transition: autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
      commands: ['true'],
      timeout: Duration.minutes(1),
    });
    const template = Template.fromStack(stack);
    expect(groupResource(template).group.Properties.LifecycleHookSpecificationList).toEqual([
      { LifecycleHookName: 'own-warmup', LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING', HeartbeatTimeout: 120, DefaultResult: 'CONTINUE' },
      { LifecycleHookName: hook.lifecycleHookName, LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING', HeartbeatTimeout: 660, DefaultResult: 'CONTINUE' },
    ]);
    template.resourceCountIs('AWS::AutoScaling::LifecycleHook', 0);
  });

  test('a launch and a terminate hook on one group: two specifications, two tags on the group and its instances, each role on its own tag', () => {
    const stack = newStack();
    const group = ownedGroup(stack);
    const hooks = {
      Boot: new LifecycleCommandHook(stack, 'Boot', { autoScalingGroup: group, transition: autoscaling.LifecycleTransition.INSTANCE_LAUNCHING, commands: ['true'], timeout: Duration.minutes(1) }),
      Drain: new LifecycleCommandHook(stack, 'Drain', { autoScalingGroup: group, transition: autoscaling.LifecycleTransition.INSTANCE_TERMINATING, commands: ['true'], timeout: Duration.minutes(1) }),
    };
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::AutoScaling::LifecycleHook', 0);
    const { group: groupJson } = groupResource(template);
    expect(groupJson.Properties.LifecycleHookSpecificationList).toEqual([
      // max(60, registration 180) + 600.
      { LifecycleHookName: hooks.Boot.lifecycleHookName, LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING', HeartbeatTimeout: 780, DefaultResult: 'ABANDON' },
      { LifecycleHookName: hooks.Drain.lifecycleHookName, LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING', HeartbeatTimeout: 660, DefaultResult: 'CONTINUE' },
    ]);
    expect(hooks.Boot.lifecycleHookName).not.toBe(hooks.Drain.lifecycleHookName);
    const tags = Object.fromEntries((['Boot', 'Drain'] as const).map((id) => [id, groupTagOf(hookParameter(template, id).settings.documentName)]));
    expect(tags.Boot.key).not.toBe(tags.Drain.key);
    expect(groupJson.Properties.Tags).toHaveLength(3);
    expect(groupJson.Properties.Tags).toEqual(expect.arrayContaining([
      { Key: tags.Boot.key, Value: tags.Boot.value, PropagateAtLaunch: true },
      { Key: tags.Drain.key, Value: tags.Drain.value, PropagateAtLaunch: true },
      { Key: 'Name', Value: 'Stack/Group', PropagateAtLaunch: true },
    ]));
    for (const id of ['Boot', 'Drain'] as const) {
      expect(hookParameter(template, id).settings.groupTag).toEqual(tags[id]);
      const roleId = onlyId(template, 'AWS::IAM::Role', new RegExp(`^${id}Role`));
      const statements = template.toJSON().Resources[roleId].Properties.Policies[0].PolicyDocument.Statement as any[];
      expect(statements.find((s) => s.Sid === 'SendToGroupInstances').Condition).toEqual({ StringEquals: { [`ssm:resourceTag/${tags[id].key}`]: tags[id].value } });
      expect(statements.find((s) => s.Sid === 'GroupLifecycleActions').Condition).toEqual({ StringEquals: { [`autoscaling:ResourceTag/${tags[id].key}`]: tags[id].value } });
      expect(hooks[id].lifecycleHook).toBeUndefined();
    }
    // The group waits for both hooks' needs, and the runtime's, once.
    expectGroupWaitsFor(template, idsOf(template, [...hookNeeds('Boot', true), ...hookNeeds('Drain', true), ...RUNTIME_NEEDS, ...LAUNCH_NEEDS]));
  });
});

describe('a hook on an imported group keeps a separate lifecycle hook', () => {
  const { hook, template, stack } = hookTemplate({ group: 'imported' });

  test('the AWS::AutoScaling::LifecycleHook waits for exactly the hook\'s needs; nothing is tagged', () => {
    const [id] = Object.keys(template.findResources('AWS::AutoScaling::LifecycleHook'));
    const lifecycleHook = template.toJSON().Resources[id];
    // No instance role to grant: the group is imported.
    expect([...lifecycleHook.DependsOn].sort()).toEqual(idsOf(template, [...hookNeeds('Drain', false), ...RUNTIME_NEEDS]));
    expect(JSON.stringify(template.toJSON())).not.toContain('cdk-lifecycle-command-hook:');
    expect(hookParameter(template).settings).not.toHaveProperty('groupTag');
  });

  test('hook.lifecycleHook is that resource', () => {
    expect(hook.lifecycleHook).toBeDefined();
    expect(stack.resolve((hook.lifecycleHook as autoscaling.LifecycleHook).lifecycleHookName)).toEqual({ Ref: expect.stringMatching(/^DrainHook/) });
  });
});

describe('a group defined in another stack of the app', () => {
  test('keeps a separate lifecycle hook in the hook\'s stack, so that neither stack waits for the other both ways', () => {
    const app = new App();
    const env = { account: '123456789012', region: 'eu-west-1' };
    const groupStack = new Stack(app, 'Fleet', { env });
    const vpc = new ec2.Vpc(groupStack, 'Vpc', { natGateways: 0, maxAzs: 1 });
    const group = new autoscaling.AutoScalingGroup(groupStack, 'Group', {
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      instanceType: new ec2.InstanceType('t3.micro'),
      machineImage: new ec2.AmazonLinuxImage({ generation: ec2.AmazonLinuxGeneration.AMAZON_LINUX_2 }),
    });
    const hookStack = new Stack(app, 'Hooks', { env });
    const hook = new LifecycleCommandHook(hookStack, 'Drain', {
      autoScalingGroup: group,
      transition: autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
      commands: ['systemctl stop app'],
      timeout: Duration.minutes(5),
    });
    // Both synthesize: the hook's stack depends on the group's, never the other way round.
    app.synth();
    expect(hook.lifecycleHook).toBeDefined();
    Template.fromStack(hookStack).resourceCountIs('AWS::AutoScaling::LifecycleHook', 1);
    const groupTemplate = Template.fromStack(groupStack).toJSON();
    const groups = Object.values<any>(groupTemplate.Resources).filter((r) => r.Type === 'AWS::AutoScaling::AutoScalingGroup');
    expect(groups).toHaveLength(1);
    expect(groups[0].Properties.LifecycleHookSpecificationList).toBeUndefined();
    expect(groupStack.dependencies).toEqual([]);
  });
});
