import { CfnResource, aws_dynamodb as dynamodb, aws_iam as iam } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { RegistrationWait } from './registration-wait';
import { INLINE_POLICY_SUPPRESSION, nagFindingValue, suppressNagFindings } from '../nag-suppressions';

export interface RuntimePolicyProps {
  readonly role: iam.IRole;
  readonly actionTable: dynamodb.ITable;
  /** The hooks' parameters: the path itself (GetParametersByPath) and the parameters under it. */
  readonly hookParameterArns: string[];
  /** The hooks' roles, by their IAM path. */
  readonly hookRolesArn: string;
}

/**
 * The rights of the runtime's function that are not any one hook's: reads
 * that have no resource type, its table, the hooks' settings, and assuming
 * the hooks' roles. What acts on a group (sending to its instances, completing
 * its actions) is in each hook's own role (hook/hook-role.ts), so that adding
 * a hook widens nothing here.
 */
export class RuntimePolicy extends Construct {
  public readonly policy: iam.Policy;

  constructor(scope: Construct, id: string, props: RuntimePolicyProps) {
    super(scope, id);
    this.policy = new iam.Policy(this, 'Resource', {
      roles: [props.role],
      statements: [
        new iam.PolicyStatement({
          sid: 'ReadCommands',
          // ListCommands and GetCommandInvocation have no resource type: IAM accepts only "*".
          actions: ['ssm:ListCommands', 'ssm:GetCommandInvocation'],
          resources: ['*'],
        }),
        new iam.PolicyStatement({
          sid: 'ReadGroups',
          // The reconciliation pass's reads of the groups; neither has a resource type, so IAM accepts only "*".
          actions: ['autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribeAutoScalingInstances', 'autoscaling:DescribeWarmPool'],
          resources: ['*'],
        }),
        new iam.PolicyStatement({
          sid: 'HookSettings',
          actions: ['ssm:GetParameter', 'ssm:GetParametersByPath'],
          resources: props.hookParameterArns,
        }),
        new iam.PolicyStatement({
          sid: 'AssumeHookRoles',
          actions: ['sts:AssumeRole'],
          resources: [props.hookRolesArn],
        }),
        new iam.PolicyStatement({
          sid: 'ActionRecords',
          actions: ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
          resources: [props.actionTable.tableArn],
        }),
      ],
    });
    suppressNagFindings(this.policy.node.defaultChild as CfnResource, [
      {
        rule: 'AwsSolutions-IAM5',
        finding: 'Resource::*',
        reason: 'Only ssm:ListCommands, ssm:GetCommandInvocation, ssm:DescribeInstanceInformation (with launch hooks), autoscaling:DescribeAutoScalingGroups, autoscaling:DescribeAutoScalingInstances and autoscaling:DescribeWarmPool, read-only actions that have no resource type, so IAM accepts no resource but "*".',
      },
      ...[props.hookParameterArns[1], props.hookRolesArn].map((arn) => ({
        rule: 'AwsSolutions-IAM5',
        finding: `Resource::${nagFindingValue(this, arn)}`,
        reason: 'The "*" ends the runtime\'s own Parameter Store path or IAM role path: the hooks\' settings and the hooks\' roles, named under this runtime\'s unique prefix, and nothing else.',
      })),
      INLINE_POLICY_SUPPRESSION,
    ]);
  }

  /** The rights launch hooks need besides: starting the registration wait, and reading the agents' registration. */
  public serveLaunchHooks(wait: RegistrationWait): void {
    this.policy.addStatements(
      wait.grantStart(),
      new iam.PolicyStatement({
        sid: 'ReadRegistration',
        // DescribeInstanceInformation has no resource type: IAM accepts only "*".
        actions: ['ssm:DescribeInstanceInformation'],
        resources: ['*'],
      }),
    );
  }
}
