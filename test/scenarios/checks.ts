/** Assertions shared by the scenarios. Each throws with the scenario's own numbers when it fails. */
import assert from 'node:assert/strict';
import { HOOK_METRICS, METRIC_DIMENSIONS, METRIC_NAMESPACE } from '../../src/handler/metrics';
import { namesOf } from '../standin';
import type { ApiCall, LifecycleResult, ScenarioResult } from '../standin';
import { MetricSample, samplesOf, samplesFor, sumOf } from '../support/emf-samples';

export type { ScenarioResult };

/** A call as the scenarios spell it: `SendCommand ok`, `CompleteLifecycleAction(ABANDON) ValidationError (retry)`. */
export function describeCall(c: ApiCall): string {
  const op = c.operation === 'CompleteLifecycleAction' ? `${c.operation}(${c.result})` : c.operation;
  return `${op} ${c.error ?? 'ok'}${c.retry ? ' (retry)' : ''}`;
}

/** The calls about one instance, in the order the stand-in answered them. */
export function callsOf(r: ScenarioResult, instance: number): string[] {
  return r.calls.filter((c) => c.instance === instance).map(describeCall);
}

/** What each invocation about the instance returned (or how it failed), in start order. */
export function outcomesOf(r: ScenarioResult, instance: number): string[] {
  return r.invocations
    .filter((i) => i.instance === instance)
    .sort((a, b) => a.startMs - b.startMs)
    .map((i) => (i.result === 'ok' ? String(i.value) : i.result));
}

/** Holds for every scenario: the stand-in ran to the end without an internal error. */
export function assertRanClean(r: ScenarioResult): void {
  assert.deepEqual(r.errors, [], 'the stand-in or a timer callback threw');
  assert.equal(r.ending, 'idle', 'the run hit its horizon with work left');
}

export function assertFinalStates(r: ScenarioResult, expected: string | readonly string[]): void {
  const want = typeof expected === 'string' ? r.instances.map(() => expected) : [...expected];
  assert.deepEqual(r.instances.map((i) => i.state), want, 'final lifecycle states');
}

/** Each instance's lifecycle action ended once, with this result, by this party. */
export function assertCompletions(r: ScenarioResult, result: LifecycleResult | readonly LifecycleResult[], by: 'api' | 'heartbeat' | 'operator' | ReadonlyArray<'api' | 'heartbeat' | 'operator'>): void {
  const results = typeof result === 'string' ? r.instances.map(() => result) : result;
  const bys = typeof by === 'string' ? r.instances.map(() => by) : by;
  assert.deepEqual(
    r.instances.map((i) => i.completions.map((c) => `${c.result} by ${c.by}`)),
    r.instances.map((_, n) => [`${results[n]} by ${bys[n]}`]),
    'how each lifecycle action ended',
  );
}

export function assertCommandsPerInstance(r: ScenarioResult, expected: number | readonly number[]): void {
  const want = typeof expected === 'number' ? r.instances.map(() => expected) : [...expected];
  assert.deepEqual(r.instances.map((i) => i.commands), want, 'commands SSM accepted per instance');
}

/**
 * No pass failed; an event's invocation failed only on throttling that
 * outlasted the SDK's three attempts (as the handler's design has it: the
 * invocation fails and Lambda retries the event), and a retry of that event
 * succeeded; nothing reached the dead-letter list.
 */
export function assertOnlyThrottledEventsRetried(r: ScenarioResult): void {
  const failed = r.invocations.filter((i) => i.result !== 'ok');
  const unexplained = failed.filter((f) => f.kind === 'schedule' || !/Throttl|Rate exceeded/.test(f.error ?? '')
    || !r.invocations.some((i) => i.eventId === f.eventId && i.attempt > f.attempt && i.result === 'ok'))
    .map((i) => `${i.kind} #${i.instance}: ${i.result} ${i.error ?? ''}`);
  assert.deepEqual(unexplained, [], 'invocations that failed otherwise than on throttling retried with success');
  assert.equal(r.deadLetters.length, 0, 'dead letters');
}

/** No invocation failed, crashed or timed out, and nothing reached the dead-letter list. */
export function assertHandlerNeverFailed(r: ScenarioResult): void {
  const failed = r.invocations.filter((i) => i.result !== 'ok').map((i) => `${i.kind} #${i.instance}: ${i.result} ${i.error ?? ''}`);
  assert.deepEqual(failed, [], 'invocations that did not succeed');
  assert.equal(r.deadLetters.length, 0, 'dead letters');
}

/** Every command carries the token of the lifecycle action it serves. */
export function assertCommandComments(r: ScenarioResult): void {
  for (const c of r.commands) assert.match(c.comment, /^lifecycle-action [0-9a-f-]{36}$/, `comment of command ${c.id}`);
}

/** Calls of one operation that took effect, per instance. */
export function appliedPerInstance(r: ScenarioResult, operation: string): number[] {
  return r.instances.map((i) => r.calls.filter((c) => c.instance === i.index && c.operation === operation && c.applied).length);
}

export { assert };

/**
 * The instance's only command ended TimedOut (ExecutionTimedOut) exactly when it
 * expired, delivery + execution timeout after it was sent, with no status event
 * between InProgress and then.
 */
export function assertCommandTimedOutAtExpiry(r: ScenarioResult, instance: number, deliveryTimeoutSeconds = 60): void {
  const commands = r.commands.filter((c) => c.instance === instance);
  assert.equal(commands.length, 1, `commands of instance ${instance}`);
  const c = commands[0];
  assert.deepEqual([c.status, c.statusDetails], ['TimedOut', 'ExecutionTimedOut']);
  assert.equal(c.endedAtMs! - c.requestedAtMs, (deliveryTimeoutSeconds + c.executionTimeoutSeconds) * 1000, 'ended at the expiry');
  const statuses = r.events.filter((e) => e.kind === 'command-status' && e.instance === instance).map((e) => e.status);
  assert.deepEqual(statuses, ['Pending', 'InProgress', 'TimedOut'], 'status events of the invocation');
}

/** The statuses of the instance's command-status events, in the order they were emitted. */
export function statusEventsOf(r: ScenarioResult, instance: number): string[] {
  return r.events.filter((e) => e.kind === 'command-status' && e.instance === instance).map((e) => String(e.status));
}

/** The handler's DynamoDB calls about one instance: `PutItem ok`, `PutItem ConditionalCheckFailedException`. */
export function storeCallsOf(r: ScenarioResult, instance: number): string[] {
  return r.storeCalls.filter((c) => c.instance === instance).map((c) => `${c.operation} ${c.error ?? 'ok'}`);
}

/** The token a command's comment names. */
function tokenOf(comment: string): string | undefined {
  return /^lifecycle-action ([0-9a-f-]{36})$/.exec(comment)?.[1];
}

/**
 * The action a command was sent for: the token in its comment or, for a command
 * a reconciliation pass sent without knowing the token (`lifecycle-action
 * pass-…`), the action of its hook that was pending on the instance when it
 * was sent: the first completion of that hook at or after the send.
 */
function actionOfCommand(r: ScenarioResult, cmd: ScenarioResult['commands'][number]): string | undefined {
  const token = tokenOf(cmd.comment);
  if (token || !cmd.comment.startsWith('lifecycle-action pass-')) return token;
  const hook = hookOfDocument(cmd.document);
  return r.instances[cmd.instance].completions
    .filter((c) => c.hook === hook && c.atMs >= cmd.requestedAtMs)
    .sort((a, b) => a.atMs - b.atMs)[0]?.token;
}

function hookOfDocument(document: string): string | undefined {
  for (let n = 0; n < 10; n++) if (namesOf(n).documentName === document) return namesOf(n).hookName;
  return undefined;
}

/** Instances that got more than one command for one lifecycle action. */
export function instancesWithTwoCommands(r: ScenarioResult): number[] {
  const perAction = new Map<string, number>();
  for (const c of r.commands) {
    const key = `${c.instance} ${actionOfCommand(r, c) ?? c.id}`;
    perAction.set(key, (perAction.get(key) ?? 0) + 1);
  }
  return [...new Set([...perAction].filter(([, n]) => n > 1).map(([k]) => Number(k.split(' ')[0])))].sort((a, b) => a - b);
}

/**
 * Completions by the handler after a command ended that were not for that
 * command's own action: the action completed must have a command carrying its
 * token, ended before the completion.
 */
export function completionsByAnotherActionsCommand(r: ScenarioResult): string[] {
  // Completions after a command ended: by its status event, or by a reconciliation pass.
  const statusInvocations = new Set(r.invocations.filter((i) => i.kind === 'command-status' || i.kind === 'schedule').map((i) => i.id));
  const wrong: string[] = [];
  for (const i of r.instances) {
    for (const c of i.completions) {
      if (c.by !== 'api' || !c.invocation || !statusInvocations.has(c.invocation)) continue;
      const own = r.commands.filter((cmd) => cmd.instance === i.index && actionOfCommand(r, cmd) === c.token);
      const ended = own.filter((cmd) => !['Pending', 'InProgress'].includes(cmd.status) && cmd.requestedAtMs <= c.atMs);
      if (ended.length === 0) wrong.push(`instance ${i.index}: action ${c.token} completed ${c.result} at ${c.atMs} ms without a command of its own that had ended`);
    }
  }
  return wrong;
}

/** Commands SSM accepted after the action they name had ended. */
export function commandsForEndedActions(r: ScenarioResult): string[] {
  const wrong: string[] = [];
  for (const cmd of r.commands) {
    const token = actionOfCommand(r, cmd);
    const ended = r.instances[cmd.instance].completions.find((c) => c.token === token);
    if (!ended || cmd.requestedAtMs > ended.atMs) {
      wrong.push(`instance ${cmd.instance}: command ${cmd.id} sent at ${cmd.requestedAtMs} ms, its action ${ended ? `ended at ${ended.atMs} ms` : 'unknown'}`);
    }
  }
  return wrong;
}

/** Exactly one command per action at most, every completion for its own action, nothing sent for an ended action. */
export function assertOneCommandPerAction(r: ScenarioResult): void {
  assert.deepEqual(instancesWithTwoCommands(r), [], 'instances with two commands for one lifecycle action');
  assert.deepEqual(completionsByAnotherActionsCommand(r), [], 'actions completed by another action\'s command');
  assert.deepEqual(commandsForEndedActions(r), [], 'commands sent for an ended action');
}

/** The metrics CloudWatch would extract from the run's log lines (the handler's embedded metric format). */
export function metricSamplesOf(r: ScenarioResult): MetricSample[] {
  return samplesOf(r.logs.map((l) => l.text));
}

/** The key of one of the hook's metrics, with the n-th hook's dimensions and any more. */
export function hookMetric(metric: keyof typeof HOOK_METRICS, hook = 0, more: Record<string, string> = {}) {
  return {
    namespace: METRIC_NAMESPACE,
    metricName: HOOK_METRICS[metric].name,
    dimensions: { [METRIC_DIMENSIONS.groupName]: namesOf(hook).groupName, [METRIC_DIMENSIONS.hookName]: namesOf(hook).hookName, ...more },
  };
}

/**
 * One `CommandsSent` per command SSM accepted, whoever sent it (an event, a
 * take-over, the reconciliation pass) and whatever found it first. Holds in
 * runs with lost events too.
 */
export function assertCommandsSentOnce(r: ScenarioResult, hook = 0): void {
  const commands = r.commands.filter((c) => c.document === namesOf(hook).documentName);
  assert.equal(sumOf(metricSamplesOf(r), hookMetric('commandsSent', hook)), commands.length, 'CommandsSent: one per command SSM accepted');
}

/**
 * The hook's metrics add up to what happened in the run: one `CommandsSent`
 * per command SSM accepted, one `CommandsEnded` per command that ended (by
 * status) and `CommandsFailed` for those that did not succeed, one
 * `ActionsCompleted` per action the handler completed (by result), and an
 * `ActionDuration` sample for each action that ran a command. For runs in
 * which every event was delivered and every answer arrived.
 */
export function assertMetricsAddUp(r: ScenarioResult, hook = 0): void {
  const samples = metricSamplesOf(r);
  const documentName = namesOf(hook).documentName;
  const hookName = namesOf(hook).hookName;
  const commands = r.commands.filter((c) => c.document === documentName);
  const completions = r.instances.flatMap((i) => i.completions).filter((c) => c.hook === hookName && c.by === 'api');
  const got = (metric: keyof typeof HOOK_METRICS, more: Record<string, string> = {}) => sumOf(samples, hookMetric(metric, hook, more));
  assertCommandsSentOnce(r, hook);
  const ended = commands.filter((c) => !['Pending', 'InProgress', 'Delayed'].includes(c.status));
  for (const status of new Set(ended.map((c) => c.status))) {
    assert.equal(got('commandsEnded', { [METRIC_DIMENSIONS.status]: status }), ended.filter((c) => c.status === status).length, `CommandsEnded ${status}`);
  }
  assert.equal(samples.filter((s) => s.name === HOOK_METRICS.commandsEnded.name && s.dimensions[METRIC_DIMENSIONS.hookName] === hookName).length,
    ended.length, 'CommandsEnded: one per command that ended');
  assert.equal(got('commandsFailed'), ended.filter((c) => c.status !== 'Success').length, 'CommandsFailed');
  for (const result of ['CONTINUE', 'ABANDON'] as const) {
    assert.equal(got('actionsCompleted', { [METRIC_DIMENSIONS.result]: result }), completions.filter((c) => c.result === result).length, `ActionsCompleted ${result}`);
  }
  assert.equal(got('actionsCompleted'), completions.length, 'ActionsCompleted in total');
  const durations = samplesFor(samples, hookMetric('actionDuration', hook));
  const tokens = new Set(commands.map((c) => c.comment));
  assert.equal(durations.length, completions.filter((c) => tokens.has(`lifecycle-action ${c.token}`)).length,
    'ActionDuration: one sample per action that ran a command');
  for (const d of durations) assert.ok(d.value >= 0, `ActionDuration ${d.value}`);
}

/**
 * Launch hooks wait for registration without Lambda time: no invocation runs
 * longer than `maxInvocationMs`, and each command follows its agent's coming
 * online by at most `maxDelayMs` (the registration backoff's 20 s cap, plus
 * the latency of one execution start and one invocation).
 */
export function assertRegistrationWaitCheap(
  r: ScenarioResult,
  maxInvocationMs = 5_000,
  maxDelayMs: number | ((instance: number) => number) = 21_000,
): void {
  const longest = Math.max(...r.invocations.map((i) => (i.endMs ?? Infinity) - i.startMs));
  assert.ok(longest <= maxInvocationMs, `an invocation ran ${longest} ms, more than ${maxInvocationMs} ms`);
  for (const c of r.commands) {
    const online = r.instances[c.instance].agentOnlineAtMs;
    assert.ok(online !== undefined, `instance ${c.instance} got a command before its agent was online`);
    const delay = c.requestedAtMs - online;
    const limit = typeof maxDelayMs === 'number' ? maxDelayMs : maxDelayMs(c.instance);
    assert.ok(delay >= 0 && delay <= limit, `instance ${c.instance}: command sent ${delay} ms after its agent came online (at most ${limit} ms)`);
  }
}

/** The registration wait executions started for an instance. */
export function executionsOf(r: ScenarioResult, instance: number): number {
  const id = r.instances[instance].id;
  return r.executions.filter((e) => (e.input.registrationCheck as { EC2InstanceId?: string } | undefined)?.EC2InstanceId === id).length;
}
