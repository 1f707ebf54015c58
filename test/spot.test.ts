import { Annotations as CoreAnnotations, App, Duration, Stack, aws_autoscaling as autoscaling, aws_ec2 as ec2 } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { LifecycleCommandHook } from '../src';

const ENV = { account: '123456789012', region: 'eu-west-1' };
const WARNING = 'cdk-lifecycle-command-hook:timeoutBeyondSpotNotice';

type GroupKind = 'on-demand' | 'mixed-spot' | 'mixed-on-demand' | 'template-spot' | 'spot-price';

function stackWith(kind: GroupKind, transition = autoscaling.LifecycleTransition.INSTANCE_TERMINATING, timeout = Duration.minutes(5)) {
  const stack = new Stack(new App({ context: { '@aws-cdk/aws-autoscaling:generateLaunchTemplateInsteadOfLaunchConfig': kind !== 'spot-price' } }), 'Stack', { env: ENV });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 1, natGateways: 0 });
  const instanceType = new ec2.InstanceType('t3.micro');
  const machineImage = ec2.MachineImage.latestAmazonLinux2023();
  const template = (spot: boolean) => new ec2.LaunchTemplate(stack, 'Template', { instanceType, machineImage, ...(spot ? { spotOptions: {} } : {}) });
  const base = { vpc, vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC } };
  let group: autoscaling.AutoScalingGroup;
  switch (kind) {
    case 'on-demand':
      group = new autoscaling.AutoScalingGroup(stack, 'Group', { ...base, instanceType, machineImage });
      break;
    case 'spot-price':
      group = new autoscaling.AutoScalingGroup(stack, 'Group', { ...base, instanceType, machineImage, spotPrice: '0.01' });
      break;
    case 'template-spot':
      group = new autoscaling.AutoScalingGroup(stack, 'Group', { ...base, launchTemplate: template(true) });
      break;
    case 'mixed-spot':
    case 'mixed-on-demand':
      group = new autoscaling.AutoScalingGroup(stack, 'Group', {
        ...base,
        mixedInstancesPolicy: {
          launchTemplate: template(false),
          instancesDistribution: { onDemandBaseCapacity: 1, onDemandPercentageAboveBaseCapacity: kind === 'mixed-spot' ? 25 : 100 },
        },
      });
      break;
  }
  const hook = new LifecycleCommandHook(stack, 'Drain', { autoScalingGroup: group, transition, commands: ['systemctl stop application'], timeout });
  return { stack, hook };
}

describe('a terminate hook on Spot capacity', () => {
  test.each([
    ['mixed-spot', 'mixedInstancesPolicy with 25% On-Demand above the base'],
    ['template-spot', 'a launch template with Spot market options'],
    ['spot-price', 'spotPrice'],
  ] as const)('on a group with %s and a timeout over two minutes: an acknowledgeable warning', (kind, source) => {
    const { stack } = stackWith(kind);
    Annotations.fromStack(stack).hasWarning('/Stack/Drain', Match.stringLikeRegexp(
      `timeout is 300 seconds, and the group Stack/Group runs Spot capacity \\(${source}\\): EC2 interrupts a Spot Instance about 120 seconds after its interruption notice.*\\[ack: ${WARNING}\\]`));
  });

  test('the warning is acknowledged away', () => {
    const { stack, hook } = stackWith('mixed-spot');
    CoreAnnotations.of(hook).acknowledgeWarning(WARNING, 'the drain checkpoints and can be cut short');
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('Spot'));
  });

  test('a timeout of two minutes or less: no warning', () => {
    const { stack } = stackWith('mixed-spot', autoscaling.LifecycleTransition.INSTANCE_TERMINATING, Duration.minutes(2));
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp(WARNING));
  });

  test.each(['on-demand', 'mixed-on-demand'] as const)('on a group with %s capacity only: no warning', (kind) => {
    const { stack } = stackWith(kind);
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp(WARNING));
  });

  test('a launch hook on Spot capacity: no warning (the interruption is a terminate hook\'s matter)', () => {
    const { stack } = stackWith('mixed-spot', autoscaling.LifecycleTransition.INSTANCE_LAUNCHING);
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp(WARNING));
  });

  test('an imported group, whose capacity the construct cannot see: no warning', () => {
    const stack = new Stack(new App(), 'Stack', { env: ENV });
    new LifecycleCommandHook(stack, 'Drain', {
      autoScalingGroup: autoscaling.AutoScalingGroup.fromAutoScalingGroupName(stack, 'Imported', 'spot-fleet'),
      transition: autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
      commands: ['systemctl stop application'],
      timeout: Duration.minutes(5),
      configureInstanceRole: false,
    });
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp(WARNING));
  });
});
