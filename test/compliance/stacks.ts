// The stacks the compliance checks run on: the hook on a group of the app and on
// imported groups, for launch and terminate, with every optional prop set on one
// hook of each stack. cdk-nag checks them in nag.test.ts; synth.ts writes their
// templates for cfn-lint and checkov.
import {
  App,
  CfnParameter,
  CfnResource,
  Duration,
  Stack,
  aws_autoscaling as autoscaling,
  aws_ec2 as ec2,
  aws_logs as logs,
} from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { LifecycleCommandHook } from '../../src';
import { suppressNagFindings } from '../../src/nag-suppressions';

export const ENV = { account: '123456789012', region: 'eu-west-1' };

export interface ComplianceApp {
  readonly app: App;
  readonly ownedStack: Stack;
  readonly importedStack: Stack;
  /** The group of the app in `ownedStack`. */
  readonly group: autoscaling.AutoScalingGroup;
  /** Every hook, by `<stack name>/<hook id>`. */
  readonly hooks: Record<string, LifecycleCommandHook>;
}

export function buildComplianceApp(outdir?: string): ComplianceApp {
  const app = new App({
    outdir,
    context: {
      '@aws-cdk/aws-autoscaling:generateLaunchTemplateInsteadOfLaunchConfig': true,
      // Each resource's construct path in its metadata, for the scan's skip list.
      'aws:cdk:enable-path-metadata': true,
    },
  });
  const hooks: Record<string, LifecycleCommandHook> = {};
  const add = (hook: LifecycleCommandHook) => {
    hooks[`${Stack.of(hook).stackName}/${hook.node.id}`] = hook;
  };

  // A group of the app, in a stack with a known account and region.
  const ownedStack = new Stack(app, 'OwnedGroupHooks', { env: ENV });
  const group = fixtureGroup(ownedStack);
  add(new LifecycleCommandHook(ownedStack, 'Bootstrap', {
    autoScalingGroup: group,
    transition: autoscaling.LifecycleTransition.INSTANCE_LAUNCHING,
    commands: ['/opt/app/bootstrap.sh', 'systemctl start application'],
    timeout: Duration.minutes(10),
    defaultResult: autoscaling.DefaultResult.ABANDON,
    lifecycleHookName: 'bootstrap',
    workingDirectory: '/opt/app',
    notificationMetadata: '{"service":"application"}',
    // A log group kept outside the stack, passed by name.
    outputLogGroup: logs.LogGroup.fromLogGroupName(ownedStack, 'FleetOutput', 'fleet-command-output'),
    logRetention: logs.RetentionDays.THREE_MONTHS,
    registrationTimeout: Duration.minutes(5),
    configureInstanceRole: true,
  }));
  add(new LifecycleCommandHook(ownedStack, 'Drain', {
    autoScalingGroup: group,
    transition: autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
    commands: ['systemctl stop application'],
    timeout: Duration.minutes(5),
  }));

  // Groups another team owns, in an environment-agnostic stack: one named by a
  // parameter, one by a literal name.
  const importedStack = new Stack(app, 'ImportedGroupHooks');
  const fleetName = new CfnParameter(importedStack, 'FleetName', {
    type: 'String',
    description: 'Name of the Auto Scaling group whose instances bootstrap',
  });
  add(new LifecycleCommandHook(importedStack, 'Bootstrap', {
    autoScalingGroup: autoscaling.AutoScalingGroup.fromAutoScalingGroupName(importedStack, 'Fleet', fleetName.valueAsString),
    transition: autoscaling.LifecycleTransition.INSTANCE_LAUNCHING,
    commands: ['/opt/app/bootstrap.sh'],
    timeout: Duration.minutes(15),
  }));
  const sharedOutput = new logs.LogGroup(importedStack, 'SharedOutput', { retention: logs.RetentionDays.ONE_YEAR });
  acknowledge(sharedOutput, 'NIST.800.53.R5-CloudWatchLogGroupEncrypted',
    'Test fixture: the output log group a user passes in; whether it has a customer managed KMS key is the user\'s choice.');
  add(new LifecycleCommandHook(importedStack, 'Drain', {
    autoScalingGroup: autoscaling.AutoScalingGroup.fromAutoScalingGroupName(importedStack, 'WebFleet', 'web-fleet'),
    transition: autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
    commands: ['systemctl stop application', 'sync'],
    timeout: Duration.minutes(20),
    defaultResult: autoscaling.DefaultResult.ABANDON,
    lifecycleHookName: 'drain',
    workingDirectory: '/opt/app',
    notificationMetadata: '{"service":"application"}',
    outputLogGroup: sharedOutput,
    logRetention: logs.RetentionDays.TWO_WEEKS,
    configureInstanceRole: false,
  }));

  return { app, ownedStack, importedStack, group, hooks };
}

/**
 * A group that passes the checks where that is cheap: an imported VPC (no
 * network resources of its own), IMDSv2 only, encrypted root volume, egress to
 * HTTPS only (the SSM and CloudWatch Logs endpoints).
 */
function fixtureGroup(stack: Stack): autoscaling.AutoScalingGroup {
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-0a1b2c3d4e5f60718',
    availabilityZones: ['eu-west-1a', 'eu-west-1b'],
    privateSubnetIds: ['subnet-0a1b2c3d4e5f60718', 'subnet-0f1e2d3c4b5a69788'],
  });
  const securityGroup = new ec2.SecurityGroup(stack, 'InstanceSecurityGroup', {
    vpc,
    description: 'Instances of the fleet: HTTPS out to the SSM and CloudWatch Logs endpoints, nothing in',
    allowAllOutbound: false,
  });
  securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to the SSM and CloudWatch Logs endpoints');
  const group = new autoscaling.AutoScalingGroup(stack, 'Group', {
    vpc,
    vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    instanceType: new ec2.InstanceType('t3.micro'),
    machineImage: ec2.MachineImage.latestAmazonLinux2023(),
    securityGroup,
    requireImdsv2: true,
    blockDevices: [{
      deviceName: '/dev/xvda',
      volume: autoscaling.BlockDeviceVolume.ebs(8, { encrypted: true, volumeType: autoscaling.EbsDeviceVolumeType.GP3 }),
    }],
    minCapacity: 1,
    maxCapacity: 2,
  });
  acknowledge(group.node.findChild('ASG'), 'AwsSolutions-AS3',
    'Test fixture: scaling notifications are the group owner\'s concern, not the lifecycle hook\'s.');
  return group;
}

/**
 * Acknowledges a finding on one resource of the fixture (never on a parent,
 * which would cover the hook's resources too), the way the library records its
 * own: for cdk-nag 3 where aws-cdk-lib has its acknowledgements, and for cdk-nag 2.
 */
function acknowledge(construct: IConstruct, id: string, reason: string) {
  const resource = CfnResource.isCfnResource(construct) ? construct : construct.node.defaultChild;
  if (!resource || !CfnResource.isCfnResource(resource)) throw new Error(`${construct.node.path} has no CloudFormation resource`);
  suppressNagFindings(resource, [{ rule: id, reason }]);
}
