import { Annotations as CoreAnnotations, App, Duration, Stack, aws_autoscaling as autoscaling, aws_ec2 as ec2 } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { LifecycleCommandHook, LifecycleCommandHookProps } from '../src';

const ENV = { account: '123456789012', region: 'eu-west-1' };
const WARNING = 'cdk-lifecycle-command-hook:retentionNotConfigured';

function newStack(): Stack {
  return new Stack(new App({ context: { '@aws-cdk/aws-autoscaling:generateLaunchTemplateInsteadOfLaunchConfig': true } }), 'Stack', { env: ENV });
}

function ownedGroup(stack: Stack, extra: Partial<autoscaling.AutoScalingGroupProps> = {}): autoscaling.AutoScalingGroup {
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 1, natGateways: 0 });
  return new autoscaling.AutoScalingGroup(stack, 'Group', {
    vpc,
    vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
    instanceType: new ec2.InstanceType('t3.micro'),
    machineImage: ec2.MachineImage.latestAmazonLinux2023(),
    ...extra,
  });
}

function drain(stack: Stack, group: autoscaling.IAutoScalingGroup, props: Partial<LifecycleCommandHookProps> = {}): LifecycleCommandHook {
  return new LifecycleCommandHook(stack, 'Drain', {
    autoScalingGroup: group,
    transition: autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
    commands: ['systemctl stop application'],
    timeout: Duration.minutes(2),
    ...props,
  });
}

function groupProperties(stack: Stack): Record<string, any> {
  const groups = Template.fromStack(stack).findResources('AWS::AutoScaling::AutoScalingGroup');
  expect(Object.keys(groups)).toHaveLength(1);
  return Object.values(groups)[0].Properties;
}

function settingsOf(stack: Stack): Record<string, unknown> {
  const parameters = Template.fromStack(stack).findResources('AWS::SSM::Parameter');
  const value = Object.values(parameters)[0].Properties.Value;
  // Tokens (the log group's name, the role's ARN) stand inside JSON strings.
  return JSON.parse(typeof value === 'string' ? value : (value['Fn::Join'][1] as unknown[]).map((p) => (typeof p === 'string' ? p : 'token')).join(''));
}

/** aws-cdk-lib versions with `AutoScalingGroupProps.instanceLifecyclePolicy` (not the 2.144.0 floor, which the range run maps in). */
const HAS_POLICY_PROP = 'TerminateHookAbandonAction' in autoscaling;
const withPolicyProp = HAS_POLICY_PROP ? test : test.skip;

describe('retainOnFailure', () => {
  test('on a group of the app with configureGroupRetention: the group retains abandoned instances, the hook abandons on failure', () => {
    const stack = newStack();
    drain(stack, ownedGroup(stack), { retainOnFailure: true, configureGroupRetention: true });
    const group = groupProperties(stack);
    expect(group.InstanceLifecyclePolicy).toEqual({ RetentionTriggers: { TerminateHookAbandon: 'retain' } });
    // The heartbeat timeout abandons too: an unanswered action retains its instance as a failed one does.
    expect(group.LifecycleHookSpecificationList).toEqual([expect.objectContaining({ DefaultResult: 'ABANDON', LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING' })]);
    expect(settingsOf(stack).failureResult).toBe('ABANDON');
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp(WARNING));
  });

  test('without retainOnFailure the group\'s policy is left alone and a terminate hook continues on failure', () => {
    const stack = newStack();
    drain(stack, ownedGroup(stack));
    const group = groupProperties(stack);
    expect(group.InstanceLifecyclePolicy).toBeUndefined();
    expect(group.LifecycleHookSpecificationList).toEqual([expect.objectContaining({ DefaultResult: 'CONTINUE' })]);
    expect(settingsOf(stack).failureResult).toBe('CONTINUE');
  });

  withPolicyProp('on a group of the app whose own props retain: no override needed, no warning', () => {
    const stack = newStack();
    const group = ownedGroup(stack, {
      instanceLifecyclePolicy: { retentionTriggers: { terminateHookAbandon: autoscaling.TerminateHookAbandonAction.RETAIN } },
    });
    drain(stack, group, { retainOnFailure: true });
    expect(groupProperties(stack).InstanceLifecyclePolicy).toEqual({ RetentionTriggers: { TerminateHookAbandon: 'retain' } });
    Annotations.fromStack(stack).hasNoWarning('*', Match.anyValue());
  });

  test('on a group of the app that does not retain, without configureGroupRetention: an acknowledgeable warning says how', () => {
    const stack = newStack();
    drain(stack, ownedGroup(stack), { retainOnFailure: true });
    expect(groupProperties(stack).InstanceLifecyclePolicy).toBeUndefined();
    Annotations.fromStack(stack).hasWarning('/Stack/Drain', Match.stringLikeRegexp(
      'the construct sees no InstanceLifecyclePolicy.RetentionTriggers.TerminateHookAbandon "retain" on the group Stack/Group; '
      + `without it an instance whose commands fail is abandoned and terminates. Add configureGroupRetention: true.*\\[ack: ${WARNING}\\]`));
  });

  withPolicyProp('configureGroupRetention on a group whose own props say terminate fails, naming both', () => {
    const stack = newStack();
    const group = ownedGroup(stack, {
      instanceLifecyclePolicy: { retentionTriggers: { terminateHookAbandon: autoscaling.TerminateHookAbandonAction.TERMINATE } },
    });
    expect(() => drain(stack, group, { retainOnFailure: true, configureGroupRetention: true }))
      .toThrow(/configureGroupRetention is true, but the group Stack\/Group declares InstanceLifecyclePolicy.RetentionTriggers.TerminateHookAbandon "terminate"/);
  });

  test('on an imported group: a warning that its owner sets the policy, which the acknowledgement silences', () => {
    const stack = newStack();
    const group = autoscaling.AutoScalingGroup.fromAutoScalingGroupName(stack, 'Imported', 'web-fleet');
    const hook = drain(stack, group, { retainOnFailure: true, configureInstanceRole: false });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::AutoScaling::LifecycleHook', { DefaultResult: 'ABANDON' });
    Annotations.fromStack(stack).hasWarning('/Stack/Drain', Match.stringLikeRegexp(
      'the group is imported.*Unless its owner sets InstanceLifecyclePolicy.RetentionTriggers.TerminateHookAbandon to "retain", an instance whose commands fail is abandoned and terminates'));

    const acknowledged = newStack();
    const other = drain(acknowledged, autoscaling.AutoScalingGroup.fromAutoScalingGroupName(acknowledged, 'Imported', 'web-fleet'),
      { retainOnFailure: true, configureInstanceRole: false });
    CoreAnnotations.of(other).acknowledgeWarning(WARNING, 'the fleet\'s owner sets the retention policy');
    Annotations.fromStack(acknowledged).hasNoWarning('*', Match.anyValue());
    expect(hook.node.path).toBe('Stack/Drain');
  });

  test('configureGroupRetention on an imported group fails at synth time', () => {
    const stack = newStack();
    const group = autoscaling.AutoScalingGroup.fromAutoScalingGroupName(stack, 'Imported', 'web-fleet');
    expect(() => drain(stack, group, { retainOnFailure: true, configureGroupRetention: true }))
      .toThrow('LifecycleCommandHook: configureGroupRetention is true, but the group is imported, not an AutoScalingGroup of this app, '
        + 'so the construct cannot set its instance lifecycle policy; its owner sets InstanceLifecyclePolicy.RetentionTriggers.TerminateHookAbandon to "retain". '
        + 'Remove configureGroupRetention.');
  });

  test('on a launch hook fails at synth time, naming the prop and the transition', () => {
    const stack = newStack();
    expect(() => drain(stack, ownedGroup(stack), { transition: autoscaling.LifecycleTransition.INSTANCE_LAUNCHING, retainOnFailure: true }))
      .toThrow(/^LifecycleCommandHook: retainOnFailure is true on a launch hook; .*Remove it or use LifecycleTransition.INSTANCE_TERMINATING\.$/);
  });

  test('with defaultResult CONTINUE fails at synth time', () => {
    const stack = newStack();
    expect(() => drain(stack, ownedGroup(stack), { retainOnFailure: true, defaultResult: autoscaling.DefaultResult.CONTINUE }))
      .toThrow(/retainOnFailure is true and defaultResult is CONTINUE; .*Remove defaultResult \(or set it to ABANDON\)\./);
  });

  test('with defaultResult ABANDON given explicitly is accepted', () => {
    const stack = newStack();
    drain(stack, ownedGroup(stack), { retainOnFailure: true, configureGroupRetention: true, defaultResult: autoscaling.DefaultResult.ABANDON });
    expect(settingsOf(stack).failureResult).toBe('ABANDON');
  });

  test('configureGroupRetention without retainOnFailure fails at synth time', () => {
    const stack = newStack();
    expect(() => drain(stack, ownedGroup(stack), { configureGroupRetention: true }))
      .toThrow(/configureGroupRetention is true without retainOnFailure; .*Add retainOnFailure: true, or remove configureGroupRetention\./);
  });

  test('from plain JavaScript, a value that is not a boolean names the prop and the value', () => {
    const stack = newStack();
    const group = ownedGroup(stack);
    expect(() => drain(stack, group, { retainOnFailure: 'yes' as any }))
      .toThrow('LifecycleCommandHook: retainOnFailure is of type string ("yes"); give true or false.');
    expect(() => drain(stack, group, { configureGroupRetention: 1 as any }))
      .toThrow('LifecycleCommandHook: configureGroupRetention is of type number (1); give true or false.');
  });

  test('undefined for both props takes their defaults: no retention, no policy', () => {
    const stack = newStack();
    drain(stack, ownedGroup(stack), { retainOnFailure: undefined, configureGroupRetention: undefined });
    expect(groupProperties(stack).InstanceLifecyclePolicy).toBeUndefined();
    expect(settingsOf(stack).failureResult).toBe('CONTINUE');
  });

  test('the override synthesizes without the L1 property: the policy comes from the override alone', () => {
    const stack = newStack();
    const group = ownedGroup(stack);
    drain(stack, group, { retainOnFailure: true, configureGroupRetention: true });
    // The construct never sets the L1 property, which aws-cdk-lib 2.144.0 does not have.
    expect((group.node.defaultChild as unknown as { instanceLifecyclePolicy?: unknown }).instanceLifecyclePolicy).toBeUndefined();
    expect(groupProperties(stack).InstanceLifecyclePolicy).toEqual({ RetentionTriggers: { TerminateHookAbandon: 'retain' } });
  });
});
