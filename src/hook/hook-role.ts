import { ArnFormat, Stack, aws_iam as iam } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { GroupTag } from '../handler/hook-settings';
import { INLINE_POLICY_SUPPRESSION, nagFindingValue, suppressNagFindings } from '../nag-suppressions';
import type { LifecycleCommandRuntime } from '../runtime/lifecycle-command-runtime';

export interface HookRoleProps {
  readonly runtime: LifecycleCommandRuntime;
  /** The group, by its name (an imported group), or by the tag the construct places on it (a group of the same app). */
  readonly group: { readonly name: string } | { readonly tag: GroupTag };
  readonly documentName: string;
}

/**
 * The hook's role: what the runtime's function may do for this hook alone.
 * Send this hook's document, only to instances of this hook's group (by the
 * tag Auto Scaling gives them, or for a group of the same app the hook's own
 * tag), and record heartbeats and complete the lifecycle actions of that
 * group. The function assumes it for the hook's calls; the policy lives
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
    // A group of the same app is known by its tag: naming it would make the group wait for itself.
    const byName = 'name' in props.group ? props.group.name : undefined;
    const tag = 'tag' in props.group ? props.group.tag : undefined;
    const groupArn = stack.formatArn({
      service: 'autoscaling',
      resource: 'autoScalingGroup',
      resourceName: `*:autoScalingGroupName/${byName ?? '*'}`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const instanceCondition = tag
      ? { [`ssm:resourceTag/${tag.key}`]: tag.value }
      : { 'ssm:resourceTag/aws:autoscaling:groupName': byName! };
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
              conditions: { StringEquals: instanceCondition },
            }),
            new iam.PolicyStatement({
              sid: 'GroupLifecycleActions',
              // The heartbeat tells whether an action is still pending before its command is sent.
              actions: ['autoscaling:CompleteLifecycleAction', 'autoscaling:RecordLifecycleActionHeartbeat'],
              resources: [groupArn],
              ...(tag ? { conditions: { StringEquals: { [`autoscaling:ResourceTag/${tag.key}`]: tag.value } } } : {}),
            }),
          ],
        }),
      },
    });
    suppressNagFindings(this.role.node.defaultChild as iam.CfnRole, [
      {
        rule: 'AwsSolutions-IAM5',
        finding: `Resource::${nagFindingValue(this, instancesArn)}`,
        reason: 'ssm:SendCommand to instances whose ids are unknown before launch; the condition on the group\'s tag (ssm:resourceTag) limits it to instances of this hook\'s group, and a second statement to this hook\'s document.',
      },
      {
        rule: 'AwsSolutions-IAM5',
        finding: `Resource::${nagFindingValue(this, groupArn)}`,
        reason: tag
          ? 'A group of the same app, which waits for this role and so cannot be named in it: the condition on autoscaling:ResourceTag limits it to the group carrying this hook\'s tag.'
          : 'The "*" stands for the group\'s id, which CloudFormation does not expose; the ARN ends in this group\'s name, so only this group\'s lifecycle actions can be completed.',
      },
      INLINE_POLICY_SUPPRESSION,
    ]);
  }
}
