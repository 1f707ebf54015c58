import { App, CfnParameter, Duration, Stack, aws_autoscaling as autoscaling, aws_logs as logs } from 'aws-cdk-lib';
import { CommandShell, LifecycleCommandHook, LifecycleStage } from '../src';

// What a plain JavaScript caller can pass: any value for any prop. jsii checks
// the types for the other languages, so these reach the construct only from
// JavaScript (or TypeScript through `as any`).

function newStack(): Stack {
  return new Stack(new App(), 'Stack', { env: { account: '123456789012', region: 'eu-west-1' } });
}

/** Constructs a terminate hook on an imported group, with `overrides` replacing or adding props. */
function construct(overrides: Record<string, unknown>, stack = newStack()) {
  const props: Record<string, unknown> = {
    autoScalingGroup: autoscaling.AutoScalingGroup.fromAutoScalingGroupName(stack, 'Group', 'web-fleet'),
    transition: autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
    commands: ['systemctl stop application'],
    timeout: Duration.minutes(5),
    ...overrides,
  };
  return new LifecycleCommandHook(stack, 'Drain', props as any);
}

/** A message, matched exactly: the prop, what it received, what is allowed. */
function exactly(message: string): RegExp {
  return new RegExp(`^${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
}

describe('a prop of the wrong type from plain JavaScript names the prop, the value and what is allowed', () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    // Required props.
    ['autoScalingGroup as a name', { autoScalingGroup: 'web-fleet' },
      'LifecycleCommandHook: autoScalingGroup is of type string ("web-fleet"); give an IAutoScalingGroup: an autoscaling.AutoScalingGroup of your app, or one from AutoScalingGroup.fromAutoScalingGroupName.'],
    ['autoScalingGroup missing', { autoScalingGroup: undefined },
      'LifecycleCommandHook: autoScalingGroup is of type undefined; give an IAutoScalingGroup: an autoscaling.AutoScalingGroup of your app, or one from AutoScalingGroup.fromAutoScalingGroupName.'],
    ['autoScalingGroup as an object without a name', { autoScalingGroup: { groupName: 'web-fleet' } },
      'LifecycleCommandHook: autoScalingGroup is an object without a string autoScalingGroupName; give an IAutoScalingGroup: an autoscaling.AutoScalingGroup of your app, or one from AutoScalingGroup.fromAutoScalingGroupName.'],
    ['transition as a word', { transition: 'terminate' },
      'LifecycleCommandHook: transition is of type string ("terminate"); give autoscaling.LifecycleTransition.INSTANCE_LAUNCHING or autoscaling.LifecycleTransition.INSTANCE_TERMINATING.'],
    ['transition missing', { transition: undefined },
      'LifecycleCommandHook: transition is of type undefined; give autoscaling.LifecycleTransition.INSTANCE_LAUNCHING or autoscaling.LifecycleTransition.INSTANCE_TERMINATING.'],
    ['commands as one string', { commands: 'systemctl stop app' },
      'LifecycleCommandHook: commands is of type string ("systemctl stop app"); give a list of shell lines, e.g. ["systemctl stop app"].'],
    ['a command that is a number', { commands: ['echo ok', 42] },
      'LifecycleCommandHook: commands[1] is of type number (42); every command must be a string, one shell line.'],
    ['timeout in seconds', { timeout: 300 },
      'LifecycleCommandHook: timeout is of type number (300); give a Duration, e.g. Duration.minutes(5).'],
    ['timeout as text', { timeout: '5 minutes' },
      'LifecycleCommandHook: timeout is of type string ("5 minutes"); give a Duration, e.g. Duration.minutes(5).'],
    ['timeout missing', { timeout: undefined },
      'LifecycleCommandHook: timeout is of type undefined; give a Duration, e.g. Duration.minutes(5).'],
    ['timeout as a plain object', { timeout: { minutes: 5 } },
      'LifecycleCommandHook: timeout is of type object ({"minutes":5}); give a Duration, e.g. Duration.minutes(5).'],
    // Optional props.
    ['shell as a path', { shell: '/bin/bash' },
      'LifecycleCommandHook: shell is of type string ("/bin/bash"); give CommandShell.SH or CommandShell.POWERSHELL.'],
    ['stages as one stage', { stages: LifecycleStage.TERMINATE },
      'LifecycleCommandHook: stages is of type string ("terminate"); give a list of LifecycleStage values, e.g. [LifecycleStage.LAUNCH_INTO_GROUP].'],
    ['a stage that is a number', { stages: [LifecycleStage.TERMINATE, 4] },
      'LifecycleCommandHook: stages[1] is of type number (4); give a LifecycleStage, e.g. LifecycleStage.LAUNCH_INTO_GROUP.'],
    ['a stage that is no LifecycleStage (the construct names the transition\'s stages)', { stages: [LifecycleStage.TERMINATE, 'warm-pool'] },
      'LifecycleCommandHook: stages[1] is "warm-pool", which is not a stage of a terminate hook; a terminate hook has '
      + 'LifecycleStage.RETURN_TO_WARM_POOL, LifecycleStage.TERMINATE.'],
    ['defaultResult as a boolean', { defaultResult: true },
      'LifecycleCommandHook: defaultResult is of type boolean (true); give autoscaling.DefaultResult.CONTINUE or autoscaling.DefaultResult.ABANDON.'],
    ['defaultResult in lower case', { defaultResult: 'abandon' },
      'LifecycleCommandHook: defaultResult is of type string ("abandon"); give autoscaling.DefaultResult.CONTINUE or autoscaling.DefaultResult.ABANDON.'],
    ['lifecycleHookName as a number', { lifecycleHookName: 7 },
      'LifecycleCommandHook: lifecycleHookName is of type number (7); give a string.'],
    ['workingDirectory as a list', { workingDirectory: ['/opt/app'] },
      'LifecycleCommandHook: workingDirectory is of type an array (["/opt/app"]); give a string.'],
    ['notificationMetadata as an object', { notificationMetadata: { env: 'prod' } },
      'LifecycleCommandHook: notificationMetadata is of type object ({"env":"prod"}); give a string.'],
    ['outputLogGroup as a name', { outputLogGroup: '/app/drain' },
      'LifecycleCommandHook: outputLogGroup is of type string ("/app/drain"); give an ILogGroup: a logs.LogGroup, or one from LogGroup.fromLogGroupName.'],
    ['outputLogGroup as an object with a name only', { outputLogGroup: { logGroupName: '/app/drain' } },
      'LifecycleCommandHook: outputLogGroup is an object without a string logGroupArn; give an ILogGroup: a logs.LogGroup, or one from LogGroup.fromLogGroupName.'],
    ['logRetention as a number of days that is not a RetentionDays', { logRetention: 31 },
      'LifecycleCommandHook: logRetention is of type number (31); give a logs.RetentionDays value, e.g. logs.RetentionDays.ONE_MONTH.'],
    ['logRetention by name', { logRetention: 'ONE_MONTH' },
      'LifecycleCommandHook: logRetention is of type string ("ONE_MONTH"); give a logs.RetentionDays value, e.g. logs.RetentionDays.ONE_MONTH.'],
    ['registrationTimeout in seconds', { transition: autoscaling.LifecycleTransition.INSTANCE_LAUNCHING, registrationTimeout: 180 },
      'LifecycleCommandHook: registrationTimeout is of type number (180); give a Duration, e.g. Duration.minutes(3).'],
    ['stages as null (leave it out for every stage)', { stages: null },
      'LifecycleCommandHook: stages is of type null (null); give a list of LifecycleStage values, e.g. [LifecycleStage.LAUNCH_INTO_GROUP].'],
    ['scriptBucket as a name', { commands: undefined, scriptBucket: 'team-scripts', scriptKey: 'drain.sh' },
      'LifecycleCommandHook: scriptBucket is of type string ("team-scripts"); give an IBucket: an s3.Bucket, or one from Bucket.fromBucketName.'],
    ['documentName as a list', { commands: undefined, documentName: ['team-drain'] },
      'LifecycleCommandHook: documentName is of type an array (["team-drain"]); give a string.'],
    ['configureInstanceRole as text', { configureInstanceRole: 'false' },
      'LifecycleCommandHook: configureInstanceRole is of type string ("false"); give true or false.'],
  ];

  test.each(cases)('%s', (_name, overrides, message) => {
    expect(() => construct(overrides)).toThrow(exactly(message));
  });

  test('no props at all', () => {
    expect(() => new LifecycleCommandHook(newStack(), 'Drain', undefined as any))
      .toThrow(exactly('LifecycleCommandHook: props is of type undefined; give an object with at least autoScalingGroup, transition, timeout, and commands (or documentName, or scriptBucket and scriptKey).'));
  });

  test('a value too long to quote is described by its type alone', () => {
    expect(() => construct({ notificationMetadata: ['x'.repeat(100)] }))
      .toThrow(exactly('LifecycleCommandHook: notificationMetadata is of type an array; give a string.'));
  });

  test('the check comes before anything is added to the tree', () => {
    const stack = newStack();
    expect(() => construct({ timeout: 300 }, stack)).toThrow(/timeout is of type number/);
    expect(stack.node.tryFindChild('Drain')).toBeUndefined();
  });
});

describe('values of the right type pass', () => {
  test('every optional prop, each of its type', () => {
    const stack = newStack();
    expect(() => construct({
      transition: autoscaling.LifecycleTransition.INSTANCE_LAUNCHING,
      shell: CommandShell.SH,
      stages: [LifecycleStage.LAUNCH_INTO_GROUP],
      defaultResult: autoscaling.DefaultResult.CONTINUE,
      lifecycleHookName: 'bootstrap',
      workingDirectory: '/opt/app',
      notificationMetadata: '{"env":"prod"}',
      outputLogGroup: logs.LogGroup.fromLogGroupName(stack, 'Output', '/app/bootstrap'),
      logRetention: logs.RetentionDays.ONE_WEEK,
      registrationTimeout: Duration.minutes(5),
      configureInstanceRole: false,
    }, stack)).not.toThrow();
  });

  test('undefined for every optional prop takes its default', () => {
    const optional = ['shell', 'stages', 'defaultResult', 'lifecycleHookName', 'workingDirectory', 'notificationMetadata',
      'outputLogGroup', 'logRetention', 'registrationTimeout', 'configureInstanceRole'];
    expect(() => construct(Object.fromEntries(optional.map((prop) => [prop, undefined])))).not.toThrow();
  });

  test('unresolved tokens pass: an enum, a number and a string known only at deploy time', () => {
    const stack = newStack();
    expect(() => construct({
      defaultResult: new CfnParameter(stack, 'Result').valueAsString,
      logRetention: new CfnParameter(stack, 'Days', { type: 'Number' }).valueAsNumber,
      workingDirectory: new CfnParameter(stack, 'Directory').valueAsString,
    }, stack)).not.toThrow();
  });
});
