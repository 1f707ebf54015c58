/**
 * The hook's custom metrics: one table read by the handler, which publishes
 * them in its log lines (embedded metric format), and by the construct, whose
 * `metric...` methods point at them. Pure data: no AWS calls, no logging.
 */

/** The CloudWatch namespace of every metric the handler publishes. */
export const METRIC_NAMESPACE = 'LifecycleCommandHook';

/**
 * Dimension names. Every metric carries the group and the hook, so that two
 * hooks (or one hook name on two groups) never share a metric; instance,
 * command and token ids never become dimensions, since each distinct value
 * would be a custom metric of its own.
 */
export const METRIC_DIMENSIONS = {
  groupName: 'AutoScalingGroupName',
  hookName: 'LifecycleHookName',
  /** `CONTINUE` or `ABANDON`. */
  result: 'Result',
  /** A final status of a command invocation (`Success`, `Failed`, `TimedOut`, …). */
  status: 'Status',
  /** One of `NOT_SENT_REASONS`. */
  reason: 'Reason',
} as const;

export type MetricDimension = typeof METRIC_DIMENSIONS[keyof typeof METRIC_DIMENSIONS];

/** Units the handler's metrics use (a subset of CloudWatch's). */
export type MetricUnit = 'Count' | 'Milliseconds';

/** One metric: its name, unit, and the dimension sets it is published under. */
export interface MetricDefinition {
  readonly name: string;
  readonly unit: MetricUnit;
  /**
   * Each set is a metric of its own in CloudWatch: a set with `Result` gives
   * one metric per result, the set without it their total.
   */
  readonly dimensionSets: ReadonlyArray<ReadonlyArray<MetricDimension>>;
}

const HOOK_DIMENSIONS = [METRIC_DIMENSIONS.groupName, METRIC_DIMENSIONS.hookName] as const;

/** Every metric of the hook. */
export const HOOK_METRICS = {
  /** Lifecycle actions the handler completed, by result and in total. */
  actionsCompleted: {
    name: 'ActionsCompleted',
    unit: 'Count',
    dimensionSets: [[...HOOK_DIMENSIONS, METRIC_DIMENSIONS.result], [...HOOK_DIMENSIONS]],
  },
  /** Time from the lifecycle event (its `time`) to the handler's completion of the action. */
  actionDuration: {
    name: 'ActionDuration',
    unit: 'Milliseconds',
    dimensionSets: [[...HOOK_DIMENSIONS]],
  },
  /** Commands the handler sent, one per lifecycle action that runs the commands. */
  commandsSent: {
    name: 'CommandsSent',
    unit: 'Count',
    dimensionSets: [[...HOOK_DIMENSIONS]],
  },
  /** Commands that reached a final status, by status. */
  commandsEnded: {
    name: 'CommandsEnded',
    unit: 'Count',
    dimensionSets: [[...HOOK_DIMENSIONS, METRIC_DIMENSIONS.status]],
  },
  /** Commands that ended in any status but `Success` (failed, timed out, cancelled, …). */
  commandsFailed: {
    name: 'CommandsFailed',
    unit: 'Count',
    dimensionSets: [[...HOOK_DIMENSIONS]],
  },
  /** Lifecycle actions whose command could not be sent, by reason and in total. */
  commandsNotSent: {
    name: 'CommandsNotSent',
    unit: 'Count',
    dimensionSets: [[...HOOK_DIMENSIONS, METRIC_DIMENSIONS.reason], [...HOOK_DIMENSIONS]],
  },
  /** Lifecycle actions that a reconciliation pass found unfinished and completed. */
  actionsRepaired: {
    name: 'ActionsRepaired',
    unit: 'Count',
    dimensionSets: [[...HOOK_DIMENSIONS]],
  },
} as const satisfies Record<string, MetricDefinition>;

export type HookMetric = keyof typeof HOOK_METRICS;

/**
 * Why a command could not be sent: a closed list, so that the `Reason`
 * dimension has few values. SendCommand's errors keep their name; any other
 * error counts as `Other` (its name is still in the log line).
 */
export const NOT_SENT_REASONS = [
  /** The instance's SSM agent was not online before `registrationTimeout`. */
  'AgentNotRegistered',
  'InvalidInstanceId',
  'InvalidDocument',
  'InvalidDocumentVersion',
  'InvalidParameters',
  'UnsupportedPlatformType',
  'AccessDenied',
  'Other',
] as const;

export type NotSentReason = typeof NOT_SENT_REASONS[number];

/** The `Reason` a SendCommand (or ListCommands, DescribeInstanceInformation) error counts as. */
export function notSentReason(errorName: string): NotSentReason {
  if (errorName === 'AccessDeniedException' || errorName === 'AccessDenied') return 'AccessDenied';
  return (NOT_SENT_REASONS as readonly string[]).includes(errorName) ? errorName as NotSentReason : 'Other';
}
