import { ArnFormat, Stack, aws_iam as iam } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { INLINE_POLICY_SUPPRESSION, nagFindingValue, suppressNagFindings } from '../nag-suppressions';
import type { LifecycleCommandRuntime } from '../runtime/lifecycle-command-runtime';

export interface HookRoleProps {
  readonly runtime: LifecycleCommandRuntime;
  readonly groupName: string;
  readonly documentName: string;
}

/**
 * The hook's role: what the runtime's function may do for this hook alone.
 * Send this hook's document, only to instances Auto Scaling tagged with this
 * hook's group, and record heartbeats and complete the lifecycle actions of
 * that group. The function assumes it for the hook's calls; the policy lives
 * inside the role, so each hook's rights are one small policy of its own,
 * never a share of a policy that grows with the number of hooks (IAM allows
 * 10,240 characters of inline policy per role, 6,144 per managed policy and
 * 10 managed policies per role by default).
 */
export class HookRole extends Construct {
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: HookRoleProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const documentArn = stack.formatArn({ service: 'ssm', resource: 'document', resourceName: props.documentName });
    const instancesArn = stack.formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' });
    const groupArn = stack.formatArn({
      service: 'autoscaling',
      resource: 'autoScalingGroup',
      resourceName: `*:autoScalingGroupName/${props.groupName}`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.role = new iam.Role(this, 'Resource', {
      // Only the runtime's function role may take it on.
      assumedBy: new iam.ArnPrincipal(props.runtime.role.roleArn),
      path: props.runtime.hookRolePath,
      description: 'Sends one lifecycle command hook\'s document to its group\'s instances and completes that group\'s lifecycle actions',
      inlinePolicies: {
        Hook: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              sid: 'SendHookDocument',
              actions: ['ssm:SendCommand'],
              resources: [documentArn],
            }),
            new iam.PolicyStatement({
              sid: 'SendToGroupInstances',
              actions: ['ssm:SendCommand'],
              // Instance ids are unknown before launch: any instance, but only those Auto Scaling tagged with this group.
              resources: [instancesArn],
              conditions: { StringEquals: { 'ssm:resourceTag/aws:autoscaling:groupName': props.groupName } },
            }),
            new iam.PolicyStatement({
              sid: 'GroupLifecycleActions',
              // The heartbeat tells whether an action is still pending before its command is sent.
              actions: ['autoscaling:CompleteLifecycleAction', 'autoscaling:RecordLifecycleActionHeartbeat'],
              resources: [groupArn],
            }),
          ],
        }),
      },
    });
    suppressNagFindings(this.role.node.defaultChild as iam.CfnRole, [
      {
        rule: 'AwsSolutions-IAM5',
        finding: `Resource::${nagFindingValue(this, instancesArn)}`,
        reason: 'ssm:SendCommand to instances whose ids are unknown before launch; the condition on ssm:resourceTag/aws:autoscaling:groupName limits it to instances of this hook\'s group, and a second statement to this hook\'s document.',
      },
      {
        rule: 'AwsSolutions-IAM5',
        finding: `Resource::${nagFindingValue(this, groupArn)}`,
        reason: 'The "*" stands for the group\'s id, which CloudFormation does not expose; the ARN ends in this group\'s name, so only this group\'s lifecycle actions can be completed.',
      },
      INLINE_POLICY_SUPPRESSION,
    ]);
  }
}
