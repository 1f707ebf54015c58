// An app with a new VPC and Auto Scaling group that bootstraps instances as they
// launch and drains them as they terminate. Synthesize it with
// `npx projen synth:example`; the template lands in cdk.out/.
import { App, Duration, Stack, aws_autoscaling as autoscaling, aws_ec2 as ec2 } from 'aws-cdk-lib';
import { LifecycleCommandHook } from '../src';

const app = new App({
  outdir: 'cdk.out',
  // New groups get a launch template rather than a deprecated launch configuration.
  context: { '@aws-cdk/aws-autoscaling:generateLaunchTemplateInsteadOfLaunchConfig': true },
});
const stack = new Stack(app, 'LifecycleCommandHookExample', {
  env: { account: '123456789012', region: 'eu-west-1' },
});

const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
const group = new autoscaling.AutoScalingGroup(stack, 'Web', {
  vpc,
  vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
  instanceType: new ec2.InstanceType('t3.micro'),
  machineImage: ec2.MachineImage.fromSsmParameter(
    '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64',
  ),
  minCapacity: 1,
  maxCapacity: 4,
});

new LifecycleCommandHook(stack, 'Bootstrap', {
  autoScalingGroup: group,
  transition: autoscaling.LifecycleTransition.INSTANCE_LAUNCHING,
  commands: [
    'dnf install -y nginx',
    'systemctl enable --now nginx',
    'curl --fail --retry 10 --retry-delay 3 http://localhost/',
  ],
  timeout: Duration.minutes(10),
});

new LifecycleCommandHook(stack, 'Drain', {
  autoScalingGroup: group,
  transition: autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
  commands: ['systemctl stop nginx', 'sync'],
  timeout: Duration.minutes(5),
});

app.synth();
