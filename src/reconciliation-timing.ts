/**
 * The reconciliation pass's period and what follows from it: the hook's
 * heartbeat timeout and the longest command. Pure functions, used at synth time.
 *
 * One pass serves every hook of a runtime, every PASS_PERIOD_SECONDS. Its idle
 * cost is one invocation per period (a Parameter Store read and one
 * DescribeAutoScalingGroups for up to 50 groups), billed with its cold start:
 * 6 minutes keeps it under two cents per runtime and month (README, "Cost").
 *
 * The heartbeat timeout is what an instance waits when nothing of the
 * runtime answers (its function, role or rules broken): the longer of the
 * commands' timeout and the registration wait, plus WAIT_MARGIN_SECONDS. The
 * pass still repairs what a lost event leaves within it: it heartbeats an
 * action it finds without a record as it first sees it, and the send
 * heartbeats again, so a command's end is followed by a pass (a period, plus
 * its lateness) before the timer that restarted at the send runs out.
 */

/** SendCommand's delivery timeout: how long SSM tries to hand the command to the agent. */
export const DELIVERY_TIMEOUT_SECONDS = 60;
/** Time for the status event to reach the handler and for CompleteLifecycleAction, with its retries. */
export const COMPLETION_MARGIN_SECONDS = 60;
/** How often the pass runs. */
export const PASS_PERIOD_SECONDS = 360;
/** How much longer than its commands (or its registration wait) an action waits when nothing answers. */
export const WAIT_MARGIN_SECONDS = 600;
/** Longest heartbeat timeout Auto Scaling accepts on a lifecycle hook. */
export const MAX_HEARTBEAT_SECONDS = 7200;
/** Auto Scaling's global timeout of an action: 48 hours, or 100 heartbeat timeouts, whichever is smaller. */
export const MAX_GLOBAL_TIMEOUT_SECONDS = 172_800;
const GLOBAL_TIMEOUT_HEARTBEATS = 100;

/**
 * The hook's heartbeat timeout: the longer of the commands' timeout and the
 * registration wait (each starts the timer anew: the send records a
 * heartbeat), plus WAIT_MARGIN_SECONDS for delivery, completion and a pass
 * that repairs a lost event; at most 7,200 s, beyond which the pass keeps the
 * action alive with heartbeats while the command runs.
 */
export function heartbeatTimeoutSeconds(timeoutSeconds: number, registrationSeconds: number): number {
  return Math.min(MAX_HEARTBEAT_SECONDS, Math.max(timeoutSeconds, registrationSeconds) + WAIT_MARGIN_SECONDS);
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
