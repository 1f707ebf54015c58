// Every AWS call the handler's code makes (handler-calls.ts reads them from
// src/handler/), simulated with the IAM evaluator against the statements that
// apply to the handler's calls (handler-policies.ts), on the resources it makes
// them on; and each resource-scoped call refused on the same kind of resource
// in another account or region. policy.test.ts covers the other denials
// (another group, document, table or state machine, an untagged instance).
import { callsOfTransition } from './handler-calls';
import { handlerPolicies } from './handler-policies';
import { ACCOUNT, HookTemplate, hookTemplates, REGION } from './hook-template';
import { Authorization, evaluateCall } from './iam-evaluator';
import { isWildcardOnly } from './service-reference';
import { HOOK_ENVIRONMENT } from '../../src/handler/events';

const GROUP_TAG = 'ssm:resourceTag/aws:autoscaling:groupName';
const OTHER_ACCOUNT = '210987654321';
const OTHER_REGION = 'us-east-1';

/** The resources of a hook's deployment that its handler calls AWS on. */
interface HookResources {
  readonly documentArn: string;
  readonly groupArn: string;
  readonly instanceArn: string;
  readonly groupName: string;
  readonly tableArn: string;
  readonly stateMachineArn?: string;
}

function resourcesOf(t: HookTemplate, functionId: string): HookResources {
  const variables = t.resources[functionId].Properties!.Environment.Variables;
  const tableId = variables[HOOK_ENVIRONMENT.actionTableName]?.Ref;
  const machineArn = variables[HOOK_ENVIRONMENT.registrationWaitArn];
  const arn = (service: string, resource: string) => `arn:aws:${service}:${REGION}:${ACCOUNT}:${resource}`;
  return {
    documentArn: arn('ssm', `document/${t.documentName}`),
    groupArn: arn('autoscaling', `autoScalingGroup:6f1e2d3c-4b5a-4978-8796-a5b4c3d2e1f0:autoScalingGroupName/${t.groupName}`),
    instanceArn: arn('ec2', 'instance/i-0123456789abcdef0'),
    groupName: t.groupName,
    tableArn: t.physical[`${tableId}.Arn`],
    stateMachineArn: machineArn === undefined ? undefined : t.resolve(machineArn),
  };
}

/** Each call the handler makes, as IAM authorizes it: the action on every resource the request names. */
const CALLS: Record<string, (r: HookResources) => Authorization[]> = {
  'ssm:SendCommand': (r) => [
    { action: 'ssm:SendCommand', resource: r.documentArn },
    { action: 'ssm:SendCommand', resource: r.instanceArn, context: { [GROUP_TAG]: r.groupName } },
  ],
  'ssm:ListCommands': () => [{ action: 'ssm:ListCommands', resource: '*' }],
  'ssm:GetCommandInvocation': () => [{ action: 'ssm:GetCommandInvocation', resource: '*' }],
  'ssm:DescribeInstanceInformation': () => [{ action: 'ssm:DescribeInstanceInformation', resource: '*' }],
  'autoscaling:DescribeAutoScalingGroups': () => [{ action: 'autoscaling:DescribeAutoScalingGroups', resource: '*' }],
  'autoscaling:DescribeWarmPool': () => [{ action: 'autoscaling:DescribeWarmPool', resource: '*' }],
  'autoscaling:CompleteLifecycleAction': (r) => [{ action: 'autoscaling:CompleteLifecycleAction', resource: r.groupArn }],
  'autoscaling:RecordLifecycleActionHeartbeat': (r) => [{ action: 'autoscaling:RecordLifecycleActionHeartbeat', resource: r.groupArn }],
  'dynamodb:PutItem': (r) => [{ action: 'dynamodb:PutItem', resource: r.tableArn }],
  'dynamodb:GetItem': (r) => [{ action: 'dynamodb:GetItem', resource: r.tableArn }],
  'dynamodb:UpdateItem': (r) => [{ action: 'dynamodb:UpdateItem', resource: r.tableArn }],
  'dynamodb:Query': (r) => [{ action: 'dynamodb:Query', resource: r.tableArn }],
  'states:StartExecution': (r) => [{ action: 'states:StartExecution', resource: r.stateMachineArn! }],
};

/** The same ARN in another account, or another region. */
const moved = (arn: string, to: { account?: string; region?: string }): string => {
  const parts = arn.split(':');
  if (to.region) parts[3] = to.region;
  if (to.account) parts[4] = to.account;
  return parts.join(':');
};

const templates = hookTemplates();

describe.each(Object.keys(templates))('%s', (key) => {
  const t = templates[key];
  const handler = handlerPolicies(t);
  const resources = resourcesOf(t, handler.functionId);
  const calls = callsOfTransition(handler.transition);

  test('every call the handler\'s code makes is simulated here', () => {
    expect(calls.filter((action) => !CALLS[action])).toEqual([]);
  });

  test.each(calls)('%s is allowed on the resources the handler calls it on', (action) => {
    expect(evaluateCall(handler.statements, CALLS[action](resources))).toBe('allowed');
  });

  const scoped = calls.filter((action) => !isWildcardOnly(action));
  describe.each([['another account', { account: OTHER_ACCOUNT }], ['another region', { region: OTHER_REGION }]] as const)('in %s', (_where, to) => {
    test.each(scoped)('%s is refused', (action) => {
      const elsewhere = CALLS[action](resources).map((a) => (a.resource === '*' ? a : { ...a, resource: moved(a.resource, to) }));
      expect(evaluateCall(handler.statements, elsewhere)).toBe('implicitly denied');
    });
  });
});
