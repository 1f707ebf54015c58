/**
 * The lifecycle action in Auto Scaling: whether it is still pending, and
 * completing it. Every call names the action by its token, so a late or
 * repeated event for an earlier action of the same instance (warm pools launch
 * an instance twice) can neither end nor extend a newer one.
 */
import {
  CompleteLifecycleActionCommand,
  RecordLifecycleActionHeartbeatCommand,
} from '@aws-sdk/client-auto-scaling';
import { errorMessage, errorName, isNoActiveAction, isTransient } from './aws-errors';
import { actionCompleted, LineContext } from './emf';
import type { HookConfig, LifecycleResult } from './events';
import { hookClients } from './hook-clients';

/** What completing an action came to. */
export type Completion = 'completed' | 'already-completed' | 'complete-refused';

/**
 * Whether the action is still pending, asked in the one way that also helps
 * it: a heartbeat with its token succeeds only while that very action waits,
 * and restarts its heartbeat timeout (welcome after a registration wait).
 * Without a token (a reconciliation pass that never saw the action's event)
 * it asks about this hook's pending action of the instance, whatever its token.
 * @returns false when the action has ended (completed by someone, or timed out).
 * @throws any other error, as it came.
 */
export async function actionIsPending(config: HookConfig, instanceId: string, token: string | undefined): Promise<boolean> {
  try {
    await hookClients(config).autoScaling.send(new RecordLifecycleActionHeartbeatCommand({
      AutoScalingGroupName: config.groupName,
      LifecycleHookName: config.hookName,
      ...(token ? { LifecycleActionToken: token } : {}),
      InstanceId: instanceId,
    }));
    return true;
  } catch (error) {
    if (isNoActiveAction(error)) return false;
    throw error;
  }
}

/** What the line of a completed action carries besides the action. */
export interface CompletionLine extends LineContext {
  /**
   * The lifecycle event's `time`, for the `ActionDuration` metric. Left out
   * for an action completed at once because its stage runs no commands.
   */
  readonly eventTime?: string;
}

/**
 * Completes the action named by its token, and writes the line that counts
 * it (`ActionsCompleted`, `ActionDuration`). An action that has already ended
 * (`No active Lifecycle Action found`) is success: someone, or a duplicate
 * event, completed it first; it is not counted again.
 * @throws transient errors, for Lambda to retry the event.
 */
export async function completeAction(
  config: HookConfig,
  instanceId: string,
  /** Without one, the hook's pending action of the instance: only where the token is unknown (current-action.ts, I3). */
  token: string | undefined,
  result: LifecycleResult,
  reason: string,
  line: CompletionLine = {},
): Promise<Completion> {
  try {
    await hookClients(config).autoScaling.send(new CompleteLifecycleActionCommand({
      AutoScalingGroupName: config.groupName,
      LifecycleHookName: config.hookName,
      ...(token ? { LifecycleActionToken: token } : {}),
      InstanceId: instanceId,
      LifecycleActionResult: result,
    }));
    const { eventTime, ...ctx } = line;
    actionCompleted(config, { instanceId, result, reason, ...(eventTime ? { eventTime } : {}) }, ctx);
    return 'completed';
  } catch (error) {
    if (isNoActiveAction(error)) {
      console.info({ message: 'lifecycle action was already complete', instanceId, result, reason });
      return 'already-completed';
    }
    if (isTransient(error)) throw error;
    // A retry would meet the same refusal; the hook's heartbeat timeout applies the default result.
    console.error({ message: 'CompleteLifecycleAction refused', instanceId, result, reason, error: errorName(error), detail: errorMessage(error) });
    return 'complete-refused';
  }
}
