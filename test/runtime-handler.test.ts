import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { GetParameterCommand, GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { hookClients } from '../src/handler/hook-clients';
import type { HookSettings, RuntimeSettings } from '../src/handler/hook-config';
import { allHookSettings, parseHookSettings, settingsOfDocument } from '../src/handler/hook-config';
import { passAllHooks } from '../src/handler/pass';
import { routeEvent } from '../src/handler/routing';

const ssm = mockClient(SSMClient);
const autoScaling = mockClient(AutoScalingClient);
const sts = mockClient(STSClient);

const PREFIX = 'lch-0123456789';
const RUNTIME: RuntimeSettings = {
  actionTableName: 'table',
  passPeriodSeconds: 360,
  hookParameterPath: `/cdk-lifecycle-command-hook/${PREFIX}/`,
  namePrefix: PREFIX,
};

function settings(n: number, change: Partial<HookSettings> = {}): HookSettings {
  return {
    groupName: `group-${n}`,
    hookName: `hook-${n}`,
    documentName: `${PREFIX}-Stack-Hook${n}-ABCDEF`,
    transition: 'terminate',
    failureResult: 'CONTINUE',
    outputLogGroupName: `/output/${n}`,
    registrationTimeoutSeconds: 0,
    deliveryTimeoutSeconds: 60,
    executionTimeoutSeconds: 300,
    heartbeatTimeoutSeconds: 900,
    roleArn: `arn:aws:iam::123456789012:role/cdk-lifecycle-command-hook/${PREFIX}/StandIn-Hook${n}Role`,
    ...change,
  };
}

function parametersOf(all: HookSettings[]) {
  return all.map((s) => ({ Name: `${RUNTIME.hookParameterPath}${s.documentName}`, Value: JSON.stringify(s) }));
}

beforeEach(() => {
  ssm.reset();
  autoScaling.reset();
  sts.reset();
  jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  jest.spyOn(console, 'error').mockImplementation(() => undefined);
  jest.spyOn(console, 'info').mockImplementation(() => undefined);
});

afterEach(() => jest.restoreAllMocks());

describe('which hook an event is for', () => {
  test('a lifecycle event wrapped by its hook\'s rule carries the hook\'s settings', async () => {
    const event = { 'detail-type': 'EC2 Instance-terminate Lifecycle Action', 'detail': {} };
    const route = await routeEvent({ hook: settings(1), event }, RUNTIME);
    expect(route).toMatchObject({ kind: 'hook', event, config: { groupName: 'group-1', actionTable: { name: 'table', hook: settings(1).documentName } } });
    expect(ssm.calls()).toHaveLength(0);
  });

  test('a wrapper with malformed settings is ignored', async () => {
    expect(await routeEvent({ hook: { ...settings(1), transition: 'sideways' }, event: {} }, RUNTIME)).toEqual({
      kind: 'ignored', reason: 'hook settings: transition must be launch or terminate',
    });
  });

  test('a status event finds its hook by its document, in the hook\'s parameter', async () => {
    const s = settings(7);
    ssm.on(GetParameterCommand, { Name: `${RUNTIME.hookParameterPath}${s.documentName}` }).resolves({ Parameter: parametersOf([s])[0] });
    const event = { 'source': 'aws.ssm', 'detail-type': 'EC2 Command Invocation Status-change Notification', 'detail': { 'document-name': s.documentName } };
    expect(await routeEvent(event, RUNTIME)).toMatchObject({ kind: 'hook', config: { hookName: 'hook-7' } });
  });

  test('a status event of a document without the runtime\'s prefix costs no read', async () => {
    const event = { 'source': 'aws.ssm', 'detail-type': 'EC2 Command Invocation Status-change Notification', 'detail': { 'document-name': 'AWS-RunShellScript' } };
    expect(await routeEvent(event, RUNTIME)).toMatchObject({ kind: 'ignored' });
    expect(ssm.calls()).toHaveLength(0);
  });

  test('a status event of a prefixed document that no hook has (removed) is ignored', async () => {
    ssm.on(GetParameterCommand).rejects(Object.assign(new Error('not found'), { name: 'ParameterNotFound' }));
    const event = { 'source': 'aws.ssm', 'detail-type': 'EC2 Command Invocation Status-change Notification', 'detail': { 'document-name': `${PREFIX}-Gone-123` } };
    expect(await routeEvent(event, RUNTIME)).toMatchObject({ kind: 'ignored' });
  });

  test('the runtime\'s schedule is a pass over every hook', async () => {
    expect(await routeEvent({ 'source': 'aws.events', 'detail-type': 'Scheduled Event', 'detail': {} }, RUNTIME)).toEqual({ kind: 'pass' });
  });
});

describe('the hooks\' settings', () => {
  test('every valid group and log group name is accepted', () => {
    expect(parseHookSettings(settings(1, { groupName: 'web fleet (blue) #2', outputLogGroupName: `/aws/ssm/${'x'.repeat(400)}#out` }))).toMatchObject({ groupName: 'web fleet (blue) #2' });
  });

  test('the pass reads every hook\'s parameter, page by page', async () => {
    const all = Array.from({ length: 23 }, (_, n) => settings(n));
    const params = parametersOf(all);
    ssm.on(GetParametersByPathCommand).callsFake((input: { NextToken?: string }) => {
      const start = Number(input.NextToken ?? 0);
      return { Parameters: params.slice(start, start + 10), ...(start + 10 < params.length ? { NextToken: String(start + 10) } : {}) };
    });
    expect((await allHookSettings(RUNTIME)).map((s) => s.hookName)).toEqual(all.map((s) => s.hookName));
    expect(ssm).toHaveReceivedCommandTimes(GetParametersByPathCommand, 3);
  });

  test('settings read once are kept: the next status event of the hook needs no read', async () => {
    const s = settings(9, { documentName: `${PREFIX}-Kept-1` });
    ssm.on(GetParameterCommand).resolves({ Parameter: parametersOf([s])[0] });
    await settingsOfDocument(RUNTIME, s.documentName);
    await settingsOfDocument(RUNTIME, s.documentName);
    expect(ssm).toHaveReceivedCommandTimes(GetParameterCommand, 1);
  });
});

describe('one pass over every hook', () => {
  test('one DescribeAutoScalingGroups for up to 50 groups: an idle pass of 60 hooks makes 2, whatever the hooks', async () => {
    const all = Array.from({ length: 60 }, (_, n) => settings(n));
    ssm.on(GetParametersByPathCommand).resolves({ Parameters: parametersOf(all) });
    autoScaling.on(DescribeAutoScalingGroupsCommand).callsFake((input: { AutoScalingGroupNames: string[] }) => ({
      AutoScalingGroups: input.AutoScalingGroupNames.map((name) => ({ AutoScalingGroupName: name, Instances: [] })),
    }));
    expect(await passAllHooks(RUNTIME, () => 60_000)).toBe(60);
    const calls = autoScaling.commandCalls(DescribeAutoScalingGroupsCommand).map((c) => c.args[0].input.AutoScalingGroupNames!.length);
    expect(calls).toEqual([50, 10]);
  });

  test('a hook whose group is gone is logged and costs the others nothing', async () => {
    const all = [settings(1), settings(2)];
    ssm.on(GetParametersByPathCommand).resolves({ Parameters: parametersOf(all) });
    autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [{ AutoScalingGroupName: 'group-2', Instances: [] } as any] });
    expect(await passAllHooks(RUNTIME, () => 60_000)).toBe(2);
    expect(console.error).toHaveBeenCalledWith(expect.objectContaining({ groupName: 'group-1' }));
  });
});

describe('the hook\'s role', () => {
  test('a hook\'s completions go through its own role, assumed once per environment', async () => {
    const s = settings(3, { roleArn: 'arn:aws:iam::123456789012:role/cdk-lifecycle-command-hook/lch-0123456789/Only-3' });
    sts.on(AssumeRoleCommand).resolves({
      Credentials: { AccessKeyId: 'ASIAHOOK3', SecretAccessKey: 'secret', SessionToken: 'token', Expiration: new Date(Date.now() + 3_600_000) },
    });
    const clients = hookClients(s);
    // The clients sign with the role's credentials, for Auto Scaling and for SendCommand alike.
    expect(await clients.autoScaling.config.credentials()).toMatchObject({ accessKeyId: 'ASIAHOOK3', sessionToken: 'token' });
    expect(await hookClients(s).ssmSendOnce.config.credentials()).toMatchObject({ accessKeyId: 'ASIAHOOK3' });
    expect(hookClients(s)).toBe(clients);
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 1);
    expect(sts).toHaveReceivedCommandWith(AssumeRoleCommand, { RoleArn: s.roleArn, DurationSeconds: 3600 });
  });

  test('a role that cannot be assumed yet is a transient error: the event is retried, nothing is completed', async () => {
    const s = settings(4, { roleArn: 'arn:aws:iam::123456789012:role/cdk-lifecycle-command-hook/lch-0123456789/New-4' });
    sts.on(AssumeRoleCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDenied' }));
    const error = await hookClients(s).autoScaling.config.credentials().catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'HookRoleUnavailable', $retryable: {} });
  });
});
