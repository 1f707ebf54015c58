import {
  AutoScalingClient,
  CompleteLifecycleActionCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  DescribeInstanceInformationCommand,
  ListCommandsCommand,
  SendCommandCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import type { Context } from 'aws-lambda';
import {
  classifyEvent,
  commentForAction,
  HookConfig,
  InvocationResult,
  LifecycleAction,
  LifecycleResult,
  readConfig,
  registrationBackoffMs,
  resultForStatus,
  sendRetryDelayMs,
} from './events';

// Clients live for the whole execution environment; the SDK's standard retry
// mode (3 attempts, jittered backoff) handles throttling and 5xx answers.
const autoScaling = new AutoScalingClient({});
const ssm = new SSMClient({});
// SendCommand has no client token: an SDK retry after a 5xx or a dropped
// connection could run the commands a second time. This client never retries;
// sendCommand retries itself and first looks for a command that got through.
const ssmSendOnce = new SSMClient({ maxAttempts: 1 });

/** Connection and DNS failures: the request may not have reached AWS, or its answer was lost. */
const NETWORK_ERROR_CODES = ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN'];

/** Attempts at SendCommand within one invocation, as the SDK's standard mode makes. */
const SEND_ATTEMPTS = 3;

/** Time kept back from the function's own timeout for completing the action. */
const COMPLETION_RESERVE_MS = 10_000;

/** What one invocation did, returned for tests and the stand-in. */
export type Outcome =
  | 'ignored'
  | 'command-sent'
  | 'command-already-sent'
  | 'completed'
  | 'already-completed'
  | 'complete-refused';

export async function handler(event: unknown, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<Outcome> {
  const config = readConfig(process.env);
  const classified = classifyEvent(event, config);
  switch (classified.kind) {
    case 'ignored':
      console.warn({ message: 'event ignored', reason: classified.reason, detailType: detailTypeOf(event) });
      return 'ignored';
    case 'lifecycle-action':
      return runCommand(config, classified, context);
    case 'invocation-result':
      return finishAction(config, classified);
  }
}

async function runCommand(
  config: HookConfig,
  action: LifecycleAction,
  context?: Pick<Context, 'getRemainingTimeInMillis'>,
): Promise<Outcome> {
  const { instanceId } = action;
  let step = 'DescribeInstanceInformation';
  try {
    if (config.transition === 'launch') {
      const remainingMs = context ? context.getRemainingTimeInMillis() - COMPLETION_RESERVE_MS : Infinity;
      const deadline = Date.now() + Math.min(config.registrationTimeoutSeconds * 1000, remainingMs);
      const registered = await waitForRegistration(instanceId, deadline);
      if (!registered) {
        return await completeAction(config, instanceId, config.failureResult, 'the SSM agent did not register in time', action.token);
      }
    }

    step = 'ListCommands';
    if (await commandAlreadySent(config, action)) {
      console.info({ message: 'command already sent for this lifecycle action', instanceId });
      return 'command-already-sent';
    }

    step = 'SendCommand';
    await sendCommand(config, action);
    return 'command-sent';
  } catch (error) {
    if (isTransient(error)) throw error;
    // The instance is gone or unmanaged, the document is invalid, or access is
    // denied: no command will ever report, so end the action now.
    return completeAction(config, instanceId, config.failureResult, `${step} failed: ${errorName(error)}`, action.token);
  }
}

/**
 * Sends the hook's document to the instance, at most once. A throttled attempt
 * was refused and is simply repeated; after any other transient error the
 * command may exist already, so ListCommands is asked before sending again.
 * @throws the last transient error when every attempt failed, or the first permanent one.
 */
async function sendCommand(config: HookConfig, action: LifecycleAction): Promise<void> {
  const { instanceId } = action;
  for (let attempt = 1; ; attempt++) {
    try {
      const sent = await ssmSendOnce.send(new SendCommandCommand({
        DocumentName: config.documentName,
        // The document gains a version on each update of the hook's commands.
        DocumentVersion: '$LATEST',
        InstanceIds: [instanceId],
        Comment: commentForAction(action.token),
        TimeoutSeconds: config.deliveryTimeoutSeconds,
        // Given, not left to the document's default, so that SSM's expiry of the
        // command (delivery plus execution timeout) covers the whole run.
        Parameters: { executionTimeout: [String(config.executionTimeoutSeconds)] },
        CloudWatchOutputConfig: {
          CloudWatchOutputEnabled: true,
          CloudWatchLogGroupName: config.outputLogGroupName,
        },
      }));
      console.info({ message: 'command sent', instanceId, commandId: sent.Command?.CommandId });
      return;
    } catch (error) {
      if (!isTransient(error) || attempt >= SEND_ATTEMPTS) throw error;
      const throttled = isThrottling(error);
      await sleep(sendRetryDelayMs(attempt, throttled) * (0.5 + Math.random() / 2));
      if (!throttled && await commandAlreadySent(config, action)) {
        console.info({ message: 'command sent; its answer was lost', instanceId, error: errorName(error) });
        return;
      }
    }
  }
}

/** Polls SSM until the instance's agent is online, with a doubling delay, until the deadline. */
async function waitForRegistration(instanceId: string, deadline: number): Promise<boolean> {
  for (let attempt = 0; ; attempt++) {
    const info = await ssm.send(new DescribeInstanceInformationCommand({
      Filters: [{ Key: 'InstanceIds', Values: [instanceId] }],
    }));
    if (info.InstanceInformationList?.some((i) => i.InstanceId === instanceId && i.PingStatus === 'Online')) {
      if (attempt > 0) console.info({ message: 'SSM agent registered', instanceId, checks: attempt + 1 });
      return true;
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      console.error({ message: 'SSM agent not registered before the deadline', instanceId, checks: attempt + 1 });
      return false;
    }
    // The last wait is cut short so that the last check falls on the deadline.
    await sleep(Math.min(registrationBackoffMs(attempt), remaining));
  }
}

/** A repeated lifecycle event must not run the commands twice: look for a command carrying this action's token. */
async function commandAlreadySent(config: HookConfig, action: LifecycleAction): Promise<boolean> {
  const listed = await ssm.send(new ListCommandsCommand({
    InstanceId: action.instanceId,
    Filters: [{ key: 'DocumentName', value: config.documentName }],
  }));
  const comment = commentForAction(action.token);
  return (listed.Commands ?? []).some((c) => c.Comment === comment);
}

async function finishAction(config: HookConfig, invocation: InvocationResult): Promise<Outcome> {
  const result = resultForStatus(invocation.status, config.failureResult);
  return completeAction(config, invocation.instanceId, result, `command ${invocation.commandId} ended ${invocation.status}`);
}

/**
 * Completes the instance's pending action of this hook. With the action's token
 * it completes that action only: a late or repeated event for an earlier action
 * of the same instance (warm pools launch an instance twice) cannot end a newer one.
 */
async function completeAction(
  config: HookConfig,
  instanceId: string,
  result: LifecycleResult,
  reason: string,
  token?: string,
): Promise<Outcome> {
  try {
    await autoScaling.send(new CompleteLifecycleActionCommand({
      AutoScalingGroupName: config.groupName,
      LifecycleHookName: config.hookName,
      ...(token ? { LifecycleActionToken: token } : { InstanceId: instanceId }),
      LifecycleActionResult: result,
    }));
    const log = result === 'CONTINUE' ? console.info : console.error;
    log({ message: 'lifecycle action completed', instanceId, result, reason });
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

function isNoActiveAction(error: unknown): boolean {
  return errorName(error) === 'ValidationError' && /No active Lifecycle Action found/i.test(errorMessage(error));
}

/** Errors worth another Lambda attempt once the SDK's own retries are spent. */
function isTransient(error: unknown): boolean {
  const e = error as { name?: string; code?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number } };
  if (e?.$retryable) return true;
  // Node's network errors keep their name `Error`; the SDK renames only some of them TimeoutError.
  if (NETWORK_ERROR_CODES.includes(e?.code ?? '')) return true;
  if (['Throttling', 'ThrottlingException', 'ResourceContention', 'ResourceContentionFault', 'TooManyUpdates', 'InternalServerError'].includes(e?.name ?? '')) return true;
  const status = e?.$metadata?.httpStatusCode;
  return status === undefined ? errorName(error) === 'TimeoutError' : status >= 500;
}

/** Throttled requests were refused, so repeating them cannot run anything twice. */
function isThrottling(error: unknown): boolean {
  const e = error as { name?: string; $retryable?: { throttling?: boolean } };
  return e?.$retryable?.throttling === true
    || ['Throttling', 'ThrottlingException', 'TooManyRequestsException', 'RequestLimitExceeded'].includes(e?.name ?? '');
}

function errorName(error: unknown): string {
  return (error as { name?: string })?.name ?? 'Error';
}

function errorMessage(error: unknown): string {
  return (error as { message?: string })?.message ?? String(error);
}

function detailTypeOf(event: unknown): unknown {
  return typeof event === 'object' && event !== null ? (event as Record<string, unknown>)['detail-type'] : undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
