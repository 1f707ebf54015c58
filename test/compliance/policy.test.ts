// What the roles, the dead-letter queue, the function's permission and the log
// groups of the compliance stacks allow, read from the synthesized templates.
// Each stack has one runtime (one function and its role) and two hooks; the
// function acts on a hook's group only through that hook's role, which it
// assumes: SendCommand, CompleteLifecycleAction and RecordLifecycleActionHeartbeat
// are judged by the hook role's inline policy, everything else by the
// function role's policies.
import { ACCOUNT, FLEET_NAME, HookTemplate, hookTemplates, REGION, RuntimeTemplate, runtimeTemplates } from './hook-template';
import { Authorization, evaluate, evaluateCall, glob, Statement } from './iam-evaluator';
import { isWildcardOnly } from './service-reference';

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

const runtimes = runtimeTemplates();
const templates = hookTemplates();

/** Actions with no resource type in the Service Authorization Reference: IAM accepts only "*" for them. */
const READ_COMMANDS = ['ssm:ListCommands', 'ssm:GetCommandInvocation'];
/**
 * The reads of the groups (the reconciliation pass's; and an instance's own group, for a status event of a hook
 * whose tag two groups carry while CloudFormation replaces one): no resource type either.
 */
const READ_GROUPS = ['autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribeAutoScalingInstances', 'autoscaling:DescribeWarmPool'];
/** Launch hooks' read of the agents' registration: no resource type either. */
const READ_REGISTRATION = ['ssm:DescribeInstanceInformation'];
const NO_RESOURCE_TYPE = [...READ_COMMANDS, ...READ_GROUPS, ...READ_REGISTRATION];

test.each(NO_RESOURCE_TYPE)('%s has no resource type in the Service Authorization Reference', (action) => {
  expect(isWildcardOnly(action)).toBe(true);
});
const GROUP_TAG = 'ssm:resourceTag/aws:autoscaling:groupName';
const LIFECYCLE_ACTIONS = ['autoscaling:CompleteLifecycleAction', 'autoscaling:RecordLifecycleActionHeartbeat'];
const TABLE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:Query'];
const OWNED_GROUP = 'OwnedGroupHooks-GroupASG3C6DFE3B-0A1B2C3D';

/**
 * `byTag`: a group of the same app, which holds the hook in its own definition
 * and waits for the hook's resources: they know it by the tag the construct
 * places on it (and, from their launch, on its instances), not by its name.
 */
const EXPECTED: Record<string, { groupName: string; byTag?: true; outputRetention?: number }> = {
  // Its output log group is passed by name: the hook creates none.
  'OwnedGroupHooks/Bootstrap': { groupName: OWNED_GROUP, byTag: true },
  'OwnedGroupHooks/Drain': { groupName: OWNED_GROUP, byTag: true, outputRetention: 30 },
  'ImportedGroupHooks/Bootstrap': { groupName: FLEET_NAME, outputRetention: 30 },
  // Its output log group is the user's.
  'ImportedGroupHooks/Drain': { groupName: 'web-fleet' },
};

const arn = (service: string, resource: string, region = REGION, account = ACCOUNT) => `arn:aws:${service}:${region}:${account}:${resource}`;
const roleArn = (pathAndName: string) => `arn:aws:iam::${ACCOUNT}:role/${pathAndName}`;
const groupArn = (name: string, id = '6f1e2d3c-4b5a-4978-8796-a5b4c3d2e1f0') => arn('autoscaling', `autoScalingGroup:${id}:autoScalingGroupName/${name}`);
const INSTANCE_ID = 'i-0123456789abcdef0';

/** The tags of a group as the template gives them: the group of the app's (among them each of its hooks' tag); none for the others. */
function tagsOfGroup(group: string): Array<{ Key: string; Value: string; PropagateAtLaunch: unknown }> {
  const owned = runtimes.OwnedGroupHooks;
  const ids = Object.entries(owned.resources).filter(([id, res]) => res.Type === 'AWS::AutoScaling::AutoScalingGroup' && owned.physical[id] === group);
  return ids.flatMap(([, res]) => res.Properties!.Tags ?? []);
}
/** A request context with the tags, under the condition key prefix of the service that evaluates them. */
const tagContext = (prefix: string, tags: Array<{ Key: string; Value: string }>) => Object.fromEntries(tags.map((t) => [`${prefix}/${t.Key}`, t.Value]));

/**
 * SendCommand to an instance of the group: it carries the tag Auto Scaling
 * gives it and the group's tags that propagate at launch (for the group of the
 * app, each of its hooks' tag); of no group, no tag.
 */
const instance = (group?: string, id = INSTANCE_ID): Authorization => ({
  action: 'ssm:SendCommand',
  resource: arn('ec2', `instance/${id}`),
  context: group === undefined ? {} : {
    ...tagContext('ssm:resourceTag', tagsOfGroup(group).filter((t) => String(t.PropagateAtLaunch) === 'true')),
    [GROUP_TAG]: group,
  },
});
/** An Auto Scaling action on the group, its request carrying the group's tags. */
const onGroup = (action: string, group: string, groupArnOf = groupArn): Authorization => ({
  action,
  resource: groupArnOf(group),
  context: tagContext('autoscaling:ResourceTag', tagsOfGroup(group)),
});
const documentArn = (name: string) => arn('ssm', `document/${name}`);
const send = (document: string, target: Authorization): Authorization[] => [{ action: 'ssm:SendCommand', resource: documentArn(document) }, target];
const assume = (role: string): Authorization[] => [{ action: 'sts:AssumeRole', resource: role }];

/** Every statement of the stack's policies, managed or inline in a role. */
function allStatements(r: RuntimeTemplate): any[] {
  return Object.values(r.resources).flatMap((resource) => [
    ...[resource.Properties?.PolicyDocument?.Statement ?? []].flat(),
    ...(resource.Properties?.Policies ?? []).flatMap((p: any) => [p.PolicyDocument.Statement].flat()),
  ]);
}

/** The Allow statements of the stack's identity policies: IAM policies, and roles' inline policies. */
function identityAllows(r: RuntimeTemplate): any[] {
  return Object.values(r.resources)
    .filter((resource) => resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::Role')
    .flatMap((resource) => [
      ...[resource.Properties?.PolicyDocument?.Statement ?? []].flat(),
      ...(resource.Properties?.Policies ?? []).flatMap((p: any) => [p.PolicyDocument.Statement].flat()),
    ])
    .filter((s) => s.Effect === 'Allow');
}

/** The rules of the stack that invoke the runtime's function. */
function rulesInvoking(r: RuntimeTemplate): string[] {
  return Object.entries(r.resources)
    .filter(([, res]) => res.Type === 'AWS::Events::Rule' && (res.Properties!.Targets ?? []).some((t: any) => r.resolve(t.Arn) === r.functionArn))
    .map(([id]) => id);
}

test('the compliance stacks hold the four hooks this file expects, two to each stack\'s one runtime', () => {
  expect(Object.keys(templates).sort()).toEqual(Object.keys(EXPECTED).sort());
  expect(Object.keys(runtimes).sort()).toEqual(['ImportedGroupHooks', 'OwnedGroupHooks']);
  for (const r of Object.values(runtimes)) {
    expect(Object.keys(r.hooks).sort()).toEqual(['Bootstrap', 'Drain']);
    // One function in the stack, the runtime's.
    expect(Object.values(r.resources).filter((res) => res.Type === 'AWS::Lambda::Function')).toHaveLength(1);
  }
  // Each runtime names its resources with a prefix of its own.
  expect(runtimes.OwnedGroupHooks.namePrefix).toMatch(/^lch-[0-9a-f]{10}$/);
  expect(runtimes.ImportedGroupHooks.namePrefix).toMatch(/^lch-[0-9a-f]{10}$/);
  expect(runtimes.OwnedGroupHooks.namePrefix).not.toBe(runtimes.ImportedGroupHooks.namePrefix);
});

describe.each(Object.keys(runtimes))('the runtime of %s', (stackName) => {
  const r: RuntimeTemplate = runtimes[stackName];
  const prefix = r.namePrefix;
  const other = Object.values(runtimes).find((o) => o !== r)!;
  const handlerPolicy = r.logicalId('HandlerPolicy/Resource/Resource');
  const defaultPolicy = r.logicalId('HandlerRole/DefaultPolicy/Resource');
  const handlerLogGroup = r.logicalId('HandlerLogGroup/Resource');
  const queue = r.logicalId('DeadLetterQueue/Resource');
  const actionTable = r.logicalId('ActionTable/Resource');
  const tableArn = r.physical[`${actionTable}.Arn`];
  const parameterPath = `/cdk-lifecycle-command-hook/${prefix}/`;
  const rolePath = `/cdk-lifecycle-command-hook/${prefix}/`;
  const machines = Object.entries(r.resources).filter(([, res]) => res.Type === 'AWS::StepFunctions::StateMachine');
  const stateMachineArn = r.physical[`${r.logicalId('RegistrationWait/Resource')}.Arn`];
  const hooks = Object.values(r.hooks);
  const statements = r.statements;

  test('the function\'s environment names the runtime\'s table, parameter path, prefix, pass period and registration wait', () => {
    expect(r.environment).toEqual({
      RUNTIME_ACTION_TABLE: r.physical[actionTable],
      RUNTIME_PASS_PERIOD_SECONDS: '360',
      RUNTIME_HOOK_PARAMETERS: parameterPath,
      RUNTIME_NAME_PREFIX: prefix,
      // The stack has a launch hook.
      RUNTIME_REGISTRATION_WAIT: stateMachineArn,
    });
  });

  test('the function\'s role is Lambda\'s alone, with no managed policy and two policies of exactly these statements', () => {
    expect(r.resources[r.roleId].Properties).toEqual({
      AssumeRolePolicyDocument: {
        Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } }],
        Version: '2012-10-17',
      },
      Description: 'Runs the lifecycle command hooks\' commands and completes their lifecycle actions',
    });
    expect([...r.rolePolicies].sort()).toEqual([defaultPolicy, handlerPolicy].sort());
    expect(r.policyStatements(handlerPolicy)).toEqual([
      { Sid: 'ReadCommands', Effect: 'Allow', Action: READ_COMMANDS, Resource: '*' },
      { Sid: 'ReadGroups', Effect: 'Allow', Action: READ_GROUPS, Resource: '*' },
      {
        Sid: 'HookSettings',
        Effect: 'Allow',
        Action: ['ssm:GetParameter', 'ssm:GetParametersByPath'],
        Resource: [arn('ssm', `parameter${parameterPath.slice(0, -1)}`), arn('ssm', `parameter${parameterPath}*`)],
      },
      { Sid: 'AssumeHookRoles', Effect: 'Allow', Action: 'sts:AssumeRole', Resource: roleArn(`${rolePath.slice(1)}*`) },
      { Sid: 'ActionRecords', Effect: 'Allow', Action: TABLE_ACTIONS, Resource: tableArn },
      // The stack has a launch hook.
      { Sid: 'StartRegistrationWait', Effect: 'Allow', Action: 'states:StartExecution', Resource: stateMachineArn },
      { Sid: 'ReadRegistration', Effect: 'Allow', Action: 'ssm:DescribeInstanceInformation', Resource: '*' },
    ]);
    expect(r.policyStatements(defaultPolicy)).toEqual([
      { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: r.physical[`${handlerLogGroup}.Arn`] },
      { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: r.physical[`${queue}.Arn`] },
    ]);
  });

  test('"*" is the resource only of actions that have no resource type, in every policy of the runtime and its hooks', () => {
    const allows = identityAllows(r);
    expect(allows.filter((s) => [s.Resource].flat().includes('*')).length).toBeGreaterThan(0);
    // The hooks' roles are among them.
    expect(allows.filter((s) => s.Sid === 'SendToGroupInstances')).toHaveLength(2);
    for (const s of allows) {
      if ([s.Resource].flat().includes('*')) for (const action of [s.Action].flat()) expect(NO_RESOURCE_TYPE).toContain(action);
      for (const action of [s.Action].flat()) expect(action).not.toContain('*');
    }
  });

  test('nothing in the stack may pass a role', () => {
    const all = allStatements(r);
    expect(all.length).toBeGreaterThan(0);
    for (const s of all) {
      for (const action of [s.Action].flat()) expect(glob(String(action).toLowerCase(), 'iam:passrole')).toBe(false);
    }
  });

  test('the function\'s own role has no Auto Scaling action but the pass\'s reads, and sends no command', () => {
    const autoScaling = statements.flatMap((s) => [s.Action].flat()).filter((a) => a.startsWith('autoscaling:'));
    expect(autoScaling.sort()).toEqual([...READ_GROUPS].sort());
    expect(statements.flatMap((s) => [s.Action].flat())).not.toContain('ssm:SendCommand');
  });

  describe('IAM, evaluating the function role\'s statements, allows the runtime\'s own calls', () => {
    test.each<[string, Authorization[]]>([
      ...NO_RESOURCE_TYPE.map((action): [string, Authorization[]] => [action, [{ action, resource: '*' }]]),
      ...TABLE_ACTIONS.map((action): [string, Authorization[]] => [`${action} on its table of action records`, [{ action, resource: tableArn }]]),
      ['GetParameter of a hook\'s settings', [{ action: 'ssm:GetParameter', resource: arn('ssm', `parameter${parameterPath}${prefix}-Some-Hook`) }]],
      ['GetParametersByPath of the runtime\'s path', [{ action: 'ssm:GetParametersByPath', resource: arn('ssm', `parameter${parameterPath.slice(0, -1)}`) }]],
      ['writing its own log group', [{ action: 'logs:PutLogEvents', resource: r.physical[`${handlerLogGroup}.Arn`] }]],
      ['dead-lettering to its queue', [{ action: 'sqs:SendMessage', resource: r.physical[`${queue}.Arn`] }]],
      ['starting its registration wait', [{ action: 'states:StartExecution', resource: stateMachineArn }]],
      ...hooks.map((h): [string, Authorization[]] => [`assuming the role of ${h.key}`, assume(h.roleArn)]),
    ])('%s', (_name, call) => {
      expect(evaluateCall(statements, call)).toBe('allowed');
    });
  });

  describe('IAM, evaluating the function role\'s statements, refuses', () => {
    const someHook = hooks[0];
    test.each<[string, Authorization[]]>([
      // Without a hook's role the function acts on no group.
      ['SendCommand of a hook\'s document to an instance of its group, as itself', send(someHook.documentName, instance(someHook.groupName))],
      ['CompleteLifecycleAction on a hook\'s group, as itself', [{ action: 'autoscaling:CompleteLifecycleAction', resource: groupArn(someHook.groupName) }]],
      ['RecordLifecycleActionHeartbeat on a hook\'s group, as itself', [{ action: 'autoscaling:RecordLifecycleActionHeartbeat', resource: groupArn(someHook.groupName) }]],
      // Roles other than its hooks'.
      ['assuming a role outside the hooks\' path', assume(roleArn('admin'))],
      ['assuming a role at the root of the library\'s path', assume(roleArn('cdk-lifecycle-command-hook/admin'))],
      ['assuming a role of another runtime', assume(roleArn(`cdk-lifecycle-command-hook/${other.namePrefix}/Hook`))],
      ...Object.values(other.hooks).map((h): [string, Authorization[]] => [`assuming the role of ${h.key}, another runtime's hook`, assume(h.roleArn)]),
      ['assuming a role under a path that starts with the runtime\'s prefix', assume(roleArn(`cdk-lifecycle-command-hook/${prefix}0/Hook`))],
      ['assuming a role of another account under the same path', assume(`arn:aws:iam::210987654321:role${rolePath}Hook`)],
      // Parameters other than its hooks'.
      ['reading another parameter', [{ action: 'ssm:GetParameter', resource: arn('ssm', 'parameter/db-password') }]],
      ['reading the parameters of another runtime', [{ action: 'ssm:GetParameter', resource: arn('ssm', `parameter/cdk-lifecycle-command-hook/${other.namePrefix}/x`) }]],
      ['reading a parameter under a path that starts with the runtime\'s prefix', [{ action: 'ssm:GetParameter', resource: arn('ssm', `parameter/cdk-lifecycle-command-hook/${prefix}0/x`) }]],
      ['reading the whole library\'s path', [{ action: 'ssm:GetParametersByPath', resource: arn('ssm', 'parameter/cdk-lifecycle-command-hook') }]],
      ['writing a hook\'s settings', [{ action: 'ssm:PutParameter', resource: arn('ssm', `parameter${parameterPath}${prefix}-Some-Hook`) }]],
      ['decrypting parameters', [{ action: 'kms:Decrypt', resource: arn('kms', 'key/0a1b2c3d-0000-4000-8000-000000000000') }]],
      // Its table alone, and not all of it.
      ['reading another table', [{ action: 'dynamodb:GetItem', resource: arn('dynamodb', 'table/other-table') }]],
      ['reading the other runtime\'s table', [{ action: 'dynamodb:GetItem', resource: other.physical[`${other.logicalId('ActionTable/Resource')}.Arn`] }]],
      ['deleting records or the table', [{ action: 'dynamodb:DeleteItem', resource: tableArn }, { action: 'dynamodb:DeleteTable', resource: tableArn }]],
      ['scanning its table', [{ action: 'dynamodb:Scan', resource: tableArn }]],
      ['changing a group', [{ action: 'autoscaling:SetDesiredCapacity', resource: groupArn(someHook.groupName) }]],
      ['iam:PassRole', [{ action: 'iam:PassRole', resource: roleArn('admin') }]],
      ['creating a document', [{ action: 'ssm:CreateDocument', resource: documentArn(`${prefix}-evil`) }]],
      ['a Session Manager session on an instance of a group', [{ ...instance(someHook.groupName), action: 'ssm:StartSession' }]],
      ['terminating instances', [{ action: 'ec2:TerminateInstances', resource: arn('ec2', `instance/${INSTANCE_ID}`) }]],
      ['writing another log group', [{ action: 'logs:PutLogEvents', resource: arn('logs', 'log-group:other:*') }]],
      ['sending to another queue', [{ action: 'sqs:SendMessage', resource: arn('sqs', 'other-queue') }]],
      ['starting another state machine', [{ action: 'states:StartExecution', resource: arn('states', 'stateMachine:other') }]],
      ['changing or stopping a state machine', [
        { action: 'states:UpdateStateMachine', resource: stateMachineArn },
        { action: 'states:StopExecution', resource: arn('states', 'express:other:e:e') },
      ]],
    ])('%s', (_name, call) => {
      expect(evaluateCall(statements, call)).toBe('implicitly denied');
    });
  });

  test('the roles the function may take on are exactly its hooks\' roles: under its path, trusting its role alone', () => {
    const roles = Object.entries(r.resources).filter(([, res]) => res.Type === 'AWS::IAM::Role');
    const assumable = roles
      .filter(([id]) => evaluateCall(statements, assume(r.physical[`${id}.Arn`])) === 'allowed')
      .filter(([id]) => r.resolve(r.resources[id].Properties!.AssumeRolePolicyDocument.Statement)
        .some((s: any) => s.Effect === 'Allow' && [s.Principal?.AWS].flat().includes(r.roleArn)))
      .map(([id]) => id);
    expect(assumable.sort()).toEqual(hooks.map((h) => h.roleId).sort());
    // No other role of the stack is under the hooks' path: the function's right to assume stops at its hooks.
    const underPath = roles.filter(([id]) => r.physical[`${id}.Arn`].startsWith(roleArn(rolePath.slice(1)))).map(([id]) => id);
    expect(underPath.sort()).toEqual(hooks.map((h) => h.roleId).sort());
  });

  test('the dead-letter queue is encrypted, refuses requests without TLS and accepts messages only from the runtime\'s rules', () => {
    expect(r.resources[queue].Properties).toEqual({ MessageRetentionPeriod: 1_209_600, SqsManagedSseEnabled: true });
    const [policyId, queuePolicy] = Object.entries(r.own).find(([, res]) => res.Type === 'AWS::SQS::QueuePolicy')!;
    expect(queuePolicy.Properties!.Queues).toEqual([{ Ref: queue }]);
    const queueStatements = r.resolve(r.resources[policyId].Properties!.PolicyDocument.Statement);
    const queueArn = r.physical[`${queue}.Arn`];
    const rulePattern = arn('events', `rule/${prefix}-*`);
    expect(queueStatements).toEqual([
      { Effect: 'Deny', Principal: { AWS: '*' }, Action: 'sqs:*', Resource: queueArn, Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
      {
        Sid: 'RulesOfThisRuntime',
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: queueArn,
        Condition: { ArnLike: { 'aws:SourceArn': rulePattern } },
      },
    ]);
    // The Deny, read as IAM reads it: any call over plain HTTP, whoever makes it.
    const deny = queueStatements.filter((s: any) => s.Effect === 'Deny').map(({ Principal: _p, ...s }: any) => s);
    expect(evaluate(deny, { action: 'sqs:ReceiveMessage', resource: queueArn, context: { 'aws:SecureTransport': 'false' } })).toBe('explicitly denied');
    expect(evaluate(deny, { action: 'sqs:ReceiveMessage', resource: queueArn, context: { 'aws:SecureTransport': 'true' } })).toBe('implicitly denied');
    // The Allow, for EventBridge: every rule of the runtime, and no rule of another name.
    const allow = queueStatements.filter((s: any) => s.Effect === 'Allow').map(({ Principal: _p, ...s }: any) => s);
    const from = (rule: string) => evaluate(allow, { action: 'sqs:SendMessage', resource: queueArn, context: { 'aws:SourceArn': rule } });
    const ruleIds = rulesInvoking(r);
    expect(ruleIds).toHaveLength(hooks.length + 2);
    for (const id of ruleIds) expect(from(r.physical[`${id}.Arn`])).toBe('allowed');
    expect(from(arn('events', 'rule/attacker-rule'))).toBe('implicitly denied');
    expect(from(arn('events', `rule/${prefix}0-rule`))).toBe('implicitly denied');
    expect(from(arn('events', `rule/${other.namePrefix}-command-status`))).toBe('implicitly denied');
    expect(from(arn('events', `rule/${prefix}-x`, REGION, '210987654321'))).toBe('implicitly denied');
  });

  test('EventBridge may invoke the function only from the runtime\'s rules, by their name prefix, in the stack\'s account', () => {
    const permissions = Object.values(r.resources).filter((res) => res.Type === 'AWS::Lambda::Permission').map((res) => r.resolve(res.Properties));
    const rulePattern = arn('events', `rule/${prefix}-*`);
    expect(permissions).toEqual([{
      Action: 'lambda:InvokeFunction',
      FunctionName: r.functionArn,
      Principal: 'events.amazonaws.com',
      SourceAccount: ACCOUNT,
      SourceArn: rulePattern,
    }]);
    // Every rule that invokes the function bears the prefix (the permission covers it); no other name does.
    const ruleIds = rulesInvoking(r);
    expect(ruleIds.sort()).toEqual([
      r.logicalId('CommandStatusRule/Resource'), r.logicalId('ReconciliationRule/Resource'), ...hooks.map((h) => h.ruleId),
    ].sort());
    for (const id of ruleIds) {
      expect(r.resources[id].Properties!.Name).toMatch(new RegExp(`^${prefix}-`));
      expect(glob(rulePattern, r.physical[`${id}.Arn`])).toBe(true);
    }
    for (const forged of ['attacker-rule', `${prefix}0-rule`, `${other.namePrefix}-command-status`, `x-${prefix}-rule`]) {
      expect(glob(rulePattern, arn('events', `rule/${forged}`))).toBe(false);
    }
    expect(glob(rulePattern, arn('events', `rule/${prefix}-rule`, 'us-east-1'))).toBe(false);
  });

  test('the shared rule on command statuses matches only the runtime\'s documents, by their prefix, in final statuses', () => {
    const pattern = r.resolve(r.resources[r.logicalId('CommandStatusRule/Resource')].Properties!.EventPattern);
    expect(pattern).toEqual({
      'source': ['aws.ssm'],
      'detail-type': ['EC2 Command Invocation Status-change Notification'],
      'detail': {
        'document-name': [{ prefix: `${prefix}-` }],
        'status': ['Success', 'Failed', 'TimedOut', 'Cancelled', 'Undeliverable', 'Terminated'],
      },
    });
    for (const h of hooks) expect(h.documentName.startsWith(`${prefix}-`)).toBe(true);
  });

  test('the registration wait is one Express state machine whose role, assumed by Step Functions alone, may invoke only the function', () => {
    expect(machines).toHaveLength(1);
    const machine = machines[0][1].Properties!;
    expect(machine.StateMachineType).toBe('EXPRESS');
    const machineRole = machine.RoleArn['Fn::GetAtt'][0];
    expect(r.resources[machineRole].Properties!.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: STEP_FUNCTIONS_PRINCIPAL } },
    ]);
    expect(r.resources[machineRole].Properties!.ManagedPolicyArns).toBeUndefined();
    expect(r.resources[machineRole].Properties!.Policies).toBeUndefined();
    const machinePolicies = Object.entries(r.resources)
      .filter(([, res]) => res.Type === 'AWS::IAM::Policy' && JSON.stringify(res.Properties!.Roles) === JSON.stringify([{ Ref: machineRole }]))
      .map(([id]) => id);
    expect(machinePolicies).toHaveLength(1);
    expect(r.policyStatements(machinePolicies[0])).toEqual([
      { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: r.functionArn },
    ]);
  });

  test('the table of action records: keyed by hook and instance, on-demand, TTL on its records, encrypted at rest with an AWS-owned key, deleted with the runtime', () => {
    const table = r.resources[actionTable];
    expect(table.Properties).toEqual({
      KeySchema: [{ AttributeName: 'HookInstance', KeyType: 'HASH' }, { AttributeName: 'LifecycleActionToken', KeyType: 'RANGE' }],
      AttributeDefinitions: [{ AttributeName: 'HookInstance', AttributeType: 'S' }, { AttributeName: 'LifecycleActionToken', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'ExpiresAt', Enabled: true },
    });
    // No SSESpecification: DynamoDB encrypts every table at rest, by default with a key it owns.
    expect((table as { DeletionPolicy?: string }).DeletionPolicy).toBe('Delete');
  });

  test('the runtime\'s one log group keeps its events for the default month', () => {
    const retention = Object.values(r.own).filter((res) => res.Type === 'AWS::Logs::LogGroup').map((res) => res.Properties!.RetentionInDays);
    expect(retention).toEqual([30]);
  });
});

describe.each(Object.keys(EXPECTED))('%s', (key) => {
  const t: HookTemplate = templates[key];
  const r = t.runtime;
  const expected = EXPECTED[key];
  const isLaunch = key.endsWith('/Bootstrap');
  const document = t.physical[t.logicalId('Document')];
  // A group of the app is not named in the role: any group's ARN, on the condition that it carries the hook's tag.
  const ownGroupArn = arn('autoscaling', `autoScalingGroup:*:autoScalingGroupName/${expected.byTag ? '*' : expected.groupName}`);
  const others = Object.values(templates).filter((o) => o !== t);
  const tag = t.groupTag;
  /** The lifecycle hook as Auto Scaling gets it: a resource of its own, or an entry of the group's definition. */
  const hookDefinition = (): Record<string, any> => {
    if (!expected.byTag) return t.resources[t.logicalId('Hook/Resource')].Properties!;
    const specs: any[] = t.resources[t.groupId!].Properties!.LifecycleHookSpecificationList.filter((h: any) => h.LifecycleHookName === t.hookName);
    expect(specs).toHaveLength(1);
    return specs[0];
  };

  test(expected.byTag ? 'its group is the app\'s: the hook is in the group\'s definition, and the group carries the hook\'s tag to its instances' : 'its group is imported: the hook is a resource of its own', () => {
    if (!expected.byTag) {
      expect(tag).toBeUndefined();
      expect(r.resolve(t.resources[t.logicalId('Hook/Resource')].Properties!.AutoScalingGroupName)).toBe(expected.groupName);
      return;
    }
    expect(tag).toEqual({ key: expect.stringMatching(/^cdk-lifecycle-command-hook:[0-9a-f]{12}$/), value: document });
    expect(t.physical[t.groupId!]).toBe(expected.groupName);
    const group = t.resources[t.groupId!];
    expect(group.Properties!.Tags).toContainEqual({ Key: tag!.key, Value: tag!.value, PropagateAtLaunch: true });
    // The group, and so its first instances, waits for the hook's rule, role, settings and document.
    for (const id of [t.ruleId, t.roleId, t.logicalId('Settings'), t.logicalId('Document')]) expect(group.DependsOn).toContain(id);
    expect(hookDefinition()).toEqual(expect.objectContaining({
      LifecycleTransition: isLaunch ? 'autoscaling:EC2_INSTANCE_LAUNCHING' : 'autoscaling:EC2_INSTANCE_TERMINATING',
    }));
  });

  test('its settings name its group (or its tag), its hook, its document and its role; its rule delivers the same settings', () => {
    expect(t.settings).toEqual({
      ...(expected.byTag ? { groupTag: tag } : { groupName: expected.groupName }),
      hookName: hookDefinition().LifecycleHookName,
      documentName: document,
      transition: isLaunch ? 'launch' : 'terminate',
      failureResult: hookDefinition().DefaultResult,
      outputLogGroupName: expect.any(String),
      registrationTimeoutSeconds: isLaunch ? expect.any(Number) : 0,
      deliveryTimeoutSeconds: expect.any(Number),
      executionTimeoutSeconds: expect.any(Number),
      heartbeatTimeoutSeconds: hookDefinition().HeartbeatTimeout,
      stages: expect.any(String),
      roleArn: t.roleArn,
    });
    // The document and the parameter are named under the runtime's prefix and path.
    expect(document.startsWith(`${r.namePrefix}-`)).toBe(true);
    expect(t.resources[t.logicalId('Settings')].Properties!.Name).toBe(`${r.environment.RUNTIME_HOOK_PARAMETERS}${document}`);
    // The rule wraps each event it matches with the settings the parameter holds, and passes the event whole;
    // for a group of the app, with the group's name the event brings.
    const event = { 'source': 'aws.autoscaling', 'detail-type': 'x', 'detail': { AutoScalingGroupName: expected.groupName } };
    expect(t.delivered(event)).toEqual({ hook: expected.byTag ? { ...t.settings, groupName: expected.groupName } : t.settings, event });
    if (expected.byTag) {
      const another = { ...event, detail: { AutoScalingGroupName: 'other-fleet' } };
      expect(t.delivered(another)).toEqual({ hook: { ...t.settings, groupName: 'other-fleet' }, event: another });
    }
    // The rule matches only this hook's lifecycle events: of this group (for a group of the app, which waits for the rule,
    // by the hook's name alone).
    expect(r.resolve(t.resources[t.ruleId].Properties!.EventPattern)).toEqual({
      'source': ['aws.autoscaling'],
      'detail-type': [isLaunch ? 'EC2 Instance-launch Lifecycle Action' : 'EC2 Instance-terminate Lifecycle Action'],
      'detail': expected.byTag ? { LifecycleHookName: [t.hookName] } : { AutoScalingGroupName: [expected.groupName], LifecycleHookName: [t.hookName] },
    });
  });

  test('its role: assumed by the runtime\'s function role alone, under the runtime\'s path, with no managed policy and one inline policy of exactly these statements', () => {
    const role = t.resources[t.roleId].Properties!;
    expect(t.trust).toEqual([{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { AWS: r.roleArn } }]);
    expect(role.Path).toBe(`/cdk-lifecycle-command-hook/${r.namePrefix}/`);
    expect(role.ManagedPolicyArns).toBeUndefined();
    expect(role.Policies).toHaveLength(1);
    // No other policy is attached to the hook's role.
    const attached = Object.values(t.resources).filter((res) => res.Type === 'AWS::IAM::Policy'
      && JSON.stringify(res.Properties!.Roles ?? []).includes(JSON.stringify({ Ref: t.roleId })));
    expect(attached).toEqual([]);
    expect(t.roleStatements).toEqual([
      { Sid: 'SendHookDocument', Effect: 'Allow', Action: 'ssm:SendCommand', Resource: documentArn(document) },
      {
        Sid: 'SendToGroupInstances',
        Effect: 'Allow',
        Action: 'ssm:SendCommand',
        Resource: arn('ec2', 'instance/*'),
        Condition: { StringEquals: expected.byTag ? { [`ssm:resourceTag/${tag!.key}`]: tag!.value } : { [GROUP_TAG]: expected.groupName } },
      },
      {
        Sid: 'GroupLifecycleActions',
        Effect: 'Allow',
        Action: LIFECYCLE_ACTIONS,
        Resource: ownGroupArn,
        ...(expected.byTag ? { Condition: { StringEquals: { [`autoscaling:ResourceTag/${tag!.key}`]: tag!.value } } } : {}),
      },
    ]);
  });

  test('Auto Scaling actions of its role are only CompleteLifecycleAction and RecordLifecycleActionHeartbeat, on this group\'s ARN alone (or the group carrying the hook\'s tag)', () => {
    const autoScalingStatements = t.roleStatements.filter((s) => [s.Action].flat().some((a) => a.startsWith('autoscaling:')));
    expect(autoScalingStatements.length).toBeGreaterThan(0);
    for (const s of autoScalingStatements) {
      for (const action of [s.Action].flat()) expect(LIFECYCLE_ACTIONS).toContain(action);
      expect(s.Resource).toBe(ownGroupArn);
      if (expected.byTag) expect(s.Condition).toEqual({ StringEquals: { [`autoscaling:ResourceTag/${tag!.key}`]: tag!.value } });
    }
  });

  describe('IAM, evaluating its role\'s statements, allows this hook\'s own calls', () => {
    test.each<[string, Authorization[]]>([
      ['SendCommand of the hook\'s document to an instance of the group', send(document, instance(expected.groupName))],
      ['CompleteLifecycleAction on the group', [onGroup('autoscaling:CompleteLifecycleAction', expected.groupName)]],
      ['RecordLifecycleActionHeartbeat on the group', [onGroup('autoscaling:RecordLifecycleActionHeartbeat', expected.groupName)]],
    ])('%s', (_name, call) => {
      expect(evaluateCall(t.roleStatements, call)).toBe('allowed');
    });
  });

  describe('IAM, evaluating its role\'s statements, refuses', () => {
    const runShellScript = `arn:aws:ssm:${REGION}::document/AWS-RunShellScript`;
    test.each<[string, Authorization[]]>([
      ['SendCommand to an instance tagged with another group', send(document, instance('other-fleet'))],
      ['SendCommand to an instance of a group whose name starts with this one\'s', send(document, instance(`${expected.groupName}-canary`))],
      ['SendCommand to an instance of no group', send(document, instance())],
      ['SendCommand of AWS-RunShellScript, even to an instance of the group', [{ action: 'ssm:SendCommand', resource: runShellScript }, instance(expected.groupName)]],
      ['SendCommand of another document of the account', send('other-document', instance(expected.groupName))],
      ['SendCommand of another document of the runtime', send(`${r.namePrefix}-Other-Hook`, instance(expected.groupName))],
      ['SendCommand to an instance of the group in another account', send(document, {
        ...instance(expected.groupName),
        resource: `arn:aws:ec2:${REGION}:210987654321:instance/${INSTANCE_ID}`,
      })],
      ['CompleteLifecycleAction on another group', [onGroup('autoscaling:CompleteLifecycleAction', 'other-fleet')]],
      ['CompleteLifecycleAction on a group whose name starts with this one\'s', [onGroup('autoscaling:CompleteLifecycleAction', `${expected.groupName}-canary`)]],
      ['CompleteLifecycleAction on a group of the same name in another region', [
        onGroup('autoscaling:CompleteLifecycleAction', expected.groupName, (name) => groupArn(name).replace(`:${REGION}:`, ':us-east-1:')),
      ]],
      ['RecordLifecycleActionHeartbeat on another group', [onGroup('autoscaling:RecordLifecycleActionHeartbeat', 'other-fleet')]],
      ['changing the group', [{ action: 'autoscaling:SetDesiredCapacity', resource: groupArn(expected.groupName) }]],
      ['a Session Manager session on an instance of the group', [{ ...instance(expected.groupName), action: 'ssm:StartSession' }]],
      ['terminating instances of the group', [{ action: 'ec2:TerminateInstances', resource: arn('ec2', `instance/${INSTANCE_ID}`), context: { [GROUP_TAG]: expected.groupName } }]],
      ['reading parameters', [{ action: 'ssm:GetParameter', resource: arn('ssm', `parameter${r.environment.RUNTIME_HOOK_PARAMETERS}${document}`) }]],
      ['its runtime\'s table', [{ action: 'dynamodb:GetItem', resource: r.physical[`${r.logicalId('ActionTable/Resource')}.Arn`] }]],
      ['assuming another role', assume(roleArn('admin'))],
      ...others.map((o): [string, Authorization[]] => [`assuming the role of ${o.key}`, assume(o.roleArn)]),
      ['iam:PassRole', [{ action: 'iam:PassRole', resource: roleArn('admin') }]],
      ...(expected.byTag ? [
        // An instance of the group that does not carry the hook's tag (launched before the tag was placed).
        ['SendCommand to an instance of the group without the hook\'s tag', send(document, { ...instance(), context: { [GROUP_TAG]: expected.groupName } })],
        ['CompleteLifecycleAction on the group, were it without the hook\'s tag', [{ action: 'autoscaling:CompleteLifecycleAction', resource: groupArn(expected.groupName) }]],
        ['RecordLifecycleActionHeartbeat on the group, were it without the hook\'s tag', [{ action: 'autoscaling:RecordLifecycleActionHeartbeat', resource: groupArn(expected.groupName) }]],
        ['CompleteLifecycleAction on a group carrying the hook\'s tag key with another value', [{
          action: 'autoscaling:CompleteLifecycleAction',
          resource: groupArn('other-fleet'),
          context: { [`autoscaling:ResourceTag/${tag!.key}`]: `${tag!.value}-other` },
        }]],
        ['CompleteLifecycleAction on the group of the hook\'s tag in another account', [
          onGroup('autoscaling:CompleteLifecycleAction', expected.groupName, (name) => groupArn(name).replace(`:${ACCOUNT}:`, ':210987654321:')),
        ]],
      ] as Array<[string, Authorization[]]> : []),
    ])('%s', (_name, call) => {
      expect(evaluateCall(t.roleStatements, call)).toBe('implicitly denied');
    });
  });

  describe.each(others.map((o) => [o.key, o] as const))('its role allows nothing for %s', (_otherKey, o) => {
    test('not its document, even to an instance of this hook\'s group', () => {
      expect(evaluateCall(t.roleStatements, send(o.documentName, instance(expected.groupName)))).toBe('implicitly denied');
      expect(evaluateCall(t.roleStatements, send(o.documentName, instance(o.groupName)))).toBe('implicitly denied');
    });

    test(o.groupName === expected.groupName ? 'its group is this hook\'s too: only this hook\'s document reaches it' : 'not its group', () => {
      if (o.groupName === expected.groupName) {
        // Two hooks on one group: each role reaches the group's instances only with its own document.
        expect(evaluateCall(t.roleStatements, send(document, instance(o.groupName)))).toBe('allowed');
        expect(evaluateCall(o.roleStatements, send(document, instance(o.groupName)))).toBe('implicitly denied');
        return;
      }
      expect(evaluateCall(t.roleStatements, send(document, instance(o.groupName)))).toBe('implicitly denied');
      for (const action of LIFECYCLE_ACTIONS) {
        expect(evaluateCall(t.roleStatements, [onGroup(action, o.groupName)])).toBe('implicitly denied');
      }
    });
  });

  test('a hook has no function, table, queue, state machine or function permission of its own: those are the runtime\'s', () => {
    const types = Object.values(t.own).map((res) => res.Type).sort();
    expect(types).toEqual([
      // For a group of the app, the hook is in the group's definition.
      ...(expected.byTag ? [] : ['AWS::AutoScaling::LifecycleHook']),
      'AWS::Events::Rule',
      'AWS::IAM::Role',
      'AWS::SSM::Document',
      'AWS::SSM::Parameter',
      ...(expected.outputRetention === undefined ? [] : ['AWS::Logs::LogGroup']),
      // The instance role's policy, for a group of the app with configureInstanceRole.
      ...(key.startsWith('OwnedGroupHooks/') ? ['AWS::IAM::Policy'] : []),
    ].sort());
  });

  test('every log group the hook creates keeps its events for the set retention', () => {
    const retention = Object.fromEntries(Object.values(t.own)
      .filter((res) => res.Type === 'AWS::Logs::LogGroup')
      .map((res) => [res.Metadata!['aws:cdk:path'].split('/')[2], res.Properties!.RetentionInDays]));
    expect(retention).toEqual(expected.outputRetention === undefined ? {} : { OutputLogGroup: expected.outputRetention });
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
