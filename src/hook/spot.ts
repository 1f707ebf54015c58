/**
 * Spot capacity and terminate hooks: EC2 interrupts a Spot Instance about two
 * minutes after its interruption notice, whatever the hook's heartbeat
 * timeout, so commands that need longer are cut short. Where the construct can
 * see at synth time that a group of the app runs Spot capacity, a terminate
 * hook whose `timeout` is longer warns.
 */
import { Annotations, Stack, Token, aws_autoscaling as autoscaling, aws_ec2 as ec2 } from 'aws-cdk-lib';
import { Construct } from 'constructs';

/** The acknowledgeable warning of a terminate hook longer than a Spot interruption allows. */
export const TIMEOUT_BEYOND_SPOT_NOTICE = 'cdk-lifecycle-command-hook:timeoutBeyondSpotNotice';

/** A Spot Instance interruption notice comes two minutes before EC2 interrupts the instance. */
export const SPOT_NOTICE_SECONDS = 120;

/**
 * Warns when the group visibly runs Spot capacity and the terminate hook's
 * commands may run longer than a Spot interruption leaves them.
 * @param ownGroup the group when it is an `AutoScalingGroup` of the app
 */
export function warnOfSpotInterruption(hook: Construct, ownGroup: autoscaling.AutoScalingGroup | undefined, timeoutSeconds: number): void {
  if (!ownGroup || timeoutSeconds <= SPOT_NOTICE_SECONDS) return;
  const source = spotSource(ownGroup);
  if (!source) return;
  Annotations.of(hook).addWarningV2(TIMEOUT_BEYOND_SPOT_NOTICE, `timeout is ${timeoutSeconds} seconds, and the group ${ownGroup.node.path} runs Spot capacity (${source}): `
    + `EC2 interrupts a Spot Instance about ${SPOT_NOTICE_SECONDS} seconds after its interruption notice, whatever the hook's heartbeat timeout, `
    + 'so commands running longer are cut short. Make them finish within two minutes, or acknowledge this warning.');
}

/** How the group runs Spot capacity, as its definition shows at synth time; undefined when it does not, or tokens hide it. */
export function spotSource(group: autoscaling.AutoScalingGroup): string | undefined {
  const stack = Stack.of(group);
  if (group.spotPrice !== undefined) return 'spotPrice';
  const cfn = group.node.defaultChild as autoscaling.CfnAutoScalingGroup;
  type Mixed = { instancesDistribution?: { onDemandPercentageAboveBaseCapacity?: unknown } };
  const mixed = resolveKnown(stack, cfn.mixedInstancesPolicy) as Mixed | undefined;
  const percentage = mixed?.instancesDistribution?.onDemandPercentageAboveBaseCapacity;
  // Auto Scaling's default is 100: all On-Demand above the base.
  if (typeof percentage === 'number' && percentage < 100) return `mixedInstancesPolicy with ${percentage}% On-Demand above the base`;
  const spec = resolveKnown(stack, cfn.launchTemplate) as { launchTemplateId?: unknown; launchTemplateName?: unknown } | undefined;
  if (spec) {
    const template = launchTemplateOf(stack, spec);
    const options = template && resolveKnown(stack, template.launchTemplateData) as { instanceMarketOptions?: { marketType?: unknown } } | undefined;
    if (options?.instanceMarketOptions?.marketType === 'spot') return 'a launch template with Spot market options';
  }
  return undefined;
}

/** The CfnLaunchTemplate of this stack that a launch template specification refers to. */
function launchTemplateOf(stack: Stack, spec: { launchTemplateId?: unknown; launchTemplateName?: unknown }): ec2.CfnLaunchTemplate | undefined {
  const wanted = JSON.stringify(spec.launchTemplateId ?? spec.launchTemplateName);
  return stack.node.findAll()
    .filter((c): c is ec2.CfnLaunchTemplate => c instanceof ec2.CfnLaunchTemplate)
    .find((t) => JSON.stringify(stack.resolve(spec.launchTemplateId !== undefined ? t.ref : t.launchTemplateName)) === wanted);
}

/** A value resolved, or undefined when absent or one opaque token. */
function resolveKnown(stack: Stack, value: unknown): unknown {
  if (value === undefined) return undefined;
  try {
    const resolved = stack.resolve(value);
    return typeof resolved === 'object' && resolved !== null && !Token.isUnresolved(resolved) ? resolved : undefined;
  } catch {
    return undefined;
  }
}
