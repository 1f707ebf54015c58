/**
 * The runtime's handler, shared by every hook of the runtime. First, which
 * hook the event is for (routing.ts). Then, a lifecycle event: on a launch,
 * check once that the instance's SSM agent is online, and if it is not,
 * schedule the next check and return; then claim the action, check it is
 * still pending, send its command (once). A registration check: the same,
 * from the check. A command's final status: find the action the command
 * belongs to, and complete that action by its token. The schedule: a
 * reconciliation pass over every hook (pass.ts).
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import {
  ActionRecord,
  actionsOfInstance,
  claimAction,
  markEnded,
  nextStepForExisting,
  readAction,
  recordCommand,
  recordCommandEnded,
  takeOverClaim,
} from './action-record';
import { errorName, isTransient } from './aws-errors';
import { LEASE_MARGIN_MS, SEND_WINDOW_MS } from './claim-timing';
import { actionIsPending, completeAction } from './completing';
import { adoptCurrent } from './current-action';
import { commandEnded, commandNotSent, commandSent, LineContext, MetricHook } from './emf';
import {
  classifyEvent,
  HookConfig,
  InvocationResult,
  LifecycleAction,
  resultForStatus,
} from './events';
import { readRuntime } from './hook-config';
import { notSentReason } from './metrics';
import { passAllHooks } from './pass';
import { finishPassCommand } from './reconcile';
import { checkRegistration, classifyRegistrationCheck, Registration, RegistrationCheck, scheduleNextCheck } from './registration-wait';
import { routeEvent } from './routing';
import { findCommandOfAction, sendCommand, tokenOfCommand } from './sending';
import { decideStage, readStages } from './stages';

/** Time kept back from the function's own timeout for completing the action. */
const COMPLETION_RESERVE_MS = 10_000;

export { LEASE_MARGIN_MS, SEND_WINDOW_MS } from './claim-timing';

/** What the handler uses of Lambda's context: its remaining time, and its request id to name its claims. */
type InvocationContext = Pick<Context, 'getRemainingTimeInMillis'> & Partial<Pick<Context, 'awsRequestId'>>;

/** What one invocation did, returned for tests and the stand-in. */
export type Outcome =
  | 'ignored'
  | 'command-sent'
  | 'command-already-sent'
  | 'claim-held'
  | 'action-ended'
  | 'completed'
  | 'already-completed'
  | 'complete-refused'
  | 'waiting-for-registration'
  | 'registration-wait-running'
  | 'reconciled';

/** The hook the outcome lines (and their metrics) speak for, and the invocation that writes them. */
interface Lines {
  readonly hook: MetricHook;
  readonly ctx: LineContext;
}

export async function handler(event: unknown, context?: InvocationContext): Promise<Outcome> {
  const runtime = readRuntime(process.env);
  const route = await routeEvent(event, runtime);
  switch (route.kind) {
    case 'ignored':
      console.warn({ message: 'event ignored', reason: route.reason, detailType: detailTypeOf(event) });
      return 'ignored';
    case 'pass':
      await passAllHooks(runtime, () => context?.getRemainingTimeInMillis() ?? Infinity, context?.awsRequestId);
      return 'reconciled';
    case 'hook':
      return handleHookEvent(route.config, route.event, context);
  }
}

/** An event of one hook. */
async function handleHookEvent(config: HookConfig, event: unknown, context?: InvocationContext): Promise<Outcome> {
  const stages = readStages(config.stages, config.transition);
  const lines: Lines = {
    hook: { groupName: config.groupName, hookName: config.hookName },
    ctx: context?.awsRequestId ? { requestId: context.awsRequestId } : {},
  };
  const classified = classifyRegistrationCheck(event, config) ?? classifyEvent(event, config);
  switch (classified.kind) {
    case 'ignored':
      console.warn({ message: 'event ignored', reason: classified.reason, detailType: detailTypeOf(event) });
      return 'ignored';
    case 'lifecycle-action': {
      const decision = decideStage({ Origin: classified.origin, Destination: classified.destination }, config.transition, stages);
      if (!decision.run) {
        // Not an ActionDuration sample: completed at once, it would pull the duration of the actions that run the commands towards zero.
        return completeAction(config, classified.instanceId, classified.token, 'CONTINUE', decision.reason, lines.ctx);
      }
      if (decision.stage === undefined) console.warn({ message: 'lifecycle event of an unknown stage', instanceId: classified.instanceId, reason: decision.reason });
      return runCommand(config, classified, lines, context);
    }
    case 'registration-check':
      // The stage was decided when the lifecycle event arrived: only actions that run the commands wait.
      return runCommand(config, classified.action, lines, context, classified);
    case 'invocation-result':
      return finishAction(config, classified, lines);
    case 'reconcile':
      // The schedule is routed before this; a Scheduled Event in a hook's wrapper is not the runtime's.
      console.warn({ message: 'event ignored', reason: 'scheduled event inside a hook\'s event', detailType: detailTypeOf(event) });
      return 'ignored';
  }
}

async function runCommand(
  config: HookConfig,
  action: LifecycleAction,
  lines: Lines,
  context?: InvocationContext,
  check?: RegistrationCheck,
): Promise<Outcome> {
  const { instanceId, token } = action;
  const completion = { ...lines.ctx, eventTime: action.eventTime };
  const deadline = Date.now() + (context ? context.getRemainingTimeInMillis() - COMPLETION_RESERVE_MS : Infinity);
  const claimId = context?.awsRequestId ?? randomUUID();
  let step = 'DescribeInstanceInformation';
  let claimed = false;
  /** Launch: when the agent was found online, kept on the claim (an agent that registered is never failed for not registering). */
  let agentOnlineAt: number | undefined;
  try {
    if (config.transition === 'launch') {
      // Read-only, so done before claiming: the claim is held only while sending.
      const registration = await checkRegistration(instanceId);
      if (registration !== 'online') {
        step = 'StartExecution';
        // The action's record may now hold the wait: a failure path below ends it.
        claimed = true;
        return await awaitRegistration(config, action, lines, registration, claimId, check);
      }
      if (check) console.info({ message: 'SSM agent registered', instanceId, checks: check.attempt + 1 });
      agentOnlineAt = Date.now();
    }

    step = 'claim';
    const sendBy = Math.min(Date.now() + SEND_WINDOW_MS, deadline);
    claimed = check?.chain
      // The chain's own check claims the action from the chain's wait; nothing was sent while it waited.
      ? await takeOverClaim(config.actionTable, { instanceId, token, state: 'waiting', claimId: check.chain }, claimId, sendBy, sendBy + LEASE_MARGIN_MS, agentOnlineAt)
      : false;
    claimed ||= await claimAction(config.actionTable, action, claimId, sendBy, sendBy + LEASE_MARGIN_MS, agentOnlineAt);
    if (!claimed) {
      const settled = await meetExistingClaim(config, action, lines, claimId, sendBy, agentOnlineAt);
      if (settled !== 'taken-over') return settled;
      claimed = true;
    }

    step = 'RecordLifecycleActionHeartbeat';
    // Before looking for a pass's claim: an action that ended adopts nothing. A late event of an instance's
    // earlier action (warm pools) would otherwise hand its token to the claim of the instance's next action.
    if (!await actionIsPending(config, instanceId, token)) {
      await markEnded(config.actionTable, action, 'the lifecycle action had ended before its command was sent');
      console.warn({ message: 'lifecycle action ended before its command was sent; nothing sent', instanceId });
      return 'action-ended';
    }
    if (await passHoldsAction(config, action)) return 'command-already-sent';

    step = 'SendCommand';
    const commandId = await sendCommand(config, action, sendBy);
    const recording = await recordCommand(config.actionTable, action, commandId);
    if (recording.other) console.error({ message: 'the lifecycle action already had another command', instanceId, commandId, recorded: recording.other });
    // Counted by the write that recorded it first: a status event (or a take-over) may have found the command
    // while its answer was lost, and counted it. A second command (recorded nowhere) is counted here.
    if (recording.first || recording.other) commandSent(lines.hook, { instanceId, commandId }, lines.ctx);
    return 'command-sent';
  } catch (error) {
    if (isTransient(error)) throw error;
    // The instance is gone or unmanaged, the document is invalid, or access is
    // denied: no command will ever report, so end the action now.
    commandNotSent(lines.hook, { instanceId, reason: notSentReason(errorName(error)), step, error: errorName(error) }, lines.ctx);
    const outcome = await completeAction(config, instanceId, token, config.failureResult, `${step} failed: ${errorName(error)}`, completion);
    if (claimed) {
      // Only saves later events a heartbeat call: they would find the action ended all the same.
      await markEnded(config.actionTable, action, `${step} failed: ${errorName(error)}`)
        .catch((e: unknown) => console.warn({ message: 'could not mark the action ended', instanceId, error: errorName(e) }));
    }
    return outcome;
  }
}

/**
 * The agent is not online (or the check went unanswered): schedule the next
 * check in the action's one chain of waits and return, or, past the
 * registration deadline, complete the action with the failure result. The
 * deadline counts from the first check, made when the lifecycle event arrived.
 */
async function awaitRegistration(
  config: HookConfig,
  action: LifecycleAction,
  lines: Lines,
  registration: Exclude<Registration, 'online'>,
  claimId: string,
  check?: RegistrationCheck,
): Promise<Outcome> {
  const { instanceId, token } = action;
  const next = await scheduleNextCheck(config, action, registration, claimId, check);
  switch (next.kind) {
    case 'scheduled':
      return 'waiting-for-registration';
    case 'wait-running':
      console.info({ message: 'another chain of registration checks waits for this lifecycle action', instanceId });
      return 'registration-wait-running';
    case 'past-wait':
      if (next.record.state === 'failing') return finishFailing(config, action, lines);
      return outcomeOfExisting(next.record);
    case 'deadline-passed': {
      console.error({ message: 'SSM agent not registered before the deadline', instanceId, checks: next.checks, registration });
      const outcome = await completeAction(config, instanceId, token, config.failureResult, 'the SSM agent did not register in time', { ...lines.ctx, eventTime: action.eventTime });
      // Counted once the completion has answered: a completion that fails is retried by Lambda, which would count it again.
      commandNotSent(lines.hook, { instanceId, reason: 'AgentNotRegistered', step: 'DescribeInstanceInformation' }, lines.ctx);
      await markEnded(config.actionTable, action, 'the SSM agent did not register in time');
      return outcome;
    }
  }
}

/**
 * The action's record is `failing`: its registration deadline passed and its
 * failure is under way (or its failer stopped). Whoever meets it completes the
 * action with the failure result, which is what the failer does, and sends nothing.
 */
async function finishFailing(config: HookConfig, action: LifecycleAction, lines: Lines): Promise<Outcome> {
  console.info({ message: 'the registration deadline of this lifecycle action passed; failing it, nothing sent', instanceId: action.instanceId });
  const outcome = await completeAction(config, action.instanceId, action.token, config.failureResult, 'the SSM agent did not register in time', { ...lines.ctx, eventTime: action.eventTime });
  // Counted by the invocation whose completion ended the action (its failer's retry, after a failed completion).
  if (outcome === 'completed') commandNotSent(lines.hook, { instanceId: action.instanceId, reason: 'AgentNotRegistered', step: 'DescribeInstanceInformation' }, lines.ctx);
  await markEnded(config.actionTable, action, 'the SSM agent did not register in time');
  return outcome;
}

/** What an invocation that is not the action's to handle returns on meeting its record past the wait. */
function outcomeOfExisting(record: ActionRecord): Outcome {
  const next = nextStepForExisting(record, Date.now());
  if (next === 'command-exists') return 'command-already-sent';
  if (next === 'ended') return 'action-ended';
  // A holder sends (the agent was online for it); a holder that stops is taken over by a retry or the pass.
  return 'claim-held';
}

/**
 * Another invocation claimed the action first. Nothing to do if its command is
 * recorded, if the action ended, or while the holder's lease runs; after the
 * lease, take the claim over and look for a command the holder may have sent.
 * @returns the outcome, or `taken-over` when this invocation now holds the claim and no command exists.
 */
async function meetExistingClaim(
  config: HookConfig, action: LifecycleAction, lines: Lines, claimId: string, sendBy: number, agentOnlineAt?: number,
): Promise<Outcome | 'taken-over'> {
  const { instanceId } = action;
  const existing = await readAction(config.actionTable, instanceId, action.token);
  const next = existing ? nextStepForExisting(existing, Date.now()) : 'held';
  if (next === 'command-exists') {
    console.info({ message: 'command already sent for this lifecycle action', instanceId, commandId: existing?.commandId });
    return 'command-already-sent';
  }
  if (next === 'ended') {
    console.info({ message: 'lifecycle action already ended without a command', instanceId, reason: existing?.endReason });
    return 'action-ended';
  }
  if (next === 'failing') return finishFailing(config, action, lines);
  if (next === 'waiting') {
    // The agent is online (the caller checked): the action leaves its wait. Nothing is sent while an action waits.
    if (await takeOverClaim(config.actionTable, existing!, claimId, sendBy, sendBy + LEASE_MARGIN_MS, agentOnlineAt)) return 'taken-over';
    console.info({ message: 'another invocation holds this lifecycle action', instanceId });
    return 'claim-held';
  }
  if (next === 'held' || !await takeOverClaim(config.actionTable, existing!, claimId, sendBy, sendBy + LEASE_MARGIN_MS, agentOnlineAt)) {
    // The holder is sending; if it fails, its own failure path (or Lambda's retry of its event) ends the action.
    console.info({ message: 'another invocation holds this lifecycle action', instanceId });
    return 'claim-held';
  }
  // The previous holder may have sent before it stopped: its lease ended long enough ago for ListCommands to show it.
  const commandId = await findCommandOfAction(config, action);
  if (!commandId) return 'taken-over';
  const { first } = await recordCommand(config.actionTable, action, commandId);
  console.info({ message: 'command of an earlier attempt found', instanceId, commandId });
  // Counted unless its sender (late, not stopped) or its status event recorded it first.
  if (first) commandSent(lines.hook, { instanceId, commandId }, lines.ctx);
  return 'command-already-sent';
}

/**
 * A command ended: complete the action it was sent for, found by the command's
 * id, in the group its lifecycle event named (kept on its record).
 */
async function finishAction(routed: HookConfig, invocation: InvocationResult, routedLines: Lines): Promise<Outcome> {
  const { instanceId, commandId, status } = invocation;
  const records = await actionsOfInstance(routed.actionTable, instanceId);
  // A handler that stopped between sending and recording left no command id: the command's comment names the action.
  const token = records.find((r) => r.commandId === commandId)?.token
    ?? await tokenOfCommand(routed, commandId, instanceId);
  // A group found by tag may be one this environment read before CloudFormation created its replacement.
  const groupName = records.find((r) => r.token === token)?.groupName ?? routed.groupName;
  const config = groupName === routed.groupName ? routed : { ...routed, groupName };
  const lines = groupName === routed.groupName ? routedLines : { ...routedLines, hook: { ...routedLines.hook, groupName } };
  if (!token) {
    // A command a reconciliation pass sent for an action whose event it never saw.
    const passed = await finishPassCommand(config, invocation, records);
    if (passed) return passed;
    console.error({ message: 'no lifecycle action found for the command', instanceId, commandId, status });
    return 'ignored';
  }
  // Counted by the first status event of the command only: EventBridge may deliver it more than once.
  const ending = await recordCommandEnded(config.actionTable, instanceId, token, commandId, status);
  if (ending.newlyRecorded) commandSent(lines.hook, { instanceId, commandId }, lines.ctx);
  if (ending.first) commandEnded(lines.hook, { instanceId, commandId, status }, lines.ctx);
  const startedAt = ending.previous?.startedAt ?? records.find((r) => r.token === token)?.startedAt;
  const eventTime = startedAt !== undefined ? new Date(startedAt).toISOString() : undefined;
  const result = resultForStatus(status, config.failureResult);
  return completeAction(config, instanceId, token, result, `command ${commandId} ended ${status}`, { ...lines.ctx, eventTime });
}

/**
 * A reconciliation pass claimed this action before its event arrived
 * (current-action.ts, I1 and I2): the event hands the pass the token and sends nothing.
 */
async function passHoldsAction(config: HookConfig, action: LifecycleAction): Promise<boolean> {
  if (config.passPeriodSeconds <= 0 || action.startedAt === undefined) return false;
  const adopted = await adoptCurrent(config.actionTable, action.instanceId, action.token, action.startedAt);
  if (!adopted) return false;
  await markEnded(config.actionTable, action, 'the reconciliation pass runs the command of this action');
  console.info({ message: 'a reconciliation pass already runs this lifecycle action\'s command', instanceId: action.instanceId, commandId: adopted.commandId });
  return true;
}

function detailTypeOf(event: unknown): unknown {
  return typeof event === 'object' && event !== null ? (event as Record<string, unknown>)['detail-type'] : undefined;
}
