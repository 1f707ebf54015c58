import { AutoScalingClient, CompleteLifecycleActionCommand } from '@aws-sdk/client-auto-scaling';
import {
  DescribeInstanceInformationCommand,
  ListCommandsCommand,
  SendCommandCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { handler } from '../src/handler/lifecycle-command.lambda';

const autoScaling = mockClient(AutoScalingClient);
const ssm = mockClient(SSMClient);

const GROUP = 'web-fleet';
const HOOK = 'drain';
const DOCUMENT = 'Stack-DrainDocument-ABC123';
const INSTANCE = 'i-0123456789abcdef0';
const TOKEN = '5b0a4b6e-6f6b-4e1c-9d2a-0a1b2c3d4e5f';
const COMMAND = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';

function configure(transition: 'launch' | 'terminate', failureResult: 'CONTINUE' | 'ABANDON') {
  Object.assign(process.env, {
    HOOK_GROUP_NAME: GROUP,
    HOOK_NAME: HOOK,
    HOOK_DOCUMENT_NAME: DOCUMENT,
    HOOK_TRANSITION: transition,
    HOOK_FAILURE_RESULT: failureResult,
    HOOK_OUTPUT_LOG_GROUP: 'hook-output',
    HOOK_REGISTRATION_TIMEOUT_SECONDS: '60',
    HOOK_DELIVERY_TIMEOUT_SECONDS: '60',
    HOOK_EXECUTION_TIMEOUT_SECONDS: '300',
  });
}

function lifecycleEvent(transition: 'launch' | 'terminate', detail: Record<string, unknown> = {}) {
  return {
    'version': '0',
    'id': 'e1',
    'source': 'aws.autoscaling',
    'detail-type': transition === 'launch' ? 'EC2 Instance-launch Lifecycle Action' : 'EC2 Instance-terminate Lifecycle Action',
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

const online = { InstanceInformationList: [{ InstanceId: INSTANCE, PingStatus: 'Online' as const }] };

let logs: string[];

beforeEach(() => {
  autoScaling.reset();
  ssm.reset();
  ssm.on(ListCommandsCommand).resolves({ Commands: [] });
  ssm.on(SendCommandCommand).resolves({ Command: { CommandId: COMMAND } });
  autoScaling.on(CompleteLifecycleActionCommand).resolves({});
  logs = [];
  for (const level of ['log', 'info', 'warn', 'error'] as const) {
    jest.spyOn(console, level).mockImplementation((...args: unknown[]) => { logs.push(JSON.stringify(args)); });
  }
});

afterEach(() => {
  jest.useRealTimers();
  jest.restoreAllMocks();
});

/** Runs the handler with fake timers so registration backoff takes no real time. */
async function run(event: unknown) {
  jest.useFakeTimers();
  const settled = handler(event, { getRemainingTimeInMillis: () => 300_000 })
    .then((value) => ({ value, error: undefined }), (error: unknown) => ({ value: undefined, error }));
  await jest.runAllTimersAsync();
  const { value, error } = await settled;
  if (error) throw error;
  return value;
}

describe('lifecycle event', () => {
  test('terminate: sends the hook\'s document to the instance with the action token and output log group', async () => {
    // GIVEN a terminate hook
    configure('terminate', 'CONTINUE');
    // WHEN its lifecycle event arrives
    const outcome = await run(lifecycleEvent('terminate'));
    // THEN one command goes out, no registration check, nothing completed yet
    expect(outcome).toBe('command-sent');
    expect(ssm).toHaveReceivedCommandTimes(SendCommandCommand, 1);
    expect(ssm).toHaveReceivedCommandWith(SendCommandCommand, {
      DocumentName: DOCUMENT,
      DocumentVersion: '$LATEST',
      InstanceIds: [INSTANCE],
      Comment: `lifecycle-action ${TOKEN}`,
      TimeoutSeconds: 60,
      Parameters: { executionTimeout: ['300'] },
      CloudWatchOutputConfig: { CloudWatchOutputEnabled: true, CloudWatchLogGroupName: 'hook-output' },
    });
    expect(ssm).toHaveReceivedCommandWith(ListCommandsCommand, {
      InstanceId: INSTANCE,
      Filters: [{ key: 'DocumentName', value: DOCUMENT }],
    });
    expect(ssm).not.toHaveReceivedCommand(DescribeInstanceInformationCommand);
    expect(autoScaling).not.toHaveReceivedCommand(CompleteLifecycleActionCommand);
  });

  test('launch: waits for an instance already online only one check', async () => {
    configure('launch', 'ABANDON');
    ssm.on(DescribeInstanceInformationCommand).resolves(online);
    expect(await run(lifecycleEvent('launch'))).toBe('command-sent');
    expect(ssm).toHaveReceivedCommandTimes(DescribeInstanceInformationCommand, 1);
    expect(ssm).toHaveReceivedCommandWith(DescribeInstanceInformationCommand, {
      Filters: [{ Key: 'InstanceIds', Values: [INSTANCE] }],
    });
    expect(ssm).toHaveReceivedCommandTimes(SendCommandCommand, 1);
  });

  test('launch: an agent that registers late gets the command once it is online', async () => {
    // GIVEN an instance whose agent is unknown, then connecting, then online
    configure('launch', 'ABANDON');
    ssm.on(DescribeInstanceInformationCommand)
      .resolvesOnce({ InstanceInformationList: [] })
      .resolvesOnce({ InstanceInformationList: [{ InstanceId: INSTANCE, PingStatus: 'ConnectionLost' }] })
      .resolves(online);
    // WHEN the launch event arrives
    const outcome = await run(lifecycleEvent('launch'));
    // THEN the handler checked three times and sent the command after the third
    expect(outcome).toBe('command-sent');
    expect(ssm).toHaveReceivedCommandTimes(DescribeInstanceInformationCommand, 3);
    expect(ssm).toHaveReceivedCommandTimes(SendCommandCommand, 1);
    expect(autoScaling).not.toHaveReceivedCommand(CompleteLifecycleActionCommand);
  });

  test('launch: an agent that never registers completes the action with the failure result', async () => {
    configure('launch', 'ABANDON');
    ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [] });
    const outcome = await run(lifecycleEvent('launch'));
    expect(outcome).toBe('completed');
    expect(ssm).not.toHaveReceivedCommand(SendCommandCommand);
    expect(autoScaling).toHaveReceivedCommandTimes(CompleteLifecycleActionCommand, 1);
    // by the action's token, so that only this action can be ended
    expect(autoScaling).toHaveReceivedCommandWith(CompleteLifecycleActionCommand, {
      AutoScalingGroupName: GROUP,
      LifecycleHookName: HOOK,
      LifecycleActionToken: TOKEN,
      LifecycleActionResult: 'ABANDON',
    });
    expect(autoScaling.commandCalls(CompleteLifecycleActionCommand)[0].args[0].input.InstanceId).toBeUndefined();
    // 60 s of backoff: checks at 0, 2, 6, 14, 30 and 50 s, and a last one at the deadline
    expect(ssm).toHaveReceivedCommandTimes(DescribeInstanceInformationCommand, 7);
    expect(logs.join('\n')).toMatch(/SSM agent did not register in time/);
  });

  test('launch: an agent that comes online just before the deadline still gets the command', async () => {
    configure('launch', 'ABANDON');
    const notYet = { InstanceInformationList: [] };
    ssm.on(DescribeInstanceInformationCommand)
      .resolvesOnce(notYet).resolvesOnce(notYet).resolvesOnce(notYet)
      .resolvesOnce(notYet).resolvesOnce(notYet).resolvesOnce(notYet)
      .resolves(online);
    // the seventh check, at the 60 s deadline, finds it online
    expect(await run(lifecycleEvent('launch'))).toBe('command-sent');
    expect(ssm).toHaveReceivedCommandTimes(DescribeInstanceInformationCommand, 7);
    expect(autoScaling).not.toHaveReceivedCommand(CompleteLifecycleActionCommand);
  });

  test('launch: the registration wait stops before the function\'s own timeout', async () => {
    configure('launch', 'ABANDON');
    ssm.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: [] });
    jest.useFakeTimers();
    const result = handler(lifecycleEvent('launch'), { getRemainingTimeInMillis: () => 15_000 });
    await jest.runAllTimersAsync();
    expect(await result).toBe('completed');
    // 5 s left after the completion reserve: checks at 0, 2 and 5 s
    expect(ssm).toHaveReceivedCommandTimes(DescribeInstanceInformationCommand, 3);
  });

  test('a repeated event for an action that already has its command sends nothing', async () => {
    configure('terminate', 'CONTINUE');
    ssm.on(ListCommandsCommand).resolves({
      Commands: [
        { CommandId: 'other', Comment: 'lifecycle-action 00000000-0000-0000-0000-000000000000' },
        { CommandId: COMMAND, Comment: `lifecycle-action ${TOKEN}` },
      ],
    });
    expect(await run(lifecycleEvent('terminate'))).toBe('command-already-sent');
    expect(ssm).not.toHaveReceivedCommand(SendCommandCommand);
    expect(autoScaling).not.toHaveReceivedCommand(CompleteLifecycleActionCommand);
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

  test('a refused ListCommands completes the action at once with the failure result', async () => {
    configure('terminate', 'CONTINUE');
    ssm.on(ListCommandsCommand).rejects(awsError('AccessDeniedException', 'not authorized', 400));
    expect(await run(lifecycleEvent('terminate'))).toBe('completed');
    expect(ssm).not.toHaveReceivedCommand(SendCommandCommand);
    expect(autoScaling).toHaveReceivedCommandWith(CompleteLifecycleActionCommand, {
      LifecycleActionToken: TOKEN,
      LifecycleActionResult: 'CONTINUE',
    });
  });

  test('throttling of the registration check that outlasts the SDK\'s retries is rethrown', async () => {
    configure('launch', 'ABANDON');
    ssm.on(DescribeInstanceInformationCommand).rejects(awsError('ThrottlingException', 'Rate exceeded', 400));
    await expect(run(lifecycleEvent('launch'))).rejects.toThrow('Rate exceeded');
    expect(autoScaling).not.toHaveReceivedCommand(CompleteLifecycleActionCommand);
  });

  test('throttling that outlasts the retries is rethrown so Lambda retries the event', async () => {
    configure('terminate', 'CONTINUE');
    ssm.on(SendCommandCommand).rejects(awsError('ThrottlingException', 'Rate exceeded', 400));
    await expect(run(lifecycleEvent('terminate'))).rejects.toThrow('Rate exceeded');
    expect(ssm).toHaveReceivedCommandTimes(SendCommandCommand, 3);
    expect(autoScaling).not.toHaveReceivedCommand(CompleteLifecycleActionCommand);
  });

  test('a SendCommand whose answer was lost is not sent again once ListCommands shows the command', async () => {
    // GIVEN SSM creates the command but the answer is a 500
    configure('terminate', 'CONTINUE');
    ssm.on(SendCommandCommand).rejectsOnce(awsError('InternalServerError', 'internal error', 500));
    ssm.on(ListCommandsCommand)
      .resolvesOnce({ Commands: [] })
      .resolves({ Commands: [{ CommandId: COMMAND, Comment: `lifecycle-action ${TOKEN}` }] });
    // WHEN the lifecycle event arrives
    const outcome = await run(lifecycleEvent('terminate'));
    // THEN the handler looked before repeating, found the command and sent nothing more
    expect(outcome).toBe('command-sent');
    expect(ssm).toHaveReceivedCommandTimes(SendCommandCommand, 1);
    expect(ssm).toHaveReceivedCommandTimes(ListCommandsCommand, 2);
    expect(autoScaling).not.toHaveReceivedCommand(CompleteLifecycleActionCommand);
  });

  test('a SendCommand that failed with a 500 and created nothing is sent again', async () => {
    configure('terminate', 'CONTINUE');
    ssm.on(SendCommandCommand)
      .rejectsOnce(awsError('InternalServerError', 'internal error', 500))
      .resolves({ Command: { CommandId: COMMAND } });
    expect(await run(lifecycleEvent('terminate'))).toBe('command-sent');
    expect(ssm).toHaveReceivedCommandTimes(SendCommandCommand, 2);
    expect(ssm).toHaveReceivedCommandTimes(ListCommandsCommand, 2);
  });

  test('a throttled SendCommand is repeated without looking for the command: it was refused', async () => {
    configure('terminate', 'CONTINUE');
    ssm.on(SendCommandCommand)
      .rejectsOnce(awsError('ThrottlingException', 'Rate exceeded', 400))
      .resolves({ Command: { CommandId: COMMAND } });
    expect(await run(lifecycleEvent('terminate'))).toBe('command-sent');
    expect(ssm).toHaveReceivedCommandTimes(SendCommandCommand, 2);
    expect(ssm).toHaveReceivedCommandTimes(ListCommandsCommand, 1);
  });

  test('a network error on SendCommand (a DNS failure) is retried, not taken as a refusal', async () => {
    // GIVEN a lookup failure, which the SDK does not rename and does not retry for this client
    configure('launch', 'ABANDON');
    ssm.on(DescribeInstanceInformationCommand).resolves(online);
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

  test('notification metadata never reaches the logs', async () => {
    configure('terminate', 'CONTINUE');
    await run(lifecycleEvent('terminate'));
    await run(lifecycleEvent('terminate', { AutoScalingGroupName: 'other' }));
    expect(logs.length).toBeGreaterThan(0);
    expect(logs.join('\n')).not.toContain('hunter2');
  });
});

describe('command invocation status event', () => {
  test('Success completes the action with CONTINUE', async () => {
    configure('launch', 'ABANDON');
    expect(await run(statusEvent('Success'))).toBe('completed');
    expect(autoScaling).toHaveReceivedCommandTimes(CompleteLifecycleActionCommand, 1);
    expect(autoScaling).toHaveReceivedCommandWith(CompleteLifecycleActionCommand, {
      AutoScalingGroupName: GROUP,
      LifecycleHookName: HOOK,
      InstanceId: INSTANCE,
      LifecycleActionResult: 'CONTINUE',
    });
    expect(ssm.calls()).toHaveLength(0);
  });

  test.each(['Failed', 'TimedOut', 'Cancelled', 'Undeliverable', 'Terminated'])('%s completes the action with the failure result', async (status) => {
    configure('launch', 'ABANDON');
    expect(await run(statusEvent(status))).toBe('completed');
    expect(autoScaling).toHaveReceivedCommandWith(CompleteLifecycleActionCommand, {
      InstanceId: INSTANCE,
      LifecycleActionResult: 'ABANDON',
    });
  });

  test('an action already complete ("No active Lifecycle Action found") is logged and succeeds', async () => {
    configure('terminate', 'CONTINUE');
    autoScaling.on(CompleteLifecycleActionCommand).rejects(
      awsError('ValidationError', `No active Lifecycle Action found with instance ID ${INSTANCE}`, 400),
    );
    expect(await run(statusEvent('Success'))).toBe('already-completed');
    expect(logs.join('\n')).toContain('lifecycle action was already complete');
  });

  test('a duplicate status event completes once and the second is a no-op', async () => {
    configure('terminate', 'CONTINUE');
    autoScaling.on(CompleteLifecycleActionCommand)
      .resolvesOnce({})
      .rejects(awsError('ValidationError', `No active Lifecycle Action found with instance ID ${INSTANCE}`, 400));
    expect(await run(statusEvent('Success'))).toBe('completed');
    expect(await run(statusEvent('Success'))).toBe('already-completed');
  });

  test('another refusal is logged and not retried', async () => {
    configure('terminate', 'CONTINUE');
    autoScaling.on(CompleteLifecycleActionCommand).rejects(awsError('ValidationError', 'LifecycleHook not found', 400));
    expect(await run(statusEvent('Failed'))).toBe('complete-refused');
    expect(logs.join('\n')).toContain('CompleteLifecycleAction refused');
  });

  test('ResourceContention that outlasts the SDK\'s retries is rethrown', async () => {
    configure('terminate', 'CONTINUE');
    autoScaling.on(CompleteLifecycleActionCommand).rejects(awsError('ResourceContention', 'busy', 500));
    await expect(run(statusEvent('Success'))).rejects.toThrow('busy');
  });
});

describe('events that are not for this hook', () => {
  const cases: Array<[string, unknown]> = [
    ['another group', lifecycleEvent('terminate', { AutoScalingGroupName: 'other-fleet' })],
    ['another hook', lifecycleEvent('terminate', { LifecycleHookName: 'other-hook' })],
    ['the other transition', lifecycleEvent('launch')],
    ['a malformed instance id', lifecycleEvent('terminate', { EC2InstanceId: 'i-123; rm -rf /' })],
    ['a missing token', lifecycleEvent('terminate', { LifecycleActionToken: undefined })],
    ['a forged source', { ...lifecycleEvent('terminate'), source: 'custom.attacker' }],
    ['another document', statusEvent('Success', { 'document-name': 'AWS-RunShellScript' })],
    ['a non-terminal status', statusEvent('InProgress')],
    ['a malformed command id', statusEvent('Success', { 'command-id': 'x' })],
    ['a status event without an instance', statusEvent('Success', { 'instance-id': undefined })],
    ['an unknown detail-type', { 'source': 'aws.ec2', 'detail-type': 'EC2 Instance State-change Notification', 'detail': {} }],
    ['no detail', { 'detail-type': 'EC2 Instance-terminate Lifecycle Action' }],
    ['not an object', 'hello'],
    ['null', null],
  ];

  test.each(cases)('%s: one log line, no AWS call, no throw', async (_name, event) => {
    configure('terminate', 'CONTINUE');
    expect(await run(event)).toBe('ignored');
    expect(ssm.calls()).toHaveLength(0);
    expect(autoScaling.calls()).toHaveLength(0);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toContain('event ignored');
  });
});

describe('configuration', () => {
  test('a function missing its environment fails loudly', async () => {
    configure('terminate', 'CONTINUE');
    delete process.env.HOOK_DOCUMENT_NAME;
    await expect(handler(statusEvent('Success'))).rejects.toThrow('HOOK_DOCUMENT_NAME is not set');
  });
});
