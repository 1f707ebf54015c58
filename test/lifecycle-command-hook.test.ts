import { App, CfnParameter, Duration, Stack, aws_autoscaling as autoscaling, aws_ec2 as ec2, aws_logs as logs } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { LifecycleCommandHook, LifecycleCommandHookProps } from '../src';

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

function documentRef() {
  return { Ref: Match.stringLikeRegexp('^DrainDocument') };
}

describe('terminate hook on an imported group', () => {
  const { template } = hookTemplate({ group: 'imported' });

  test('creates the lifecycle hook with a heartbeat covering the command, delivery and completion', () => {
    template.hasResourceProperties('AWS::AutoScaling::LifecycleHook', {
      AutoScalingGroupName: 'web-fleet',
      LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
      // Two reconciliation periods on top, so that a pass repairs a lost status event before the timeout.
      HeartbeatTimeout: 300 + 60 + 60 + 2 * 900,
      DefaultResult: 'CONTINUE',
    });
    template.resourceCountIs('AWS::AutoScaling::LifecycleHook', 1);
  });

  test('a terminate hook has no registration wait: no state machine, no Step Functions right', () => {
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 0);
    expect(JSON.stringify(template.toJSON())).not.toMatch(/states:|HOOK_REGISTRATION_WAIT/);
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

  test('the hook is created after, and deleted before, the rules, the handler and its permissions', () => {
    const [hook] = Object.values(template.findResources('AWS::AutoScaling::LifecycleHook'));
    const dependsOn: string[] = hook.DependsOn;
    for (const prefix of ['DrainLifecycleActionRule', 'DrainCommandStatusRule', 'DrainHandler', 'DrainHandlerPolicy']) {
      expect(dependsOn.some((id) => id.startsWith(prefix))).toBe(true);
    }
    // The three invoke permissions, which the rules' targets add to the handler.
    const permissions = Object.keys(template.findResources('AWS::Lambda::Permission'));
    expect(permissions).toHaveLength(3);
    expect(dependsOn).toEqual(expect.arrayContaining(permissions));
  });

  test('the lifecycle rule matches exactly this group, hook and transition', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        'source': ['aws.autoscaling'],
        'detail-type': ['EC2 Instance-terminate Lifecycle Action'],
        'detail': {
          AutoScalingGroupName: ['web-fleet'],
          LifecycleHookName: [Match.stringLikeRegexp('^Stack-Drain-[0-9A-F]{8}$')],
        },
      },
    });
  });

  test('the status rule matches this document and terminal statuses only', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        'source': ['aws.ssm'],
        'detail-type': ['EC2 Command Invocation Status-change Notification'],
        'detail': {
          'document-name': [documentRef()],
          'status': ['Success', 'Failed', 'TimedOut', 'Cancelled', 'Undeliverable', 'Terminated'],
        },
      },
    });
    template.resourceCountIs('AWS::Events::Rule', 3);
  });

  test('the reconciliation rule invokes the handler every 15 minutes, without retries: the next pass does the same work', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(15 minutes)',
      Targets: [Match.objectLike({
        Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DrainHandler'), 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 900 },
      })],
    });
  });

  test('both event rule targets retry and dead-letter to the encrypted queue', () => {
    const rules = template.findResources('AWS::Events::Rule', { Properties: { EventPattern: Match.anyValue() } });
    expect(Object.keys(rules)).toHaveLength(2);
    for (const rule of Object.values(rules)) {
      expect(rule.Properties.Targets).toEqual([expect.objectContaining({
        Arn: { 'Fn::GetAtt': [expect.stringMatching(/^DrainHandler/), 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 420 + 1800 },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [expect.stringMatching(/^DrainDeadLetterQueue/), 'Arn'] } },
      })]);
    }
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600 });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Effect: 'Deny',
          Action: 'sqs:*',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        })]),
      },
    });
  });

  test('the handler runs Node.js 24 with JSON logs, its own log group and the hook\'s settings', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Handler: 'index.handler',
      Timeout: 60,
      MemorySize: 256,
      LoggingConfig: Match.objectLike({ LogFormat: 'JSON', ApplicationLogLevel: 'INFO' }),
      DeadLetterConfig: { TargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DrainDeadLetterQueue'), 'Arn'] } },
      Environment: {
        Variables: {
          HOOK_GROUP_NAME: 'web-fleet',
          HOOK_NAME: Match.stringLikeRegexp('^Stack-Drain-[0-9A-F]{8}$'),
          HOOK_DOCUMENT_NAME: documentRef(),
          HOOK_TRANSITION: 'terminate',
          HOOK_FAILURE_RESULT: 'CONTINUE',
          HOOK_OUTPUT_LOG_GROUP: { Ref: Match.stringLikeRegexp('^DrainOutputLogGroup') },
          HOOK_REGISTRATION_TIMEOUT_SECONDS: '0',
          HOOK_DELIVERY_TIMEOUT_SECONDS: '60',
          HOOK_EXECUTION_TIMEOUT_SECONDS: '300',
          HOOK_ACTION_TABLE: { Ref: actionTableId(template) },
        },
      },
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 420 + 1800 });
  });

  test('log groups keep events for one month', () => {
    const groups = template.findResources('AWS::Logs::LogGroup');
    expect(Object.keys(groups)).toHaveLength(2);
    for (const group of Object.values(groups)) expect(group.Properties.RetentionInDays).toBe(30);
  });

  test('the handler role holds exactly the least-privilege statements', () => {
    const policies = template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^DrainHandlerRole') }] },
    });
    const statements = Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement);
    expect(statements).toEqual(expect.arrayContaining([
      {
        Sid: 'SendHookDocument',
        Effect: 'Allow',
        Action: 'ssm:SendCommand',
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ssm:eu-west-1:123456789012:document/', documentRefValue(template)]] },
      },
      {
        Sid: 'SendToGroupInstances',
        Effect: 'Allow',
        Action: 'ssm:SendCommand',
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ec2:eu-west-1:123456789012:instance/*']] },
        Condition: { StringEquals: { 'ssm:resourceTag/aws:autoscaling:groupName': 'web-fleet' } },
      },
      {
        Sid: 'ReadCommandsAndRegistration',
        Effect: 'Allow',
        Action: ['ssm:ListCommands', 'ssm:DescribeInstanceInformation'],
        Resource: '*',
      },
      {
        Sid: 'GroupLifecycleActions',
        Effect: 'Allow',
        Action: ['autoscaling:CompleteLifecycleAction', 'autoscaling:RecordLifecycleActionHeartbeat'],
        Resource: {
          'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':autoscaling:eu-west-1:123456789012:autoScalingGroup:*:autoScalingGroupName/web-fleet']],
        },
      },
      {
        Sid: 'ActionRecords',
        Effect: 'Allow',
        Action: ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
        Resource: { 'Fn::GetAtt': [actionTableId(template), 'Arn'] },
      },
    ]));
    // Besides those five: writing its own log group and dead-lettering, nothing else.
    const others = statements.filter((s: { Sid?: string }) => !s.Sid);
    const otherActions = others.flatMap((s: { Action: string | string[] }) => [s.Action].flat()).sort();
    expect(otherActions).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents', 'sqs:SendMessage']);
    for (const s of others) expect(s.Resource).not.toEqual('*');
    expect(JSON.stringify(statements)).not.toContain('iam:PassRole');
  });

  test('an imported group\'s instance role is left to its owner, and a warning says what to grant', () => {
    template.resourceCountIs('AWS::IAM::Role', 1);
    const { stack } = hookTemplate({ group: 'imported' });
    Annotations.fromStack(stack).hasWarning('/Stack/Drain', Match.stringLikeRegexp(
      'configureInstanceRole: the group is imported.*AmazonSSMManagedInstanceCore.*the group\'s owner must grant them',
    ));
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

function actionTableId(template: Template): string {
  const [id] = Object.keys(template.findResources('AWS::DynamoDB::Table'));
  return id;
}

function documentRefValue(template: Template) {
  const [id] = Object.keys(template.findResources('AWS::SSM::Document'));
  return { Ref: id };
}

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

  test('the heartbeat also covers the SSM registration wait; failures abandon by default', () => {
    template.hasResourceProperties('AWS::AutoScaling::LifecycleHook', {
      AutoScalingGroupName: { Ref: Match.stringLikeRegexp('^GroupASG') },
      LifecycleHookName: 'bootstrap',
      LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
      HeartbeatTimeout: 600 + 180 + 60 + 60 + 2 * 900,
      DefaultResult: 'ABANDON',
      NotificationMetadata: '{"env":"prod"}',
    });
    expect(hook.heartbeatTimeout.toSeconds()).toBe(900 + 1800);
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

  test('the lifecycle rule matches the launch event of this group and hook name', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        'source': ['aws.autoscaling'],
        'detail-type': ['EC2 Instance-launch Lifecycle Action'],
        'detail': {
          AutoScalingGroupName: [{ Ref: Match.stringLikeRegexp('^GroupASG') }],
          LifecycleHookName: ['bootstrap'],
        },
      },
    });
  });

  test('the handler checks registration without waiting itself, and completes with ABANDON on failure', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 60,
      Environment: {
        Variables: Match.objectLike({
          HOOK_TRANSITION: 'launch',
          HOOK_FAILURE_RESULT: 'ABANDON',
          HOOK_REGISTRATION_TIMEOUT_SECONDS: '180',
          HOOK_REGISTRATION_WAIT: {
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
    const handlerId = Object.keys(template.findResources('AWS::Lambda::Function', { Properties: { Environment: { Variables: Match.objectLike({ HOOK_NAME: 'bootstrap' }) } } }))[0];
    // The definition, with the handler's ARN put back where the template joins it in.
    const parts = machine.Properties.DefinitionString['Fn::Join'][1] as unknown[];
    const definition = JSON.parse(parts.map((p) => (typeof p === 'string' ? p : JSON.stringify(p).includes(handlerId) ? 'HANDLER_ARN' : '?')).join(''));
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
  });

  test('the handler may start executions of that one state machine; the state machine may invoke only the handler', () => {
    const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
    const name = machine.Properties.StateMachineName as string;
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([{
          Sid: 'StartRegistrationWait',
          Effect: 'Allow',
          Action: 'states:StartExecution',
          Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:states:eu-west-1:123456789012:stateMachine:${name}`]] },
        }]),
      },
    });
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
      Resource: { 'Fn::GetAtt': [expect.stringMatching(/Handler/), 'Arn'] },
    }]);
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
    expect(stack.resolve((hook.lifecycleHook as autoscaling.LifecycleHook).lifecycleHookName)).toEqual({ Ref: expect.stringMatching(/^DrainHook/) });
    expect(hook.lifecycleHookName).toBe('bootstrap');
    expect(stack.resolve(hook.documentName)).toEqual({ Ref: expect.stringMatching(/^DrainDocument/) });
    expect(stack.resolve(hook.handler.functionName)).toEqual({ Ref: expect.stringMatching(/^DrainHandler/) });
    expect(stack.resolve(hook.outputLogGroup.logGroupName)).toEqual({ Ref: expect.stringMatching(/^DrainOutputLogGroup/) });
    expect(stack.resolve(hook.deadLetterQueue.queueUrl)).toEqual({ Ref: expect.stringMatching(/^DrainDeadLetterQueue/) });
  });
});

describe('options', () => {
  test('configureInstanceRole: false leaves the instance role alone', () => {
    const { template } = hookTemplate({ group: 'owned', configureInstanceRole: false });
    const roles = template.findResources('AWS::IAM::Role', {
      Properties: { AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'ec2.amazonaws.com' } })] } },
    });
    for (const role of Object.values(roles)) expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    template.resourcePropertiesCountIs('AWS::IAM::Policy', { Roles: [{ Ref: Match.stringLikeRegexp('^GroupInstanceRole') }] }, 0);
  });

  test('a given output log group is used, not created; retention applies to the handler log group', () => {
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
    template.resourceCountIs('AWS::Logs::LogGroup', 2);
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
    expect(hook.outputLogGroup).toBe(outputLogGroup);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ HOOK_OUTPUT_LOG_GROUP: { Ref: Match.stringLikeRegexp('^Shared') } }) },
    });
  });

  test('defaultResult overrides the per-transition default on the hook and in the handler', () => {
    const { template } = hookTemplate({ defaultResult: autoscaling.DefaultResult.ABANDON });
    template.hasResourceProperties('AWS::AutoScaling::LifecycleHook', { DefaultResult: 'ABANDON' });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ HOOK_FAILURE_RESULT: 'ABANDON' }) },
    });
  });

  test('a 24-hour command: the heartbeat stays at 7200 s, a scheduled pass keeps the action alive, the heartbeat scoped to the group', () => {
    const { template } = hookTemplate({ timeout: Duration.hours(24) });
    template.hasResourceProperties('AWS::AutoScaling::LifecycleHook', { HeartbeatTimeout: 7200 });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(15 minutes)', State: 'ENABLED' });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ HOOK_PASS_PERIOD_SECONDS: '900', HOOK_HEARTBEAT_TIMEOUT_SECONDS: '7200', HOOK_EXECUTION_TIMEOUT_SECONDS: '86400' }) },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Sid: 'GroupLifecycleActions',
          Action: ['autoscaling:CompleteLifecycleAction', 'autoscaling:RecordLifecycleActionHeartbeat'],
          Resource: Match.objectLike({ 'Fn::Join': Match.anyValue() }),
        })]),
      },
    });
  });

  test('the longest terminate timeout: 48 hours less delivery, completion and one period', () => {
    const { template } = hookTemplate({ timeout: Duration.seconds(171_780) });
    template.hasResourceProperties('AWS::AutoScaling::LifecycleHook', { HeartbeatTimeout: 7200 });
  });

  test('a custom registration timeout sets the launch heartbeat; the handler\'s timeout does not grow with it', () => {
    const { template } = hookTemplate({
      transition: autoscaling.LifecycleTransition.INSTANCE_LAUNCHING,
      registrationTimeout: Duration.minutes(10),
      timeout: Duration.seconds(6480),
    });
    template.hasResourceProperties('AWS::AutoScaling::LifecycleHook', { HeartbeatTimeout: 7200 });
    template.hasResourceProperties('AWS::Lambda::Function', { Timeout: 60 });
  });

  test('two hooks on one group get separate documents, rules, handlers and tables of action records', () => {
    const stack = newStack();
    const group = ownedGroup(stack);
    for (const [id, transition] of [['Boot', autoscaling.LifecycleTransition.INSTANCE_LAUNCHING], ['Drain', autoscaling.LifecycleTransition.INSTANCE_TERMINATING]] as const) {
      new LifecycleCommandHook(stack, id, { autoScalingGroup: group, transition, commands: ['true'], timeout: Duration.minutes(1) });
    }
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::AutoScaling::LifecycleHook', 2);
    template.resourceCountIs('AWS::SSM::Document', 2);
    template.resourceCountIs('AWS::Events::Rule', 6);
    template.resourceCountIs('AWS::DynamoDB::Table', 2);
    template.resourceCountIs('AWS::Lambda::Function', 2);
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
    ['a timeout under 30 s', { timeout: Duration.seconds(10) }, /timeout is 10 seconds; it must be a whole number of seconds from 30 to 171780/],
    ['48 hours and a second', { timeout: Duration.seconds(172_801) },
      /timeout is 172801 seconds; .* from 30 to 171780 \(Auto Scaling's 172800-second global timeout of a lifecycle action less 120 seconds for delivery and completion and 900 seconds for the reconciliation pass/],
    ['a launch timeout over the global timeout less registration', {
      transition: autoscaling.LifecycleTransition.INSTANCE_LAUNCHING,
      timeout: Duration.hours(48),
    }, /timeout is 172800 seconds; .* from 30 to 171600 \(Auto Scaling's 172800-second global timeout of a lifecycle action less 300 seconds for SSM registration, delivery and completion/],
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
    ['commands missing', { commands: undefined as any }, /commands is of type undefined; give a list of shell lines/],
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
