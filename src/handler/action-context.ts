/**
 * The lifecycle action's context as the commands see it: document parameters
 * of `"interpolationType": "ENV_VAR"`, which the SSM agent gives the script as
 * environment variables `SSM_<name>` (SSM User Guide, "Data elements and
 * parameters"). The document never writes `{{ name }}` for them, so no value
 * is ever part of the script's text, whatever the agent's version. Shared by
 * the construct that declares the parameters and the handler that sends them;
 * no AWS calls here.
 */
import type { LifecycleAction, Transition } from './events';

/**
 * The context parameters, by what they hold. Named as the lifecycle event's
 * fields are; SSM document parameter names are letters and digits only
 * (agent source, `agent/framework/docparser/parameters/parameters.go`).
 */
export const CONTEXT_PARAMETERS = {
  instanceId: 'EC2InstanceId',
  groupName: 'AutoScalingGroupName',
  hookName: 'LifecycleHookName',
  transition: 'LifecycleTransition',
  origin: 'Origin',
  destination: 'Destination',
  notificationMetadata: 'NotificationMetadata',
} as const;

/** What the agent puts before a parameter's name to make the environment variable's. */
export const ENVIRONMENT_PREFIX = 'SSM_';

/** The first SSM agent version that gives `ENV_VAR` parameters to the script (SSM User Guide, "Troubleshooting parameter handling issues"). */
export const CONTEXT_AGENT_VERSION = '3.3.2746.0';

/** What the hook knows of itself that the context carries. */
export interface ContextHook {
  readonly groupName: string;
  readonly hookName: string;
  readonly transition: Transition;
}

/**
 * SendCommand's parameters for the action's context. The notification
 * metadata is not among them: it is the document's own default, written by
 * the construct, so that neither the hook's settings (a 4 KB parameter) nor
 * the command's recorded parameters carry up to 4,000 characters of it. An
 * origin or destination the action does not have is left to the document's
 * empty default.
 */
export function contextParameters(hook: ContextHook, action: LifecycleAction): Record<string, string[]> {
  return {
    [CONTEXT_PARAMETERS.instanceId]: [action.instanceId],
    [CONTEXT_PARAMETERS.groupName]: [hook.groupName],
    [CONTEXT_PARAMETERS.hookName]: [hook.hookName],
    // A record written before transitions were kept has none: the hook's own.
    [CONTEXT_PARAMETERS.transition]: [action.transition || transitionOf(hook.transition)],
    ...(action.origin ? { [CONTEXT_PARAMETERS.origin]: [action.origin] } : {}),
    ...(action.destination ? { [CONTEXT_PARAMETERS.destination]: [action.destination] } : {}),
  };
}

/** The lifecycle event's `LifecycleTransition` for a hook of this transition. */
export function transitionOf(transition: Transition): string {
  return `autoscaling:EC2_INSTANCE_${transition === 'launch' ? 'LAUNCHING' : 'TERMINATING'}`;
}

/**
 * Whether an agent of this version (as DescribeInstanceInformation reports
 * it) gives the commands their context. Undefined when the version is not of
 * the form `major.minor.build.revision`.
 */
export function agentGivesContext(version: string | undefined): boolean | undefined {
  const parse = (v: string | undefined) => (v !== undefined && /^\d+(\.\d+){3}$/.test(v) ? v.split('.').map(Number) : undefined);
  const have = parse(version);
  const need = parse(CONTEXT_AGENT_VERSION)!;
  if (!have) return undefined;
  for (let i = 0; i < need.length; i++) {
    if (have[i] !== need[i]) return have[i] > need[i];
  }
  return true;
}
