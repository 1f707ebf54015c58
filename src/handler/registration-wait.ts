/**
 * Waiting for a launching instance's SSM agent without Lambda time: one
 * registration check per invocation, and between checks an Express state
 * machine of the hook that only waits and then invokes the function again
 * with the next check. The check event carries everything the launch path
 * needs (the action, the attempt, the deadline, its chain).
 *
 * One chain of checks per action: the action's record (action-record.ts,
 * `waiting`) names the chain and the check it scheduled next, and holds the
 * action for the wait just started and a margin (WAIT_LEASE_MARGIN_MS). A
 * copy of the launch event (EventBridge delivers at least once) or a second
 * run of an execution (Step Functions runs Express executions at least once)
 * meets that turn and starts nothing. Once a chain's next check is overdue
 * past the lease, the next invocation of the action (a copy, a Lambda retry,
 * a late check) takes the chain over, with its deadline and its count of
 * checks; the overdue check, should it still come, finds the turn gone and
 * stops. A reconciliation pass ends a wait whose chain stopped for good.
 */
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { DescribeInstanceInformationCommand, SSMClient } from '@aws-sdk/client-ssm';
import { agentGivesContext, CONTEXT_AGENT_VERSION } from './action-context';
import { readAction, passWait, startWait, type ActionRecord, type WaitTurn } from './action-record';
import { errorName, isTransient } from './aws-errors';
import { WAIT_LEASE_MARGIN_MS } from './claim-timing';
import { clientOptions } from './client-options';
import {
  HookConfig,
  IgnoredEvent,
  INSTANCE_ID_PATTERN,
  LifecycleAction,
  REGISTRATION_CHECK_KEY,
  registrationBackoffMs,
  STAGE_PATTERN,
  TOKEN_PATTERN,
  EVENT_TIME_PATTERN,
  WAIT_SECONDS_KEY,
} from './events';
import { settingsOf } from './hook-config';

// Per-call retries and request timeouts (client-options.ts). A StartExecution retried after a lost
// answer may start a second execution: its check meets the chain's turn and starts nothing.
const ssm = new SSMClient(clientOptions());
const sfn = new SFNClient(clientOptions());

/**
 * A throttled or failed check at the deadline is repeated for this long after
 * it, so that an answer AWS did not give is never taken for an agent that did
 * not register. The hook's heartbeat timeout keeps a delivery margin larger
 * than this.
 */
export const UNANSWERED_CHECK_GRACE_MS = 40_000;

/** The next registration check of a launch action, as the state machine delivers it. */
export interface RegistrationCheck {
  readonly kind: 'registration-check';
  readonly action: LifecycleAction;
  /** Checks made before this one. */
  readonly attempt: number;
  /** Epoch ms after which an agent still not online fails the action. */
  readonly deadline: number;
  /** The chain of waits the check belongs to; absent from checks scheduled before chains were recorded. */
  readonly chain?: string;
}

/** What scheduling the next check came to. */
export type WaitStep =
  | { readonly kind: 'scheduled' }
  /** The registration deadline passed, and this invocation holds the wait: the action fails. */
  | { readonly kind: 'deadline-passed'; readonly checks: number }
  /** Another chain waits for the action. */
  | { readonly kind: 'wait-running' }
  /** The action is past its wait: another invocation claimed it, sent its command, or ended it. */
  | { readonly kind: 'past-wait'; readonly record: ActionRecord };

/** A chain's name: the id of the invocation that started it (a Lambda request id, or a UUID). */
const CHAIN_PATTERN = /^[A-Za-z0-9-]{1,64}$/;

/** What one check found: the agent online, not (yet) online, or no answer (throttled, 5xx, network). */
export type Registration = 'online' | 'not-online' | 'unanswered';

/**
 * One DescribeInstanceInformation call for the instance. Transient failures
 * become `unanswered`; others are thrown. An online agent too old to give the
 * commands their context gets a warning: its commands run all the same.
 */
export async function checkRegistration(instanceId: string): Promise<Registration> {
  try {
    const info = await ssm.send(new DescribeInstanceInformationCommand({
      Filters: [{ Key: 'InstanceIds', Values: [instanceId] }],
    }));
    const online = info.InstanceInformationList?.find((i) => i.InstanceId === instanceId && i.PingStatus === 'Online');
    if (online && agentGivesContext(online.AgentVersion) === false) {
      console.warn({
        message: `the instance's SSM agent is older than ${CONTEXT_AGENT_VERSION}: the commands run without the action's context (no SSM_ variables)`,
        instanceId,
        agentVersion: online.AgentVersion,
      });
    }
    return online ? 'online' : 'not-online';
  } catch (error) {
    if (!isTransient(error)) throw error;
    console.warn({ message: 'registration check unanswered; checking again after the next wait', instanceId, error: errorName(error) });
    return 'unanswered';
  }
}

/**
 * What follows a check that did not find the agent online: another wait, or
 * the end of the wait (the deadline passed).
 * @returns the wait before the next check in ms, or undefined when the action fails.
 */
export function nextWaitMs(registration: Exclude<Registration, 'online'>, attempt: number, deadline: number, now: number): number | undefined {
  const remaining = deadline - now;
  const limit = registration === 'unanswered' ? remaining + UNANSWERED_CHECK_GRACE_MS : remaining;
  if (limit <= 0) return undefined;
  // The last wait is cut short so that the last check falls on the deadline; a whole second at least (Wait's unit).
  return Math.max(1_000, Math.min(registrationBackoffMs(attempt), limit));
}

/** The state machine's input: the wait, and the check that follows it. */
export function registrationCheckInput(config: HookConfig, check: Omit<RegistrationCheck, 'kind'>, waitMs: number): Record<string, unknown> {
  const { action } = check;
  return {
    [WAIT_SECONDS_KEY]: Math.ceil(waitMs / 1000),
    [REGISTRATION_CHECK_KEY]: {
      AutoScalingGroupName: config.groupName,
      LifecycleHookName: config.hookName,
      EC2InstanceId: action.instanceId,
      LifecycleActionToken: action.token,
      LifecycleTransition: action.transition,
      ...(action.origin ? { Origin: action.origin } : {}),
      ...(action.destination ? { Destination: action.destination } : {}),
      ...(action.eventTime ? { EventTime: action.eventTime } : {}),
      Attempt: check.attempt,
      Deadline: check.deadline,
      ...(check.chain ? { Chain: check.chain } : {}),
      // The shared function learns from the check which hook it serves.
      Hook: settingsOf(config),
    },
  };
}

/**
 * The agent is not online: schedules the action's next check in its one chain
 * of waits. The chain's own check goes on to the next turn; the first copy of
 * the launch event starts the chain; any other invocation does nothing while
 * the chain holds the action, and takes the chain over once its lease ran out.
 * @param claimId names the chain this invocation starts or takes over.
 */
export async function scheduleNextCheck(
  config: HookConfig, action: LifecycleAction, registration: Exclude<Registration, 'online'>, claimId: string, check?: RegistrationCheck,
): Promise<WaitStep> {
  const table = config.actionTable;
  const { instanceId, token } = action;
  const now = Date.now();
  const goOn = (checksBefore: number, deadline: number, chain: string, write: (turn: WaitTurn) => Promise<boolean>) =>
    takeTurn(config, action, registration, { checksBefore, deadline, chain, now }, write);
  if (check?.chain) {
    const mine = { claimId: check.chain, attempt: check.attempt };
    const own = await goOn(check.attempt, check.deadline, mine.claimId, (turn) => passWait(table, instanceId, token, mine, turn));
    if (own) return own;
  } else {
    // The launch event, or a check scheduled before chains were recorded (it keeps its count and deadline).
    const deadline = check?.deadline ?? now + config.registrationTimeoutSeconds * 1000;
    const first = await goOn(check?.attempt ?? 0, deadline, claimId, (turn) => startWait(table, action, turn, deadline));
    if (first) return first;
  }
  const record = await readAction(table, instanceId, token);
  // Written before the put or update that just failed, and kept three days: a record is there.
  if (!record) throw new Error('the action record was not found after a conditional write found it');
  if (record.state !== 'waiting') return { kind: 'past-wait', record };
  if (now < record.leaseUntil) return { kind: 'wait-running' };
  // The chain's next check is overdue: this invocation takes its place, with the chain's deadline and count of checks.
  const from = { claimId: record.claimId, attempt: record.waitAttempt ?? 0 };
  const taken = await goOn(from.attempt, record.waitDeadline ?? check?.deadline ?? now + config.registrationTimeoutSeconds * 1000, claimId,
    (turn) => passWait(table, instanceId, token, from, turn));
  if (taken) console.info({ message: 'registration wait taken over from a chain that stopped', instanceId, checks: from.attempt });
  return taken ?? { kind: 'wait-running' };
}

/**
 * Writes the wait's next turn and, when it was written, starts the wait (or,
 * past the deadline, reports that this invocation ends the action: the turn
 * written keeps the others off while it does).
 * @returns undefined when the write's condition failed.
 */
async function takeTurn(
  config: HookConfig,
  action: LifecycleAction,
  registration: Exclude<Registration, 'online'>,
  at: { readonly checksBefore: number; readonly deadline: number; readonly chain: string; readonly now: number },
  write: (turn: WaitTurn) => Promise<boolean>,
): Promise<WaitStep | undefined> {
  const waitMs = nextWaitMs(registration, at.checksBefore, at.deadline, at.now);
  const attempt = at.checksBefore + 1;
  // Past the deadline the turn written is `failing`: no claim is taken from it, so nothing is sent while the action fails.
  const turn = { claimId: at.chain, attempt, leaseUntil: at.now + (waitMs ?? 0) + WAIT_LEASE_MARGIN_MS, failing: waitMs === undefined };
  if (!await write(turn)) return undefined;
  if (waitMs === undefined) return { kind: 'deadline-passed', checks: attempt };
  await startRegistrationWait(config, { action, attempt, deadline: at.deadline, chain: at.chain }, waitMs);
  return { kind: 'scheduled' };
}

/** Starts the wait: an execution that invokes the function with the next check after `waitMs`. */
export async function startRegistrationWait(config: HookConfig, check: Omit<RegistrationCheck, 'kind'>, waitMs: number): Promise<void> {
  if (!config.registrationWaitArn) throw new Error('the hook has no registration wait state machine (launch hooks only)');
  const input = registrationCheckInput(config, check, waitMs);
  const started = await sfn.send(new StartExecutionCommand({
    stateMachineArn: config.registrationWaitArn,
    input: JSON.stringify(input),
  }));
  console.info({
    message: 'SSM agent not online; next registration check scheduled',
    instanceId: check.action.instanceId,
    attempt: check.attempt,
    waitSeconds: input[WAIT_SECONDS_KEY],
    executionArn: started.executionArn,
  });
}

/**
 * Reads a registration check event. Anything that is not one is left to the
 * other events' classification (undefined); a malformed one, or one for
 * another hook, is ignored.
 */
export function classifyRegistrationCheck(event: unknown, config: HookConfig): RegistrationCheck | IgnoredEvent | undefined {
  if (typeof event !== 'object' || event === null || !(REGISTRATION_CHECK_KEY in event)) return undefined;
  const check = (event as Record<string, unknown>)[REGISTRATION_CHECK_KEY];
  const ignored = (reason: string): IgnoredEvent => ({ kind: 'ignored', reason });
  if (typeof check !== 'object' || check === null || Array.isArray(check)) return ignored('registration check without a check object');
  const c = check as Record<string, unknown>;
  if (config.transition !== 'launch') return ignored('registration check for a terminate hook');
  if (c.AutoScalingGroupName !== config.groupName) return ignored('registration check for another Auto Scaling group');
  if (c.LifecycleHookName !== config.hookName) return ignored('registration check for another lifecycle hook');
  if (typeof c.EC2InstanceId !== 'string' || !INSTANCE_ID_PATTERN.test(c.EC2InstanceId)) return ignored('registration check with a malformed EC2InstanceId');
  if (typeof c.LifecycleActionToken !== 'string' || !TOKEN_PATTERN.test(c.LifecycleActionToken)) {
    return ignored('registration check with a malformed LifecycleActionToken');
  }
  if (typeof c.LifecycleTransition !== 'string' || !STAGE_PATTERN.test(c.LifecycleTransition)) {
    return ignored('registration check with a malformed LifecycleTransition');
  }
  if (!Number.isSafeInteger(c.Attempt) || (c.Attempt as number) < 1) return ignored('registration check with a malformed Attempt');
  if (!Number.isSafeInteger(c.Deadline) || (c.Deadline as number) <= 0) return ignored('registration check with a malformed Deadline');
  const stage = (v: unknown) => (typeof v === 'string' && STAGE_PATTERN.test(v) ? v : undefined);
  const origin = stage(c.Origin);
  const destination = stage(c.Destination);
  // The lifecycle event's time, for the action's duration metric; dropped unless well formed.
  const eventTime = typeof c.EventTime === 'string' && EVENT_TIME_PATTERN.test(c.EventTime) ? c.EventTime : undefined;
  if (c.Chain !== undefined && (typeof c.Chain !== 'string' || !CHAIN_PATTERN.test(c.Chain))) return ignored('registration check with a malformed Chain');
  return {
    kind: 'registration-check',
    action: {
      kind: 'lifecycle-action',
      instanceId: c.EC2InstanceId,
      token: c.LifecycleActionToken,
      groupName: config.groupName,
      transition: c.LifecycleTransition,
      ...(origin ? { origin } : {}),
      ...(destination ? { destination } : {}),
      // Both forms of the event's time: the duration metric's and the reconciliation pass's (current-action.ts, I2).
      ...(eventTime ? { eventTime, startedAt: Date.parse(eventTime) } : {}),
    },
    attempt: c.Attempt as number,
    deadline: c.Deadline as number,
    ...(typeof c.Chain === 'string' ? { chain: c.Chain } : {}),
  };
}
