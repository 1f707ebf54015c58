/**
 * Keeping an instance whose commands failed: the hook's failure result is
 * ABANDON, and the group's instance lifecycle policy
 * (`InstanceLifecyclePolicy.RetentionTriggers.TerminateHookAbandon: retain`)
 * makes Auto Scaling keep an instance whose terminate hook is abandoned in
 * `Terminating:Retained` (`Warmed:Pending:Retained` on its way back to a warm
 * pool) instead of terminating it. The policy is the group's: the construct
 * sets it on an `AutoScalingGroup` of the app when asked; an imported group's
 * owner sets it.
 */
import { Annotations, Stack, Token, aws_autoscaling as autoscaling } from 'aws-cdk-lib';
import { Construct } from 'constructs';

/** The acknowledgeable warning of a retention the construct does not see configured on the group. */
export const RETENTION_NOT_CONFIGURED = 'cdk-lifecycle-command-hook:retentionNotConfigured';

/** The CloudFormation property path of the group's retention trigger, and the value that retains. */
const RETENTION_PROPERTY = 'InstanceLifecyclePolicy.RetentionTriggers.TerminateHookAbandon';
const RETAIN = 'retain';

export interface RetentionProps {
  readonly retainOnFailure?: boolean;
  readonly configureGroupRetention?: boolean;
  readonly defaultResult?: autoscaling.DefaultResult;
}

/**
 * Checks the retention props against the hook's transition and `defaultResult`.
 * @returns whether the hook keeps its instances on failure
 */
export function validateRetention(props: RetentionProps, isLaunch: boolean): boolean {
  const retain = props.retainOnFailure ?? false;
  if (retain && isLaunch) {
    throw new Error('LifecycleCommandHook: retainOnFailure is true on a launch hook; Auto Scaling retains instances only when a terminate hook is abandoned '
      + '(a failed launch is terminated and replaced). Remove it or use LifecycleTransition.INSTANCE_TERMINATING.');
  }
  if (retain && props.defaultResult === autoscaling.DefaultResult.CONTINUE) {
    throw new Error('LifecycleCommandHook: retainOnFailure is true and defaultResult is CONTINUE; a retained instance is one whose terminate action was abandoned, '
      + 'so retainOnFailure makes the failure result ABANDON. Remove defaultResult (or set it to ABANDON).');
  }
  if (props.configureGroupRetention === true && !retain) {
    throw new Error('LifecycleCommandHook: configureGroupRetention is true without retainOnFailure; it sets the group\'s instance lifecycle policy for a hook that '
      + 'keeps its instances on failure. Add retainOnFailure: true, or remove configureGroupRetention.');
  }
  return retain;
}

/**
 * For a hook that keeps its instances on failure: sets the group's retention
 * trigger when asked and the group is an `AutoScalingGroup` of the app;
 * otherwise warns, unless the group visibly retains already. An explicit
 * request the construct cannot fulfil fails at synth time.
 * @param ownGroup the group when it is an `AutoScalingGroup` of the app, undefined when imported
 */
export function configureRetention(hook: Construct, ownGroup: autoscaling.AutoScalingGroup | undefined, configure: boolean): void {
  if (!ownGroup) {
    const why = 'the group is imported, not an AutoScalingGroup of this app';
    if (configure) {
      throw new Error(`LifecycleCommandHook: configureGroupRetention is true, but ${why}, so the construct cannot set its instance lifecycle policy; `
        + `its owner sets ${RETENTION_PROPERTY} to "${RETAIN}". Remove configureGroupRetention.`);
    }
    Annotations.of(hook).addWarningV2(RETENTION_NOT_CONFIGURED, `retainOnFailure: ${why}, and the construct can neither see nor set its instance lifecycle policy. `
      + `Unless its owner sets ${RETENTION_PROPERTY} to "${RETAIN}", an instance whose commands fail is abandoned and terminates.`);
    return;
  }
  const cfn = ownGroup.node.defaultChild as autoscaling.CfnAutoScalingGroup;
  const declared = declaredRetention(cfn);
  if (configure) {
    if (declared !== undefined && declared !== RETAIN) {
      throw new Error(`LifecycleCommandHook: configureGroupRetention is true, but the group ${ownGroup.node.path} declares ${RETENTION_PROPERTY} `
        + `"${declared}"; remove one of the two.`);
    }
    // An override, not the L1 property: older aws-cdk-lib versions have none.
    cfn.addPropertyOverride(RETENTION_PROPERTY, RETAIN);
    return;
  }
  if (declared === RETAIN) return;
  Annotations.of(hook).addWarningV2(RETENTION_NOT_CONFIGURED, `retainOnFailure: the construct sees no ${RETENTION_PROPERTY} "${RETAIN}" on the group `
    + `${ownGroup.node.path}; without it an instance whose commands fail is abandoned and terminates. Add configureGroupRetention: true to set it.`);
}

/**
 * The group's retention trigger as its L1 declares it (aws-cdk-lib versions
 * that have the property, e.g. from `AutoScalingGroupProps.instanceLifecyclePolicy`);
 * undefined when absent or a token.
 */
function declaredRetention(cfn: autoscaling.CfnAutoScalingGroup): string | undefined {
  const policy = (cfn as unknown as { instanceLifecyclePolicy?: unknown }).instanceLifecyclePolicy;
  if (policy === undefined || Token.isUnresolved(policy)) return undefined;
  const resolved = Stack.of(cfn).resolve(policy) as { retentionTriggers?: { terminateHookAbandon?: unknown } } | undefined;
  const value = resolved?.retentionTriggers?.terminateHookAbandon;
  return typeof value === 'string' ? value.toLowerCase() : undefined;
}
