import { AutoScalingClient, DescribeAutoScalingGroupsCommand, DescribeAutoScalingInstancesCommand } from '@aws-sdk/client-auto-scaling';
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

/**
 * The settings of a hook on a group of the same app, as its parameter holds them: the group
 * known by the tag the construct placed on it, not by its name. Each `n` its own document and
 * tag, so that what one test's environment keeps is never another's.
 */
function taggedSettings(n: number): HookSettings {
  const { groupName: _groupName, ...named } = settings(n);
  const documentName = `${PREFIX}-Stack-Tagged${n}-ABCDEF`;
  return { ...named, documentName, groupTag: { key: `cdk-lifecycle-command-hook:${n.toString(16).padStart(12, '0')}`, value: documentName } };
}

function statusEvent(documentName: string) {
  return { 'source': 'aws.ssm', 'detail-type': 'EC2 Command Invocation Status-change Notification', 'detail': { 'document-name': documentName, 'status': 'Success' } };
}

/** A group as DescribeAutoScalingGroups gives it, with these tags. */
function describedGroup(name: string, tags: Array<{ key: string; value: string }>) {
  return {
    AutoScalingGroupName: name,
    Instances: [],
    Tags: [
      { ResourceId: name, ResourceType: 'auto-scaling-group', Key: 'Name', Value: name, PropagateAtLaunch: true },
      ...tags.map((t) => ({ ResourceId: name, ResourceType: 'auto-scaling-group', Key: t.key, Value: t.value, PropagateAtLaunch: true })),
    ],
  } as any;
}

describe('a group of the same app, known by the hook\'s tag', () => {
  test('a status event finds the group with one DescribeAutoScalingGroups filtered by the tag\'s key, and takes the group whose tag has the hook\'s value', async () => {
    const s = taggedSettings(101);
    const tag = s.groupTag!;
    ssm.on(GetParameterCommand, { Name: `${RUNTIME.hookParameterPath}${s.documentName}` }).resolves({ Parameter: parametersOf([s])[0] });
    autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({
      AutoScalingGroups: [
        // The same key with another value: another hook's group (the key is 12 hex digits of the document's hash).
        describedGroup('not-this-one', [{ key: tag.key, value: `${PREFIX}-Other-1` }]),
        describedGroup('Stack-GroupASG-1A2B3C4D', [tag]),
        describedGroup('not-this-one-either', [{ key: tag.key, value: `${tag.value}-2` }]),
      ],
    });
    const route = await routeEvent(statusEvent(s.documentName), RUNTIME);
    expect(route).toMatchObject({ kind: 'hook', config: { groupName: 'Stack-GroupASG-1A2B3C4D', groupTag: tag, hookName: s.hookName, documentName: s.documentName } });
    expect(autoScaling).toHaveReceivedCommandTimes(DescribeAutoScalingGroupsCommand, 1);
    const [call] = autoScaling.commandCalls(DescribeAutoScalingGroupsCommand);
    expect(call.args[0].input.Filters).toEqual([{ Name: 'tag-key', Values: [tag.key] }]);
    expect(call.args[0].input.AutoScalingGroupNames).toBeUndefined();
  });

  test('the group found is kept: a second status event of the hook makes no second call', async () => {
    const s = taggedSettings(102);
    ssm.on(GetParameterCommand, { Name: `${RUNTIME.hookParameterPath}${s.documentName}` }).resolves({ Parameter: parametersOf([s])[0] });
    autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [describedGroup('kept-group', [s.groupTag!])] });
    const first = await routeEvent(statusEvent(s.documentName), RUNTIME);
    const second = await routeEvent(statusEvent(s.documentName), RUNTIME);
    expect(first).toMatchObject({ kind: 'hook', config: { groupName: 'kept-group' } });
    expect(second).toMatchObject({ kind: 'hook', config: { groupName: 'kept-group' } });
    expect(autoScaling).toHaveReceivedCommandTimes(DescribeAutoScalingGroupsCommand, 1);
    expect(ssm).toHaveReceivedCommandTimes(GetParameterCommand, 1);
  });

  test('a status event of a hook whose tag no group carries (the group is gone) is ignored', async () => {
    const s = taggedSettings(103);
    ssm.on(GetParameterCommand, { Name: `${RUNTIME.hookParameterPath}${s.documentName}` }).resolves({ Parameter: parametersOf([s])[0] });
    // A group with the key but another value is not the hook's.
    autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [describedGroup('another-group', [{ key: s.groupTag!.key, value: `${PREFIX}-Other-2` }])] });
    expect(await routeEvent(statusEvent(s.documentName), RUNTIME)).toEqual({ kind: 'ignored', reason: expect.stringMatching(/tag/) });
    expect(autoScaling).toHaveReceivedCommandTimes(DescribeAutoScalingGroupsCommand, 1);
  });

  test('a pass over 3 tagged hooks and 2 named ones finds the tagged groups with one call and describes all five with one more', async () => {
    const tagged = [taggedSettings(111), taggedSettings(112), taggedSettings(113)];
    const named = [settings(114), settings(115)];
    ssm.on(GetParametersByPathCommand).resolves({ Parameters: parametersOf([tagged[0], named[0], tagged[1], named[1], tagged[2]]) });
    const taggedGroups = tagged.map((s, i) => describedGroup(`tagged-group-${i}`, [s.groupTag!]));
    autoScaling.on(DescribeAutoScalingGroupsCommand).callsFake((input: { AutoScalingGroupNames?: string[]; Filters?: unknown[] }) => (input.Filters
      ? { AutoScalingGroups: [...taggedGroups, describedGroup('foreign', [{ key: tagged[0].groupTag!.key, value: 'foreign' }])] }
      : { AutoScalingGroups: input.AutoScalingGroupNames!.map((name) => ({ AutoScalingGroupName: name, Instances: [] })) }));
    expect(await passAllHooks(RUNTIME, () => 60_000)).toBe(5);
    const calls = autoScaling.commandCalls(DescribeAutoScalingGroupsCommand).map((c) => c.args[0].input);
    expect(calls).toHaveLength(2);
    const [byTag, byName] = calls;
    expect(byTag.AutoScalingGroupNames).toBeUndefined();
    expect(byTag.Filters).toHaveLength(1);
    expect(byTag.Filters![0].Name).toBe('tag-key');
    expect([...byTag.Filters![0].Values!].sort()).toEqual(tagged.map((s) => s.groupTag!.key).sort());
    expect(byName.Filters).toBeUndefined();
    expect([...byName.AutoScalingGroupNames!].sort()).toEqual(['group-114', 'group-115', 'tagged-group-0', 'tagged-group-1', 'tagged-group-2']);
    // Every group was found: nothing to report.
    expect(console.error).not.toHaveBeenCalled();
  });

  test('in a pass, a tagged hook whose group is gone is logged and costs the others nothing', async () => {
    const [gone, present] = [taggedSettings(121), taggedSettings(122)];
    ssm.on(GetParametersByPathCommand).resolves({ Parameters: parametersOf([gone, present]) });
    autoScaling.on(DescribeAutoScalingGroupsCommand).callsFake((input: { AutoScalingGroupNames?: string[]; Filters?: unknown[] }) => (input.Filters
      ? { AutoScalingGroups: [describedGroup('present-group', [present.groupTag!])] }
      : { AutoScalingGroups: input.AutoScalingGroupNames!.map((name) => ({ AutoScalingGroupName: name, Instances: [] })) }));
    expect(await passAllHooks(RUNTIME, () => 60_000)).toBe(2);
    expect(console.error).toHaveBeenCalledWith(expect.objectContaining({ hookName: gone.hookName }));
    expect(console.error).not.toHaveBeenCalledWith(expect.objectContaining({ hookName: present.hookName }));
    const byName = autoScaling.commandCalls(DescribeAutoScalingGroupsCommand).map((c) => c.args[0].input).filter((input) => !input.Filters);
    expect(byName.map((input) => input.AutoScalingGroupNames)).toEqual([['present-group']]);
  });

  test('a rule\'s wrapper with the group\'s tag and the name the rule took from the event goes to the hook, once the group is seen to carry the tag', async () => {
    const s = taggedSettings(131);
    autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({
      AutoScalingGroups: [
        { AutoScalingGroupName: 'from-the-event', Tags: [{ Key: s.groupTag!.key, Value: s.groupTag!.value }] } as any,
      ],
    });
    const event = { 'detail-type': 'EC2 Instance-terminate Lifecycle Action', 'detail': { AutoScalingGroupName: 'from-the-event' } };
    const route = await routeEvent({ hook: { ...s, groupName: 'from-the-event' }, event }, RUNTIME);
    expect(route).toMatchObject({ kind: 'hook', event, config: { groupName: 'from-the-event', groupTag: s.groupTag } });
    expect(autoScaling).toHaveReceivedCommandTimes(DescribeAutoScalingGroupsCommand, 1);
    expect(ssm.calls()).toHaveLength(0);
    // Kept: the next event of the hook makes no call.
    await routeEvent({ hook: { ...s, groupName: 'from-the-event' }, event }, RUNTIME);
    expect(autoScaling).toHaveReceivedCommandTimes(DescribeAutoScalingGroupsCommand, 1);
  });

  test('a group created after the tag\'s groups were kept (CloudFormation replacing the group) is seen at its first event', async () => {
    const s = taggedSettings(136);
    const tag = { Key: s.groupTag!.key, Value: s.groupTag!.value };
    autoScaling.on(DescribeAutoScalingGroupsCommand)
      .resolvesOnce({ AutoScalingGroups: [{ AutoScalingGroupName: 'old-group', Tags: [tag] } as any] })
      .resolves({ AutoScalingGroups: [{ AutoScalingGroupName: 'old-group', Tags: [tag] } as any, { AutoScalingGroupName: 'new-group', Tags: [tag] } as any] });
    const eventOf = (group: string) => ({ 'detail-type': 'EC2 Instance-launch Lifecycle Action', 'detail': { AutoScalingGroupName: group } });
    expect(await routeEvent({ hook: { ...s, groupName: 'old-group' }, event: eventOf('old-group') }, RUNTIME)).toMatchObject({ kind: 'hook' });
    // The kept list lacks the new group: read again, once, rather than drop the launch to the next pass.
    expect(await routeEvent({ hook: { ...s, groupName: 'new-group' }, event: eventOf('new-group') }, RUNTIME))
      .toMatchObject({ kind: 'hook', config: { groupName: 'new-group' } });
    expect(autoScaling).toHaveReceivedCommandTimes(DescribeAutoScalingGroupsCommand, 2);
    // Kept again: both groups' next events make no call.
    await routeEvent({ hook: { ...s, groupName: 'new-group' }, event: eventOf('new-group') }, RUNTIME);
    await routeEvent({ hook: { ...s, groupName: 'old-group' }, event: eventOf('old-group') }, RUNTIME);
    expect(autoScaling).toHaveReceivedCommandTimes(DescribeAutoScalingGroupsCommand, 2);
  });

  test('a rule\'s wrapper naming a group that does not carry the hook\'s tag (another group\'s hook of the same name) is ignored', async () => {
    const s = taggedSettings(134);
    autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({
      AutoScalingGroups: [
        { AutoScalingGroupName: 'the-hooks-group', Tags: [{ Key: s.groupTag!.key, Value: s.groupTag!.value }] } as any,
      ],
    });
    const event = { 'detail-type': 'EC2 Instance-terminate Lifecycle Action', 'detail': { AutoScalingGroupName: 'someone-elses' } };
    expect(await routeEvent({ hook: { ...s, groupName: 'someone-elses' }, event }, RUNTIME)).toEqual({
      kind: 'ignored', reason: 'lifecycle event of a group that does not carry the hook\'s tag',
    });
  });

  test('while CloudFormation replaces the group, both groups carry the tag: a status event goes to its instance\'s own group', async () => {
    const s = taggedSettings(135);
    const tag = { Key: s.groupTag!.key, Value: s.groupTag!.value };
    ssm.on(GetParameterCommand).resolves({ Parameter: { Name: `${RUNTIME.hookParameterPath}${s.documentName}`, Value: JSON.stringify(s) } });
    autoScaling.on(DescribeAutoScalingGroupsCommand).resolves({
      AutoScalingGroups: [
        { AutoScalingGroupName: 'old-group', Tags: [tag] } as any, { AutoScalingGroupName: 'new-group', Tags: [tag] } as any,
      ],
    });
    autoScaling.on(DescribeAutoScalingInstancesCommand).resolves({ AutoScalingInstances: [{ InstanceId: 'i-0123456789abcdef0', AutoScalingGroupName: 'old-group' } as any] });
    const event = { 'source': 'aws.ssm', 'detail-type': 'EC2 Command Invocation Status-change Notification', 'detail': { 'document-name': s.documentName, 'instance-id': 'i-0123456789abcdef0' } };
    expect(await routeEvent(event, RUNTIME)).toMatchObject({ kind: 'hook', config: { groupName: 'old-group' } });
  });

  test('a rule\'s wrapper whose settings have the group\'s tag but no group name is ignored', async () => {
    const s = taggedSettings(132);
    const event = { 'detail-type': 'EC2 Instance-terminate Lifecycle Action', 'detail': {} };
    expect(await routeEvent({ hook: s, event }, RUNTIME)).toEqual({ kind: 'ignored', reason: expect.any(String) });
    expect(autoScaling.calls()).toHaveLength(0);
  });

  test('settings that name neither a group nor its tag are refused; a tag of the wrong shape too', () => {
    const { groupName: _groupName, ...nameless } = settings(133);
    expect(parseHookSettings(nameless)).toEqual(expect.stringMatching(/group/));
    expect(parseHookSettings({ ...nameless, groupTag: { key: 'k' } })).toEqual(expect.stringMatching(/groupTag/));
    expect(parseHookSettings({ ...nameless, groupTag: 'k=v' })).toEqual(expect.stringMatching(/groupTag/));
    expect(parseHookSettings({ ...nameless, groupTag: { key: 'k\n', value: 'v' } })).toEqual(expect.stringMatching(/groupTag/));
    // Either is enough.
    expect(parseHookSettings(taggedSettings(133))).toMatchObject({ groupTag: taggedSettings(133).groupTag });
    expect(parseHookSettings(taggedSettings(133))).not.toHaveProperty('groupName');
    expect(parseHookSettings(settings(133))).toMatchObject({ groupName: 'group-133' });
  });
});
