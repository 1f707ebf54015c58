/**
 * The reconciliation pass: a periodic invocation that makes the group's state,
 * not the arrival of events, the source of truth. Auto Scaling and SSM deliver
 * their events best effort; whatever an event would have done and did not,
 * the next pass does.
 *
 * One DescribeAutoScalingGroups lists the group's instances with their
 * lifecycle states (and says whether the group has a warm pool; only then is
 * DescribeWarmPool called, for the `Warmed:*:Wait` instances). With no
 * instance in one of this hook's wait states, that is the whole pass.
 *
 * For each waiting instance, from its records in the action table:
 * - the command ended (its status event was lost) → complete the action by its
 *   token with the result the status implies;
 * - the command runs → a heartbeat by token when the action would otherwise
 *   time out before the next pass (this is what lets commands run 48 hours
 *   under a heartbeat timeout of at most 2 hours);
 * - a claim whose holder died (lease over, no command) → take it over as a
 *   retried event would, and send unless the holder's command is found;
 * - no record of the pending action (its lifecycle event was lost, or its
 *   handling failed for good) → the `#current` item (current-action.ts,
 *   invariants I1-I4): sighted on one pass, claimed and run on the next.
 *
 * What the pass does first when it cannot do everything (the function's time
 * runs short under throttling, or a fleet waits at once): it reads every
 * waiting instance's records (reads of the table only, many at once), then
 * handles the instances in order of urgency: a heartbeat due first, the action
 * closest to its heartbeat timeout first; then actions without a command (or
 * without a record); then the rest, each by its heartbeat deadline.
 * Instances are handled a few at a time, and no new one is started once the
 * function's time runs short: the rest wait for the next pass. What throttling
 * fails past the SDK's attempts is repeated while the function has time,
 * rather than left to the next pass, which may come too late: a heartbeat that
 * keeps a command's action alive, the handling of an instance (a few times),
 * and the pass's listing of its hooks and groups (pass.ts).
 */
import { randomUUID } from 'node:crypto';
import {
  AutoScalingClient,
  AutoScalingGroup,
  DescribeAutoScalingGroupsCommand,
  DescribeWarmPoolCommand,
} from '@aws-sdk/client-auto-scaling';
import { DescribeInstanceInformationCommand, GetCommandInvocationCommand, SSMClient } from '@aws-sdk/client-ssm';
import {
  ActionRecord,
  actionsOfInstance,
  markClosed,
  markEnded,
  RECORD_TTL_SECONDS,
  recordCommand,
  recordCommandEnded,
  recordHeartbeat,
  takeOverClaim,
} from './action-record';
import { errorName, isTransient } from './aws-errors';
import { LEASE_MARGIN_MS, SEND_WINDOW_MS } from './claim-timing';
import { clientOptions } from './client-options';
import { actionIsPending, completeAction, Completion } from './completing';
import {
  claimCurrent,
  CurrentAction,
  finishCurrent,
  passActionName,
  readCurrent,
  recordCurrentCommand,
  recordCurrentHeartbeat,
  releaseCurrent,
  sight,
} from './current-action';
import { actionRepaired, commandEnded, commandNotSent, commandSent, MetricHook } from './emf';
import { HookConfig, InvocationResult, LifecycleAction, resultForStatus, TERMINAL_STATUSES } from './events';
import { UNANSWERED_CHECK_GRACE_MS } from './registration-wait';
import { findCommandOfAction, sendCommand } from './sending';
import { sleep } from './timing';

const autoScaling = new AutoScalingClient(clientOptions());
const ssm = new SSMClient(clientOptions());

/** Instances handled at once: a few calls each, well under the APIs' rates. */
export const PASS_CONCURRENCY = 8;
/** Instances whose records are read at once, before the pass orders them: one DynamoDB Query each. */
const READ_CONCURRENCY = 32;
/** A heartbeat that keeps an action alive is not repeated once the function has less time than this left. */
const HEARTBEAT_RESERVE_MS = 5_000;
/** Longest wait between two repeats of a call (or of an instance's handling) that failed. */
const REPEAT_CAP_MS = 4_000;
/**
 * Times an instance is handled in one pass when its handling fails on a
 * transient error (throttling past the SDK's attempts): a few, so that one
 * instance whose calls keep failing does not hold up the others.
 */
const INSTANCE_ATTEMPTS = 3;
/**
 * Passes that have a chance at each heartbeat before the action would time
 * out: should one pass fail, or not reach the action, the next still does.
 */
const HEARTBEAT_PASSES = 2;
/** No instance is started later than this before the function's end: room for one send and its lost-answer checks. */
export const INSTANCE_RESERVE_MS = 40_000;
/** How late a pass may start after its period (the schedule's own jitter, a cold start, a slow list). */
const PASS_SLACK_MS = 180_000;

/**
 * The lifecycle states in which this hook's actions wait, by transition. An
 * instance retained after its terminate action was abandoned
 * (`Terminating:Retained`, `Warmed:Pending:Retained`, `Warmed:Terminating:Retained`)
 * has no action left: it waits for someone to look at it, and the pass leaves it alone.
 */
export function waitStatesOf(transition: HookConfig['transition']): readonly string[] {
  return transition === 'launch'
    ? ['Pending:Wait', 'Warmed:Pending:Wait']
    // A terminate hook also runs as an instance returns to the warm pool, and as a pooled instance terminates.
    : ['Terminating:Wait', 'Warmed:Pending:Wait', 'Warmed:Terminating:Wait'];
}

/** What one pass did, for the log line and tests. */
export interface PassReport {
  waiting: number;
  handled: number;
  /** Instances left for the next pass because the function's time ran short. */
  left: number;
  completed: number;
  heartbeats: number;
  sent: number;
  sighted: number;
}

interface Waiting {
  readonly instanceId: string;
  readonly state: string;
}

interface PassContext {
  readonly config: HookConfig;
  readonly claimId: string;
  readonly report: PassReport;
  readonly requestId?: string;
  readonly remainingMs: () => number;
}

/** A waiting instance and its records, as read at the start of the pass (undefined: the read failed or time ran short). */
interface Found {
  readonly instance: Waiting;
  records?: ActionRecord[];
}

/**
 * One hook's pass.
 * @param group the hook's group as DescribeAutoScalingGroups described it for
 * the whole runtime's pass (null: not found); described here when absent.
 */
export async function reconcile(
  config: HookConfig, remainingMs: () => number, requestId?: string, group?: AutoScalingGroup | null,
): Promise<PassReport> {
  const report: PassReport = { waiting: 0, handled: 0, left: 0, completed: 0, heartbeats: 0, sent: 0, sighted: 0 };
  const waiting = await waitingInstances(config, group === undefined ? await describeGroup(config.groupName) : group);
  report.waiting = waiting.length;
  const ctx: PassContext = { config, claimId: requestId ?? randomUUID(), report, requestId, remainingMs };
  const found = await readRecords(config, waiting, remainingMs);
  const now = Date.now();
  const ordered = found
    .map((f) => ({ ...f, urgency: urgencyOf(config, f.records, now) }))
    .sort((a, b) => a.urgency.rank - b.urgency.rank || a.urgency.deadline - b.urgency.deadline);
  let next = 0;
  const worker = async () => {
    while (next < ordered.length) {
      if (remainingMs() < INSTANCE_RESERVE_MS) return;
      const { instance, records } = ordered[next++];
      let read = records;
      try {
        // Handled again at once, its records read anew, should throttling outlast the SDK's attempts: an action
        // without a record (its event lost) missed by this pass may have no pass left before its heartbeat timeout.
        await repeatWhileTimeLasts(remainingMs, INSTANCE_RESERVE_MS, () => {
          const attempt = reconcileInstance(ctx, instance, read);
          read = undefined;
          return attempt;
        }, INSTANCE_ATTEMPTS);
      } catch (error) {
        // One instance's trouble (throttling that outlasted the retries) is the next pass's to repair.
        console.warn({ message: 'reconciliation of an instance failed; the next pass tries again', instanceId: instance.instanceId, error: errorName(error) });
      }
      report.handled++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(PASS_CONCURRENCY, waiting.length) }, worker));
  report.left = waiting.length - report.handled;
  if (report.waiting > 0) console.info({ message: 'reconciliation pass', ...report });
  return report;
}

/** Every waiting instance's records, read many at once while the function has time. */
async function readRecords(config: HookConfig, waiting: readonly Waiting[], remainingMs: () => number): Promise<Found[]> {
  const found: Found[] = waiting.map((instance) => ({ instance }));
  let next = 0;
  const worker = async () => {
    while (next < found.length) {
      if (remainingMs() < INSTANCE_RESERVE_MS) return;
      const entry = found[next++];
      // A read that failed (throttling past the retries) is made again when the instance's turn comes.
      entry.records = await actionsOfInstance(config.actionTable, entry.instance.instanceId).catch(() => undefined);
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, found.length) }, worker));
  return found;
}

/**
 * How urgent an instance is for the pass: rank 0, a running command whose
 * heartbeat is due; 1, an action without a command, or not known to the pass
 * (its records unread, or none: its event was lost); 2, the rest. Within a
 * rank, the earliest heartbeat deadline first (unknown ones before all).
 */
function urgencyOf(config: HookConfig, records: readonly ActionRecord[] | undefined, now: number): { rank: number; deadline: number } {
  const open = records?.filter((r) => !r.closed && r.state !== 'ended') ?? [];
  if (open.length === 0) return { rank: 1, deadline: -Infinity };
  let urgency = { rank: 2, deadline: Infinity };
  for (const record of open) {
    const lastBeat = record.heartbeatAt ?? record.startedAt ?? 0;
    const rank = !record.commandId ? 1 : heartbeatDue(config, lastBeat, now) ? 0 : 2;
    const deadline = lastBeat + config.heartbeatTimeoutSeconds * 1000;
    if (rank < urgency.rank || (rank === urgency.rank && deadline < urgency.deadline)) urgency = { rank, deadline };
  }
  return urgency;
}

/** Groups DescribeAutoScalingGroups describes in one call by default. */
export const GROUPS_PER_DESCRIBE = 50;

/** The groups of these names that exist, described a call per GROUPS_PER_DESCRIBE names. */
export async function describeGroups(names: readonly string[]): Promise<Map<string, AutoScalingGroup>> {
  const described = new Map<string, AutoScalingGroup>();
  const unique = [...new Set(names)];
  for (let i = 0; i < unique.length; i += GROUPS_PER_DESCRIBE) {
    const chunk = unique.slice(i, i + GROUPS_PER_DESCRIBE);
    let token: string | undefined;
    do {
      const page = await autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: chunk, NextToken: token }));
      for (const group of page.AutoScalingGroups ?? []) {
        if (group.AutoScalingGroupName) described.set(group.AutoScalingGroupName, group);
      }
      token = page.NextToken;
    } while (token);
  }
  return described;
}

async function describeGroup(name: string): Promise<AutoScalingGroup | null> {
  return (await describeGroups([name])).get(name) ?? null;
}

/** The group's instances in one of this hook's wait states: from the group's description, and DescribeWarmPool with a warm pool. */
async function waitingInstances(config: HookConfig, group: AutoScalingGroup | null): Promise<Waiting[]> {
  const states = waitStatesOf(config.transition);
  if (!group) {
    console.error({ message: 'the Auto Scaling group was not found; nothing to reconcile', groupName: config.groupName });
    return [];
  }
  const waiting: Waiting[] = (group.Instances ?? [])
    .filter((i) => i.InstanceId && states.includes(i.LifecycleState ?? ''))
    .map((i) => ({ instanceId: i.InstanceId!, state: i.LifecycleState! }));
  if (group.WarmPoolConfiguration && states.some((s) => s.startsWith('Warmed:'))) {
    let token: string | undefined;
    do {
      const page = await autoScaling.send(new DescribeWarmPoolCommand({ AutoScalingGroupName: config.groupName, NextToken: token }));
      waiting.push(...(page.Instances ?? [])
        .filter((i) => i.InstanceId && states.includes(i.LifecycleState ?? ''))
        .map((i) => ({ instanceId: i.InstanceId!, state: i.LifecycleState! })));
      token = page.NextToken;
    } while (token);
  }
  return waiting;
}

async function reconcileInstance(ctx: PassContext, instance: Waiting, read?: ActionRecord[]): Promise<void> {
  const { config } = ctx;
  const records = read ?? await actionsOfInstance(config.actionTable, instance.instanceId);
  let handled = false;
  for (const record of records) {
    if (record.closed || record.state === 'ended') continue;
    const step = record.commandId ? await settleCommand(ctx, record) : await resumeClaim(ctx, record);
    if (step !== 'ended') handled = true;
  }
  // This hook's pending action has a record that is being taken care of, or this pass just completed it.
  if (handled) return;
  await reconcileUnknown(ctx, instance, records);
}

/** A recorded command: complete its action if it ended, or keep the action alive while it runs. */
async function settleCommand(ctx: PassContext, record: ActionRecord): Promise<'live' | 'ended' | 'completed'> {
  const { config } = ctx;
  const status = await commandStatus(record.instanceId, record.commandId!);
  if (status === undefined) return 'live';
  if (TERMINAL_STATUSES.includes(status)) {
    // Its status event was lost or is late: the command's end is counted once, by whichever records it first.
    const ending = await recordCommandEnded(config.actionTable, record.instanceId, record.token, record.commandId!, status);
    if (ending.first) {
      commandEnded(hookOf(config), { instanceId: record.instanceId, commandId: record.commandId!, status }, { requestId: ctx.requestId });
    }
    const outcome = await completeForStatus(ctx, record.instanceId, record.token, status, record.commandId!, record.startedAt);
    await markClosed(config.actionTable, record);
    return outcome === 'completed' ? 'completed' : 'ended';
  }
  if (!heartbeatDue(config, record.heartbeatAt ?? record.startedAt ?? 0)) return 'live';
  if (!await keepAlive(ctx, () => actionIsPending(config, record.instanceId, record.token))) {
    await markClosed(config.actionTable, record);
    return 'ended';
  }
  ctx.report.heartbeats++;
  await recordHeartbeat(config.actionTable, record, Date.now());
  return 'live';
}

/**
 * A claim without a command: wait for its holder while the lease runs, then
 * take it over as a retried event would. A registration wait whose chain
 * stopped is left to a copy of its event or a late check, unless the agent
 * is online (then the pass sends) or the registration deadline passed (then
 * the pass fails the action, as the chain would have).
 */
async function resumeClaim(ctx: PassContext, record: ActionRecord): Promise<'live' | 'ended'> {
  const { config } = ctx;
  if (Date.now() < record.leaseUntil) return 'live';
  if (record.state === 'failing') {
    // The registration deadline passed and its failer stopped before completing: the pass completes the failure.
    await completeAction(config, record.instanceId, record.token, config.failureResult, 'the SSM agent did not register in time');
    await markEnded(config.actionTable, actionOf(record), 'the SSM agent did not register in time');
    return 'ended';
  }
  const foundOnline = record.state === 'waiting' && !registrationDeadlinePassed(record) ? await agentOnline(record.instanceId) : undefined;
  if (foundOnline === false) return 'live';
  const sendBy = Date.now() + SEND_WINDOW_MS;
  const agentOnlineAt = foundOnline ? Date.now() : record.agentOnlineAt;
  if (!await takeOverClaim(config.actionTable, record, ctx.claimId, sendBy, sendBy + LEASE_MARGIN_MS, foundOnline ? agentOnlineAt : undefined)) return 'live';
  const action = actionOf(record);
  const found = await findCommandOfAction(config, action);
  if (found) {
    // Counted unless its sender (late, not stopped) or its status event recorded it first.
    if ((await recordCommand(config.actionTable, action, found)).first) passSent(ctx, record.instanceId, found);
    return 'live';
  }
  if (!await actionIsPending(config, record.instanceId, record.token)) {
    await markEnded(config.actionTable, action, 'the lifecycle action had ended before its command was sent');
    return 'ended';
  }
  // Launch: only once the agent is online; until then the claim's lease runs out again and the next pass looks.
  if (config.transition === 'launch' && !await agentOnline(record.instanceId)) {
    if (agentOnlineAt !== undefined) return awaitReconnection(ctx, record, agentOnlineAt);
    if (!registrationDeadlinePassed(record)) return 'live';
    commandNotSent(hookOf(config), { instanceId: record.instanceId, reason: 'AgentNotRegistered', step: 'DescribeInstanceInformation' }, { requestId: ctx.requestId });
    await completeAction(config, record.instanceId, record.token, config.failureResult, 'the SSM agent did not register in time');
    await markEnded(config.actionTable, action, 'the SSM agent did not register in time');
    return 'ended';
  }
  try {
    const commandId = await sendCommand(config, action, sendBy);
    const recording = await recordCommand(config.actionTable, action, commandId);
    if (recording.first || recording.other) passSent(ctx, record.instanceId, commandId);
    ctx.report.sent++;
  } catch (error) {
    if (isTransient(error)) throw error;
    await completeAction(config, record.instanceId, record.token, config.failureResult, `SendCommand failed: ${errorName(error)}`);
    await markEnded(config.actionTable, action, `SendCommand failed: ${errorName(error)}`);
    return 'ended';
  }
  return 'live';
}

/**
 * The agent registered (an invocation found it online and claimed the action)
 * and is offline now: a restart, a lost connection. SendCommand refuses an
 * agent that is not online, so the action waits for it, and a later pass sends
 * once it is back; each pass that takes the claim over restarts the action's
 * heartbeat timeout (actionIsPending). The registration deadline is not this
 * agent's: it fails the action only once it stays away as long again as the
 * registration wait, counted from the deadline.
 */
async function awaitReconnection(ctx: PassContext, record: ActionRecord, agentOnlineAt: number): Promise<'live' | 'ended'> {
  const { config } = ctx;
  const backBy = Math.max(record.waitDeadline ?? 0, agentOnlineAt) + config.registrationTimeoutSeconds * 1000;
  if (Date.now() <= backBy) {
    console.warn({ message: 'the SSM agent registered and is offline now; the next pass sends once it is back', instanceId: record.instanceId, agentOnlineAt });
    return 'live';
  }
  const reason = 'the SSM agent went offline after registering and did not come back in time';
  commandNotSent(hookOf(config), { instanceId: record.instanceId, reason: 'AgentNotRegistered', step: 'DescribeInstanceInformation' }, { requestId: ctx.requestId });
  await completeAction(config, record.instanceId, record.token, config.failureResult, reason);
  await markEnded(config.actionTable, actionOf(record), reason);
  return 'ended';
}

/** No record of the pending action: the `#current` item's path (current-action.ts). */
async function reconcileUnknown(ctx: PassContext, instance: Waiting, records: readonly ActionRecord[]): Promise<void> {
  const { config } = ctx;
  const table = config.actionTable;
  const { instanceId } = instance;
  const current = await readCurrent(table, instanceId);
  if (current?.state === 'sent') return settleCurrentCommand(ctx, instance, current, records);
  if (current?.state === 'claimed') {
    if (Date.now() < (current.leaseUntil ?? 0)) return;
    return runCurrent(ctx, instance, current);
  }
  // Several hooks of one transition: the instance may wait on another hook while this one's action is done.
  if (!await actionIsPending(config, instanceId, undefined)) {
    if (current?.state === 'sighted') await finishCurrent(table, instanceId);
    return;
  }
  if (!current || current.state === 'done') {
    if (await sight(table, instanceId, Date.now(), instance.state, RECORD_TTL_SECONDS)) ctx.report.sighted++;
    console.warn({ message: 'lifecycle action pending without a record; the next pass runs its command unless its event arrives', instanceId, state: instance.state });
    return;
  }
  // I4: until the next pass for a delayed event to arrive and take the ordinary path. Half a period,
  // not a whole one: the next pass may reach the instance a little earlier in its run than this one did.
  if (Date.now() - current.sightedAt < config.passPeriodSeconds * 500) return;
  return runCurrent(ctx, instance, current);
}

/** Claims (or takes over) the `#current` item and sends the command, unless an event holds the action (I1). */
async function runCurrent(ctx: PassContext, instance: Waiting, current: CurrentAction): Promise<void> {
  const { config } = ctx;
  const table = config.actionTable;
  const { instanceId } = instance;
  if (config.transition === 'launch' && !await agentOnline(instanceId)) return;
  const now = Date.now();
  const sendBy = now + SEND_WINDOW_MS;
  if (!await claimCurrent(table, current, ctx.claimId, now, sendBy + LEASE_MARGIN_MS)) return;
  const action: LifecycleAction = {
    kind: 'lifecycle-action',
    instanceId,
    token: passActionName(current),
    transition: `autoscaling:EC2_INSTANCE_${config.transition === 'launch' ? 'LAUNCHING' : 'TERMINATING'}`,
  };
  if (current.state === 'claimed') {
    // A pass that held the claim may have sent before it stopped.
    const found = await findCommandOfAction(config, action);
    if (found) {
      // The pass that sent it stopped before recording it, so before counting it.
      if (await recordCurrentCommand(table, instanceId, ctx.claimId, found)) passSent(ctx, instanceId, found);
      return;
    }
  }
  // I1: a token record written before this claim, of a pending action, means an event is on it.
  for (const record of await actionsOfInstance(table, instanceId)) {
    if (record.closed || record.state === 'ended') continue;
    if (!await actionIsPending(config, instanceId, record.token)) continue;
    if (await releaseCurrent(table, instanceId, ctx.claimId)) return;
    break; // The event adopted the claim first: this pass sends, and the token is known.
  }
  try {
    const commandId = await sendCommand(config, action, sendBy);
    // Not recorded: another pass took the claim over after this one's lease; it finds the command and counts it.
    if (await recordCurrentCommand(table, instanceId, ctx.claimId, commandId)) passSent(ctx, instanceId, commandId);
    ctx.report.sent++;
    console.warn({ message: 'command sent for a lifecycle action whose event never came', instanceId, commandId });
  } catch (error) {
    if (isTransient(error)) throw error;
    const fresh = await readCurrent(table, instanceId);
    await completeAction(config, instanceId, fresh?.token, config.failureResult, `SendCommand failed: ${errorName(error)}`);
    await finishCurrent(table, instanceId);
  }
}

async function settleCurrentCommand(ctx: PassContext, instance: Waiting, current: CurrentAction, records: readonly ActionRecord[]): Promise<void> {
  const { config } = ctx;
  const status = await commandStatus(instance.instanceId, current.commandId!);
  if (status === undefined) return;
  if (TERMINAL_STATUSES.includes(status)) {
    await completeCurrent(config, current, status, records, instance.state, ctx);
    return;
  }
  if (current.token === undefined && (laterAction(current, records) || instance.state !== current.waitState)) {
    // I3: the claim's action ended (completed from outside) and another began: the command runs on, completing nothing.
    console.warn({ message: 'the action of a command sent without its event has ended; its result completes no other action', instanceId: instance.instanceId, commandId: current.commandId });
    await finishCurrent(config.actionTable, instance.instanceId, current.commandId);
    return;
  }
  if (!heartbeatDue(config, current.heartbeatAt ?? current.claimedAt ?? 0)) return;
  if (await keepAlive(ctx, () => actionIsPending(config, instance.instanceId, current.token))) {
    ctx.report.heartbeats++;
    await recordCurrentHeartbeat(config.actionTable, instance.instanceId, Date.now());
  }
}

/**
 * Completes the action of a pass's command: by token once an event adopted
 * the claim; else by instance id, only under I3's conditions.
 */
export async function completeCurrent(
  config: HookConfig,
  current: CurrentAction,
  status: string,
  records: readonly ActionRecord[],
  waitState?: string,
  ctx?: PassContext,
): Promise<Completion | 'ignored'> {
  const { instanceId } = current;
  if (current.token === undefined && (laterAction(current, records) || (waitState !== undefined && waitState !== current.waitState))) {
    console.error({ message: 'the action of a command sent without its event has ended; not completing another action', instanceId, commandId: current.commandId });
    await finishCurrent(config.actionTable, instanceId, current.commandId);
    return 'ignored';
  }
  const outcome = ctx
    ? await completeForStatus(ctx, instanceId, current.token, status, current.commandId!)
    : await completeAction(config, instanceId, current.token, resultForStatus(status, config.failureResult), `command ${current.commandId} ended ${status}`);
  await finishCurrent(config.actionTable, instanceId, current.commandId);
  return outcome;
}

/** The status event of a command a pass sent: found by the `#current` item, since its comment names no token. */
export async function finishPassCommand(config: HookConfig, invocation: InvocationResult, records: readonly ActionRecord[]): Promise<Completion | 'ignored' | undefined> {
  const current = await readCurrent(config.actionTable, invocation.instanceId);
  if (!current || current.commandId !== invocation.commandId || current.state !== 'sent') return undefined;
  // I3: without a token, the action is the instance's pending one only while the instance is still in the
  // wait state of the claim. An operator may have completed it meanwhile, and the next action begun.
  const waitState = current.token === undefined ? await lifecycleStateOf(config, invocation.instanceId) : undefined;
  return completeCurrent(config, current, invocation.status, records, waitState);
}

/** The instance's lifecycle state in the hook's group or its warm pool; '' when it is in neither. */
async function lifecycleStateOf(config: HookConfig, instanceId: string): Promise<string> {
  const group = await describeGroup(config.groupName);
  const inGroup = group?.Instances?.find((i) => i.InstanceId === instanceId)?.LifecycleState;
  if (inGroup || !group?.WarmPoolConfiguration) return inGroup ?? '';
  let token: string | undefined;
  do {
    const page = await autoScaling.send(new DescribeWarmPoolCommand({ AutoScalingGroupName: config.groupName, NextToken: token }));
    const pooled = page.Instances?.find((i) => i.InstanceId === instanceId)?.LifecycleState;
    if (pooled) return pooled;
    token = page.NextToken;
  } while (token);
  return '';
}

/** I3: a token record of an action that began after the pass's claim: the claim's action has ended. */
function laterAction(current: CurrentAction, records: readonly ActionRecord[]): boolean {
  return records.some((r) => r.startedAt !== undefined && r.startedAt > (current.claimedAt ?? current.sightedAt));
}

async function completeForStatus(
  ctx: PassContext,
  instanceId: string,
  token: string | undefined,
  status: string,
  commandId: string,
  /** When the action began (its record's), for the `ActionDuration` sample. */
  startedAt?: number,
): Promise<Completion> {
  const result = resultForStatus(status, ctx.config.failureResult);
  const reason = `command ${commandId} ended ${status}; its status event did not complete the action`;
  const eventTime = startedAt !== undefined ? new Date(startedAt).toISOString() : undefined;
  const outcome = await completeAction(ctx.config, instanceId, token, result, reason, { requestId: ctx.requestId, eventTime });
  if (outcome === 'completed') {
    ctx.report.completed++;
    actionRepaired(hookOf(ctx.config), { instanceId, result, reason }, { requestId: ctx.requestId });
  }
  return outcome;
}

/** The command's status on the instance; undefined while SSM does not show it yet. */
async function commandStatus(instanceId: string, commandId: string): Promise<string | undefined> {
  try {
    const got = await ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId }));
    return got.Status;
  } catch (error) {
    if (errorName(error) === 'InvocationDoesNotExist') return undefined;
    throw error;
  }
}

/** `CommandsSent`, for a command the pass recorded first: nobody else counts it (lifecycle-command.lambda.ts counts the event path's). */
function passSent(ctx: PassContext, instanceId: string, commandId: string): void {
  commandSent(hookOf(ctx.config), { instanceId, commandId }, { requestId: ctx.requestId });
}

/** The action waited for its agent, and the registration deadline (with the grace an unanswered last check gets) is over. */
function registrationDeadlinePassed(record: ActionRecord): boolean {
  return record.waitDeadline !== undefined && Date.now() > record.waitDeadline + UNANSWERED_CHECK_GRACE_MS;
}

async function agentOnline(instanceId: string): Promise<boolean> {
  const info = await ssm.send(new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: [instanceId] }] }));
  return info.InstanceInformationList?.some((i) => i.InstanceId === instanceId && i.PingStatus === 'Online') ?? false;
}

/**
 * Whether the action would time out before HEARTBEAT_PASSES more passes could
 * heartbeat it: its last heartbeat (or its start) plus the heartbeat timeout
 * falls within that many periods and the slack of a late pass. A heartbeat
 * that this pass could not make (throttled for its whole time, the pass
 * failed) still has the next pass before the timeout.
 */
export function heartbeatDue(config: HookConfig, lastBeatMs: number, nowMs: number = Date.now()): boolean {
  if (config.heartbeatTimeoutSeconds <= 0) return false;
  return lastBeatMs + config.heartbeatTimeoutSeconds * 1000 < nowMs + HEARTBEAT_PASSES * config.passPeriodSeconds * 1000 + PASS_SLACK_MS;
}

/**
 * A call the pass cannot do without, repeated past the SDK's attempts while
 * it fails on a transient error (throttling), with a growing wait, for as long
 * as the function has more than `reserveMs` left (and at most `attempts`
 * times): the next pass may come too late for an action this one misses. A
 * heartbeat that keeps a running command's action alive is one
 * (RecordLifecycleActionHeartbeat only restarts the action's timer, so
 * repeating it is harmless); the pass's listing of its hooks and groups, and
 * the handling of one instance, are others.
 */
export async function repeatWhileTimeLasts<T>(
  remainingMs: () => number, reserveMs: number, call: () => Promise<T>, attempts: number = Infinity,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const waitMs = Math.min(REPEAT_CAP_MS, 250 * 2 ** attempt) * (0.5 + Math.random() / 2);
      if (!isTransient(error) || attempt >= attempts || remainingMs() - waitMs < reserveMs) throw error;
      await sleep(waitMs);
    }
  }
}

/** A heartbeat that keeps a running command's action alive, repeated while the function has time. */
function keepAlive<T>(ctx: PassContext, beat: () => Promise<T>): Promise<T> {
  return repeatWhileTimeLasts(ctx.remainingMs, HEARTBEAT_RESERVE_MS, beat);
}

function hookOf(config: HookConfig): MetricHook {
  return { groupName: config.groupName, hookName: config.hookName };
}

function actionOf(record: ActionRecord): LifecycleAction {
  return {
    kind: 'lifecycle-action',
    instanceId: record.instanceId,
    token: record.token,
    transition: record.transition ?? '',
    ...(record.origin ? { origin: record.origin } : {}),
    ...(record.destination ? { destination: record.destination } : {}),
  };
}
