// Every IAM policy statement of the compliance stacks, linted against the
// Service Authorization Reference (service-reference.ts): actions that do not
// exist, condition keys an action does not support (IAM treats them as absent,
// so such a condition never holds), resources that are no resource type of the
// action, and actions a role of the handler is granted but its code never
// calls with that role: the runtime function's role, judged against what the
// handler calls with its own role for the transitions of all its hooks; each
// hook's role, against what it calls with the hook's role for that hook's transition.
import { callsOfTransition, handlerCalls, LAUNCH_ONLY_CALLS } from './handler-calls';
import { handlerPolicies, RolePolicies } from './handler-policies';
import { HookTemplate, hookTemplates, TemplateResource } from './hook-template';
import {
  actionData, actionsMatching, arnFitsFormat, isWildcardOnly, resourceArnFormats, supportsConditionKey,
} from './service-reference';

/**
 * Findings the library has today and is to lose; the test fails until this
 * list says exactly what the lint finds, so empty it when the code is fixed.
 */
const KNOWN_FINDINGS: string[] = [];

/**
 * Actions the Lambda service takes for the function with its execution role,
 * not the handler's code: writing its log group, sending a failed
 * asynchronous event to its dead-letter queue.
 */
const LAMBDA_SERVICE_ACTIONS = ['logs:CreateLogStream', 'logs:PutLogEvents', 'sqs:SendMessage'];

/** Resource types whose policies are linted, and where their statements are. */
const POLICY_DOCUMENTS: Record<string, (properties: any) => any[]> = {
  'AWS::IAM::Policy': (p) => [p.PolicyDocument],
  'AWS::IAM::ManagedPolicy': (p) => [p.PolicyDocument],
  'AWS::IAM::Role': (p) => [p.AssumeRolePolicyDocument, ...(p.Policies ?? []).map((x: any) => x.PolicyDocument)],
  'AWS::SQS::QueuePolicy': (p) => [p.PolicyDocument],
};

const list = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/** The findings of one statement. */
export function lintStatement(where: string, s: any): string[] {
  const findings: string[] = [];
  const actions: string[] = [];
  for (const pattern of list<string>(s.Action)) {
    const covered = pattern.includes('*') || pattern.includes('?') ? actionsMatching(pattern) : actionData(pattern) ? [pattern] : [];
    if (covered.length === 0) findings.push(`${where}: ${pattern} is no action of the Service Authorization Reference`);
    actions.push(...covered);
  }
  for (const [operator, keys] of Object.entries<Record<string, unknown>>(s.Condition ?? {})) {
    for (const key of Object.keys(keys)) {
      for (const action of actions) {
        if (!supportsConditionKey(action, key)) findings.push(`${where}: ${action} does not support the condition key ${key} (${operator})`);
      }
    }
  }
  // A Deny may name any resource; an Allow's resource must be one the action acts on.
  if (s.Effect === 'Allow') {
    for (const resource of list<string>(s.Resource)) {
      for (const action of actions) {
        if (resource === '*') continue;
        if (isWildcardOnly(action)) {findings.push(`${where}: ${action} takes no resource type, so only "*" grants it, not ${resource}`);} else if (!resourceArnFormats(action).some((format) => arnFitsFormat(resource, format))) {
          findings.push(`${where}: ${resource} is none of the resource types of ${action} (${resourceArnFormats(action).join(', ')})`);
        }
      }
    }
  }
  return findings;
}

const templates = hookTemplates();
const stacks = new Map<string, HookTemplate>();
for (const t of Object.values(templates)) stacks.set(t.key.split('/')[0], t);

function lintFindings(): string[] {
  const findings: string[] = [];
  for (const [stackName, t] of stacks) {
    for (const [id, r] of Object.entries(t.resources)) {
      const documents = POLICY_DOCUMENTS[r.Type];
      if (!documents) continue;
      for (const document of documents(r.Properties)) {
        if (!document) continue;
        // The lint reads actions, resources and conditions. A trust policy's principal is left out: older
        // aws-cdk-lib versions (2.144.0) write service principals through a region map (Fn::FindInMap).
        const statements = list(document.Statement).map(({ Principal: _principal, ...rest }: any) => rest);
        list(t.runtime.resolve(statements)).forEach((s: any, i: number) => findings.push(...lintStatement(`${stackName}/${id}[${i}]`, s)));
      }
    }
  }
  const calls = handlerCalls();
  /** Where a statement is held, for the findings: the construct path in the stack, or the role's and its inline policy's. */
  const holderName = (t: HookTemplate, holder: string): string => {
    const [id, inline] = holder.split('.');
    const path = String((t.resources[id] as TemplateResource | undefined)?.Metadata?.['aws:cdk:path'] ?? id)
      .split('/').slice(1).filter((part, i, all) => !(part === 'Resource' && i >= all.length - 2)).join('/');
    return inline ? `${path} ${inline}` : path;
  };
  const judge = (t: HookTemplate, role: RolePolicies, called: string[], what: string) => {
    for (const [holder, statements] of Object.entries(role.statementsBy)) {
      for (const s of statements.filter((x) => x.Effect === 'Allow')) {
        for (const action of list(s.Action)) {
          if (!called.includes(action) && !LAMBDA_SERVICE_ACTIONS.includes(action)) {
            findings.push(`${t.key.split('/')[0]}/${holderName(t, holder)}: ${action} is granted but ${what} never calls it`);
          }
        }
      }
    }
  };
  const byRuntimeRole = new Map<string, { t: HookTemplate; role: RolePolicies; transitions: Set<'launch' | 'terminate'> }>();
  for (const t of Object.values(templates)) {
    const handler = handlerPolicies(t, calls);
    // The hook's role: the calls the handler makes with it, for this hook's transition.
    const withHookRole = callsOfTransition(handler.transition, calls).filter((action) => calls.withHookRole.has(action));
    judge(t, handler.hookRole, withHookRole, `the handler, acting as ${t.key}'s role for a ${handler.transition} hook,`);
    const runtimeKey = `${t.key.split('/')[0]}/${handler.runtimeRole.roleId}`;
    const runtime = byRuntimeRole.get(runtimeKey) ?? { t, role: handler.runtimeRole, transitions: new Set<'launch' | 'terminate'>() };
    runtime.transitions.add(handler.transition);
    byRuntimeRole.set(runtimeKey, runtime);
  }
  // The runtime's role: the calls the handler makes with its own role, for every transition its hooks have.
  for (const { t, role, transitions } of byRuntimeRole.values()) {
    const own = [...transitions].flatMap((transition) => callsOfTransition(transition, calls)).filter((action) => !calls.withHookRole.has(action));
    judge(t, role, [...new Set(own)], `the handler, with the function's role for ${[...transitions].sort().join(' and ')} hooks,`);
  }
  return findings;
}

test('every policy of the compliance stacks is in the Service Authorization Reference, and each role of the handler is granted only what it calls with it', () => {
  expect(lintFindings().sort()).toEqual([...KNOWN_FINDINGS].sort());
});

test('the lint sees the handler\'s calls, including those only launch hooks make', () => {
  const calls = handlerCalls();
  for (const action of LAUNCH_ONLY_CALLS) expect(calls.has(action)).toBe(true);
  expect(callsOfTransition('launch', calls)).toEqual(expect.arrayContaining(['ssm:SendCommand', 'autoscaling:CompleteLifecycleAction', 'dynamodb:PutItem']));
  expect(callsOfTransition('terminate', calls)).not.toContain('states:StartExecution');
});

describe('the lint finds', () => {
  test.each<[string, any, RegExp]>([
    ['an action that does not exist', { Effect: 'Allow', Action: 'ssm:SendCommands', Resource: '*' }, /ssm:SendCommands is no action/],
    ['a wildcard that covers no action', { Effect: 'Allow', Action: 'ssm:Frobnicate*', Resource: '*' }, /ssm:Frobnicate\* is no action/],
    ['a condition key the action does not support', {
      Effect: 'Allow',
      Action: 'ssm:ListCommands',
      Resource: '*',
      Condition: { StringEquals: { 'ssm:resourceTag/aws:autoscaling:groupName': 'web' } },
    }, /ssm:ListCommands does not support the condition key ssm:resourceTag/],
    ['a resource for an action that takes none', { Effect: 'Allow', Action: 'ssm:DescribeInstanceInformation', Resource: 'arn:aws:ec2:eu-west-1:123456789012:instance/*' }, /takes no resource type/],
    ['a resource of another type', {
      Effect: 'Allow', Action: 'autoscaling:CompleteLifecycleAction', Resource: 'arn:aws:ec2:eu-west-1:123456789012:instance/*',
    }, /is none of the resource types of autoscaling:CompleteLifecycleAction/],
  ])('%s', (_name, statement, finding) => {
    expect(lintStatement('s', statement)).toEqual([expect.stringMatching(finding)]);
  });

  test('nothing in statements that are right', () => {
    expect(lintStatement('s', {
      Effect: 'Allow',
      Action: 'ssm:SendCommand',
      Resource: 'arn:aws:ec2:eu-west-1:123456789012:instance/*',
      Condition: { StringEquals: { 'ssm:resourceTag/aws:autoscaling:groupName': 'web' } },
    })).toEqual([]);
    expect(lintStatement('s', { Effect: 'Deny', Action: 'sqs:*', Resource: 'arn:aws:sqs:eu-west-1:123456789012:q', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })).toEqual([]);
  });
});
