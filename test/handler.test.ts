import { randomBytes, randomUUID } from 'node:crypto';
import {
  AutoScalingClient,
  CompleteLifecycleActionCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  RecordLifecycleActionHeartbeatCommand,
} from '@aws-sdk/client-auto-scaling';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import {
  DescribeInstanceInformationCommand,
  GetParameterCommand,
  ListCommandsCommand,
  SendCommandCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { App, Duration, Stack, aws_autoscaling as autoscaling, aws_cloudwatch as cloudwatch } from 'aws-cdk-lib';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { LifecycleCommandHook, LifecycleStage } from '../src';
import { createActionTable, LocalDynamoDb, startDynamoDb } from './support/dynalite';
import { MetricKey, samplesOf, sumOf } from './support/emf-samples';
import type * as ActionRecordModule from '../src/handler/action-record';
import type { HookSettings } from '../src/handler/hook-config';
import type * as HandlerModule from '../src/handler/lifecycle-command.lambda';

// Waits take no real time: each advances the clock the handler reads (Date.now) by its length.
const mockClock = { offset: 0, sleeps: [] as number[] };
jest.mock('../src/handler/timing', () => ({
  sleep: async (ms: number) => {
    mockClock.sleeps.push(ms);
    mockClock.offset += ms;
  },
}));

const autoScaling = mockClient(AutoScalingClient);
const ssm = mockClient(SSMClient);
const sfn = mockClient(SFNClient);
const sts = mockClient(STSClient);

const GROUP = 'web-fleet';
const HOOK = 'drain';
const NAME_PREFIX = 'lch-0123456789';
const DOCUMENT = `${NAME_PREFIX}-Stack-Drain-ABC123`;
const TABLE = 'Stack-DrainActionTable-ABC123';
const WAIT_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:Stack-DrainRegistrationWait-ABC123';
const PARAMETER_PATH = '/cdk-lifecycle-command-hook/lch-0123456789/';
const HOOK_ROLE = `arn:aws:iam::123456789012:role/cdk-lifecycle-command-hook/${NAME_PREFIX}/Stack-DrainRole-ABC123`;
/** The hook's records in the runtime's table. */
const HOOK_TABLE = { name: TABLE, hook: DOCUMENT };
const COMMAND = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
const OTHER_COMMAND = '1a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d';

let db: LocalDynamoDb;
let handler: typeof HandlerModule.handler;
let records: typeof ActionRecordModule;
/** A new instance and token for each test, so records of one test never meet another's. */
let INSTANCE: string;
let TOKEN: string;

beforeAll(async () => {
  db = await startDynamoDb();
  await createActionTable(db, TABLE);
  // Loaded once the endpoint is set: the handler's clients are created when its modules load.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const real = (require('../src/handler/lifecycle-command.lambda') as typeof HandlerModule).handler;
  // Events as the runtime's function receives them: a lifecycle event wrapped by its hook's rule, a
  // registration check with the settings its event came with; a status event as it is (its document names the hook).
  handler = (event, ctx) => real(asDelivered(event), ctx);
  records = require('../src/handler/action-record') as typeof ActionRecordModule;
  /* eslint-enable @typescript-eslint/no-require-imports */
});

afterAll(async () => {
  await db.stop();
});

/** The hook's settings, as its rule wraps its lifecycle events and its parameter holds them. */
let settings: HookSettings;

function configure(transition: 'launch' | 'terminate', failureResult: 'CONTINUE' | 'ABANDON', stages?: string, change: Partial<HookSettings> = {}) {
  settings = {
    groupName: GROUP,
    hookName: HOOK,
    documentName: DOCUMENT,
    transition,
    failureResult,
    outputLogGroupName: 'hook-output',
    registrationTimeoutSeconds: 60,
    deliveryTimeoutSeconds: 60,
    executionTimeoutSeconds: 300,
    heartbeatTimeoutSeconds: 0,
    roleArn: HOOK_ROLE,
    ...(stages !== undefined ? { stages } : {}),
    ...change,
  };
  Object.assign(process.env, {
    RUNTIME_ACTION_TABLE: TABLE,
    RUNTIME_REGISTRATION_WAIT: WAIT_ARN,
    RUNTIME_HOOK_PARAMETERS: PARAMETER_PATH,
    RUNTIME_NAME_PREFIX: NAME_PREFIX,
  });
}

/** An event as the hook's rule or registration wait delivers it to the shared function. */
function asDelivered(event: unknown): unknown {
  const e = event as Record<string, any>;
  if (typeof e?.['detail-type'] === 'string' && e['detail-type'].endsWith('Lifecycle Action')) return { hook: settings, event };
  if (e?.registrationCheck && e.registrationCheck.Hook === undefined) return { ...e, registrationCheck: { ...e.registrationCheck, Hook: settings } };
  return event;
}

/** The event the registration wait delivers: its execution input. */
function registrationCheckEvent(change: Record<string, unknown> = {}) {
  const check: Record<string, unknown> = {
    AutoScalingGroupName: GROUP,
    LifecycleHookName: HOOK,
    EC2InstanceId: INSTANCE,
    LifecycleActionToken: TOKEN,
    LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
    Attempt: 1,
    Deadline: Date.now() + 60_000,
    ...change,
  };
  return { waitSeconds: 2, registrationCheck: Object.fromEntries(Object.entries(check).filter(([, v]) => v !== undefined)) };
}

/** The inputs of the executions the handler started, parsed. */
function startedInputs(): Array<{ waitSeconds: number; registrationCheck: Record<string, any> }> {
  return sfn.commandCalls(StartExecutionCommand).map((c) => JSON.parse(c.args[0].input.input!));
}

function lifecycleEvent(transition: 'launch' | 'terminate', detail: Record<string, unknown> = {}) {
  return {
    'version': '0',
    'id': 'e1',
    'source': 'aws.autoscaling',
    'detail-type': transition === 'launch' ? 'EC2 Instance-launch Lifecycle Action' : 'EC2 Instance-terminate Lifecycle Action',
    'account': '123456789012',
    'time': '2026-11-28T10:00:00Z',
    'region': 'eu-west-1',
    'resources': [`arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:uuid:autoScalingGroupName/${GROUP}`],
    'detail': {
      LifecycleActionToken: TOKEN,
      AutoScalingGroupName: GROUP,
      LifecycleHookName: HOOK,
      EC2InstanceId: INSTANCE,
      LifecycleTransition: transition === 'launch' ? 'autoscaling:EC2_INSTANCE_LAUNCHING' : 'autoscaling:EC2_INSTANCE_TERMINATING',
      NotificationMetadata: 'db-password=hunter2',
      ...detail,
    },
  };
}

function statusEvent(status: string, detail: Record<string, unknown> = {}) {
  return {
    'version': '0',
    'id': 'e2',
    'source': 'aws.ssm',
    'detail-type': 'EC2 Command Invocation Status-change Notification',
    'account': '123456789012',
    'time': '2026-11-28T10:00:05Z',
    'region': 'eu-west-1',
    'resources': [`arn:aws:ec2:eu-west-1:123456789012:instance/${INSTANCE}`],
    'detail': {
      'command-id': COMMAND,
      'document-name': DOCUMENT,
      'instance-id': INSTANCE,
      'requested-date-time': '2026-11-28T10:00:00.000Z',
      status,
      ...detail,
    },
  };
}

function awsError(name: string, message: string, httpStatusCode: number) {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode } });
}

const online = () => ({ InstanceInformationList: [{ InstanceId: INSTANCE, PingStatus: 'Online' as const }] });
const noActiveAction = () => awsError('ValidationError', `No active Lifecycle Action found with token ${TOKEN}`, 400);
const listed = (token: string, commandId = COMMAND) => ({ Commands: [{ CommandId: commandId, DocumentName: DOCUMENT, Comment: `lifecycle-action ${token}` }] });

/** Every line the handler wrote: console calls and standard output. */
let logs: string[];
/** What the handler wrote to standard output: its outcome lines, with their embedded metrics. */
let out: string[];

beforeEach(() => {
  INSTANCE = `i-0${randomBytes(8).toString('hex')}`;
  TOKEN = randomUUID();
  autoScaling.reset();
  ssm.reset();
  sfn.reset();
  sts.reset();
  // The hook's role, which the function assumes for the hook's sends and completions.
  sts.on(AssumeRoleCommand, { RoleArn: HOOK_ROLE }).resolves({
    Credentials: { AccessKeyId: 'ASIAHOOKROLE', SecretAccessKey: 'secret', SessionToken: 'token', Expiration: new Date(Date.now() + 3_600_000) },
  });
  sfn.on(StartExecutionCommand).resolves({ executionArn: `${WAIT_ARN.replace(':stateMachine:', ':express:')}:e1:e2`, startDate: new Date() });
  ssm.on(ListCommandsCommand).resolves({ Commands: [] });
  // The hook's parameter, which a status event's document names.
  ssm.on(GetParameterCommand).callsFake((input: { Name: string }) => {
    if (input.Name !== `${PARAMETER_PATH}${DOCUMENT}`) throw awsError('ParameterNotFound', 'Parameter not found', 400);
    return { Parameter: { Name: input.Name, Value: JSON.stringify(settings) } };
  });
  ssm.on(SendCommandCommand).resolves({ Command: { CommandId: COMMAND } });
  autoScaling.on(RecordLifecycleActionHeartbeatCommand).resolves({});
  autoScaling.on(CompleteLifecycleActionCommand).resolves({});
  mockClock.offset = 0;
  mockClock.sleeps = [];
  const realNow = Date.now.bind(Date);
  const start = realNow();
  jest.spyOn(Date, 'now').mockImplementation(() => start + (realNow() - start) + mockClock.offset);
  logs = [];
  out = [];
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    const lines = String(chunk).split('\n').filter(Boolean);
    out.push(...lines);
    logs.push(...lines);
    return true;
  });
  for (const level of ['log', 'info', 'warn', 'error'] as const) {
    jest.spyOn(console, level).mockImplementation((...args: unknown[]) => { logs.push(JSON.stringify(args)); });
  }
});

afterEach(() => {
  jest.restoreAllMocks();
});

const context = (remainingMs = 300_000) => ({ getRemainingTimeInMillis: () => remainingMs, awsRequestId: randomUUID() });

function run(event: unknown, remainingMs?: number) {
  return handler(event, context(remainingMs));
}

/** The action's record as DynamoDB holds it. */
async function recordOf(token = TOKEN) {
  const got = await db.client.send(new GetItemCommand({
    TableName: TABLE,
    Key: { HookInstance: { S: `${DOCUMENT}|${INSTANCE}` }, LifecycleActionToken: { S: token } },
    ConsistentRead: true,
  }));
  return got.Item && Object.fromEntries(Object.entries(got.Item).map(([k, v]) => [k, v.S ?? v.N]));
}

/** A record left by another invocation: claimed, with the given lease and command id. */
async function seedRecord(token: string, options: { leaseFromNowMs: number; commandId?: string }) {
  const action = { kind: 'lifecycle-action', instanceId: INSTANCE, token, transition: 'autoscaling:EC2_INSTANCE_TERMINATING' } as const;
  const now = Date.now();
  expect(await records.claimAction(HOOK_TABLE, action, 'earlier-invocation', now + options.leaseFromNowMs - 30_000, now + options.leaseFromNowMs)).toBe(true);
  if (options.commandId) await records.recordCommand(HOOK_TABLE, action, options.commandId);
}

describe('the claim on an action', () => {
  test('three concurrent claims: one succeeds, two meet ConditionalCheckFailedException', async () => {
    // GIVEN three invocations claiming the same action at once
    const action = { kind: 'lifecycle-action', instanceId: INSTANCE, token: TOKEN, transition: 'autoscaling:EC2_INSTANCE_TERMINATING' } as const;
    const before = db.operations.length;
    // WHEN each puts its claim
    const claimed = await Promise.all(['a', 'b', 'c'].map((id) => records.claimAction(HOOK_TABLE, action, id, Date.now() + 20_000, Date.now() + 50_000)));
    // THEN DynamoDB accepted exactly one conditional put
    expect(claimed.filter(Boolean)).toHaveLength(1);
    // Each of the two that lost reads the record once, to tell another's claim from its own write whose answer was lost.
    expect([...db.operations.slice(before)].sort()).toEqual(['GetItem', 'GetItem', 'PutItem', 'PutItem', 'PutItem']);
    const record = await records.readAction(HOOK_TABLE, INSTANCE, TOKEN);
    expect(record).toMatchObject({ state: 'claimed', claimId: ['a', 'b', 'c'][claimed.indexOf(true)] });
  });

  test('a claim that fails for another reason (no such table) is an error, not "already claimed"', async () => {
    const action = { kind: 'lifecycle-action', instanceId: INSTANCE, token: TOKEN, transition: 'x' } as const;
    await expect(records.claimAction({ name: 'no-such-table', hook: DOCUMENT }, action, 'a', 1, 2)).rejects.toThrow(/ResourceNotFoundException|not found/i);
  });

  test('three concurrent copies of a lifecycle event send one command', async () => {
    configure('terminate', 'CONTINUE');
    const outcomes = await Promise.all([run(lifecycleEvent('terminate')), run(lifecycleEvent('terminate')), run(lifecycleEvent('terminate'))]);
    expect(outcomes.filter((o) => o === 'command-sent')).toHaveLength(1);
    expect(outcomes.filter((o) => o !== 'command-sent').every((o) => o === 'claim-held' || o === 'command-already-sent')).toBe(true);
    expect(ssm).toHaveReceivedCommandTimes(SendCommandCommand, 1);
  });

  test('a claim whose answer was lost, retried by the SDK, is still this invocation\'s: it sends the command', async () => {
    // GIVEN DynamoDB applies the claim and its answer is lost, so the SDK's retry meets the claim already made
    configure('terminate', 'CONTINUE');
    db.loseAnswers('PutItem');
    // WHEN the lifecycle event arrives
    const outcome = await run(lifecycleEvent('terminate'));
    // THEN the invocation knows the claim for its own and sends, rather than waiting for a holder that is itself
    expect(outcome).toBe('command-sent');
    expect(ssm).toHaveReceivedCommandTimes(SendCommandCommand, 1);
    expect(await recordOf()).toMatchObject({ State: 'sent', CommandId: COMMAND });
  });

  test('a registration wait whose answers were lost still starts its checks, once each', async () => {
    // GIVEN a launch whose agent is not online, and the wait's first record and its next turn both lose their answers
    configure('launch', 'ABANDON');
    ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [] });
    db.loseAnswers('PutItem');
    // WHEN the lifecycle event arrives
    expect(await run(lifecycleEvent('launch'))).toBe('waiting-for-registration');
    // THEN the chain started, and its first check goes on to the next turn although that answer is lost too
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    db.loseAnswers('UpdateItem');
    expect(await run(startedInputs()[0])).toBe('waiting-for-registration');
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 2);
  });

  test('the holder\'s lease runs 20 s of sending and 30 s more', async () => {
    configure('terminate', 'CONTINUE');
    const now = Date.now();
    await run(lifecycleEvent('terminate'));
    const record = await records.readAction(HOOK_TABLE, INSTANCE, TOKEN);
    expect(record!.sendBy - now).toBeGreaterThanOrEqual(20_000);
    expect(record!.sendBy - now).toBeLessThan(21_000);
    expect(record!.leaseUntil - record!.sendBy).toBe(30_000);
  });
});

describe('lifecycle event', () => {
  test('terminate: claims the action, checks it is pending, sends the document with the token, records the command', async () => {
    // GIVEN a terminate hook
    configure('terminate', 'CONTINUE');
    // WHEN its lifecycle event arrives
    const outcome = await run(lifecycleEvent('terminate', { Origin: 'AutoScalingGroup', Destination: 'EC2' }));
    // THEN the action is still pending (a heartbeat with its token), one command goes out, nothing completed yet
    expect(outcome).toBe('command-sent');
    expect(autoScaling).toHaveReceivedCommandWith(RecordLifecycleActionHeartbeatCommand, {
      AutoScalingGroupName: GROUP,
      LifecycleHookName: HOOK,
      LifecycleActionToken: TOKEN,
      InstanceId: INSTANCE,
    });
    expect(ssm).toHaveReceivedCommandTimes(SendCommandCommand, 1);
    expect(ssm).toHaveReceivedCommandWith(SendCommandCommand, {
      DocumentName: DOCUMENT,
      DocumentVersion: '$LATEST',
      InstanceIds: [INSTANCE],
      Comment: `lifecycle-action ${TOKEN}`,
      TimeoutSeconds: 60,
      // The action's context, for the commands' SSM_ variables; the metadata is the document's own default, not sent.
      Parameters: {
        executionTimeout: ['300'],
        EC2InstanceId: [INSTANCE],
        AutoScalingGroupName: [GROUP],
        LifecycleHookName: [HOOK],
        LifecycleTransition: ['autoscaling:EC2_INSTANCE_TERMINATING'],
        Origin: ['AutoScalingGroup'],
        Destination: ['EC2'],
      },
      CloudWatchOutputConfig: { CloudWatchOutputEnabled: true, CloudWatchLogGroupName: 'hook-output' },
    });
    expect(ssm).not.toHaveReceivedCommand(ListCommandsCommand);
    expect(ssm).not.toHaveReceivedCommand(DescribeInstanceInformationCommand);
    expect(autoScaling).not.toHaveReceivedCommand(CompleteLifecycleActionCommand);
    // AND the record keeps what completing the action needs
    expect(await recordOf()).toMatchObject({
      HookInstance: `${DOCUMENT}|${INSTANCE}`,
      LifecycleActionToken: TOKEN,
      State: 'sent',
      CommandId: COMMAND,
      Transition: 'autoscaling:EC2_INSTANCE_TERMINATING',
      GroupName: GROUP,
      Origin: 'AutoScalingGroup',
      Destination: 'EC2',
    });
    const expires = Number((await recordOf())!.ExpiresAt);
    expect(expires * 1000 - Date.now()).toBeGreaterThan(48 * 3600_000);
  });

  test('launch: an instance already online gets its command after one check, and no wait is started', async () => {
    configure('launch', 'ABANDON');
    ssm.on(DescribeInstanceInformationCommand).resolves(online());
    expect(await run(lifecycleEvent('launch'))).toBe('command-sent');
    expect(ssm).toHaveReceivedCommandTimes(DescribeInstanceInformationCommand, 1);
    expect(ssm).toHaveReceivedCommandWith(DescribeInstanceInformationCommand, {
      Filters: [{ Key: 'InstanceIds', Values: [INSTANCE] }],
    });
    expect(ssm).toHaveReceivedCommandTimes(SendCommandCommand, 1);
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  test('launch: an agent not yet online: one check, the next one scheduled 2 s later, and the function returns', async () => {
    // GIVEN an instance whose agent has not registered
    configure('launch', 'ABANDON');
    ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [] });
    const now = Date.now();
    // WHEN the launch event arrives
    const outcome = await run(lifecycleEvent('launch', { Origin: 'EC2', Destination: 'AutoScalingGroup' }));
    // THEN the handler checked once, waited nothing itself, and started the wait for the next check
    expect(outcome).toBe('waiting-for-registration');
    expect(ssm).toHaveReceivedCommandTimes(DescribeInstanceInformationCommand, 1);
    expect(mockClock.sleeps).toEqual([]);
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    const input = startedInputs()[0];
    expect(sfn).toHaveReceivedCommandWith(StartExecutionCommand, { stateMachineArn: WAIT_ARN });
    expect(input).toEqual({
      waitSeconds: 2,
      registrationCheck: {
        AutoScalingGroupName: GROUP,
        LifecycleHookName: HOOK,
        EC2InstanceId: INSTANCE,
        LifecycleActionToken: TOKEN,
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
        Origin: 'EC2',
        Destination: 'AutoScalingGroup',
        EventTime: '2026-11-28T10:00:00Z',
        Attempt: 1,
        Deadline: expect.any(Number),
        Chain: expect.any(String),
        // The shared function learns from the check which hook it serves.
        Hook: settings,
      },
    });
    // the registration timeout (60 s) counts from the first check
    expect(Math.abs(input.registrationCheck.Deadline - (now + 60_000))).toBeLessThan(1_000);
    // AND the action's record holds the wait for its chain: the check scheduled, the deadline, the wait and 30 s
    const record = await recordOf();
    expect(record).toMatchObject({
      State: 'waiting', ClaimId: input.registrationCheck.Chain, WaitAttempt: '1', WaitDeadline: String(input.registrationCheck.Deadline),
    });
    expect(Math.abs(Number(record!.LeaseUntil) - (now + 32_000))).toBeLessThan(1_000);
    // AND nothing is sent or completed yet
    expect(ssm).not.toHaveReceivedCommand(SendCommandCommand);
    expect(autoScaling).not.toHaveReceivedCommand(CompleteLifecycleActionCommand);
  });

  test('launch: each check that finds the agent offline doubles the wait, capped at 20 s, with the same deadline', async () => {
    configure('launch', 'ABANDON');
    ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [{ InstanceId: INSTANCE, PingStatus: 'ConnectionLost' }] });
    const deadline = Date.now() + 600_000;
    const waits: number[] = [];
    let chain: string | undefined;
    for (let attempt = 1; attempt <= 6; attempt++) {
      sfn.resetHistory();
      expect(await run(registrationCheckEvent({ Attempt: attempt, Deadline: deadline, Chain: chain }))).toBe('waiting-for-registration');
      const input = startedInputs()[0];
      expect(input.registrationCheck).toMatchObject({ Attempt: attempt + 1, Deadline: deadline });
      chain ??= input.registrationCheck.Chain;
      expect(input.registrationCheck.Chain).toBe(chain);
      waits.push(input.waitSeconds);
    }
    expect(waits).toEqual([4, 8, 16, 20, 20, 20]);
  });

  test('launch: the last wait is cut short so that the last check falls on the deadline', async () => {
    configure('launch', 'ABANDON');
    ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [] });
    expect(await run(registrationCheckEvent({ Attempt: 5, Deadline: Date.now() + 5_000 }))).toBe('waiting-for-registration');
    expect(startedInputs()[0].waitSeconds).toBe(5);
  });

  test('launch: a check that finds the agent online sends the command', async () => {
    configure('launch', 'ABANDON');
    ssm.on(DescribeInstanceInformationCommand).resolves(online());
    expect(await run(registrationCheckEvent({ Attempt: 3 }))).toBe('command-sent');
    expect(ssm).toHaveReceivedCommandTimes(SendCommandCommand, 1);
    expect(ssm).toHaveReceivedCommandWith(SendCommandCommand, { InstanceIds: [INSTANCE], Comment: `lifecycle-action ${TOKEN}` });
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
    expect(await recordOf()).toMatchObject({ State: 'sent', CommandId: COMMAND, Transition: 'autoscaling:EC2_INSTANCE_LAUNCHING' });
  });

  test('launch: an agent not online at the deadline: the action completes by its token with the failure result, and its record ends the wait', async () => {
    configure('launch', 'ABANDON');
    ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [] });
    const outcome = await run(registrationCheckEvent({ Attempt: 7, Deadline: Date.now() - 1 }));
    expect(outcome).toBe('completed');
    expect(ssm).not.toHaveReceivedCommand(SendCommandCommand);
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
    expect(autoScaling).toHaveReceivedCommandTimes(CompleteLifecycleActionCommand, 1);
    expect(autoScaling).toHaveReceivedCommandWith(CompleteLifecycleActionCommand, {
      AutoScalingGroupName: GROUP,
      LifecycleHookName: HOOK,
      LifecycleActionToken: TOKEN,
      InstanceId: INSTANCE,
      LifecycleActionResult: 'ABANDON',
    });
    expect(logs.join('\n')).toMatch(/SSM agent did not register in time/);
    expect(await recordOf()).toMatchObject({ State: 'ended', EndReason: 'the SSM agent did not register in time' });
  });

  test('launch: an action an operator completed during the registration wait gets no command, and one log line', async () => {
    configure('launch', 'ABANDON');
    ssm.on(DescribeInstanceInformationCommand).resolves(online());
    autoScaling.on(RecordLifecycleActionHeartbeatCommand).rejects(noActiveAction());
    expect(await run(registrationCheckEvent({ Attempt: 2 }))).toBe('action-ended');
    expect(ssm).not.toHaveReceivedCommand(SendCommandCommand);
    expect(autoScaling).not.toHaveReceivedCommand(CompleteLifecycleActionCommand);
    expect(logs.filter((l) => l.includes('nothing sent'))).toHaveLength(1);
    expect(await recordOf()).toMatchObject({ State: 'ended' });
  });

  test.each([
    ['Attempt missing', { Attempt: undefined }],
    ['Attempt zero', { Attempt: 0 }],
    ['Deadline a string', { Deadline: '1700000000000' }],
    ['a malformed token', { LifecycleActionToken: 'not-a-token' }],
    ['a malformed instance id', { EC2InstanceId: 'i-xyz' }],
    ['another hook', { LifecycleHookName: 'other-hook' }],
    ['another group', { AutoScalingGroupName: 'other-fleet' }],
  ])('a registration check with %s is ignored with one log line and no AWS call', async (_why, change) => {
    configure('launch', 'ABANDON');
    expect(await run(registrationCheckEvent(change))).toBe('ignored');
    expect(ssm.calls()).toHaveLength(0);
    expect(sfn.calls()).toHaveLength(0);
    expect(autoScaling.calls()).toHaveLength(0);
    expect(logs.filter((l) => l.includes('event ignored'))).toHaveLength(1);
  });

  test('a registration check reaching a terminate hook is ignored', async () => {
    configure('terminate', 'CONTINUE');
    expect(await run(registrationCheckEvent())).toBe('ignored');
    expect(ssm.calls()).toHaveLength(0);
  });

  test('launch: a check left unanswered (throttled past the SDK\'s retries) schedules the next check; the action is not failed', async () => {
    configure('launch', 'ABANDON');
    ssm.on(DescribeInstanceInformationCommand).rejects(awsError('ThrottlingException', 'Rate exceeded', 400));
    expect(await run(lifecycleEvent('launch'))).toBe('waiting-for-registration');
    expect(startedInputs()[0]).toMatchObject({ waitSeconds: 2, registrationCheck: { Attempt: 1 } });
    expect(autoScaling).not.toHaveReceivedCommand(CompleteLifecycleActionCommand);
  });

  test('launch: an unanswered check just past the deadline is repeated; the failure result waits for an answer or the grace to end', async () => {
    configure('launch', 'ABANDON');
    ssm.on(DescribeInstanceInformationCommand).rejects(awsError('ThrottlingException', 'Rate exceeded', 400));
    expect(await run(registrationCheckEvent({ Attempt: 8, Deadline: Date.now() - 1_000 }))).toBe('waiting-for-registration');
    expect(autoScaling).not.toHaveReceivedCommand(CompleteLifecycleActionCommand);
    const { Chain } = startedInputs()[0].registrationCheck;
    sfn.resetHistory();
    expect(await run(registrationCheckEvent({ Attempt: 9, Deadline: Date.now() - 41_000, Chain }))).toBe('completed');
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
    expect(autoScaling).toHaveReceivedCommandWith(CompleteLifecycleActionCommand, { LifecycleActionToken: TOKEN, LifecycleActionResult: 'ABANDON' });
  });

  test('launch: a StartExecution throttled past the SDK\'s retries is rethrown for Lambda\'s retry of the event', async () => {
    configure('launch', 'ABANDON');
    ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [] });
    sfn.on(StartExecutionCommand).rejects(awsError('ThrottlingException', 'Rate exceeded', 400));
    await expect(run(lifecycleEvent('launch'))).rejects.toThrow('Rate exceeded');
    expect(autoScaling).not.toHaveReceivedCommand(CompleteLifecycleActionCommand);
  });

  test('launch: a refused StartExecution completes the action at once with the failure result', async () => {
    configure('launch', 'ABANDON');
    ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [] });
    sfn.on(StartExecutionCommand).rejects(awsError('AccessDeniedException', 'not authorized', 400));
    expect(await run(lifecycleEvent('launch'))).toBe('completed');
    expect(autoScaling).toHaveReceivedCommandWith(CompleteLifecycleActionCommand, { LifecycleActionToken: TOKEN, LifecycleActionResult: 'ABANDON' });
    expect(logs.join('\n')).toContain('StartExecution failed: AccessDeniedException');
  });

  test('an event for an action that ended before delivery sends nothing, and its repeat asks nothing of AWS', async () => {
    configure('terminate', 'CONTINUE');
    autoScaling.on(RecordLifecycleActionHeartbeatCommand).rejects(noActiveAction());
    expect(await run(lifecycleEvent('terminate'))).toBe('action-ended');
    expect(await run(lifecycleEvent('terminate'))).toBe('action-ended');
    expect(autoScaling).toHaveReceivedCommandTimes(RecordLifecycleActionHeartbeatCommand, 1);
    expect(ssm).not.toHaveReceivedCommand(SendCommandCommand);
  });

  test('a repeated event for an action whose command is recorded sends nothing and asks nothing of AWS', async () => {
    configure('terminate', 'CONTINUE');
    await seedRecord(TOKEN, { leaseFromNowMs: 50_000, commandId: COMMAND });
    expect(await run(lifecycleEvent('terminate'))).toBe('command-already-sent');
    expect(ssm.calls()).toHaveLength(0);
    expect(autoScaling.calls()).toHaveLength(0);
  });

  test('an event that meets another invocation\'s live claim stops: the holder is sending', async () => {
    configure('terminate', 'CONTINUE');
    await seedRecord(TOKEN, { leaseFromNowMs: 40_000 });
    expect(await run(lifecycleEvent('terminate'))).toBe('claim-held');
    expect(ssm.calls()).toHaveLength(0);
    expect(autoScaling.calls()).toHaveLength(0);
    expect(await recordOf()).toMatchObject({ ClaimId: 'earlier-invocation', State: 'claimed' });
  });

  test('a claim whose lease ran out is taken over; a command its holder sent is found and recorded, not sent again', async () => {
    configure('terminate', 'CONTINUE');
    await seedRecord(TOKEN, { leaseFromNowMs: -1 });
    ssm.on(ListCommandsCommand).resolves(listed(TOKEN));
    expect(await run(lifecycleEvent('terminate'))).toBe('command-already-sent');
    expect(ssm).not.toHaveReceivedCommand(SendCommandCommand);
    expect(ssm).toHaveReceivedCommandWith(ListCommandsCommand, { InstanceId: INSTANCE, Filters: [{ key: 'DocumentName', value: DOCUMENT }] });
    expect(await recordOf()).toMatchObject({ State: 'sent', CommandId: COMMAND });
    expect((await recordOf())!.ClaimId).not.toBe('earlier-invocation');
  });

  test('a claim whose lease ran out and whose holder sent nothing is taken over and the command sent', async () => {
    configure('terminate', 'CONTINUE');
    await seedRecord(TOKEN, { leaseFromNowMs: -1 });
    ssm.on(ListCommandsCommand).resolves(listed(randomUUID(), OTHER_COMMAND));
    expect(await run(lifecycleEvent('terminate'))).toBe('command-sent');
    expect(ssm).toHaveReceivedCommandTimes(SendCommandCommand, 1);
    expect(await recordOf()).toMatchObject({ State: 'sent', CommandId: COMMAND });
  });

  test.each([
    ['the instance is gone or unmanaged', 'InvalidInstanceId', 400],
    ['access is denied', 'AccessDeniedException', 400],
    ['the document is invalid', 'InvalidDocument', 400],
  ])('when the command cannot be sent because %s, the action completes at once with the failure result', async (_why, name, status) => {
    configure('terminate', 'ABANDON');
    ssm.on(SendCommandCommand).rejects(awsError(name, `${name} from SSM`, status));
    expect(await run(lifecycleEvent('terminate'))).toBe('completed');
    expect(autoScaling).toHaveReceivedCommandWith(CompleteLifecycleActionCommand, {
      LifecycleActionToken: TOKEN,
      LifecycleActionResult: 'ABANDON',
    });
    expect(logs.join('\n')).toContain(`SendCommand failed: ${name}`);
    expect(await recordOf()).toMatchObject({ State: 'ended' });
  });

  test('a document that does not take the action\'s context (one of an earlier version, mid-deployment) gets the command without it', async () => {
    configure('terminate', 'ABANDON');
    ssm.on(SendCommandCommand)
      .rejectsOnce(awsError('InvalidParameters', 'Parameter "EC2InstanceId" is not declared by document', 400))
      .resolves({ Command: { CommandId: COMMAND } });
    expect(await run(lifecycleEvent('terminate'))).toBe('command-sent');
    expect(ssm).toHaveReceivedCommandTimes(SendCommandCommand, 2);
    const sent = ssm.commandCalls(SendCommandCommand).map((c) => c.args[0].input.Parameters);
    expect(sent[0]).toHaveProperty('EC2InstanceId', [INSTANCE]);
    expect(sent[1]).toEqual({ executionTimeout: ['300'] });
    expect(ssm).not.toHaveReceivedCommand(ListCommandsCommand);
    expect(logs.join('\n')).toContain('the hook\'s document does not take the action\'s context; sending the command without it');
    expect(autoScaling).not.toHaveReceivedCommand(CompleteLifecycleActionCommand);
  });

  test('parameters refused even without the context complete the action at once with the failure result', async () => {
    configure('terminate', 'ABANDON');
    ssm.on(SendCommandCommand).rejects(awsError('InvalidParameters', 'Parameter "executionTimeout" does not match', 400));
    expect(await run(lifecycleEvent('terminate'))).toBe('completed');
    expect(ssm).toHaveReceivedCommandTimes(SendCommandCommand, 2);
    expect(autoScaling).toHaveReceivedCommandWith(CompleteLifecycleActionCommand, { LifecycleActionResult: 'ABANDON' });
  });

  test('an online agent older than 3.3.2746.0 gets the command all the same, with a warning that its commands lack the context', async () => {
    configure('launch', 'ABANDON');
    ssm.on(DescribeInstanceInformationCommand).resolves({
      InstanceInformationList: [{ InstanceId: INSTANCE, PingStatus: 'Online', AgentVersion: '3.3.1142.0' }],
    });
    expect(await run(lifecycleEvent('launch'))).toBe('command-sent');
    expect(ssm).toHaveReceivedCommandTimes(SendCommandCommand, 1);
    const warning = logs.find((l) => l.includes('older than 3.3.2746.0'));
    expect(warning).toContain('3.3.1142.0');
    expect(warning).toContain(INSTANCE);
  });

  test('an agent of 3.3.2746.0 or later gets no such warning', async () => {
    configure('launch', 'ABANDON');
    ssm.on(DescribeInstanceInformationCommand).resolves({
      InstanceInformationList: [{ InstanceId: INSTANCE, PingStatus: 'Online', AgentVersion: '3.3.2746.0' }],
    });
    expect(await run(lifecycleEvent('launch'))).toBe('command-sent');
    expect(logs.join('\n')).not.toContain('older than');
  });

  test('a refused registration check completes the action at once with the failure result', async () => {
    configure('launch', 'ABANDON');
    ssm.on(DescribeInstanceInformationCommand).rejects(awsError('AccessDeniedException', 'not authorized', 400));
    expect(await run(lifecycleEvent('launch'))).toBe('completed');
    expect(ssm).not.toHaveReceivedCommand(SendCommandCommand);
    expect(autoScaling).toHaveReceivedCommandWith(CompleteLifecycleActionCommand, {
      LifecycleActionToken: TOKEN,
      LifecycleActionResult: 'ABANDON',
    });
    expect(logs.join('\n')).toContain('DescribeInstanceInformation failed: AccessDeniedException');
  });

  test('a refused heartbeat (other than "no active action") completes the action at once with the failure result', async () => {
    configure('terminate', 'CONTINUE');
    autoScaling.on(RecordLifecycleActionHeartbeatCommand).rejects(awsError('AccessDenied', 'not authorized', 403));
    expect(await run(lifecycleEvent('terminate'))).toBe('completed');
    expect(ssm).not.toHaveReceivedCommand(SendCommandCommand);
    expect(logs.join('\n')).toContain('RecordLifecycleActionHeartbeat failed: AccessDenied');
  });

  test('throttling of SendCommand that outlasts three attempts is rethrown, the claim left for Lambda\'s retry', async () => {
    configure('terminate', 'CONTINUE');
    ssm.on(SendCommandCommand).rejects(awsError('ThrottlingException', 'Rate exceeded', 400));
    await expect(run(lifecycleEvent('terminate'))).rejects.toThrow('Rate exceeded');
    expect(ssm).toHaveReceivedCommandTimes(SendCommandCommand, 3);
    expect(ssm).not.toHaveReceivedCommand(ListCommandsCommand);
    expect(autoScaling).not.toHaveReceivedCommand(CompleteLifecycleActionCommand);
    expect(await recordOf()).toMatchObject({ State: 'claimed' });
  });

  test('a SendCommand whose answer was lost is not sent again once ListCommands shows the command', async () => {
    // GIVEN SSM creates the command but the answer is a 500, and ListCommands shows it only on the second look
    configure('terminate', 'CONTINUE');
    ssm.on(SendCommandCommand).rejectsOnce(awsError('InternalServerError', 'internal error', 500));
    ssm.on(ListCommandsCommand).resolvesOnce({ Commands: [] }).resolves(listed(TOKEN));
    // WHEN the lifecycle event arrives
    const outcome = await run(lifecycleEvent('terminate'));
    // THEN the handler looked 1 and 3 s after the failure, found the command and sent nothing more
    expect(outcome).toBe('command-sent');
    expect(ssm).toHaveReceivedCommandTimes(SendCommandCommand, 1);
    expect(ssm).toHaveReceivedCommandTimes(ListCommandsCommand, 2);
    expect(mockClock.sleeps).toEqual([1_000, 2_000]);
    expect(await recordOf()).toMatchObject({ State: 'sent', CommandId: COMMAND });
  });

  test('a SendCommand that failed with a 500 and created nothing is sent again only after 15 s of looking', async () => {
    configure('terminate', 'CONTINUE');
    ssm.on(SendCommandCommand)
      .rejectsOnce(awsError('InternalServerError', 'internal error', 500))
      .resolves({ Command: { CommandId: COMMAND } });
    expect(await run(lifecycleEvent('terminate'))).toBe('command-sent');
    expect(ssm).toHaveReceivedCommandTimes(SendCommandCommand, 2);
    expect(ssm).toHaveReceivedCommandTimes(ListCommandsCommand, 4);
    expect(mockClock.sleeps).toEqual([1_000, 2_000, 4_000, 8_000]);
  });

  test('two lost answers in a row: no third send after the send window; Lambda\'s retry settles it', async () => {
    configure('terminate', 'CONTINUE');
    ssm.on(SendCommandCommand).rejects(awsError('InternalServerError', 'internal error', 500));
    await expect(run(lifecycleEvent('terminate'))).rejects.toThrow(/not listed by the end of the send window/);
    expect(ssm).toHaveReceivedCommandTimes(SendCommandCommand, 2);
    expect(ssm).toHaveReceivedCommandTimes(ListCommandsCommand, 8);
    expect(await recordOf()).toMatchObject({ State: 'claimed' });
  });

  test('no SendCommand starts after the send window: the claim may have passed to another invocation', async () => {
    // GIVEN a heartbeat that took 25 s (the SDK's retries of a slow Auto Scaling)
    configure('terminate', 'CONTINUE');
    autoScaling.on(RecordLifecycleActionHeartbeatCommand).callsFake(() => {
      mockClock.offset += 25_000;
      return {};
    });
    // WHEN the handler gets to sending, past the 20 s window
    await expect(run(lifecycleEvent('terminate'))).rejects.toThrow(/send window closed/);
    // THEN it sends nothing and leaves the claim for Lambda's retry to take over after the lease
    expect(ssm).not.toHaveReceivedCommand(SendCommandCommand);
    expect(await recordOf()).toMatchObject({ State: 'claimed' });
  });

  test('a throttled SendCommand is repeated without looking for the command: it was refused', async () => {
    configure('terminate', 'CONTINUE');
    ssm.on(SendCommandCommand)
      .rejectsOnce(awsError('ThrottlingException', 'Rate exceeded', 400))
      .resolves({ Command: { CommandId: COMMAND } });
    expect(await run(lifecycleEvent('terminate'))).toBe('command-sent');
    expect(ssm).toHaveReceivedCommandTimes(SendCommandCommand, 2);
    expect(ssm).not.toHaveReceivedCommand(ListCommandsCommand);
  });

  test('a network error on SendCommand (a DNS failure) is retried, not taken as a refusal', async () => {
    // GIVEN a lookup failure, which the SDK does not rename and does not retry for this client
    configure('launch', 'ABANDON');
    ssm.on(DescribeInstanceInformationCommand).resolves(online());
    ssm.on(SendCommandCommand)
      .rejectsOnce(Object.assign(new Error('getaddrinfo EAI_AGAIN ssm.eu-west-1.amazonaws.com'), { code: 'EAI_AGAIN' }))
      .resolves({ Command: { CommandId: COMMAND } });
    // WHEN the launch event arrives
    const outcome = await run(lifecycleEvent('launch'));
    // THEN the command goes out on the next attempt and the launch is not abandoned
    expect(outcome).toBe('command-sent');
    expect(ssm).toHaveReceivedCommandTimes(SendCommandCommand, 2);
    expect(autoScaling).not.toHaveReceivedCommand(CompleteLifecycleActionCommand);
  });

  test('notification metadata and the token never reach the logs', async () => {
    configure('terminate', 'CONTINUE');
    await run(lifecycleEvent('terminate'));
    await run(lifecycleEvent('terminate', { AutoScalingGroupName: 'other' }));
    expect(logs.length).toBeGreaterThan(0);
    expect(logs.join('\n')).not.toContain('hunter2');
    expect(logs.join('\n')).not.toContain(TOKEN);
  });
});

describe('one registration wait chain per action', () => {
  const offline = () => ({ InstanceInformationList: [] });

  beforeEach(() => {
    configure('launch', 'ABANDON');
    ssm.on(DescribeInstanceInformationCommand).resolves(offline());
  });

  test('copies of the launch event during the wait, at once and 20 s later, start no second wait', async () => {
    // GIVEN three copies of the launch event arriving together (EventBridge delivers at least once)
    const outcomes = await Promise.all([1, 2, 3].map(() => run(lifecycleEvent('launch'))));
    // THEN one of them started the wait; the others met it
    expect(outcomes.sort()).toEqual(['registration-wait-running', 'registration-wait-running', 'waiting-for-registration']);
    // AND a copy 20 s later, while the chain holds the action (its 2 s wait and 30 s), starts none either
    mockClock.offset += 20_000;
    expect(await run(lifecycleEvent('launch'))).toBe('registration-wait-running');
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
  });

  test('a check delivered twice (Step Functions runs an Express execution twice at times) schedules the next check once', async () => {
    await run(lifecycleEvent('launch'));
    const check = startedInputs()[0];
    const outcomes = await Promise.all([run(check), run(check)]);
    expect(outcomes.sort()).toEqual(['registration-wait-running', 'waiting-for-registration']);
    expect(startedInputs().map((i) => i.registrationCheck.Attempt)).toEqual([1, 2]);
  });

  test('a chain whose next check is overdue past its lease is taken over by the next copy, with its deadline and count; the late check then stops', async () => {
    await run(lifecycleEvent('launch'));
    const first = startedInputs()[0].registrationCheck;
    // WHEN the chain's check has not come 40 s later (its lease: the 2 s wait and 30 s) and a copy of the event arrives
    mockClock.offset += 40_000;
    expect(await run(lifecycleEvent('launch'))).toBe('waiting-for-registration');
    // THEN the copy goes on in a chain of its own, from the same count of checks and towards the same deadline
    const taken = startedInputs()[1].registrationCheck;
    expect(taken).toMatchObject({ Attempt: 2, Deadline: first.Deadline });
    expect(taken.Chain).not.toBe(first.Chain);
    expect(logs.join('\n')).toContain('registration wait taken over from a chain that stopped');
    // AND the overdue check, arriving after all, starts nothing: one chain goes on
    expect(await run(startedInputs()[0])).toBe('registration-wait-running');
    expect(await run(startedInputs()[1])).toBe('waiting-for-registration');
    expect(startedInputs().map((i) => [i.registrationCheck.Chain, i.registrationCheck.Attempt])).toEqual([
      [first.Chain, 1], [taken.Chain, 2], [taken.Chain, 3],
    ]);
  });

  test('a first attempt that stopped after recording the wait, before starting it, is taken over by Lambda\'s retry a minute later', async () => {
    settings = { ...settings, registrationTimeoutSeconds: 180 };
    // GIVEN a first attempt whose StartExecution failed past the SDK's retries, after the record took the wait
    sfn.on(StartExecutionCommand).rejectsOnce(awsError('ThrottlingException', 'Rate exceeded', 400)).resolves({ executionArn: 'arn', startDate: new Date() });
    await expect(run(lifecycleEvent('launch'))).rejects.toThrow('Rate exceeded');
    expect(await recordOf()).toMatchObject({ State: 'waiting', WaitAttempt: '1' });
    // WHEN Lambda retries the event a minute later
    mockClock.offset += 60_000;
    // THEN the retry starts the wait, and the action is not failed
    expect(await run(lifecycleEvent('launch'))).toBe('waiting-for-registration');
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 2);
    expect(autoScaling).not.toHaveReceivedCommand(CompleteLifecycleActionCommand);
  });

  test('the chain\'s check that finds the agent online claims the action from the wait and sends; a copy then sends nothing', async () => {
    await run(lifecycleEvent('launch'));
    ssm.on(DescribeInstanceInformationCommand).resolves(online());
    expect(await run(startedInputs()[0])).toBe('command-sent');
    expect(await run(lifecycleEvent('launch'))).toBe('command-already-sent');
    expect(ssm).toHaveReceivedCommandTimes(SendCommandCommand, 1);
    expect(await recordOf()).toMatchObject({ State: 'sent', CommandId: COMMAND });
  });

  test('a copy that finds the agent online while the chain waits sends; the chain\'s next check then stops', async () => {
    await run(lifecycleEvent('launch'));
    ssm.on(DescribeInstanceInformationCommand).resolves(online());
    expect(await run(lifecycleEvent('launch'))).toBe('command-sent');
    ssm.on(DescribeInstanceInformationCommand).resolves(offline());
    // The chain's check finds the agent offline (it went away again): the action is past its wait, nothing more is scheduled
    expect(await run(startedInputs()[0])).toBe('command-already-sent');
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    expect(ssm).toHaveReceivedCommandTimes(SendCommandCommand, 1);
  });
});

describe('command invocation status event', () => {
  test('Success completes the command\'s own action, by its token, with CONTINUE', async () => {
    configure('launch', 'ABANDON');
    await seedRecord(TOKEN, { leaseFromNowMs: 50_000, commandId: COMMAND });
    expect(await run(statusEvent('Success'))).toBe('completed');
    expect(autoScaling).toHaveReceivedCommandTimes(CompleteLifecycleActionCommand, 1);
    expect(autoScaling).toHaveReceivedCommandWith(CompleteLifecycleActionCommand, {
      AutoScalingGroupName: GROUP,
      LifecycleHookName: HOOK,
      LifecycleActionToken: TOKEN,
      InstanceId: INSTANCE,
      LifecycleActionResult: 'CONTINUE',
    });
    // No SSM call but the read of the hook's settings, which its document names (kept for a few minutes after).
    expect(ssm.calls().filter((c) => !(c.args[0] instanceof GetParameterCommand))).toHaveLength(0);
  });

  test.each(['Failed', 'TimedOut', 'Cancelled', 'Undeliverable', 'Terminated'])('%s completes the action with the failure result', async (status) => {
    configure('launch', 'ABANDON');
    await seedRecord(TOKEN, { leaseFromNowMs: 50_000, commandId: COMMAND });
    expect(await run(statusEvent(status))).toBe('completed');
    expect(autoScaling).toHaveReceivedCommandWith(CompleteLifecycleActionCommand, {
      LifecycleActionToken: TOKEN,
      LifecycleActionResult: 'ABANDON',
    });
  });

  test('a late status of an earlier action of the instance (warm pools) completes that earlier action, never the newer one', async () => {
    // GIVEN an instance whose first launch action (into the warm pool) had COMMAND, and whose second has OTHER_COMMAND still running
    configure('launch', 'ABANDON');
    const first = randomUUID();
    await seedRecord(first, { leaseFromNowMs: -600_000, commandId: COMMAND });
    await seedRecord(TOKEN, { leaseFromNowMs: 50_000, commandId: OTHER_COMMAND });
    autoScaling.on(CompleteLifecycleActionCommand).rejects(awsError('ValidationError', `No active Lifecycle Action found with token ${first}`, 400));
    // WHEN the first command's Success arrives again
    const outcome = await run(statusEvent('Success'));
    // THEN only the first action is named; it has ended, so nothing changes
    expect(outcome).toBe('already-completed');
    expect(autoScaling).toHaveReceivedCommandTimes(CompleteLifecycleActionCommand, 1);
    expect(autoScaling).toHaveReceivedCommandWith(CompleteLifecycleActionCommand, { LifecycleActionToken: first });
  });

  test('a group of the same stack being replaced: the status event of the new group\'s instance completes the action in the new group, '
    + 'even where the groups kept for the hook\'s tag show only the old one', async () => {
    // GIVEN a hook known by its group's tag, whose action began with the lifecycle event of the new group (handled in another environment)
    // (a document of its own: the settings of DOCUMENT are kept by this environment from the other tests)
    const documentName = `${NAME_PREFIX}-Stack-Tagged-${randomBytes(6).toString('hex')}`;
    const tag = { key: `cdk-lifecycle-command-hook:${randomBytes(6).toString('hex')}`, value: documentName };
    configure('launch', 'ABANDON', undefined, { groupName: undefined, groupTag: tag, documentName });
    ssm.on(GetParameterCommand, { Name: `${PARAMETER_PATH}${documentName}` }).resolves({
      Parameter: { Name: `${PARAMETER_PATH}${documentName}`, Value: JSON.stringify(settings) },
    });
    const table = { name: TABLE, hook: documentName };
    const action = { kind: 'lifecycle-action', instanceId: INSTANCE, token: TOKEN, groupName: 'new-group', transition: 'autoscaling:EC2_INSTANCE_LAUNCHING' } as const;
    expect(await records.claimAction(table, action, 'new-group-event', Date.now() + 20_000, Date.now() + 50_000)).toBe(true);
    await records.recordCommand(table, action, COMMAND);
    // AND this environment read the groups carrying the tag before CloudFormation created the new one
    autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({
      AutoScalingGroups: [{ AutoScalingGroupName: 'old-group', Tags: [{ Key: tag.key, Value: tag.value }] } as any],
    });
    autoScaling.on(CompleteLifecycleActionCommand, { AutoScalingGroupName: 'old-group' }).rejects(noActiveAction());
    // WHEN the command's Success arrives here
    expect(await run(statusEvent('Success', { 'document-name': documentName }))).toBe('completed');
    // THEN the action is completed once, in the group its lifecycle event named, with no call to find the instance's group
    expect(autoScaling).toHaveReceivedCommandTimes(CompleteLifecycleActionCommand, 1);
    expect(autoScaling).toHaveReceivedCommandWith(CompleteLifecycleActionCommand, {
      AutoScalingGroupName: 'new-group', LifecycleActionToken: TOKEN, InstanceId: INSTANCE, LifecycleActionResult: 'CONTINUE',
    });
    expect(autoScaling).toHaveReceivedCommandTimes(DescribeAutoScalingGroupsCommand, 1);
    expect(autoScaling).not.toHaveReceivedCommand(DescribeAutoScalingInstancesCommand);
    // AND its line counts it under the new group
    const completedIn = samplesOf(out).filter((m) => m.name === 'ActionsCompleted').map((m) => m.dimensions.AutoScalingGroupName).filter(Boolean);
    expect(new Set(completedIn)).toEqual(new Set(['new-group']));
  });

  test('a record without the command id (the handler stopped after sending): the command\'s comment names the action', async () => {
    configure('terminate', 'CONTINUE');
    await seedRecord(TOKEN, { leaseFromNowMs: 50_000 });
    ssm.on(ListCommandsCommand).resolves(listed(TOKEN));
    expect(await run(statusEvent('Success'))).toBe('completed');
    expect(ssm).toHaveReceivedCommandWith(ListCommandsCommand, { CommandId: COMMAND, InstanceId: INSTANCE });
    expect(autoScaling).toHaveReceivedCommandWith(CompleteLifecycleActionCommand, { LifecycleActionToken: TOKEN, LifecycleActionResult: 'CONTINUE' });
  });

  test('a command that names no action of this hook completes nothing', async () => {
    configure('terminate', 'CONTINUE');
    ssm.on(ListCommandsCommand).resolves({ Commands: [{ CommandId: COMMAND, DocumentName: DOCUMENT, Comment: 'sent by hand' }] });
    expect(await run(statusEvent('Success'))).toBe('ignored');
    expect(autoScaling).not.toHaveReceivedCommand(CompleteLifecycleActionCommand);
    expect(logs.join('\n')).toContain('no lifecycle action found for the command');
  });

  test('an action already complete ("No active Lifecycle Action found") is logged and succeeds', async () => {
    configure('terminate', 'CONTINUE');
    await seedRecord(TOKEN, { leaseFromNowMs: 50_000, commandId: COMMAND });
    autoScaling.on(CompleteLifecycleActionCommand).rejects(noActiveAction());
    expect(await run(statusEvent('Success'))).toBe('already-completed');
    expect(logs.join('\n')).toContain('lifecycle action was already complete');
  });

  test('a duplicate status event completes once and the second is a no-op', async () => {
    configure('terminate', 'CONTINUE');
    await seedRecord(TOKEN, { leaseFromNowMs: 50_000, commandId: COMMAND });
    autoScaling.on(CompleteLifecycleActionCommand).resolvesOnce({}).rejects(noActiveAction());
    expect(await run(statusEvent('Success'))).toBe('completed');
    expect(await run(statusEvent('Success'))).toBe('already-completed');
  });

  test('another refusal is logged and not retried', async () => {
    configure('terminate', 'CONTINUE');
    await seedRecord(TOKEN, { leaseFromNowMs: 50_000, commandId: COMMAND });
    autoScaling.on(CompleteLifecycleActionCommand).rejects(awsError('ValidationError', 'LifecycleHook not found', 400));
    expect(await run(statusEvent('Failed'))).toBe('complete-refused');
    expect(logs.join('\n')).toContain('CompleteLifecycleAction refused');
  });

  test('ResourceContention that outlasts the SDK\'s retries is rethrown', async () => {
    configure('terminate', 'CONTINUE');
    await seedRecord(TOKEN, { leaseFromNowMs: 50_000, commandId: COMMAND });
    autoScaling.on(CompleteLifecycleActionCommand).rejects(awsError('ResourceContention', 'busy', 500));
    await expect(run(statusEvent('Success'))).rejects.toThrow('busy');
  });
});

describe('events that are not for this hook', () => {
  const cases: Array<[string, () => unknown]> = [
    ['another group', () => lifecycleEvent('terminate', { AutoScalingGroupName: 'other-fleet' })],
    ['another hook', () => lifecycleEvent('terminate', { LifecycleHookName: 'other-hook' })],
    ['the other transition', () => lifecycleEvent('launch')],
    ['a malformed instance id', () => lifecycleEvent('terminate', { EC2InstanceId: 'i-123; rm -rf /' })],
    ['a missing token', () => lifecycleEvent('terminate', { LifecycleActionToken: undefined })],
    ['a forged source', () => ({ ...lifecycleEvent('terminate'), source: 'custom.attacker' })],
    ['another document', () => statusEvent('Success', { 'document-name': 'AWS-RunShellScript' })],
    ['a non-terminal status', () => statusEvent('InProgress')],
    ['a malformed command id', () => statusEvent('Success', { 'command-id': 'x' })],
    ['a status event without an instance', () => statusEvent('Success', { 'instance-id': undefined })],
    ['an unknown detail-type', () => ({ 'source': 'aws.ec2', 'detail-type': 'EC2 Instance State-change Notification', 'detail': {} })],
    ['no detail', () => ({ 'detail-type': 'EC2 Instance-terminate Lifecycle Action' })],
    ['not an object', () => 'hello'],
    ['null', () => null],
  ];

  test.each(cases)('%s: one log line, no AWS call, no throw', async (_name, event) => {
    configure('terminate', 'CONTINUE');
    const before = db.operations.length;
    expect(await run(event())).toBe('ignored');
    expect(ssm.calls()).toHaveLength(0);
    expect(autoScaling.calls()).toHaveLength(0);
    expect(db.operations.length).toBe(before);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toContain('event ignored');
  });
});

describe('configuration', () => {
  test('a function missing its environment fails loudly', async () => {
    configure('terminate', 'CONTINUE');
    delete process.env.RUNTIME_ACTION_TABLE;
    await expect(handler(statusEvent('Success'))).rejects.toThrow('RUNTIME_ACTION_TABLE is not set');
  });
});

describe('metrics in the handler\'s output lines', () => {
  // The construct's metric methods, for a hook with the tests' group and hook names.
  const stack = new Stack(new App(), 'Stack', { env: { account: '123456789012', region: 'eu-west-1' } });
  const hook = new LifecycleCommandHook(stack, 'Drain', {
    autoScalingGroup: autoscaling.AutoScalingGroup.fromAutoScalingGroupName(stack, 'Fleet', GROUP),
    transition: autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
    commands: ['systemctl stop application'],
    timeout: Duration.minutes(5),
    lifecycleHookName: HOOK,
  });
  const hookDimensions = { AutoScalingGroupName: GROUP, LifecycleHookName: HOOK };
  const keyOf = (metric: cloudwatch.Metric): MetricKey => {
    const stat = metric.toMetricConfig().metricStat!;
    return {
      namespace: stat.namespace,
      metricName: stat.metricName,
      dimensions: Object.fromEntries((stat.dimensions ?? []).map((d) => [d.name, String(d.value)])),
    };
  };
  const sum = (metric: cloudwatch.Metric) => sumOf(samplesOf(out), keyOf(metric));
  const withDimension = (name: string, dimension: string, value: string) =>
    hook.metric(name, { dimensionsMap: { ...hookDimensions, [dimension]: value } });
  /** Every metric name the output carries, with its sum over all its dimension sets. */
  const names = () => [...new Set(samplesOf(out).map((s) => s.name))].sort();
  const EVENT_TIME = '2026-11-29T10:00:00Z';
  const timed = (transition: 'launch' | 'terminate', detail: Record<string, unknown> = {}) => ({ ...lifecycleEvent(transition, detail), time: EVENT_TIME });

  test('a command sent: CommandsSent 1 on one line of its own, nothing completed', async () => {
    configure('terminate', 'CONTINUE');
    expect(await run(timed('terminate'))).toBe('command-sent');
    expect(sum(hook.metricCommandsSent())).toBe(1);
    expect(names()).toEqual(['CommandsSent']);
    expect(JSON.parse(out[0])).toMatchObject({ message: 'command sent', level: 'INFO', instanceId: INSTANCE, commandId: COMMAND });
  });

  test('an agent that never registers: CommandsNotSent with reason AgentNotRegistered, then the abandoned action and its duration from the lifecycle event', async () => {
    configure('launch', 'ABANDON');
    ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [] });
    // The lifecycle event 60 s ago started the wait; its time travels in the wait's input.
    const eventTime = new Date(Date.now() - 60_000).toISOString();
    const outcome = await run(registrationCheckEvent({ Attempt: 13, Deadline: Date.now() - 1, EventTime: eventTime }));
    expect(outcome).toBe('completed');
    expect(sum(hook.metricCommandsNotSent())).toBe(1);
    expect(sum(withDimension('CommandsNotSent', 'Reason', 'AgentNotRegistered'))).toBe(1);
    expect(out.map((line) => JSON.parse(line))).toContainEqual(expect.objectContaining({ message: 'command not sent', step: 'DescribeInstanceInformation' }));
    expect(sum(hook.metricActionsAbandoned())).toBe(1);
    expect(sum(hook.metricActionsCompleted())).toBe(1);
    expect(sum(hook.metricActionsCompleted(autoscaling.DefaultResult.CONTINUE))).toBe(0);
    // 60 s since the lifecycle event, and the few real milliseconds of the test
    const duration = sumOf(samplesOf(out), keyOf(hook.metricActionDuration()));
    expect(duration).toBeGreaterThanOrEqual(60_000);
    expect(duration).toBeLessThan(65_000);
    expect(names()).toEqual(['ActionDuration', 'ActionsCompleted', 'CommandsNotSent']);
  });

  test('an agent that never registers, and the completion fails once: CommandsNotSent counted once, by the retry that completes', async () => {
    configure('launch', 'ABANDON');
    ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [] });
    autoScaling.on(CompleteLifecycleActionCommand).rejectsOnce(awsError('InternalFailure', 'try again', 500)).resolves({});
    const check = registrationCheckEvent({ Attempt: 13, Deadline: Date.now() - 1 });
    // The first attempt meets a failing completion; Lambda retries the event a minute later.
    await expect(run(check)).rejects.toThrow();
    mockClock.offset += 60_000;
    expect(await run(check)).toBe('completed');
    expect(sum(hook.metricCommandsNotSent())).toBe(1);
    expect(sum(hook.metricActionsAbandoned())).toBe(1);
  });

  test.each([
    ['InvalidInstanceId', 'InvalidInstanceId'],
    ['AccessDeniedException', 'AccessDenied'],
    ['InvalidDocument', 'InvalidDocument'],
    ['SomethingNew', 'Other'],
  ])('SendCommand refused with %s: CommandsNotSent with reason %s, at the step SendCommand', async (name, reason) => {
    configure('terminate', 'ABANDON');
    ssm.on(SendCommandCommand).rejects(awsError(name, `${name} from SSM`, 400));
    expect(await run(timed('terminate'))).toBe('completed');
    expect(sum(withDimension('CommandsNotSent', 'Reason', reason))).toBe(1);
    expect(sum(hook.metricCommandsNotSent())).toBe(1);
    expect(JSON.parse(out[0])).toMatchObject({ message: 'command not sent', step: 'SendCommand', error: name, level: 'ERROR' });
    expect(sum(hook.metricActionsAbandoned())).toBe(1);
    expect(sum(hook.metricCommandsSent())).toBe(0);
  });

  test.each([
    ['Success', 'CONTINUE', 0],
    ['Failed', 'ABANDON', 1],
    ['TimedOut', 'ABANDON', 1],
  ] as const)('a command that ends %s: the action completed with %s, CommandsFailed %i, CommandsEnded by status, the duration from the lifecycle event', async (status, result, failed) => {
    configure('launch', 'ABANDON');
    ssm.on(DescribeInstanceInformationCommand).resolves(online());
    const start = Date.now();
    expect(await run({ ...lifecycleEvent('launch'), time: new Date(start).toISOString() })).toBe('command-sent');
    mockClock.offset += 90_000;
    out.length = 0;
    expect(await run(statusEvent(status))).toBe('completed');
    expect(sum(withDimension('CommandsEnded', 'Status', status))).toBe(1);
    expect(sum(hook.metricCommandsFailed())).toBe(failed);
    expect(sum(hook.metricActionsCompleted(autoscaling.DefaultResult[result]))).toBe(1);
    expect(sum(hook.metricCommandsSent())).toBe(0);
    const duration = sumOf(samplesOf(out), keyOf(hook.metricActionDuration()));
    expect(duration).toBeGreaterThanOrEqual(90_000);
    expect(duration).toBeLessThan(95_000);
  });

  test('the record keeps the action\'s start once, as StartedAt (epoch ms), and the duration is measured from it', async () => {
    configure('terminate', 'CONTINUE');
    const start = Date.now();
    expect(await run({ ...lifecycleEvent('terminate'), time: new Date(start).toISOString() })).toBe('command-sent');
    const record = await recordOf();
    expect(record).toMatchObject({ StartedAt: String(start) });
    expect(record).not.toHaveProperty('EventTime');
    mockClock.offset += 30_000;
    out.length = 0;
    expect(await run(statusEvent('Success'))).toBe('completed');
    const duration = sumOf(samplesOf(out), keyOf(hook.metricActionDuration()));
    expect(duration).toBeGreaterThanOrEqual(30_000);
    expect(duration).toBeLessThanOrEqual(Date.now() - start);
  });

  test.each([
    ['with both EventTime and StartedAt', true],
    ['with EventTime only', false],
  ])('a record an earlier version wrote (%s) still gives its action\'s duration after an upgrade', async (_how, withStartedAt) => {
    configure('terminate', 'CONTINUE');
    const start = Date.now() - 45_000;
    await db.client.send(new PutItemCommand({
      TableName: TABLE,
      Item: {
        HookInstance: { S: `${DOCUMENT}|${INSTANCE}` },
        LifecycleActionToken: { S: TOKEN },
        State: { S: 'sent' },
        ClaimId: { S: 'earlier-version' },
        SendBy: { N: String(start + 20_000) },
        LeaseUntil: { N: String(start + 50_000) },
        CommandId: { S: COMMAND },
        Transition: { S: 'autoscaling:EC2_INSTANCE_TERMINATING' },
        EventTime: { S: new Date(start).toISOString() },
        ...(withStartedAt ? { StartedAt: { N: String(start) } } : {}),
      },
    }));
    expect(await run(statusEvent('Success'))).toBe('completed');
    expect(autoScaling).toHaveReceivedCommandWith(CompleteLifecycleActionCommand, { LifecycleActionToken: TOKEN, LifecycleActionResult: 'CONTINUE' });
    const duration = sumOf(samplesOf(out), keyOf(hook.metricActionDuration()));
    expect(duration).toBeGreaterThanOrEqual(45_000);
    expect(duration).toBeLessThanOrEqual(Date.now() - start);
  });

  test('a duplicate status event counts neither the command\'s end nor the action again', async () => {
    configure('terminate', 'CONTINUE');
    await seedRecord(TOKEN, { leaseFromNowMs: 50_000, commandId: COMMAND });
    autoScaling.on(CompleteLifecycleActionCommand).resolvesOnce({}).rejects(noActiveAction());
    expect(await run(statusEvent('Failed'))).toBe('completed');
    expect(await run(statusEvent('Failed'))).toBe('already-completed');
    expect(sum(withDimension('CommandsEnded', 'Status', 'Failed'))).toBe(1);
    expect(sum(hook.metricCommandsFailed())).toBe(1);
    expect(sum(hook.metricActionsCompleted())).toBe(1);
    expect(await recordOf()).toMatchObject({ CommandStatus: 'Failed' });
  });

  test('a status event whose first completion attempt failed counts the command\'s end once, on its first attempt', async () => {
    configure('terminate', 'CONTINUE');
    await seedRecord(TOKEN, { leaseFromNowMs: 50_000, commandId: COMMAND });
    autoScaling.on(CompleteLifecycleActionCommand).rejectsOnce(awsError('ResourceContention', 'busy', 500)).resolves({});
    await expect(run(statusEvent('Success'))).rejects.toThrow('busy');
    expect(await run(statusEvent('Success'))).toBe('completed');
    expect(sum(withDimension('CommandsEnded', 'Status', 'Success'))).toBe(1);
    expect(sum(hook.metricActionsCompleted(autoscaling.DefaultResult.CONTINUE))).toBe(1);
  });

  test('a command its sender never recorded is counted as sent by the status event that finds it, once', async () => {
    configure('terminate', 'CONTINUE');
    await seedRecord(TOKEN, { leaseFromNowMs: 50_000 });
    ssm.on(ListCommandsCommand).resolves(listed(TOKEN));
    expect(await run(statusEvent('Success'))).toBe('completed');
    expect(sum(hook.metricCommandsSent())).toBe(1);
    expect(sum(withDimension('CommandsEnded', 'Status', 'Success'))).toBe(1);
    expect(await recordOf()).toMatchObject({ State: 'sent', CommandId: COMMAND });
    // A retry of the lifecycle event then finds the command recorded: nothing sent, nothing counted.
    out.length = 0;
    expect(await run(lifecycleEvent('terminate'))).toBe('command-already-sent');
    expect(out).toEqual([]);
  });

  test('a command of an earlier attempt, found by the invocation that takes the claim over, is counted as sent', async () => {
    configure('terminate', 'CONTINUE');
    await seedRecord(TOKEN, { leaseFromNowMs: -1 });
    ssm.on(ListCommandsCommand).resolves(listed(TOKEN));
    expect(await run(lifecycleEvent('terminate'))).toBe('command-already-sent');
    expect(sum(hook.metricCommandsSent())).toBe(1);
  });

  test('a lost SendCommand answer whose command ends before its sender finds it: counted once, by the status event that recorded it first', async () => {
    configure('terminate', 'CONTINUE');
    ssm.on(SendCommandCommand).rejects(awsError('InternalServerError', 'internal error', 500));
    // The command ran and its status event was handled while the sender still looked for it.
    let statusHandled: Promise<unknown> | undefined;
    ssm.on(ListCommandsCommand).callsFake(async (input: { CommandId?: string }) => {
      if (input.CommandId) return listed(TOKEN);
      statusHandled ??= run(statusEvent('Success'));
      await statusHandled;
      return listed(TOKEN);
    });
    expect(await run(lifecycleEvent('terminate'))).toBe('command-sent');
    expect(await statusHandled).toBe('completed');
    expect(ssm).toHaveReceivedCommandTimes(SendCommandCommand, 1);
    expect(sum(hook.metricCommandsSent())).toBe(1);
  });

  test('a command recorded by the holder while a take-over finds it: counted once', async () => {
    configure('terminate', 'CONTINUE');
    await seedRecord(TOKEN, { leaseFromNowMs: -1 });
    // The holder, late, records its command while the invocation that took the claim over looks for it.
    const action = { kind: 'lifecycle-action', instanceId: INSTANCE, token: TOKEN, transition: 'autoscaling:EC2_INSTANCE_TERMINATING' } as const;
    ssm.on(ListCommandsCommand).callsFake(async () => {
      await records.recordCommand(HOOK_TABLE, action, COMMAND);
      return listed(TOKEN);
    });
    expect(await run(lifecycleEvent('terminate'))).toBe('command-already-sent');
    // The holder counts the command it recorded: the take-over, finding it recorded, does not count it again.
    expect(sum(hook.metricCommandsSent())).toBe(0);
  });

  test('a launch into the warm pool, a stage not chosen: completed at once with CONTINUE, no command, no claim, no duration sample', async () => {
    configure('launch', 'ABANDON', 'leave-warm-pool');
    const before = db.operations.length;
    expect(await run(timed('launch', { Origin: 'EC2', Destination: 'WarmPool' }))).toBe('completed');
    expect(ssm.calls()).toHaveLength(0);
    expect(db.operations.length).toBe(before);
    expect(autoScaling).toHaveReceivedCommandTimes(CompleteLifecycleActionCommand, 1);
    expect(autoScaling).toHaveReceivedCommandWith(CompleteLifecycleActionCommand, { LifecycleActionToken: TOKEN, LifecycleActionResult: 'CONTINUE' });
    expect(names()).toEqual(['ActionsCompleted']);
    expect(sum(hook.metricActionsCompleted(autoscaling.DefaultResult.CONTINUE))).toBe(1);
    expect(JSON.parse(out[0])).toMatchObject({ reason: 'stage enter-warm-pool is not one the hook runs its commands at' });
  });

  test('leaving the warm pool, the stage chosen: the command is sent', async () => {
    configure('launch', 'ABANDON', 'leave-warm-pool');
    ssm.on(DescribeInstanceInformationCommand).resolves(online());
    expect(await run(timed('launch', { Origin: 'WarmPool', Destination: 'AutoScalingGroup' }))).toBe('command-sent');
    expect(sum(hook.metricCommandsSent())).toBe(1);
  });

  test('a terminate hook that runs only on termination: returning to the warm pool gets CONTINUE at once', async () => {
    configure('terminate', 'ABANDON', LifecycleStage.TERMINATE);
    expect(await run(timed('terminate', { Origin: 'AutoScalingGroup', Destination: 'WarmPool' }))).toBe('completed');
    expect(ssm.calls()).toHaveLength(0);
    expect(autoScaling).toHaveReceivedCommandWith(CompleteLifecycleActionCommand, { LifecycleActionResult: 'CONTINUE' });
  });

  test('an event whose Origin and Destination name no known stage runs the commands, with a warning', async () => {
    configure('launch', 'ABANDON', 'leave-warm-pool');
    ssm.on(DescribeInstanceInformationCommand).resolves(online());
    expect(await run(timed('launch', { Origin: 'Elsewhere', Destination: 'Nowhere' }))).toBe('command-sent');
    expect(logs.filter((l) => l.includes('lifecycle event of an unknown stage'))).toHaveLength(1);
  });

  test('a hook whose settings name a stage of the other transition fails loudly', async () => {
    configure('terminate', 'CONTINUE', 'enter-warm-pool');
    await expect(run(timed('terminate'))).rejects.toThrow('stages names "enter-warm-pool"');
    expect(autoScaling.calls()).toHaveLength(0);
  });

  test('outcomes that count nothing write no metric: an ignored event, an action already ended, an action already complete', async () => {
    configure('terminate', 'CONTINUE');
    expect(await run(lifecycleEvent('terminate', { AutoScalingGroupName: 'other-fleet' }))).toBe('ignored');
    autoScaling.on(RecordLifecycleActionHeartbeatCommand).rejects(noActiveAction());
    expect(await run(lifecycleEvent('terminate'))).toBe('action-ended');
    expect(out).toEqual([]);
    await seedRecord(randomUUID(), { leaseFromNowMs: 50_000, commandId: OTHER_COMMAND });
    autoScaling.on(CompleteLifecycleActionCommand).rejects(noActiveAction());
    expect(await run(statusEvent('Success', { 'command-id': OTHER_COMMAND }))).toBe('already-completed');
    // The command's end is still counted; the completion is not.
    expect(names()).toEqual(['CommandsEnded']);
  });

  test('every line carries the request id, a level and a timestamp, and neither the token nor the notification metadata', async () => {
    configure('terminate', 'CONTINUE');
    const ctx = context();
    await handler(timed('terminate'), ctx);
    await handler(statusEvent('Success'), ctx);
    expect(out).toHaveLength(3);
    for (const line of out) {
      expect(JSON.parse(line)).toMatchObject({ requestId: ctx.awsRequestId, level: expect.stringMatching(/^(INFO|WARN|ERROR)$/), timestamp: expect.any(String) });
    }
    expect(out.join('\n')).not.toContain(TOKEN);
    expect(out.join('\n')).not.toContain('hunter2');
  });
});
