import {
  Annotations,
  ArnFormat,
  CfnResource,
  Stack,
  aws_autoscaling as autoscaling,
  aws_iam as iam,
  aws_logs as logs,
  aws_s3 as s3,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { cfnResourceOf, INLINE_POLICY_SUPPRESSION, nagFindingValue, suppressNagFindings } from '../nag-suppressions';

/** The hook's script in S3, which the instances download. */
export interface S3Script {
  readonly bucket: s3.IBucket;
  readonly key: string;
}

/**
 * The agent's `aws:downloadContent` reads the object with the instance's
 * credentials: s3:GetObject on that one object, and kms:Decrypt on the
 * bucket's key when the bucket has one. (It also lists the key as a folder
 * first; refused, it downloads the key as one file: s3:ListBucket is not
 * needed. agent/plugins/downloadcontent/s3resource/s3resource.go.)
 */
function scriptStatements(script: S3Script): iam.PolicyStatement[] {
  const statements = [new iam.PolicyStatement({
    actions: ['s3:GetObject'],
    resources: [script.bucket.arnForObjects(script.key)],
  })];
  const key = script.bucket.encryptionKey;
  if (key) statements.push(new iam.PolicyStatement({ actions: ['kms:Decrypt'], resources: [key.keyArn] }));
  return statements;
}

/**
 * Lets the instances of a group of this app register with SSM and write the
 * command output to the hook's output log group: `AmazonSSMManagedInstanceCore`
 * and a policy on the group's instance role. An imported group, or one whose
 * launch template hides its role, is its owner's to configure: `explicit`
 * (the user asked for it) fails at synth time, otherwise a warning says so.
 * @returns the policy, for the hook to wait for
 */
export function configureInstanceRole(
  hook: Construct, group: autoscaling.IAutoScalingGroup, outputLogGroup: logs.ILogGroup, explicit: boolean, script?: S3Script,
): iam.Policy | undefined {
  const unreachable = (why: string, who: string) => {
    const message = `configureInstanceRole: ${why}, so the construct cannot grant it `
      + `AmazonSSMManagedInstanceCore and the right to write the output log group; ${who} must grant them on the instance role `
      + '(the README\'s "Instance permissions" has the policy); set configureInstanceRole: false once they are granted.';
    if (explicit) throw new Error(`LifecycleCommandHook: ${message}`);
    Annotations.of(hook).addWarningV2('cdk-lifecycle-command-hook:instanceRoleNotConfigured', message);
    return undefined;
  };
  // An imported group's role is its owner's to configure.
  if (!(group instanceof autoscaling.AutoScalingGroup)) {
    return unreachable('the group is imported, not an AutoScalingGroup of this app, and its instance role is out of reach', 'the group\'s owner');
  }
  let instanceRole: iam.IRole;
  try {
    instanceRole = group.role;
  } catch {
    // A group built from a launch template may not expose its role.
    return unreachable('the group\'s launch template does not expose its role', 'you');
  }
  const ssmCore = iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore');
  instanceRole.addManagedPolicy(ssmCore);
  const instanceRoleResource = cfnResourceOf(instanceRole);
  if (instanceRoleResource) {
    suppressNagFindings(instanceRoleResource, [{
      rule: 'AwsSolutions-IAM4',
      finding: `Policy::${nagFindingValue(hook, ssmCore.managedPolicyArn)}`,
      reason: 'Added by LifecycleCommandHook: AmazonSSMManagedInstanceCore is the AWS-maintained minimum the SSM agent needs to register and receive commands; a copy would fall behind the agent.',
    }]);
  }
  const outputLogGroupArn = outputLogGroup.logGroupArn;
  const policy = new iam.Policy(hook, 'InstanceOutputPolicy', {
    statements: [
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
        resources: [outputLogGroupArn],
      }),
      // The agent calls CreateLogGroup before each upload and takes
      // "already exists" as success; refused, it uploads nothing.
      new iam.PolicyStatement({
        actions: ['logs:CreateLogGroup'],
        // The log group's ARN in both forms CloudWatch Logs uses, with and without the trailing ":*".
        resources: [Stack.of(hook).formatArn({
          service: 'logs',
          resource: 'log-group',
          resourceName: outputLogGroup.logGroupName,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }), outputLogGroupArn],
      }),
      ...(script ? scriptStatements(script) : []),
    ],
  });
  policy.attachToRole(instanceRole);
  const outputLogGroupFinding = nagFindingValue(hook, outputLogGroupArn);
  suppressNagFindings(policy.node.defaultChild as CfnResource, [
    INLINE_POLICY_SUPPRESSION,
    // A log group passed by name has the ARN "...:log-group:NAME:*", whose "*" covers that group's log streams only;
    // any other "*" (a pattern of log group names) stays a finding for the user to judge.
    ...(/:log-group:[^*]+:\*$/.test(outputLogGroupFinding) ? [{
      rule: 'AwsSolutions-IAM5',
      finding: `Resource::${outputLogGroupFinding}`,
      reason: 'The ARN of the output log group as CloudWatch Logs writes it: the trailing "*" covers the log streams of that one group, which the SSM agent creates per command.',
    }] : []),
  ]);
  return policy;
}
