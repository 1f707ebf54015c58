// Every AWS call the handler's code makes (handler-calls.ts reads them from
// src/handler/), simulated with the IAM evaluator against the statements that
// apply to it (handler-policies.ts): the hook's role for the calls made
// through the hook's clients, the runtime function's role for the others; on
// the resources it makes them on; and each resource-scoped call refused on the
// same kind of resource in another account or region. policy.test.ts covers
// the other denials (another group, document, table or state machine, an
// instance without the tag).
import { callsOfTransition, handlerCalls } from './handler-calls';
import { handlerPolicies } from './handler-policies';
import { ACCOUNT, HookTemplate, hookTemplates, REGION } from './hook-template';
import { Authorization, evaluateCall } from './iam-evaluator';
import { isWildcardOnly } from './service-reference';
import { RUNTIME_ENVIRONMENT } from '../../src/handler/hook-settings';

const OTHER_ACCOUNT = '210987654321';
const OTHER_REGION = 'us-east-1';

/** The resources of a hook's deployment that the handler calls AWS on for it. */
interface HookResources {
  readonly documentArn: string;
  readonly groupArn: string;
  /** The tags of the group as its lifecycle actions' requests carry them (`autoscaling:ResourceTag/<key>`). */
  readonly groupContext: Record<string, string>;
  readonly instanceArn: string;
  /** The tags of an instance of the group as a SendCommand request carries them (`ssm:resourceTag/<key>`). */
  readonly instanceContext: Record<string, string>;
  readonly tableArn: string;
  readonly stateMachineArn?: string;
  readonly parameterArn: string;
  readonly parameterPathArn: string;
  readonly roleArn: string;
}

/**
 * The tags of the hook's group: for a group of the same app, those its
 * resource carries (among them the hook's), which its instances get at launch
 * where they propagate; every instance of a group carries
 * `aws:autoscaling:groupName`.
 */
function groupTags(t: HookTemplate): { group: Record<string, string>; instance: Record<string, string> } {
  type Tag = { Key: string; Value: string; PropagateAtLaunch: unknown };
  const tags = t.groupId === undefined ? [] : (t.resources[t.groupId].Properties!.Tags ?? []) as Tag[];
  return {
    group: Object.fromEntries(tags.map((tag) => [tag.Key, tag.Value])),
    instance: {
      ...Object.fromEntries(tags.filter((tag) => String(tag.PropagateAtLaunch) === 'true').map((tag) => [tag.Key, tag.Value])),
      'aws:autoscaling:groupName': t.groupName,
    },
  };
}

const context = (prefix: string, tags: Record<string, string>) => Object.fromEntries(Object.entries(tags).map(([k, v]) => [`${prefix}/${k}`, v]));

function resourcesOf(t: HookTemplate, functionId: string): HookResources {
  const r = t.runtime;
  const variables = t.resources[functionId].Properties!.Environment.Variables;
  const tableId = variables[RUNTIME_ENVIRONMENT.actionTableName]?.Ref;
  if (!tableId || t.resources[tableId]?.Type !== 'AWS::DynamoDB::Table') throw new Error(`${t.key}: ${RUNTIME_ENVIRONMENT.actionTableName} names no table of the stack`);
  const machineArn = variables[RUNTIME_ENVIRONMENT.registrationWaitArn];
  const parameterPath: string = r.resolve(variables[RUNTIME_ENVIRONMENT.hookParameterPath]);
  const arn = (service: string, resource: string) => `arn:aws:${service}:${REGION}:${ACCOUNT}:${resource}`;
  const tags = groupTags(t);
  return {
    documentArn: arn('ssm', `document/${t.documentName}`),
    groupArn: arn('autoscaling', `autoScalingGroup:6f1e2d3c-4b5a-4978-8796-a5b4c3d2e1f0:autoScalingGroupName/${t.groupName}`),
    groupContext: context('autoscaling:ResourceTag', tags.group),
    instanceArn: arn('ec2', 'instance/i-0123456789abcdef0'),
    instanceContext: context('ssm:resourceTag', tags.instance),
    tableArn: t.physical[`${tableId}.Arn`],
    stateMachineArn: machineArn === undefined ? undefined : r.resolve(machineArn),
    parameterArn: arn('ssm', `parameter${parameterPath}${t.documentName}`),
    parameterPathArn: arn('ssm', `parameter${parameterPath.slice(0, -1)}`),
    roleArn: t.roleArn,
  };
}

/** Each call the handler makes, as IAM authorizes it: the action on every resource the request names. */
const CALLS: Record<string, (r: HookResources) => Authorization[]> = {
  'ssm:SendCommand': (r) => [
    { action: 'ssm:SendCommand', resource: r.documentArn },
    { action: 'ssm:SendCommand', resource: r.instanceArn, context: r.instanceContext },
  ],
  'ssm:ListCommands': () => [{ action: 'ssm:ListCommands', resource: '*' }],
  'ssm:GetCommandInvocation': () => [{ action: 'ssm:GetCommandInvocation', resource: '*' }],
  'ssm:DescribeInstanceInformation': () => [{ action: 'ssm:DescribeInstanceInformation', resource: '*' }],
  'ssm:GetParameter': (r) => [{ action: 'ssm:GetParameter', resource: r.parameterArn }],
  'ssm:GetParametersByPath': (r) => [{ action: 'ssm:GetParametersByPath', resource: r.parameterPathArn }],
  'autoscaling:DescribeAutoScalingGroups': () => [{ action: 'autoscaling:DescribeAutoScalingGroups', resource: '*' }],
  'autoscaling:DescribeAutoScalingInstances': () => [{ action: 'autoscaling:DescribeAutoScalingInstances', resource: '*' }],
  'autoscaling:DescribeWarmPool': () => [{ action: 'autoscaling:DescribeWarmPool', resource: '*' }],
  'autoscaling:CompleteLifecycleAction': (r) => [{ action: 'autoscaling:CompleteLifecycleAction', resource: r.groupArn, context: r.groupContext }],
  'autoscaling:RecordLifecycleActionHeartbeat': (r) => [{ action: 'autoscaling:RecordLifecycleActionHeartbeat', resource: r.groupArn, context: r.groupContext }],
  'dynamodb:PutItem': (r) => [{ action: 'dynamodb:PutItem', resource: r.tableArn }],
  'dynamodb:GetItem': (r) => [{ action: 'dynamodb:GetItem', resource: r.tableArn }],
  'dynamodb:UpdateItem': (r) => [{ action: 'dynamodb:UpdateItem', resource: r.tableArn }],
  'dynamodb:Query': (r) => [{ action: 'dynamodb:Query', resource: r.tableArn }],
  'states:StartExecution': (r) => [{ action: 'states:StartExecution', resource: r.stateMachineArn! }],
  'sts:AssumeRole': (r) => [{ action: 'sts:AssumeRole', resource: r.roleArn }],
};

/** The same ARN in another account, or another region; undefined for an ARN of no region (IAM's) moved to another region. */
const moved = (arn: string, to: { account?: string; region?: string }): string | undefined => {
  const parts = arn.split(':');
  if (to.region) {
    if (parts[3] === '') return undefined;
    parts[3] = to.region;
  }
  if (to.account) parts[4] = to.account;
  return parts.join(':');
};

const templates = hookTemplates();
const scanned = handlerCalls();

test('the calls made with a hook\'s role are exactly those that act on its group: sending its document, and its lifecycle actions', () => {
  expect([...scanned.withHookRole].sort()).toEqual(['autoscaling:CompleteLifecycleAction', 'autoscaling:RecordLifecycleActionHeartbeat', 'ssm:SendCommand']);
  // The scan finds the calls of the hooks' settings and roles too.
  for (const action of ['sts:AssumeRole', 'ssm:GetParameter', 'ssm:GetParametersByPath', 'autoscaling:DescribeAutoScalingGroups']) {
    expect(scanned.has(action)).toBe(true);
  }
  expect(scanned.get('sts:AssumeRole')).toEqual(['hook-clients.ts']);
  expect(scanned.get('ssm:GetParametersByPath')).toEqual(['hook-config.ts']);
  expect(scanned.get('autoscaling:DescribeAutoScalingGroups')).toEqual(expect.arrayContaining(['hook-config.ts']));
  // A status event of a hook whose tag two groups carry (a replacement) is its instance's own group's.
  expect(scanned.get('autoscaling:DescribeAutoScalingInstances')).toEqual(['hook-config.ts']);
  expect(scanned.withHookRole.has('autoscaling:DescribeAutoScalingInstances')).toBe(false);
});

describe.each(Object.keys(templates))('%s', (key) => {
  const t = templates[key];
  const handler = handlerPolicies(t, scanned);
  const resources = resourcesOf(t, handler.functionId);
  const calls = callsOfTransition(handler.transition, scanned);

  test('every call the handler\'s code makes is simulated here', () => {
    expect(calls.filter((action) => !CALLS[action])).toEqual([]);
  });

  test.each(calls)('%s is allowed on the resources the handler calls it on', (action) => {
    expect(evaluateCall(handler.statementsFor(action), CALLS[action](resources))).toBe('allowed');
  });

  test.each(calls)('%s is allowed by one role alone: the hook\'s for the calls on its group, the function\'s for the others', (action) => {
    const other = handler.hookRoleCalls.has(action) ? handler.runtimeRole : handler.hookRole;
    expect(evaluateCall(other.statements, CALLS[action](resources))).toBe('implicitly denied');
  });

  if (t.groupTag) {
    const tag = t.groupTag;
    test('on a group of the same app, an instance or a group without the hook\'s tag is refused', () => {
      const withoutTag = (c: Record<string, string>) => Object.fromEntries(Object.entries(c).filter(([k]) => !k.endsWith(`/${tag.key}`)));
      expect(resources.instanceContext[`ssm:resourceTag/${tag.key}`]).toBe(tag.value);
      expect(resources.groupContext[`autoscaling:ResourceTag/${tag.key}`]).toBe(tag.value);
      const sendCall = CALLS['ssm:SendCommand']({ ...resources, instanceContext: withoutTag(resources.instanceContext) });
      expect(evaluateCall(handler.statementsFor('ssm:SendCommand'), sendCall)).toBe('implicitly denied');
      for (const action of ['autoscaling:CompleteLifecycleAction', 'autoscaling:RecordLifecycleActionHeartbeat']) {
        const call = CALLS[action]({ ...resources, groupContext: withoutTag(resources.groupContext) });
        expect(evaluateCall(handler.statementsFor(action), call)).toBe('implicitly denied');
      }
    });
  }

  const scoped = calls.filter((action) => !isWildcardOnly(action));
  describe.each([['another account', { account: OTHER_ACCOUNT }], ['another region', { region: OTHER_REGION }]] as const)('in %s', (_where, to) => {
    const movable = scoped.filter((action) => CALLS[action](resources).every((a) => a.resource === '*' || moved(a.resource, to) !== undefined));
    test.each(movable)('%s is refused', (action) => {
      const elsewhere = CALLS[action](resources).map((a) => (a.resource === '*' ? a : { ...a, resource: moved(a.resource, to)! }));
      expect(evaluateCall(handler.statementsFor(action), elsewhere)).toBe('implicitly denied');
    });
  });
});
