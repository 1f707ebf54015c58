/**
 * The reconciliation pass's period and what follows from it: the hook's
 * heartbeat timeout and the longest command. Pure functions, used at synth time.
 *
 * The pass runs every PASS_PERIOD_SECONDS. Its idle cost is one invocation
 * (one DescribeAutoScalingGroups call) per period, billed with its cold start:
 * 15 minutes keeps it well under one cent per hook and month (README, "The
 * reconciliation pass"), and bounds the delay a lost event costs.
 */

/** SendCommand's delivery timeout: how long SSM tries to hand the command to the agent. */
export const DELIVERY_TIMEOUT_SECONDS = 60;
/** Time for the status event to reach the handler and for CompleteLifecycleAction, with its retries. */
export const COMPLETION_MARGIN_SECONDS = 60;
/** How often the pass runs. */
export const PASS_PERIOD_SECONDS = 900;
/** Longest heartbeat timeout Auto Scaling accepts on a lifecycle hook. */
export const MAX_HEARTBEAT_SECONDS = 7200;
/** Auto Scaling's global timeout of an action: 48 hours, or 100 heartbeat timeouts, whichever is smaller. */
export const MAX_GLOBAL_TIMEOUT_SECONDS = 172_800;
const GLOBAL_TIMEOUT_HEARTBEATS = 100;

/**
 * The hook's heartbeat timeout for a command that needs `budgetSeconds`
 * (registration, delivery, the commands, completion) to end: that plus two
 * periods, so that a pass repairs a lost status event before the timeout even
 * when it comes one period late; at most 7,200 s, beyond which the pass keeps
 * the action alive with heartbeats while the command runs.
 */
export function heartbeatTimeoutSeconds(budgetSeconds: number): number {
  return Math.min(MAX_HEARTBEAT_SECONDS, budgetSeconds + 2 * PASS_PERIOD_SECONDS);
}

/** The global timeout of the hook's actions. */
export function globalTimeoutSeconds(heartbeatSeconds: number): number {
  return Math.min(MAX_GLOBAL_TIMEOUT_SECONDS, GLOBAL_TIMEOUT_HEARTBEATS * heartbeatSeconds);
}

/**
 * The longest `timeout`: the global timeout less the rest of the budget
 * (`roomSeconds`: registration, delivery, completion) and one period, for the
 * pass that completes the action when the command's status event is lost.
 */
export function maxCommandSeconds(roomSeconds: number): number {
  return globalTimeoutSeconds(MAX_HEARTBEAT_SECONDS) - roomSeconds - PASS_PERIOD_SECONDS;
}
