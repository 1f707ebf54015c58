// What the handler's role, the dead-letter queue and the log groups of each hook
// of the compliance stacks allow, read from the synthesized templates.
import { ACCOUNT, FLEET_NAME, HookTemplate, hookTemplates, REGION } from './hook-template';
import { Authorization, evaluate, evaluateCall, glob, Statement } from './iam-evaluator';

/**
 * Step Functions' service principal as aws-cdk-lib writes it: `states.amazonaws.com`,
 * or, before 2.15x, the regional one (`states.<region>.amazonaws.com`, or a map by
 * region in a stack without one); IAM accepts each.
 */
const STEP_FUNCTIONS_PRINCIPAL = {
  asymmetricMatch: (actual: unknown): boolean => (typeof actual === 'string' && /^states(\.[a-z0-9-]+)?\.amazonaws\.com$/.test(actual))
    || JSON.stringify(actual) === JSON.stringify({ 'Fn::FindInMap': ['ServiceprincipalMap', { Ref: 'AWS::Region' }, 'states'] }),
  toAsymmetricMatcher: (): string => 'Step Functions\' service principal',
};

const templates = hookTemplates();

/** Actions with no resource type in the Service Authorization Reference: IAM accepts only "*" for them. */
const NO_RESOURCE_TYPE = ['ssm:ListCommands', 'ssm:DescribeInstanceInformation'];
/** The reconciliation pass's reads: no resource type either. */
const PASS_READS = ['autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribeWarmPool', 'ssm:GetCommandInvocation'];
const GROUP_TAG = 'ssm:resourceTag/aws:autoscaling:groupName';

const EXPECTED: Record<string, { groupName: string; handlerRetention: number; outputRetention?: number }> = {
  'OwnedGroupHooks/Bootstrap': { groupName: 'OwnedGroupHooks-GroupASG3C6DFE3B-0A1B2C3D', handlerRetention: 90 },
  'OwnedGroupHooks/Drain': { groupName: 'OwnedGroupHooks-GroupASG3C6DFE3B-0A1B2C3D', handlerRetention: 30, outputRetention: 30 },
  'ImportedGroupHooks/Bootstrap': { groupName: FLEET_NAME, handlerRetention: 30, outputRetention: 30 },
  'ImportedGroupHooks/Drain': { groupName: 'web-fleet', handlerRetention: 14 },
};

test('the compliance stacks hold the four hooks this file expects', () => {
  expect(Object.keys(templates).sort()).toEqual(Object.keys(EXPECTED).sort());
});

describe.each(Object.keys(EXPECTED))('%s', (key) => {
  const t: HookTemplate = templates[key];
  const expected = EXPECTED[key];
  const arn = (service: string, resource: string) => `arn:aws:${service}:${REGION}:${ACCOUNT}:${resource}`;
  const documentArn = arn('ssm', `document/${t.documentName}`);
  const groupArn = (name: string, id = '6f1e2d3c-4b5a-4978-8796-a5b4c3d2e1f0') =>
    arn('autoscaling', `autoScalingGroup:${id}:autoScalingGroupName/${name}`);
  // Launch hooks wait for registration in a state machine of their own.
  const isLaunch = key.endsWith('/Bootstrap');
  const stateMachines = Object.entries(t.own).filter(([, r]) => r.Type === 'AWS::StepFunctions::StateMachine');
  const stateMachineArn = isLaunch ? arn('states', `stateMachine:${stateMachines[0]?.[1].Properties!.StateMachineName}`) : undefined;
  const instance = (id: string, group?: string): Authorization => ({
    action: 'ssm:SendCommand',
    resource: arn('ec2', `instance/${id}`),
    context: group === undefined ? {} : { [GROUP_TAG]: group },
  });
  const send = (document: string, target: Authorization): Authorization[] =>
    [{ action: 'ssm:SendCommand', resource: document }, target];

  const role = t.logicalId('HandlerRole/Resource');
  const handlerPolicy = t.logicalId('HandlerPolicy/Resource');
  const defaultPolicy = t.logicalId('HandlerRole/DefaultPolicy/Resource');
  const handlerLogGroup = t.logicalId('HandlerLogGroup/Resource');
  const queue = t.logicalId('DeadLetterQueue/Resource');
  const actionTable = t.logicalId('ActionTable/Resource');
  const tableArn = t.physical[`${actionTable}.Arn`];
  const rules = [t.logicalId('LifecycleActionRule/Resource'), t.logicalId('CommandStatusRule/Resource'), t.logicalId('ReconciliationRule/Resource')];
  const rolePolicies = Object.entries(t.resources)
    .filter(([, r]) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties!.Roles) === JSON.stringify([{ Ref: role }]))
    .map(([id]) => id);
  const statements: Statement[] = rolePolicies.flatMap((id) => t.statements(id));

  test('the handler serves this group and this hook\'s document', () => {
    expect(t.groupName).toBe(expected.groupName);
    expect(t.documentName).toBe(t.physical[t.logicalId('Document')]);
  });

  test('the role is Lambda\'s alone, with no managed policy and two policies of exactly these statements', () => {
    expect(t.resources[role].Properties).toEqual({
      AssumeRolePolicyDocument: {
        Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } }],
        Version: '2012-10-17',
      },
      Description: 'Sends the lifecycle hook\'s command and completes its lifecycle actions',
    });
    expect(rolePolicies.sort()).toEqual([defaultPolicy, handlerPolicy].sort());
    expect(t.statements(handlerPolicy)).toEqual([
      { Sid: 'SendHookDocument', Effect: 'Allow', Action: 'ssm:SendCommand', Resource: documentArn },
      {
        Sid: 'SendToGroupInstances',
        Effect: 'Allow',
        Action: 'ssm:SendCommand',
        Resource: arn('ec2', 'instance/*'),
        Condition: { StringEquals: { [GROUP_TAG]: expected.groupName } },
      },
      { Sid: 'ReadCommandsAndRegistration', Effect: 'Allow', Action: NO_RESOURCE_TYPE, Resource: '*' },
      { Sid: 'ReconciliationReads', Effect: 'Allow', Action: PASS_READS, Resource: '*' },
      {
        Sid: 'GroupLifecycleActions',
        Effect: 'Allow',
        Action: ['autoscaling:CompleteLifecycleAction', 'autoscaling:RecordLifecycleActionHeartbeat'],
        Resource: arn('autoscaling', `autoScalingGroup:*:autoScalingGroupName/${expected.groupName}`),
      },
      {
        Sid: 'ActionRecords',
        Effect: 'Allow',
        Action: ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
        Resource: tableArn,
      },
      ...(isLaunch ? [{ Sid: 'StartRegistrationWait', Effect: 'Allow', Action: 'states:StartExecution', Resource: stateMachineArn }] : []),
    ]);
    expect(t.statements(defaultPolicy)).toEqual([
      { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: t.physical[`${handlerLogGroup}.Arn`] },
      { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: t.physical[`${queue}.Arn`] },
    ]);
  });

  test('"*" is the resource only of actions that have no resource type', () => {
    const ownPolicies = Object.entries(t.own).filter(([, r]) => r.Type === 'AWS::IAM::Policy').map(([id]) => id);
    for (const s of ownPolicies.flatMap((id) => t.statements(id))) {
      if ([s.Resource].flat().includes('*')) for (const action of [s.Action].flat()) expect([...NO_RESOURCE_TYPE, ...PASS_READS]).toContain(action);
      for (const action of [s.Action].flat()) expect(action).not.toContain('*');
    }
  });

  test('nothing in the stack may pass a role', () => {
    const allStatements = Object.values(t.resources)
      .flatMap((r) => [r.Properties?.PolicyDocument?.Statement ?? []].flat());
    for (const s of allStatements) {
      for (const action of [s.Action].flat()) expect(glob(String(action).toLowerCase(), 'iam:passrole')).toBe(false);
    }
  });

  test('Auto Scaling actions are only CompleteLifecycleAction and RecordLifecycleActionHeartbeat, on this group\'s ARN alone, besides the pass\'s reads', () => {
    const autoScalingStatements = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('autoscaling:') && !PASS_READS.includes(a)));
    expect(autoScalingStatements.length).toBeGreaterThan(0);
    for (const s of autoScalingStatements) {
      for (const action of [s.Action].flat()) expect(['autoscaling:CompleteLifecycleAction', 'autoscaling:RecordLifecycleActionHeartbeat']).toContain(action);
      expect(s.Resource).toBe(arn('autoscaling', `autoScalingGroup:*:autoScalingGroupName/${expected.groupName}`));
    }
  });

  describe('IAM, evaluating the role\'s statements, allows this hook\'s own calls', () => {
    test.each<[string, Authorization[]]>([
      ['SendCommand of the hook\'s document to an instance of the group', send(documentArn, instance('i-0123456789abcdef0', expected.groupName))],
      ['ListCommands', [{ action: 'ssm:ListCommands', resource: '*' }]],
      ['DescribeInstanceInformation', [{ action: 'ssm:DescribeInstanceInformation', resource: '*' }]],
      ...PASS_READS.map((action): [string, Authorization[]] => [action, [{ action, resource: '*' }]]),
      ['CompleteLifecycleAction on the group', [{ action: 'autoscaling:CompleteLifecycleAction', resource: groupArn(expected.groupName) }]],
      ['RecordLifecycleActionHeartbeat on the group', [{ action: 'autoscaling:RecordLifecycleActionHeartbeat', resource: groupArn(expected.groupName) }]],
      ...['PutItem', 'GetItem', 'UpdateItem', 'Query'].map((op): [string, Authorization[]] =>
        [`${op} on its table of action records`, [{ action: `dynamodb:${op}`, resource: tableArn }]]),
      ['writing its own log group', [{ action: 'logs:PutLogEvents', resource: `${t.physical[`${handlerLogGroup}.Arn`]}` }]],
      ['dead-lettering to its queue', [{ action: 'sqs:SendMessage', resource: t.physical[`${queue}.Arn`] }]],
      ...(isLaunch ? [['starting its registration wait', [{ action: 'states:StartExecution', resource: stateMachineArn! }]] as [string, Authorization[]]] : []),
    ])('%s', (_name, call) => {
      expect(evaluateCall(statements, call)).toBe('allowed');
    });
  });

  describe('IAM, evaluating the role\'s statements, refuses', () => {
    const runShellScript = `arn:aws:ssm:${REGION}::document/AWS-RunShellScript`;
    test.each<[string, Authorization[]]>([
      ['SendCommand to an instance tagged with another group', send(documentArn, instance('i-0123456789abcdef0', 'other-fleet'))],
      ['SendCommand to an instance of a group whose name starts with this one\'s', send(documentArn, instance('i-0123456789abcdef0', `${expected.groupName}-canary`))],
      ['SendCommand to an instance of no group', send(documentArn, instance('i-0123456789abcdef0'))],
      ['SendCommand of AWS-RunShellScript, even to an instance of the group', send(runShellScript, instance('i-0123456789abcdef0', expected.groupName))],
      ['SendCommand of another document of the account', send(arn('ssm', 'document/other-document'), instance('i-0123456789abcdef0', expected.groupName))],
      ['SendCommand to an instance of the group in another account', send(documentArn, {
        ...instance('i-0123456789abcdef0', expected.groupName),
        resource: `arn:aws:ec2:${REGION}:210987654321:instance/i-0123456789abcdef0`,
      })],
      ['CompleteLifecycleAction on another group', [{ action: 'autoscaling:CompleteLifecycleAction', resource: groupArn('other-fleet') }]],
      ['CompleteLifecycleAction on a group whose name starts with this one\'s', [{ action: 'autoscaling:CompleteLifecycleAction', resource: groupArn(`${expected.groupName}-canary`) }]],
      ['CompleteLifecycleAction on a group of the same name in another region', [{
        action: 'autoscaling:CompleteLifecycleAction',
        resource: groupArn(expected.groupName).replace(`:${REGION}:`, ':us-east-1:'),
      }]],
      ['RecordLifecycleActionHeartbeat on another group', [{ action: 'autoscaling:RecordLifecycleActionHeartbeat', resource: groupArn('other-fleet') }]],
      ['reading another table', [{ action: 'dynamodb:GetItem', resource: arn('dynamodb', 'table/other-table') }]],
      ['deleting records or the table', [{ action: 'dynamodb:DeleteItem', resource: tableArn }, { action: 'dynamodb:DeleteTable', resource: tableArn }]],
      ['scanning its table', [{ action: 'dynamodb:Scan', resource: tableArn }]],
      ['changing the group', [{ action: 'autoscaling:SetDesiredCapacity', resource: groupArn(expected.groupName) }]],
      ['iam:PassRole', [{ action: 'iam:PassRole', resource: `arn:aws:iam::${ACCOUNT}:role/admin` }]],
      ['a Session Manager session on an instance of the group', [{ ...instance('i-0123456789abcdef0', expected.groupName), action: 'ssm:StartSession' }]],
      ['reading parameters', [{ action: 'ssm:GetParameter', resource: arn('ssm', 'parameter/db-password') }]],
      ['terminating instances', [{ action: 'ec2:TerminateInstances', resource: arn('ec2', 'instance/i-0123456789abcdef0') }]],
      ['writing another log group', [{ action: 'logs:PutLogEvents', resource: arn('logs', 'log-group:other:*') }]],
      ['sending to another queue', [{ action: 'sqs:SendMessage', resource: arn('sqs', 'other-queue') }]],
      ['starting another state machine', [{ action: 'states:StartExecution', resource: arn('states', 'stateMachine:other') }]],
      ['changing or stopping a state machine', [
        { action: 'states:UpdateStateMachine', resource: stateMachineArn ?? arn('states', 'stateMachine:other') },
        { action: 'states:StopExecution', resource: arn('states', 'express:other:e:e') },
      ]],
    ])('%s', (_name, call) => {
      expect(evaluateCall(statements, call)).toBe('implicitly denied');
    });
  });

  test('the dead-letter queue is encrypted, refuses requests without TLS and accepts only this hook\'s rules', () => {
    expect(t.resources[queue].Properties).toEqual({ MessageRetentionPeriod: 1_209_600, SqsManagedSseEnabled: true });
    const [policyId, queuePolicy] = Object.entries(t.own).find(([, r]) => r.Type === 'AWS::SQS::QueuePolicy')!;
    expect(queuePolicy.Properties!.Queues).toEqual([{ Ref: queue }]);
    const queueStatements = t.resolve(t.resources[policyId].Properties!.PolicyDocument.Statement);
    const queueArn = t.physical[`${queue}.Arn`];
    expect(queueStatements).toEqual([
      { Effect: 'Deny', Principal: { AWS: '*' }, Action: 'sqs:*', Resource: queueArn, Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
      ...rules.map((rule) => ({
        Sid: expect.any(String),
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: queueArn,
        Condition: { ArnEquals: { 'aws:SourceArn': t.physical[`${rule}.Arn`] } },
      })),
    ]);
    // The Deny, read as IAM reads it: any call over plain HTTP, whoever makes it.
    const deny = queueStatements.filter((s: any) => s.Effect === 'Deny').map(({ Principal: _p, ...s }: any) => s);
    expect(evaluate(deny, { action: 'sqs:ReceiveMessage', resource: queueArn, context: { 'aws:SecureTransport': 'false' } })).toBe('explicitly denied');
    expect(evaluate(deny, { action: 'sqs:ReceiveMessage', resource: queueArn, context: { 'aws:SecureTransport': 'true' } })).toBe('implicitly denied');
  });

  test(isLaunch
    ? 'the registration wait is an Express state machine whose role, assumed by Step Functions alone, may invoke only the handler'
    : 'a terminate hook has no state machine', () => {
    if (!isLaunch) {
      expect(stateMachines).toEqual([]);
      return;
    }
    expect(stateMachines).toHaveLength(1);
    const machine = stateMachines[0][1].Properties!;
    expect(machine.StateMachineType).toBe('EXPRESS');
    const machineRole = machine.RoleArn['Fn::GetAtt'][0];
    expect(t.resources[machineRole].Properties!.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: STEP_FUNCTIONS_PRINCIPAL } },
    ]);
    expect(t.resources[machineRole].Properties!.ManagedPolicyArns).toBeUndefined();
    const machinePolicies = Object.entries(t.resources)
      .filter(([, r]) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties!.Roles) === JSON.stringify([{ Ref: machineRole }]))
      .map(([id]) => id);
    expect(machinePolicies).toHaveLength(1);
    expect(t.statements(machinePolicies[0])).toEqual([
      { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: t.physical[`${t.logicalId('Handler/Resource')}.Arn`] },
    ]);
  });

  test('only this hook\'s rules may invoke the handler', () => {
    const permissions = Object.values(t.own).filter((r) => r.Type === 'AWS::Lambda::Permission').map((r) => t.resolve(r.Properties));
    expect(permissions).toEqual(rules.map((rule) => ({
      Action: 'lambda:InvokeFunction',
      FunctionName: t.physical[`${t.logicalId('Handler/Resource')}.Arn`],
      Principal: 'events.amazonaws.com',
      SourceArn: t.physical[`${rule}.Arn`],
    })));
  });

  test('the table of action records: on-demand, TTL on its records, encrypted at rest with an AWS-owned key, deleted with the hook', () => {
    const table = t.resources[actionTable];
    expect(table.Properties).toEqual({
      KeySchema: [{ AttributeName: 'InstanceId', KeyType: 'HASH' }, { AttributeName: 'LifecycleActionToken', KeyType: 'RANGE' }],
      AttributeDefinitions: [{ AttributeName: 'InstanceId', AttributeType: 'S' }, { AttributeName: 'LifecycleActionToken', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'ExpiresAt', Enabled: true },
    });
    // No SSESpecification: DynamoDB encrypts every table at rest, by default with a key it owns.
    expect((table as { DeletionPolicy?: string }).DeletionPolicy).toBe('Delete');
  });

  test('every log group the hook creates keeps its events for the set retention', () => {
    const retention = Object.fromEntries(Object.values(t.own)
      .filter((r) => r.Type === 'AWS::Logs::LogGroup')
      .map((r) => [r.Metadata!['aws:cdk:path'].split('/')[2], r.Properties!.RetentionInDays]));
    expect(retention).toEqual({
      HandlerLogGroup: expected.handlerRetention,
      ...(expected.outputRetention === undefined ? {} : { OutputLogGroup: expected.outputRetention }),
    });
  });
});

describe('the evaluator', () => {
  const statement = (s: Partial<Statement>): Statement => ({ Effect: 'Allow', Action: 'ssm:SendCommand', Resource: '*', ...s });

  test('matches * across ":" and "/", ? as one character, and actions without case', () => {
    expect(glob('arn:aws:ec2:*:1:instance/*', 'arn:aws:ec2:eu-west-1:1:instance/i-1')).toBe(true);
    expect(glob('a?c', 'abc')).toBe(true);
    expect(glob('a?c', 'ac')).toBe(false);
    expect(glob('arn:aws:ssm:r:1:document/Doc', 'arn:aws:ssm:r:1:document/Doc2')).toBe(false);
    expect(evaluate([statement({})], { action: 'SSM:sendcommand', resource: 'x' })).toBe('allowed');
  });

  test('a condition key missing from the request, or with another value, fails the statement', () => {
    const s = statement({ Condition: { StringEquals: { [GROUP_TAG]: 'web' } } });
    expect(evaluate([s], { action: 'ssm:SendCommand', resource: 'x', context: { [GROUP_TAG]: 'web' } })).toBe('allowed');
    expect(evaluate([s], { action: 'ssm:SendCommand', resource: 'x', context: { [GROUP_TAG]: 'web2' } })).toBe('implicitly denied');
    expect(evaluate([s], { action: 'ssm:SendCommand', resource: 'x' })).toBe('implicitly denied');
  });

  test('a Deny wins over an Allow', () => {
    expect(evaluate([statement({}), statement({ Effect: 'Deny' })], { action: 'ssm:SendCommand', resource: 'x' })).toBe('explicitly denied');
  });

  test('refuses to guess about what it does not model', () => {
    expect(() => evaluate([{ ...statement({}), NotResource: 'x' } as Statement], { action: 'a', resource: 'x' })).toThrow(/does not model NotResource/);
    expect(() => evaluate([statement({ Condition: { StringNotEquals: { k: 'v' } } })], { action: 'ssm:SendCommand', resource: 'x', context: { k: 'v' } }))
      .toThrow(/does not model the condition operator StringNotEquals/);
  });
});
