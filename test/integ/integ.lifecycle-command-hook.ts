// The hook on a real Auto Scaling group, deployed and asserted on by integ-runner
// (see docs/development.md for the live run and its cost). Offline,
// `npx projen test:integ` only compares what this app synthesizes with the
// committed snapshot in integ.lifecycle-command-hook.ts.snapshot/.
//
// One stack, in a new VPC with public subnets only (no NAT gateway: the
// instances reach SSM and CloudWatch Logs over their public addresses):
// - group Hooked (at most one instance) with a launch hook and a terminate hook
//   whose commands print a marker;
// - group Failing with a launch hook whose middle line fails;
// - an SSM-managed instance outside both groups;
// - a function that calls SendCommand the way the runtime's function does: with
//   the runtime's role, it assumes the launch hook's role and sends with it.
// The assertions, in order for group Hooked:
//   1. a launch completes with CONTINUE: the instance goes InService and the
//      launch marker is in the hook's output log group;
//   2. SendCommand with the launch hook's role, assumed from the runtime's
//      function role, is allowed for the group's instance
//      and refused (AccessDeniedException) for the outside instance, which is
//      registered with SSM, so that only the hook's tag, which the group gives
//      its instances at launch, can tell them apart (the
//      allowed command runs the launch commands once more on the instance in
//      service; the handler then finds no lifecycle action to complete);
//   3. a scale-in runs the terminate commands before the instance terminates:
//      the terminate marker is in the output log group, then the instance is
//      terminated.
// and alongside, for group Failing: the runtime's function completes the launch
// with ABANDON because the command failed (its outcome line in the runtime's
// log group, shared by the three hooks, names the failing hook), the first line's output is in the log
// group and the third line's is not, and the instance is terminated.
import { ExpectedResult, IntegTest } from '@aws-cdk/integ-tests-alpha';
import {
  App,
  Aspects,
  Duration,
  IAspect,
  RemovalPolicy,
  Stack,
  aws_autoscaling as autoscaling,
  aws_ec2 as ec2,
  aws_iam as iam,
  aws_lambda as lambda,
  aws_logs as logs,
} from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { LifecycleCommandHook } from '../../src';

const LAUNCH_MARKER = 'integ-launch-marker';
const TERMINATE_MARKER = 'integ-terminate-marker';
const FIRST_LINE_MARKER = 'integ-first-line-marker';
const THIRD_LINE_MARKER = 'integ-third-line-marker';
/** Booting, registering with SSM and running a short command take a few minutes. */
const WAIT = { totalTimeout: Duration.minutes(20), interval: Duration.seconds(15) };

const app = new App({
  context: { '@aws-cdk/aws-autoscaling:generateLaunchTemplateInsteadOfLaunchConfig': true },
});
const stack = new Stack(app, 'LifecycleCommandHookInteg');
// Log groups outlive their stack by default; a test leaves nothing behind.
Aspects.of(stack).add(new class implements IAspect {
  public visit(node: IConstruct) {
    if (node instanceof logs.CfnLogGroup) node.applyRemovalPolicy(RemovalPolicy.DESTROY);
  }
}());

const vpc = new ec2.Vpc(stack, 'Vpc', {
  maxAzs: 2,
  natGateways: 0,
  subnetConfiguration: [{ name: 'Public', subnetType: ec2.SubnetType.PUBLIC }],
  restrictDefaultSecurityGroup: false,
});
const securityGroup = new ec2.SecurityGroup(stack, 'InstanceSecurityGroup', {
  vpc,
  description: 'HTTPS out to the SSM and CloudWatch Logs endpoints, nothing in',
  allowAllOutbound: false,
});
securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to the SSM and CloudWatch Logs endpoints');
const instanceProps = {
  instanceType: ec2.InstanceType.of(ec2.InstanceClass.T3, ec2.InstanceSize.MICRO),
  // Amazon Linux 2023 comes with the SSM agent.
  machineImage: ec2.MachineImage.latestAmazonLinux2023(),
  securityGroup,
  requireImdsv2: true,
};
const newGroup = (id: string) => new autoscaling.AutoScalingGroup(stack, id, {
  vpc,
  vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
  associatePublicIpAddress: true,
  minCapacity: 0,
  maxCapacity: 1,
  // No instance until the hooks exist: the assertions scale out.
  desiredCapacity: 0,
  ...instanceProps,
});

const hooked = newGroup('Hooked');
const launch = new LifecycleCommandHook(stack, 'Launch', {
  autoScalingGroup: hooked,
  transition: autoscaling.LifecycleTransition.INSTANCE_LAUNCHING,
  commands: [`echo ${LAUNCH_MARKER}`],
  timeout: Duration.minutes(2),
});
const terminate = new LifecycleCommandHook(stack, 'Terminate', {
  autoScalingGroup: hooked,
  transition: autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
  commands: [`echo ${TERMINATE_MARKER}`],
  timeout: Duration.minutes(2),
});

const failing = newGroup('Failing');
const failingLaunch = new LifecycleCommandHook(stack, 'FailingLaunch', {
  autoScalingGroup: failing,
  transition: autoscaling.LifecycleTransition.INSTANCE_LAUNCHING,
  commands: [`echo ${FIRST_LINE_MARKER}`, 'false', `echo ${THIRD_LINE_MARKER}`],
  timeout: Duration.minutes(2),
});

// Outside both groups, yet able to receive commands: SSM would run one there if IAM allowed it.
const outsiderRole = new iam.Role(stack, 'OutsiderRole', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });
outsiderRole.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore'));
const outsider = new ec2.Instance(stack, 'Outsider', {
  vpc,
  vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
  associatePublicIpAddress: true,
  role: outsiderRole,
  ...instanceProps,
});

// SendCommand as the runtime's function sends the launch hook's commands: with
// the runtime's role it assumes the hook's role (which holds the hook's
// SendCommand rights and trusts the runtime's role alone), then sends with the
// hook role's credentials, so the condition on the hook's tag (placed on the
// group and its instances) is evaluated by IAM as it is for the handler. The answer is a string the assertions match.
const sendAsHandler = new lambda.Function(stack, 'SendAsHandler', {
  runtime: lambda.Runtime.NODEJS_22_X,
  handler: 'index.handler',
  role: launch.runtime.role,
  timeout: Duration.seconds(30),
  description: 'Calls SendCommand with the lifecycle hook\'s role, assumed from its runtime\'s role, for the integ test',
  code: lambda.Code.fromInline(`
const { SSMClient, SendCommandCommand } = require('@aws-sdk/client-ssm');
const { STSClient, AssumeRoleCommand } = require('@aws-sdk/client-sts');
const sts = new STSClient({});
exports.handler = async (event) => {
  let credentials;
  try {
    const { Credentials } = await sts.send(new AssumeRoleCommand({ RoleArn: event.roleArn, RoleSessionName: 'integ-send-as-hook' }));
    credentials = { accessKeyId: Credentials.AccessKeyId, secretAccessKey: Credentials.SecretAccessKey, sessionToken: Credentials.SessionToken };
  } catch (error) {
    return 'AssumeRole refused: ' + error.name;
  }
  try {
    await new SSMClient({ credentials }).send(new SendCommandCommand({ DocumentName: event.documentName, InstanceIds: [event.instanceId] }));
    return 'SendCommand allowed';
  } catch (error) {
    return 'SendCommand refused: ' + error.name;
  }
};`),
});

const integ = new IntegTest(app, 'LifecycleCommandHookTest', {
  testCases: [stack],
  // The first deployment has no earlier version to update from.
  stackUpdateWorkflow: false,
  // A change of commands adds a version to the same SSM document (updateMethod
  // NewVersion); CloudFormation's "may replace" on its Content never happens.
  allowDestroy: ['AWS::SSM::Document'],
});
const { assertions } = integ;

/** A log event whose text matches `pattern`, waited for. */
function logEvent(group: logs.ILogGroup, pattern: string, path: string, expected: ExpectedResult) {
  const call = assertions.awsApiCall('CloudWatchLogs', 'filterLogEvents', {
    logGroupName: group.logGroupName,
    filterPattern: pattern,
  }, ['events.0.message']);
  call.assertAtPath(path, expected).waitForAssertions(WAIT);
  return call;
}

/** The log group of the hook's runtime's function, where it records each lifecycle action it completes. */
function handlerLogGroup(hook: LifecycleCommandHook): logs.ILogGroup {
  return hook.runtime.node.findChild('HandlerLogGroup') as logs.LogGroup;
}

function instanceState(instanceId: string, expected: string) {
  const call = assertions.awsApiCall('EC2', 'describeInstances', { InstanceIds: [instanceId] }, ['Reservations.0.Instances.0.State.Name']);
  call.assertAtPath('Reservations.0.Instances.0.State.Name', ExpectedResult.stringLikeRegexp(expected)).waitForAssertions(WAIT);
  return call;
}

function setDesiredCapacity(target: autoscaling.AutoScalingGroup, capacity: number) {
  return assertions.awsApiCall('AutoScaling', 'setDesiredCapacity', {
    AutoScalingGroupName: target.autoScalingGroupName,
    DesiredCapacity: capacity,
  });
}

function sendAsHandlerTo(instanceId: string, expected: string) {
  const call = assertions.invokeFunction({
    functionName: sendAsHandler.functionName,
    payload: JSON.stringify({ instanceId, documentName: launch.documentName, roleArn: launch.role.roleArn }),
  });
  call.assertAtPath('Payload', ExpectedResult.stringLikeRegexp(expected));
  return call;
}

// 1. A launch completes with CONTINUE.
const inService = assertions.awsApiCall('AutoScaling', 'describeAutoScalingGroups', {
  AutoScalingGroupNames: [hooked.autoScalingGroupName],
}, ['AutoScalingGroups.0.Instances.0']);
inService.assertAtPath('AutoScalingGroups.0.Instances.0.LifecycleState', ExpectedResult.stringLikeRegexp('^InService$')).waitForAssertions(WAIT);
const instanceId = inService.getAttString('AutoScalingGroups.0.Instances.0.InstanceId');
const launchMarker = logEvent(launch.outputLogGroup, `"${LAUNCH_MARKER}"`, 'events.0.message', ExpectedResult.stringLikeRegexp(LAUNCH_MARKER));

// 2. SendCommand through the condition on the hook's tag.
const outsiderOnline = assertions.awsApiCall('SSM', 'describeInstanceInformation', {
  Filters: [{ Key: 'InstanceIds', Values: [outsider.instanceId] }],
}, ['InstanceInformationList.0.PingStatus']);
outsiderOnline.assertAtPath('InstanceInformationList.0.PingStatus', ExpectedResult.stringLikeRegexp('^Online$')).waitForAssertions(WAIT);
const allowed = sendAsHandlerTo(instanceId, '^"?SendCommand allowed"?$');
const refused = sendAsHandlerTo(outsider.instanceId, '^"?SendCommand refused: AccessDeniedException"?$');

// 3. A scale-in runs the terminate commands, then the instance terminates.
const terminateMarker = logEvent(terminate.outputLogGroup, `"${TERMINATE_MARKER}"`, 'events.0.message', ExpectedResult.stringLikeRegexp(TERMINATE_MARKER));
const terminated = instanceState(instanceId, '^terminated$');

setDesiredCapacity(hooked, 1)
  .next(inService)
  .next(launchMarker)
  .next(outsiderOnline)
  .next(allowed)
  .next(refused)
  .next(setDesiredCapacity(hooked, 0))
  .next(terminateMarker)
  .next(terminated);

// 4. A failing middle line abandons the launch.
// The outcome lines are written whole, in CloudWatch's embedded metric format: the
// result and the hook's name are top-level members, as are the reason and the instance.
const abandoned = logEvent(handlerLogGroup(failingLaunch),
  `{ $.Result = "ABANDON" && $.LifecycleHookName = "${failingLaunch.lifecycleHookName}" }`,
  'events.0.message.reason', ExpectedResult.stringLikeRegexp('ended Failed'));
const abandonedInstance = abandoned.getAttString('events.0.message.instanceId');
const firstLine = logEvent(failingLaunch.outputLogGroup, `"${FIRST_LINE_MARKER}"`, 'events.0.message', ExpectedResult.stringLikeRegexp(FIRST_LINE_MARKER));
const noThirdLine = assertions.awsApiCall('CloudWatchLogs', 'filterLogEvents', {
  logGroupName: failingLaunch.outputLogGroup.logGroupName,
  filterPattern: `"${THIRD_LINE_MARKER}"`,
});
noThirdLine.expect(ExpectedResult.objectLike({ events: [] }));

setDesiredCapacity(failing, 1)
  .next(abandoned)
  .next(firstLine)
  .next(noThirdLine)
  .next(instanceState(abandonedInstance, '^(shutting-down|terminated)$'))
  // Auto Scaling would keep launching and abandoning replacements.
  .next(setDesiredCapacity(failing, 0));

app.synth();
