/**
 * The fault scenarios: the handler as the npm package ships it, on the offline
 * stand-in, with the environment the construct's template gives it. Each
 * scenario is options (data) plus a check of final instance states, completions,
 * commands and the exact API calls.
 */
import { disappearsAfter, namesOf, resourceContention, throttling } from '../standin';
import type { ScenarioOptions } from '../standin';
import {
  appliedPerInstance,
  assert,
  assertCommandComments,
  assertCommandsSentOnce,
  assertCommandsPerInstance,
  assertCommandTimedOutAtExpiry,
  assertCompletions,
  assertFinalStates,
  assertHandlerNeverFailed,
  assertOnlyThrottledEventsRetried,
  assertMetricsAddUp,
  callsOf,
  describeCall,
  assertOneCommandPerAction,
  assertRegistrationWaitCheap,
  commandsForEndedActions,
  executionsOf,
  instancesWithTwoCommands,
  outcomesOf,
  statusEventsOf,
  ScenarioResult,
  storeCallsOf,
} from './checks';
import { CONTEXT_SCENARIOS } from './context-scenarios';
import { DEPLOY_SCENARIOS } from './deploy-scenarios';
import { DOCUMENT_SCENARIOS } from './document-scenarios';
import { GROUP_SCENARIOS } from './group-scenarios';
import { INTERLEAVINGS } from './interleavings';
import { pollingHandler } from './polling-handler';
import { RETENTION_SCENARIOS } from './retention-scenarios';
import { THROTTLED_PASSES } from './throttled-passes';

export interface Scenario {
  readonly options: ScenarioOptions;
  /**
   * Seeds the runner plays the scenario with, each a run of its own, when no
   * `--seed` is given. @default the scenario's own seed (1)
   */
  readonly seeds?: readonly number[];
  /**
   * The same run without the scenario's trouble, run first with the same seed;
   * its result comes to `check` and `report` as `baseline`. @default none
   */
  readonly baseline?: ScenarioOptions;
  /** Throws when the handler did not behave as it must. */
  readonly check: (r: ScenarioResult, baseline?: ScenarioResult) => void;
  /** Figures printed under the scenario's line. */
  readonly report?: (r: ScenarioResult, baseline?: ScenarioResult) => string;
  /**
   * Too long for every run (minutes of real time a seed): it runs when a
   * filter names it, or with `--long`, not in `npx projen scenarios` alone.
   * @default false
   */
  readonly long?: boolean;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** The attempt each registration wait the handler started for the instance's action carries, in start order (Step Functions' own second runs left out). */
function waitsOf(r: ScenarioResult, instance: number): number[] {
  const id = r.instances[instance].id;
  return r.executions
    .filter((e) => !e.duplicate && (e.input.registrationCheck as { EC2InstanceId?: string } | undefined)?.EC2InstanceId === id)
    .map((e) => (e.input.registrationCheck as { Attempt: number }).Attempt);
}

/** Scenarios of races and lost answers prove themselves on several draws. */
const FIVE_SEEDS = [1, 2, 3, 4, 5] as const;

/** Holds in every scenario of exactly-once sending: besides the three invariants, every action ended as it should. */
function assertExactlyOnce(r: ScenarioResult, state: 'Terminated' | 'InService'): void {
  assertOneCommandPerAction(r);
  assertFinalStates(r, state);
  assertCompletions(r, 'CONTINUE', 'api');
  assertCommandsPerInstance(r, 1);
  assertHandlerNeverFailed(r);
}

/**
 * Each instance's n-th action (a warm-pool stage the hook does not run its
 * commands at) was completed by the invocation of its own lifecycle event,
 * whose only call was CompleteLifecycleAction.
 */
function assertStageCompletedAtOnce(r: ScenarioResult, n: number): void {
  for (const i of r.instances) {
    const completion = i.completions[n];
    const events = r.events.filter((e) => e.kind === 'lifecycle' && e.instance === i.index);
    assert.equal(events.length, 2, `lifecycle events of instance ${i.index}`);
    const invocation = r.invocations.find((inv) => inv.id === completion.invocation)!;
    assert.equal(invocation.eventId, events[n].id, `instance ${i.index}: completed by its own lifecycle event`);
    // (AssumeRole of the hook's role aside, in an environment that has not assumed it yet.)
    assert.deepEqual(r.calls.filter((c) => c.invocation === invocation.id && c.operation !== 'AssumeRole').map((c) => c.operation), ['CompleteLifecycleAction']);
  }
}

/**
 * Launch hooks: registration checks at about 0, 2, 6, 14, 30, 50, 70 … s after
 * the event (see registrationBackoffMs), each a short invocation; the hook's
 * Express state machine waits in between.
 */
const LAUNCH = { transition: 'launch', timeoutSeconds: 300 } as const;
const TERMINATE = { transition: 'terminate', timeoutSeconds: 300 } as const;

export const SCENARIOS: readonly Scenario[] = [
  {
    options: {
      name: 'terminate happy path',
      hook: TERMINATE,
      instances: 3,
      command: { durationMs: [5_000, 30_000] },
    },
    check: (r) => {
      assertFinalStates(r, 'Terminated');
      assertCompletions(r, 'CONTINUE', 'api');
      assertCommandsPerInstance(r, 1);
      assertCommandComments(r);
      for (const i of range(3)) {
        assert.deepEqual(callsOf(r, i), ['RecordLifecycleActionHeartbeat ok', 'SendCommand ok', 'CompleteLifecycleAction(CONTINUE) ok'], `calls of instance ${i}`);
        assert.deepEqual(outcomesOf(r, i), ['command-sent', 'completed']);
      }
      assertMetricsAddUp(r);
      assertHandlerNeverFailed(r);
    },
  },
  {
    options: {
      name: 'launch, agent registers late',
      hook: LAUNCH,
      instances: 1,
      // Registered 25 s after launch: the checks at about 0, 2, 6 and 14 s find nothing, each scheduling
      // the next through the state machine; the one at about 30 s finds it online.
      agent: { registrationDelayMs: 25_000 },
      command: { durationMs: 10_000 },
    },
    check: (r) => {
      assertFinalStates(r, 'InService');
      assertCompletions(r, 'CONTINUE', 'api');
      assertCommandsPerInstance(r, 1);
      assert.deepEqual(callsOf(r, 0), [
        ...Array(4).fill(['DescribeInstanceInformation ok', 'StartExecution ok']).flat(),
        'DescribeInstanceInformation ok',
        'RecordLifecycleActionHeartbeat ok',
        'SendCommand ok',
        'CompleteLifecycleAction(CONTINUE) ok',
      ]);
      // No SendCommand before registration, so no InvalidInstanceId on the way.
      assert.ok(r.calls.every((c) => c.error === undefined));
      assert.deepEqual(r.executions.map((e) => e.input.waitSeconds), [2, 4, 8, 16]);
      assert.ok(r.executions.every((e) => e.status === 'SUCCEEDED'));
      assert.deepEqual(outcomesOf(r, 0), [...Array(4).fill('waiting-for-registration'), 'command-sent', 'completed']);
      assertRegistrationWaitCheap(r);
      assertHandlerNeverFailed(r);
    },
  },
  {
    options: {
      name: 'launch, agent never registers',
      hook: LAUNCH,
      instances: 1,
      agent: { registrationDelayMs: 'never' },
    },
    check: (r) => {
      // Checks at about 0, 2, 6, 14, 30, 50 … 170 s and a last one at the 180 s registration timeout
      // (a check landing just short of it adds one more, a second later), then the handler
      // abandons by token, long before the heartbeat timeout (600 s).
      assertFinalStates(r, 'Terminated');
      assertCompletions(r, 'ABANDON', 'api');
      assertCommandsPerInstance(r, 0);
      const calls = callsOf(r, 0);
      const checks = calls.filter((c) => c === 'DescribeInstanceInformation ok').length;
      assert.ok(checks === 13 || checks === 14, `${checks} registration checks`);
      assert.deepEqual(calls, [
        ...Array(checks - 1).fill(['DescribeInstanceInformation ok', 'StartExecution ok']).flat(),
        'DescribeInstanceInformation ok',
        'CompleteLifecycleAction(ABANDON) ok',
      ]);
      const done = r.instances[0].completions[0].atMs;
      assert.ok(done >= 180_000 && done < 185_000, `abandoned at ${done} ms, expected just after the last check at the 180 s registration timeout`);
      assert.ok(r.instances[0].completions[0].token.length === 36, 'completed by token');
      assertRegistrationWaitCheap(r);
      assertHandlerNeverFailed(r);
    },
  },
  {
    options: {
      name: 'launch, 50 agents register 5 s to 170 s late -> each command within 20 s of Online',
      hook: LAUNCH,
      instances: 50,
      spreadMs: 10_000,
      agent: { registrationDelayMs: [5_000, 170_000] },
      command: { durationMs: [5_000, 20_000] },
    },
    check: (r) => {
      assertFinalStates(r, 'InService');
      assertCompletions(r, 'CONTINUE', 'api');
      assertCommandsPerInstance(r, 1);
      // No invocation waits: the longest is a check, a claim and a send.
      assertRegistrationWaitCheap(r, 3_000);
      for (const i of range(50)) {
        const checks = callsOf(r, i).filter((c) => c.startsWith('DescribeInstanceInformation')).length;
        assert.equal(executionsOf(r, i), checks - 1, `instance ${i}: one wait between two checks`);
      }
      assertHandlerNeverFailed(r);
    },
  },
  {
    seeds: FIVE_SEEDS,
    options: {
      name: '300 launches, 40% of DescribeInstanceInformation throttled',
      hook: LAUNCH,
      instances: 300,
      spreadMs: 30_000,
      agent: { registrationDelayMs: [15_000, 45_000] },
      command: { durationMs: [5_000, 20_000] },
      api: { faults: throttling(0.4, { operations: ['DescribeInstanceInformation'] }) },
    },
    check: (r) => {
      // A check whose three attempts were all throttled is another wait, never a failed invocation or a lost action.
      assertFinalStates(r, 'InService');
      assertCompletions(r, 'CONTINUE', 'api');
      assertCommandsPerInstance(r, 1);
      assert.equal(r.summary.heartbeatTimeouts, 0);
      assert.ok(r.logs.some((l) => l.text.includes('registration check unanswered')), 'no check outlasted the SDK\'s retries: the fault was not exercised');
      // Under throttling a check takes the SDK's retries (up to about 2 s of backoff) on top of the
      // 20 s wait, and a check left unanswered after the agent came online costs one more wait.
      const unansweredAfterOnline = (i: number) => r.logs.filter((l) => l.text.includes('registration check unanswered')
        && l.text.includes(r.instances[i].id) && l.atMs >= r.instances[i].agentOnlineAtMs!).length;
      assertRegistrationWaitCheap(r, 5_000, (i) => 23_000 * (1 + unansweredAfterOnline(i)));
      assertHandlerNeverFailed(r);
    },
  },
  {
    seeds: FIVE_SEEDS,
    options: {
      name: 'duplicate launch events and Express executions run twice -> one command, bounded waits',
      hook: LAUNCH,
      instances: 50,
      spreadMs: 5_000,
      agent: { registrationDelayMs: [5_000, 60_000] },
      command: { durationMs: [5_000, 20_000] },
      events: { faults: [{ kind: 'lifecycle', duplicates: 1, duplicateDelayMs: [0, 2_000] }] },
      stepFunctions: { duplicateExecutionRate: 0.1 },
      lambda: { concurrency: 1_000 },
    },
    check: (r) => {
      assertExactlyOnce(r, 'InService');
      assert.ok(r.executions.some((e) => e.duplicate), 'no execution ran twice: the fault was not exercised');
      // Every chain of waits ends at the first check after its agent came online: no execution
      // starts later than one wait (20 s) and one check after that.
      for (const i of range(50)) {
        const online = r.instances[i].agentOnlineAtMs!;
        const id = r.instances[i].id;
        const late = r.executions
          .filter((e) => (e.input.registrationCheck as { EC2InstanceId: string }).EC2InstanceId === id && e.startMs > online + 21_000);
        assert.deepEqual(late, [], `instance ${i}: waits started long after its agent came online`);
      }
      assertRegistrationWaitCheap(r);
    },
  },
  {
    options: {
      name: 'command fails -> failure result',
      hook: LAUNCH,
      instances: 1,
      agent: { registrationDelayMs: 0 },
      command: { durationMs: 8_000 },
      programs: { 'lifecycle-step': { exitCode: 3 } },
    },
    check: (r) => {
      assertFinalStates(r, 'Terminated');
      assertCompletions(r, 'ABANDON', 'api');
      assertCommandsPerInstance(r, 1);
      assert.deepEqual([r.commands[0].status, r.commands[0].responseCode], ['Failed', 3]);
      assert.deepEqual(callsOf(r, 0), ['DescribeInstanceInformation ok', 'RecordLifecycleActionHeartbeat ok', 'SendCommand ok', 'CompleteLifecycleAction(ABANDON) ok']);
      assertHandlerNeverFailed(r);
    },
  },
  {
    options: {
      name: 'command cancelled -> failure result',
      hook: { transition: 'terminate', timeoutSeconds: 600, defaultResult: 'ABANDON' },
      instances: 1,
      command: { durationMs: 300_000 },
      schedule: [{ atMs: 60_000, instances: [0], happening: 'cancel-commands' }],
    },
    check: (r) => {
      assert.equal(r.commands[0].status, 'Cancelled');
      assertFinalStates(r, 'Terminated');
      assertCompletions(r, 'ABANDON', 'api');
      assert.deepEqual(callsOf(r, 0), ['RecordLifecycleActionHeartbeat ok', 'SendCommand ok', 'CompleteLifecycleAction(ABANDON) ok']);
      assert.ok(r.instances[0].completions[0].atMs < 70_000, 'completed soon after the cancellation');
      assertHandlerNeverFailed(r);
    },
  },
  {
    options: {
      name: 'command times out (2-hour hook)',
      // The longest terminate hook: 7,080 s of commands, heartbeat 7,200 s.
      hook: { transition: 'terminate', timeoutSeconds: 7_080, defaultResult: 'ABANDON' },
      instances: 1,
      programs: { 'lifecycle-step': { hang: true } },
    },
    check: (r) => {
      assertFinalStates(r, 'Terminated');
      assertCompletions(r, 'ABANDON', 'api');
      assert.equal(r.commands[0].status, 'TimedOut');
      // Every pass while the command runs reads its status; the one a period and its slack before the
      // heartbeat timeout (7,200 s) would run out sends a heartbeat.
      const calls = callsOf(r, 0);
      const reads = calls.filter((c) => c === 'GetCommandInvocation ok').length;
      // One read per pass of the 6-minute period while the command runs 7,080 s (19 or 20 passes, by the phase).
      assert.ok(reads >= 19 && reads <= 20, `${reads} reads`);
      const beat = calls.lastIndexOf('RecordLifecycleActionHeartbeat ok');
      assert.deepEqual([calls.slice(0, 2), calls.slice(2, beat).every((c) => c === 'GetCommandInvocation ok'), calls.at(-1)],
        [['RecordLifecycleActionHeartbeat ok', 'SendCommand ok'], true, 'CompleteLifecycleAction(ABANDON) ok']);
      // Exactly one pass heartbeat, the one a period and its slack before the timeout would run out.
      assert.equal(calls.filter((c) => c === 'RecordLifecycleActionHeartbeat ok').length, 2);
      assert.equal(r.summary.heartbeatTimeouts, 0);
      const done = r.instances[0].completions[0].atMs;
      assert.ok(done > 7_080_000 && done < 7_200_000, `completed at ${done} ms: after the execution timeout, before the heartbeat timeout`);
      assertHandlerNeverFailed(r);
    },
  },
  {
    options: {
      name: 'duplicate lifecycle event -> one command',
      hook: TERMINATE,
      instances: 2,
      command: { durationMs: 40_000 },
      // SSM lists a new command a second after it is sent; the copies arrive 3 to 8 s after the original.
      ssm: { visibilityLagMs: 1_000 },
      events: { faults: [{ kind: 'lifecycle', duplicates: 2, duplicateDelayMs: [3_000, 8_000] }] },
    },
    check: (r) => {
      assertFinalStates(r, 'Terminated');
      assertCompletions(r, 'CONTINUE', 'api');
      assertCommandsPerInstance(r, 1);
      for (const i of range(2)) {
        // The copies find the action's record with its command id: no AWS call at all.
        assert.deepEqual(callsOf(r, i), ['RecordLifecycleActionHeartbeat ok', 'SendCommand ok', 'CompleteLifecycleAction(CONTINUE) ok']);
        assert.deepEqual(storeCallsOf(r, i), [
          'PutItem ok', 'UpdateItem ConditionalCheckFailedException', 'UpdateItem ok',
          // Each copy's claim fails; a read tells it the claim is not its own write, a second what the record says.
          'PutItem ConditionalCheckFailedException', 'GetItem ok', 'GetItem ok',
          'PutItem ConditionalCheckFailedException', 'GetItem ok', 'GetItem ok',
          // The status event: the instance's actions, then the command's end recorded once.
          'Query ok', 'UpdateItem ok',
        ]);
        assert.deepEqual(outcomesOf(r, i), ['command-sent', 'command-already-sent', 'command-already-sent', 'completed']);
      }
      assertHandlerNeverFailed(r);
    },
  },
  {
    options: {
      name: 'duplicate or reordered status events',
      hook: TERMINATE,
      instances: 5,
      command: { durationMs: [1_000, 4_000] },
      // Delivery delays far longer than the gaps between events reorder them; two extra copies of each final status.
      events: {
        delayMs: [100, 8_000],
        faults: [{ kind: 'command-status', status: 'Success', duplicates: 2, duplicateDelayMs: [0, 6_000] }],
      },
    },
    check: (r) => {
      assertFinalStates(r, 'Terminated');
      assertCompletions(r, 'CONTINUE', 'api');
      assertCommandsPerInstance(r, 1);
      for (const i of range(5)) {
        assert.deepEqual(callsOf(r, i), [
          'RecordLifecycleActionHeartbeat ok',
          'SendCommand ok',
          'CompleteLifecycleAction(CONTINUE) ok',
          'CompleteLifecycleAction(CONTINUE) ValidationError',
          'CompleteLifecycleAction(CONTINUE) ValidationError',
        ]);
        assert.deepEqual(outcomesOf(r, i), ['command-sent', 'completed', 'already-completed', 'already-completed']);
      }
      // The scenario is only worth something if events really arrived out of order.
      const statusEvents = r.events.filter((e) => e.kind === 'command-status' && e.status === 'Success');
      const deliveries = statusEvents.flatMap((e) => e.deliveredAtMs.map((at) => ({ at, emitted: e.atMs })));
      deliveries.sort((a, b) => a.at - b.at);
      assert.ok(deliveries.some((d, n) => n > 0 && d.emitted < deliveries[n - 1].emitted), 'status events were delivered in emission order');
      assertHandlerNeverFailed(r);
    },
  },
  {
    options: {
      name: 'action completed elsewhere first',
      hook: LAUNCH,
      instances: 1,
      agent: { registrationDelayMs: 0 },
      command: { durationMs: 60_000 },
      // An operator completes the action 20 s in, while the commands still run.
      schedule: [{ atMs: 20_000, instances: [0], happening: 'complete-continue' }],
    },
    check: (r) => {
      assertFinalStates(r, 'InService');
      assertCompletions(r, 'CONTINUE', 'operator');
      assert.deepEqual(callsOf(r, 0), [
        'DescribeInstanceInformation ok',
        'RecordLifecycleActionHeartbeat ok',
        'SendCommand ok',
        'CompleteLifecycleAction(CONTINUE) ValidationError',
      ]);
      assert.deepEqual(outcomesOf(r, 0), ['command-sent', 'already-completed']);
      assert.ok(r.logs.some((l) => l.text.includes('lifecycle action was already complete')));
      assertHandlerNeverFailed(r);
    },
  },
  {
    options: {
      name: 'instance gone before the send',
      hook: LAUNCH,
      instances: 1,
      agent: { registrationDelayMs: 0 },
      api: { faults: [disappearsAfter('RecordLifecycleActionHeartbeat', [0])] },
    },
    check: (r) => {
      // SendCommand is refused; the handler abandons at once instead of leaving the action to the heartbeat.
      assertFinalStates(r, 'Terminated');
      assertCompletions(r, 'ABANDON', 'api');
      assertCommandsPerInstance(r, 0);
      assert.deepEqual(callsOf(r, 0), [
        'DescribeInstanceInformation ok',
        'RecordLifecycleActionHeartbeat ok',
        'SendCommand InvalidInstanceId',
        'CompleteLifecycleAction(ABANDON) ok',
      ]);
      assert.deepEqual(outcomesOf(r, 0), ['completed']);
      assertHandlerNeverFailed(r);
    },
  },
  {
    options: {
      name: 'agent offline when the command is sent',
      hook: TERMINATE,
      instances: 10,
      command: { durationMs: [5_000, 30_000] },
      schedule: [{ atMs: 0, instances: [3], happening: 'agent-offline' }],
    },
    check: (r) => {
      // SendCommand refuses an instance whose agent is not connected; the handler ends its action at once.
      assertFinalStates(r, 'Terminated');
      assertCompletions(r, 'CONTINUE', 'api');
      assertCommandsPerInstance(r, range(10).map((i) => (i === 3 ? 0 : 1)));
      assert.deepEqual(callsOf(r, 3), ['RecordLifecycleActionHeartbeat ok', 'SendCommand InvalidInstanceId', 'CompleteLifecycleAction(CONTINUE) ok']);
      assert.ok(r.logs.some((l) => l.text.includes('SendCommand failed: InvalidInstanceId')));
      assertHandlerNeverFailed(r);
    },
  },
  {
    options: {
      name: 'throttling storm',
      hook: TERMINATE,
      instances: 20,
      command: { durationMs: [5_000, 20_000] },
      // 60 % of all calls throttled for the first 40 s: often more than the SDK's three attempts absorb.
      api: { faults: throttling(0.6, { untilMs: 40_000 }) },
    },
    check: (r) => {
      assertFinalStates(r, 'Terminated');
      assertCompletions(r, 'CONTINUE', 'api');
      assertCommandsPerInstance(r, 1);
      assert.deepEqual(appliedPerInstance(r, 'SendCommand'), Array(20).fill(1));
      assert.deepEqual(appliedPerInstance(r, 'CompleteLifecycleAction'), Array(20).fill(1));
      const errors = new Set(r.calls.filter((c) => c.error).map((c) => c.error));
      assert.deepEqual([...errors].sort(), ['Throttling', 'ThrottlingException'], 'only throttling errors');
      // The storm must outlast the SDK's retries somewhere, so Lambda's retries are exercised too.
      assert.ok(r.summary.retries > 0, 'no SDK retries');
      assert.ok(r.summary.lambdaRetries > 0, 'no Lambda retries');
      assert.ok(r.invocations.every((i) => i.result === 'ok' || /Rate exceeded/.test(i.error ?? '')), 'failures other than throttling');
      assert.equal(r.deadLetters.length, 0);
      assert.equal(r.summary.heartbeatTimeouts, 0);
    },
  },
  {
    options: {
      name: 'lost status event -> completed by the pass',
      hook: { transition: 'terminate', timeoutSeconds: 60 },
      instances: 2,
      command: { durationMs: 10_000 },
      events: { faults: [{ kind: 'command-status', status: 'Success', instances: [0], lose: true }] },
      reconciliation: { phaseMs: 300_000 },
    },
    check: (r) => {
      // The pass at 300 s finds the command ended Success and completes the action by its token,
      // long before the heartbeat timeout (60 + 120 s of commands and margins + two 900-s periods).
      assertFinalStates(r, 'Terminated');
      assertCompletions(r, 'CONTINUE', ['api', 'api']);
      assert.deepEqual(callsOf(r, 0), ['RecordLifecycleActionHeartbeat ok', 'SendCommand ok', 'GetCommandInvocation ok', 'CompleteLifecycleAction(CONTINUE) ok']);
      assert.deepEqual(callsOf(r, 1), ['RecordLifecycleActionHeartbeat ok', 'SendCommand ok', 'CompleteLifecycleAction(CONTINUE) ok']);
      const repaired = r.instances[0].completions[0].atMs;
      assert.ok(repaired >= 300_000 && repaired < 302_000, `completed by the pass at ${repaired} ms`);
      assert.equal(r.summary.heartbeatTimeouts, 0);
      assertHandlerNeverFailed(r);
      // The pass counts what the lost event would have: the command's end and the action's duration.
      assertMetricsAddUp(r);
    },
  },
  {
    options: {
      name: 'ResourceContention on completion',
      hook: TERMINATE,
      instances: 1,
      command: { durationMs: 5_000 },
      api: { faults: [resourceContention({ times: 2 })] },
    },
    check: (r) => {
      // HTTP 500 is retried by the SDK within the same invocation.
      assert.deepEqual(callsOf(r, 0), [
        'RecordLifecycleActionHeartbeat ok',
        'SendCommand ok',
        'CompleteLifecycleAction(CONTINUE) ResourceContention',
        'CompleteLifecycleAction(CONTINUE) ResourceContention (retry)',
        'CompleteLifecycleAction(CONTINUE) ok (retry)',
      ]);
      assertFinalStates(r, 'Terminated');
      assertCompletions(r, 'CONTINUE', 'api');
      assertHandlerNeverFailed(r);
    },
  },
  {
    options: {
      name: 'SendCommand answers 500 -> one command',
      hook: TERMINATE,
      instances: 2,
      command: { durationMs: 10_000 },
      api: {
        faults: [
          // Instance 0: SSM creates the command, then the answer is lost in a 500.
          { operations: ['SendCommand'], instances: [0], times: 1, error: { code: 'InternalServerError', afterApplying: true } },
          // Instance 1: a 500 that created nothing.
          { operations: ['SendCommand'], instances: [1], times: 1, error: { code: 'InternalServerError' } },
        ],
      },
    },
    check: (r) => {
      // SendCommand has no client token: before repeating it the handler looks for the command.
      assertCommandsPerInstance(r, 1);
      assert.deepEqual(callsOf(r, 0), ['RecordLifecycleActionHeartbeat ok', 'SendCommand InternalServerError', 'ListCommands ok', 'CompleteLifecycleAction(CONTINUE) ok']);
      assert.deepEqual(callsOf(r, 1), [
        'RecordLifecycleActionHeartbeat ok',
        'SendCommand InternalServerError',
        // ListCommands lags: the handler looks 1, 3, 7 and 15 s after the failure before it sends again.
        ...Array(4).fill('ListCommands ok'),
        'SendCommand ok (retry)',
        'CompleteLifecycleAction(CONTINUE) ok',
      ]);
      assertFinalStates(r, 'Terminated');
      assertCompletions(r, 'CONTINUE', 'api');
      assertHandlerNeverFailed(r);
    },
  },
  {
    options: {
      name: 'connection reset on SendCommand -> one command',
      hook: TERMINATE,
      instances: 2,
      command: { durationMs: 10_000 },
      api: {
        faults: [
          // Instance 0: the command is created, then the connection drops before the answer.
          { operations: ['SendCommand'], instances: [0], times: 1, reset: 'after' },
          // Instance 1: the connection drops before SSM sees the call.
          { operations: ['SendCommand'], instances: [1], times: 1, reset: 'before' },
        ],
      },
    },
    check: (r) => {
      // A dropped connection is transient: the handler neither gives up on the action nor sends twice.
      assertCommandsPerInstance(r, 1);
      assert.deepEqual(callsOf(r, 0), ['RecordLifecycleActionHeartbeat ok', 'SendCommand ConnectionReset', 'ListCommands ok', 'CompleteLifecycleAction(CONTINUE) ok']);
      assert.deepEqual(callsOf(r, 1), [
        'RecordLifecycleActionHeartbeat ok',
        'SendCommand ConnectionReset',
        // ListCommands lags: the handler looks 1, 3, 7 and 15 s after the failure before it sends again.
        ...Array(4).fill('ListCommands ok'),
        'SendCommand ok (retry)',
        'CompleteLifecycleAction(CONTINUE) ok',
      ]);
      assert.equal(r.commands.filter((c) => c.status === 'Success').length, 2, 'both commands ran');
      assertFinalStates(r, 'Terminated');
      assertCompletions(r, 'CONTINUE', 'api');
      assertHandlerNeverFailed(r);
    },
  },
  {
    options: {
      name: 'handler crash after the send',
      hook: TERMINATE,
      instances: 1,
      command: { durationMs: 90_000 },
      // The runtime dies once SendCommand has answered (the claim, the look for a pass's claim, the heartbeat,
      // the send: the fourth call), before the command id is recorded: the command runs, the invocation fails.
      // Five calls: the claim, the pass's item, AssumeRole of the hook's role, the heartbeat, SendCommand.
      lambda: { faults: [{ kind: 'lifecycle', attempt: 1, afterCalls: 5, effect: 'crash' }] },
    },
    check: (r) => {
      // Lambda retries a minute later, after the claim's 50 s lease: the retry takes the claim over,
      // finds the command by its token, records it and sends nothing.
      assertFinalStates(r, 'Terminated');
      assertCompletions(r, 'CONTINUE', 'api');
      assertCommandsPerInstance(r, 1);
      assert.deepEqual(callsOf(r, 0), ['RecordLifecycleActionHeartbeat ok', 'SendCommand ok', 'ListCommands ok', 'CompleteLifecycleAction(CONTINUE) ok']);
      assert.deepEqual(storeCallsOf(r, 0), [
        // The claim, and the conditional hand-over of a reconciliation pass's claim, which finds none;
        // the retry's claim (not its own write) and read, take-over and record; the status event's look-up and the command's end.
        'PutItem ok', 'UpdateItem ConditionalCheckFailedException',
        'PutItem ConditionalCheckFailedException', 'GetItem ok', 'GetItem ok', 'UpdateItem ok', 'UpdateItem ok', 'Query ok', 'UpdateItem ok',
      ]);
      assert.deepEqual(outcomesOf(r, 0), ['crash', 'command-already-sent', 'completed']);
      // The command is counted as sent once, by the retry that found and recorded it.
      assertMetricsAddUp(r);
      assertOneCommandPerAction(r);
      assert.equal(r.deadLetters.length, 0);
    },
  },
  {
    options: {
      name: 'handler crash after the send, command ends before the retry',
      hook: TERMINATE,
      instances: 1,
      command: { durationMs: 10_000 },
      // Five calls: the claim, the pass's item, AssumeRole of the hook's role, the heartbeat, SendCommand.
      lambda: { faults: [{ kind: 'lifecycle', attempt: 1, afterCalls: 5, effect: 'crash' }] },
    },
    check: (r) => {
      // The status event finds the record without a command id: the command's comment names the action,
      // and the status event records the command (and counts it as sent). Lambda's retry of the lifecycle
      // event then finds the command in the record, and asks AWS nothing.
      assertFinalStates(r, 'Terminated');
      assertCompletions(r, 'CONTINUE', 'api');
      assertCommandsPerInstance(r, 1);
      assert.deepEqual(callsOf(r, 0), ['RecordLifecycleActionHeartbeat ok', 'SendCommand ok', 'ListCommands ok', 'CompleteLifecycleAction(CONTINUE) ok']);
      assert.deepEqual(outcomesOf(r, 0), ['crash', 'completed', 'command-already-sent']);
      assertMetricsAddUp(r);
      assertOneCommandPerAction(r);
      assert.equal(r.deadLetters.length, 0);
    },
  },
  {
    options: {
      name: 'handler hangs -> Lambda timeout and retry',
      hook: TERMINATE,
      instances: 1,
      command: { durationMs: 10_000 },
      // The first invocation for the status event makes no progress at all.
      lambda: { faults: [{ kind: 'command-status', attempt: 1, afterCalls: 0, effect: 'hang' }] },
    },
    check: (r) => {
      // Lambda stops it at the function's timeout (60 s for a terminate hook) and retries a minute later.
      assertFinalStates(r, 'Terminated');
      assertCompletions(r, 'CONTINUE', 'api');
      assert.deepEqual(callsOf(r, 0), ['RecordLifecycleActionHeartbeat ok', 'SendCommand ok', 'CompleteLifecycleAction(CONTINUE) ok']);
      assert.deepEqual(outcomesOf(r, 0), ['command-sent', 'timeout', 'completed']);
      const timedOut = r.invocations.find((i) => i.result === 'timeout')!;
      assert.equal(timedOut.billedMs, 60_000);
      assert.equal(r.deadLetters.length, 0);
    },
  },
  {
    options: {
      name: 'persistent throttling -> dead letter, heartbeat decides',
      hook: { transition: 'terminate', timeoutSeconds: 300 },
      instances: 2,
      command: { durationMs: 10_000 },
      // Auto Scaling throttles every completion for instance 0, for good.
      api: { faults: throttling(1, { operations: ['CompleteLifecycleAction'], instances: [0] }) },
    },
    check: (r) => {
      // Three invocations of three SDK attempts each, then the event is a dead letter; every pass
      // (each 900 s) handles the instance three times (reconcile.ts, INSTANCE_ATTEMPTS): it reads the
      // command's status and tries three times more, each a repeat of the failed completion after the
      // first; the heartbeat timeout (300 s + 120 s + two periods) applies CONTINUE and nothing stays waiting.
      const attempt = ['CompleteLifecycleAction(CONTINUE) Throttling', 'CompleteLifecycleAction(CONTINUE) Throttling (retry)', 'CompleteLifecycleAction(CONTINUE) Throttling (retry)'];
      const repeated = Array.from({ length: 3 }, () => 'CompleteLifecycleAction(CONTINUE) Throttling (retry)');
      const calls = callsOf(r, 0);
      assert.deepEqual(calls.slice(0, 11), ['RecordLifecycleActionHeartbeat ok', 'SendCommand ok', ...attempt, ...attempt, ...attempt]);
      const pass = ['GetCommandInvocation ok', ...attempt, 'GetCommandInvocation ok', ...repeated, 'GetCommandInvocation ok', ...repeated];
      const passes = (calls.length - 11) / pass.length;
      assert.ok(Number.isInteger(passes) && passes >= 2, `${passes} passes before the heartbeat timeout`);
      assert.deepEqual(calls.slice(11), Array.from({ length: passes }, () => pass).flat());
      assert.deepEqual(outcomesOf(r, 0), ['command-sent', 'error', 'error', 'error']);
      assert.deepEqual(r.deadLetters.map((d) => [d.kind, d.instance, d.attempts]), [['command-status', 0, 3]]);
      assert.deepEqual(callsOf(r, 1), ['RecordLifecycleActionHeartbeat ok', 'SendCommand ok', 'CompleteLifecycleAction(CONTINUE) ok']);
      assertFinalStates(r, 'Terminated');
      assertCompletions(r, 'CONTINUE', ['heartbeat', 'api']);
      assert.equal(r.summary.stuck, 0);
    },
  },
  {
    options: {
      name: 'instance disappears mid-command',
      hook: { transition: 'terminate', timeoutSeconds: 120 },
      instances: 1,
      command: { durationMs: 60_000 },
      schedule: [{ atMs: 20_000, instances: [0], happening: 'disappear' }],
    },
    check: (r) => {
      // The agent never reports; the invocation stays InProgress until the command expires
      // (60 s delivery + 120 s execution timeout after the send), then the handler completes
      // with the failure result (CONTINUE for this terminate hook), before the heartbeat (240 s).
      assertCommandTimedOutAtExpiry(r, 0);
      assertFinalStates(r, 'Terminated');
      assertCompletions(r, 'CONTINUE', 'api');
      assert.ok(r.instances[0].completions[0].atMs < 240_000, 'completed before the heartbeat timeout');
      assert.deepEqual(callsOf(r, 0), ['RecordLifecycleActionHeartbeat ok', 'SendCommand ok', 'CompleteLifecycleAction(CONTINUE) ok']);
      assert.ok(r.logs.some((l) => /ended TimedOut/.test(l.text)));
      assertHandlerNeverFailed(r);
    },
  },
  {
    seeds: FIVE_SEEDS,
    options: {
      name: 'duplicate lifecycle events 0-200 ms apart, 200 terminating',
      hook: TERMINATE,
      instances: 200,
      spreadMs: 5_000,
      command: { durationMs: [5_000, 30_000] },
      ssm: { visibilityLagMs: 1_000 },
      events: { faults: [{ kind: 'lifecycle', duplicates: 1, duplicateDelayMs: [0, 200] }] },
    },
    check: (r) => {
      assertExactlyOnce(r, 'Terminated');
      // Both copies of each event reached the handler; the claim let one send.
      const lifecycle = r.invocations.filter((i) => i.kind === 'lifecycle');
      assert.equal(lifecycle.length, 400);
      const outcomes = lifecycle.map((i) => String(i.value));
      assert.equal(outcomes.filter((o) => o === 'command-sent').length, 200);
      assert.ok(outcomes.every((o) => ['command-sent', 'command-already-sent', 'claim-held'].includes(o)), 'unexpected outcomes');
      assert.ok(outcomes.includes('claim-held'), 'no copy ever met a claim in progress: the race was not exercised');
    },
  },
  {
    seeds: FIVE_SEEDS,
    options: {
      name: 'duplicate lifecycle events 0-200 ms apart, 200 launching',
      hook: LAUNCH,
      instances: 200,
      spreadMs: 5_000,
      agent: { registrationDelayMs: [5_000, 40_000] },
      command: { durationMs: [5_000, 30_000] },
      ssm: { visibilityLagMs: 1_000 },
      events: { faults: [{ kind: 'lifecycle', duplicates: 1, duplicateDelayMs: [0, 200] }] },
      lambda: { concurrency: 1_000 },
    },
    check: (r) => {
      assertExactlyOnce(r, 'InService');
      assert.equal(r.invocations.filter((i) => i.kind === 'lifecycle').length, 400);
      const outcomes = r.invocations.map((i) => String(i.value));
      assert.equal(outcomes.filter((o) => o === 'command-sent').length, 200);
      // Each copy of an event may start its own chain of waits; each chain ends when the agent is
      // online (at most 40 s here: five waits of 2, 4, 8, 16 and 20 s), so a duplicate costs a bounded few.
      for (const i of range(200)) {
        const n = executionsOf(r, i);
        assert.ok(n <= 2 * 5, `instance ${i}: ${n} registration wait executions`);
      }
      assertRegistrationWaitCheap(r);
    },
  },
  ...([
    ['a 500 after applying', { error: { code: 'InternalServerError', afterApplying: true } }],
    ['a reset after applying', { reset: 'after' }],
  ] as const).map(([how, fault]): Scenario => ({
    seeds: FIVE_SEEDS,
    options: {
      name: `lost SendCommand answers (${how}), ListCommands 1 s behind, 100 instances`,
      hook: TERMINATE,
      instances: 100,
      spreadMs: 2_000,
      command: { durationMs: [5_000, 30_000] },
      ssm: { visibilityLagMs: 1_000 },
      // The first SendCommand of every instance takes effect and its answer is lost.
      api: { faults: [{ operations: ['SendCommand'], times: 100, ...fault }] },
    },
    check: (r) => {
      assertExactlyOnce(r, 'Terminated');
      const lost = r.calls.filter((c) => c.operation === 'SendCommand' && c.injected && c.applied);
      assert.equal(lost.length, 100, 'every first answer lost');
      // No second SendCommand anywhere: each lost command was found by its token before any resend.
      assert.equal(r.calls.filter((c) => c.operation === 'SendCommand').length, 100);
    },
  })),
  {
    seeds: FIVE_SEEDS,
    options: {
      name: 'copies of launch events and a crashed first attempt during the registration wait -> one wait chain per action',
      hook: LAUNCH,
      instances: 40,
      spreadMs: 5_000,
      agent: { registrationDelayMs: [30_000, 120_000] },
      command: { durationMs: [5_000, 20_000] },
      events: {
        // Two more copies of every launch event, seconds to a minute and a half after it: into the wait's chain.
        faults: [{ kind: 'lifecycle', duplicates: 2, duplicateDelayMs: [1_000, 90_000] }],
      },
      // A fifth of the first attempts stop after their second call; Lambda retries the event a minute later.
      lambda: { concurrency: 1_000, faults: [{ kind: 'lifecycle', attempt: 1, afterCalls: 2, effect: 'crash', rate: 0.2 }] },
      stepFunctions: { duplicateExecutionRate: 0.1 },
    },
    check: (r) => {
      assertOneCommandPerAction(r);
      assertFinalStates(r, 'InService');
      assertCompletions(r, 'CONTINUE', 'api');
      assertCommandsPerInstance(r, 1);
      assert.ok(r.invocations.some((i) => i.kind === 'lifecycle' && i.attempt === 2), 'no first attempt crashed: the fault was not exercised');
      // One chain of waits at a time: among the executions the handler started (not Step Functions'
      // own second runs), no two carry the same check of an action.
      const perAction = range(40).map((i) => waitsOf(r, i));
      const chains = perAction.map((w) => w.filter((a) => a === 1).length);
      const repeated = perAction.map((w) => w.length - new Set(w).size);
      console.info(`registration wait executions per action: ${perAction.map((w) => w.length).join(' ')}`);
      console.info(`chains started per action: ${chains.join(' ')}`);
      assert.deepEqual(repeated, Array(40).fill(0), 'checks of an action scheduled more than once (parallel wait chains)');
      // A first attempt that stopped after recording the wait, before starting it, holds the action for its lease:
      // the next to act is a later copy or Lambda's retry, a minute after the crash.
      const crashed = new Set(r.invocations.filter((i) => i.kind === 'lifecycle' && i.attempt === 2).map((i) => i.instance));
      assertRegistrationWaitCheap(r, 5_000, (i) => (crashed.has(i) ? 65_000 : 21_000));
      assertMetricsAddUp(r);
    },
  },
  {
    options: {
      name: 'a registration wait that can never start -> the pass sends once the agent is online, or fails the action after the deadline',
      // A registration timeout longer than Lambda's retries (1 and 2 minutes): the last attempt does not fail the action itself.
      hook: { ...LAUNCH, registrationTimeoutSeconds: 600 },
      instances: 3,
      overrides: [{ instances: [0], registrationDelayMs: 400_000 }, { instances: [1], registrationDelayMs: 'never' }],
      agent: { registrationDelayMs: 0 },
      command: { durationMs: 10_000 },
      // Every StartExecution of instances 0 and 1 is throttled: each attempt of their launch event records the
      // wait (or takes it over), fails, and Lambda gives up after its two retries. Their record still holds the wait.
      api: { faults: [{ operations: ['StartExecution'], instances: [0, 1], error: { code: 'ThrottlingException', status: 400 } }] },
      reconciliation: { phaseMs: 120_000 },
    },
    check: (r) => {
      // Not assertOneCommandPerAction: instance 1's action is completed by a pass without a command, on purpose.
      assert.deepEqual(instancesWithTwoCommands(r), []);
      assert.deepEqual(commandsForEndedActions(r), []);
      assertCommandsPerInstance(r, [1, 0, 1]);
      assert.deepEqual(r.instances.map((i) => i.state), ['InService', 'Terminated', 'InService']);
      assertCompletions(r, ['CONTINUE', 'ABANDON', 'CONTINUE'], 'api');
      // Passes every 6 minutes from 120 s. The pass at 120 s leaves both waits (agents offline, deadline
      // not over); the one at 480 s sends for instance 0 (online since 400 s); the one at 840 s fails
      // instance 1 (its 600-s deadline over).
      const sent = r.commands.find((c) => c.instance === 0)!.requestedAtMs;
      assert.ok(sent > 480_000 && sent < 490_000, `instance 0's command sent at ${sent} ms: by the second pass`);
      const failed = r.instances[1].completions[0];
      assert.ok(failed.atMs > 840_000 && failed.atMs < 850_000, `instance 1 failed at ${failed.atMs} ms: by the third pass`);
      assert.equal(r.invocations.find((i) => i.id === failed.invocation)?.kind, 'schedule', 'instance 1 failed by the pass');
      assert.equal(r.logs.filter((l) => l.text.includes('the SSM agent did not register in time')).length, 1);
      assert.equal(r.summary.heartbeatTimeouts, 0);
      assertCommandsSentOnce(r);
    },
  },
  {
    seeds: FIVE_SEEDS,
    options: {
      name: 'an operator completes actions during the registration wait',
      hook: LAUNCH,
      instances: 10,
      agent: { registrationDelayMs: [20_000, 40_000] },
      command: { durationMs: [5_000, 20_000] },
      // Instances 0-4 are completed by hand 10 s in, while the handler still waits for their agents.
      schedule: [{ atMs: 10_000, instances: [0, 1, 2, 3, 4], happening: 'complete-continue' }],
    },
    check: (r) => {
      assertOneCommandPerAction(r);
      assertFinalStates(r, 'InService');
      assertCompletions(r, 'CONTINUE', [...Array(5).fill('operator'), ...Array(5).fill('api')]);
      assertCommandsPerInstance(r, [...Array(5).fill(0), ...Array(5).fill(1)]);
      for (const i of range(5)) {
        assert.deepEqual(callsOf(r, i).filter((c) => !/^(DescribeInstanceInformation|StartExecution) ok$/.test(c)), ['RecordLifecycleActionHeartbeat ValidationError']);
        assert.deepEqual(outcomesOf(r, i).filter((o) => o !== 'waiting-for-registration'), ['action-ended']);
        // The wait recorded, each later check's turn (the last one's claim from the wait), the action ended (an ended action looks for no pass claim).
        const checks = r.invocations.filter((inv) => inv.kind === 'registration-check' && inv.instance === i).length;
        assert.deepEqual(storeCallsOf(r, i), ['PutItem ok', ...Array(checks).fill('UpdateItem ok'), 'UpdateItem ok']);
      }
      assert.equal(r.logs.filter((l) => l.text.includes('nothing sent')).length, 5, 'one log line per ended action');
      assertHandlerNeverFailed(r);
    },
  },
  {
    seeds: FIVE_SEEDS,
    options: {
      name: 'lifecycle events delivered after the pass ran their commands',
      // A launch hook that puts instances in service when the heartbeat runs out.
      // Heartbeat timeout: the longer of 60 s of commands and 30 s of registration, + 600 s = 660 s.
      hook: { transition: 'launch', timeoutSeconds: 60, registrationTimeoutSeconds: 30, defaultResult: 'CONTINUE' },
      instances: 10,
      agent: { registrationDelayMs: [2_000, 10_000] },
      command: { durationMs: [5_000, 20_000] },
      // EventBridge holds the events of instances 0-4 for 600 s, within its maximum event age (660 s);
      // the passes at 30 s (a sighting) and 390 s (the command) come first.
      events: { faults: [{ kind: 'lifecycle', instances: [0, 1, 2, 3, 4], delayMs: [600_000, 600_000] }] },
      reconciliation: { phaseMs: 30_000 },
    },
    check: (r) => {
      // The passes ran instances 0-4's commands (a sighting, then a period later the command) and
      // completed them; the late events find their actions ended and send nothing.
      assertOneCommandPerAction(r);
      assertFinalStates(r, 'InService');
      assertCompletions(r, 'CONTINUE', 'api');
      assertCommandsPerInstance(r, 1);
      assert.equal(r.summary.heartbeatTimeouts, 0);
      const byPass = r.commands.filter((c) => c.comment.startsWith('lifecycle-action pass-')).map((c) => c.instance).sort((a, b) => a - b);
      assert.deepEqual(byPass, range(5));
      for (const i of range(5)) {
        assert.ok(r.instances[i].completions[0].atMs < 600_000, `instance ${i} completed before its event arrived`);
        assert.deepEqual(outcomesOf(r, i).slice(-1), ['action-ended']);
      }
      assertHandlerNeverFailed(r);
    },
  },
  {
    options: {
      name: 'polling handler on every stand-in operation',
      // Another function on the same stand-in: it keeps the invocation open while the commands run.
      handler: pollingHandler,
      hook: { transition: 'terminate', timeoutSeconds: 120 },
      instances: 2,
      command: { durationMs: [20_000, 40_000] },
      ssm: { visibilityLagMs: 500 },
    },
    check: (r) => {
      assertFinalStates(r, 'Terminated');
      assertCompletions(r, 'CONTINUE', 'api');
      assertCommandsPerInstance(r, 1);
      for (const inv of r.invocations.filter((i) => i.kind === 'lifecycle')) {
        assert.equal(inv.result, 'ok', inv.error ?? 'invocation failed');
        const seen = inv.value as Record<string, unknown>;
        assert.deepEqual({ ...seen, heartbeats: undefined }, {
          lifecycleState: 'Terminating:Wait',
          pingStatus: 'Online',
          lastPingIsDate: true,
          requestedIsDate: true,
          sentStatus: 'Pending',
          rightAfterSend: 'InvocationDoesNotExist',
          finalStatus: 'Success',
          heartbeats: undefined,
          listedComment: true,
          pluginStatus: 'Success',
          secondCompletion: `ValidationError: No active Lifecycle Action found with instance ID ${r.instances[inv.instance!].id}`,
        });
        // Polling every 5 s through 20-40 s of commands, a heartbeat each time.
        assert.ok(Number(seen.heartbeats) >= 4 && Number(seen.heartbeats) <= 9, `heartbeats ${String(seen.heartbeats)}`);
        // The invocation is billed for the whole wait.
        assert.ok(inv.billedMs! >= 20_000, `billed ${inv.billedMs} ms`);
      }
    },
  },
  {
    options: {
      name: 'a launch whose middle bootstrap line fails is ABANDONed',
      hook: { ...LAUNCH, commands: ['bootstrap-a', 'bootstrap-b', 'healthcheck'] },
      instances: 2,
      agent: { registrationDelayMs: 0 },
      // bootstrap-b fails on instance 1 only; the health check that follows would succeed.
      programs: { 'bootstrap-a': {}, 'bootstrap-b': { exitCode: 4, instances: [1] }, 'healthcheck': {} },
    },
    check: (r) => {
      // The document must stop at the failing line and fail the command: a broken instance never
      // goes into service. (A document without `set -e` runs the health check and reports Success.)
      assertFinalStates(r, ['InService', 'Terminated']);
      assertCompletions(r, ['CONTINUE', 'ABANDON'], 'api');
      assert.deepEqual(r.commands.map((c) => [c.instance, c.status, c.responseCode, c.ran.join(' ')]).sort(), [
        [0, 'Success', 0, 'bootstrap-a bootstrap-b healthcheck'],
        [1, 'Failed', 4, 'bootstrap-a bootstrap-b'],
      ]);
      assertMetricsAddUp(r);
      assertHandlerNeverFailed(r);
    },
  },
  {
    options: {
      name: 'a failing last line fails the command',
      hook: { ...LAUNCH, commands: ['bootstrap-a', 'healthcheck'] },
      instances: 2,
      agent: { registrationDelayMs: 0 },
      programs: { 'bootstrap-a': {}, 'healthcheck': { exitCode: 1, instances: [1] } },
    },
    check: (r) => {
      // The last line's status is the script's with or without `set -e`.
      assertFinalStates(r, ['InService', 'Terminated']);
      assertCompletions(r, ['CONTINUE', 'ABANDON'], 'api');
      assert.deepEqual(r.commands.map((c) => [c.instance, c.status, c.ran.join(' ')]).sort(), [
        [0, 'Success', 'bootstrap-a healthcheck'],
        [1, 'Failed', 'bootstrap-a healthcheck'],
      ]);
      assertHandlerNeverFailed(r);
    },
  },
  {
    options: {
      name: 'the lines decide: a failure inside if, ||, or a missing program',
      hook: {
        ...TERMINATE,
        defaultResult: 'ABANDON',
        // Only the shell knows that the failing probe in `if` and the `|| true` do not fail the
        // script, and that a program the instance lacks exits 127.
        commands: ['if probe; then drain; fi', 'flush || true', 'notify'],
      },
      instances: 2,
      programs: {
        probe: { exitCode: 1 },
        drain: {},
        flush: { exitCode: 2 },
        notify: { missing: true, instances: [1] },
      },
    },
    check: (r) => {
      assertFinalStates(r, 'Terminated');
      assertCompletions(r, ['CONTINUE', 'ABANDON'], 'api');
      assert.deepEqual(r.commands.map((c) => [c.instance, c.status, c.responseCode, c.ran.join(' ')]).sort(), [
        [0, 'Success', 0, 'probe flush notify'],
        [1, 'Failed', 127, 'probe flush'],
      ]);
      assert.match(r.commands.find((c) => c.instance === 1)!.stderr, /notify: not found/);
      assertHandlerNeverFailed(r);
    },
  },
  {
    options: {
      name: 'PowerShell: a launch whose middle line fails is ABANDONed',
      // Windows instances: the agent runs the generated PowerShell script (a model of it: see FIDELITY.md).
      hook: { ...LAUNCH, shell: 'powershell', commands: ['bootstrap-a', 'bootstrap-b --mode \'full run\'', 'healthcheck'] },
      instances: 4,
      agent: { registrationDelayMs: 0 },
      programs: {
        'bootstrap-a': {},
        // Instance 1: the middle line exits 4. Instance 2: it exits 194, which the script turns into 1
        // (the agent would read 194 as "reboot" on Linux). Instance 3: the last program is missing.
        'bootstrap-b': [{ exitCode: 4, instances: [1] }, { exitCode: 194, instances: [2] }],
        'healthcheck': { missing: true, instances: [3] },
      },
    },
    check: (r) => {
      // PowerShell itself goes on after a native command fails: only the script's check of
      // $LASTEXITCODE after each line stops it and fails the command.
      assertFinalStates(r, ['InService', 'Terminated', 'Terminated', 'Terminated']);
      assertCompletions(r, ['CONTINUE', 'ABANDON', 'ABANDON', 'ABANDON'], 'api');
      assert.deepEqual(r.commands.map((c) => [c.instance, c.status, c.responseCode, c.ran.join(' ')]).sort(), [
        [0, 'Success', 0, 'bootstrap-a bootstrap-b healthcheck'],
        [1, 'Failed', 4, 'bootstrap-a bootstrap-b'],
        [2, 'Failed', 1, 'bootstrap-a bootstrap-b'],
        [3, 'Failed', 1, 'bootstrap-a bootstrap-b'],
      ]);
      const stderr = (i: number) => r.commands.find((c) => c.instance === i)!.stderr;
      assert.match(stderr(1), /^Line 2 of the hook's commands exited with code 4\.$/m);
      assert.match(stderr(2), /^Line 2 of the hook's commands exited with code 194\.$/m);
      assert.match(stderr(3), /^Line 3 of the hook's commands failed: The term 'healthcheck' is not recognized/m);
      assertMetricsAddUp(r);
      assertHandlerNeverFailed(r);
    },
  },
  {
    options: {
      name: 'PowerShell: a drain whose lines all succeed -> CONTINUE',
      hook: { ...TERMINATE, shell: 'powershell', defaultResult: 'ABANDON', commands: ['drain-service', 'notify \'drained\''] },
      instances: 2,
      command: { durationMs: 5_000 },
      programs: { 'drain-service': { stdout: 'connections closed' }, 'notify': {} },
    },
    check: (r) => {
      assertFinalStates(r, 'Terminated');
      assertCompletions(r, 'CONTINUE', 'api');
      assert.deepEqual(r.commands.map((c) => [c.status, c.responseCode, c.ran.join(' '), c.stdout.trim()]), Array(2).fill(
        ['Success', 0, 'drain-service notify', 'connections closed'],
      ));
      assertMetricsAddUp(r);
      assertHandlerNeverFailed(r);
    },
  },
  {
    options: {
      name: 'warm pool, stages: commands only on entering the pool',
      hook: { ...LAUNCH, stages: ['enter-warm-pool'] },
      instances: 2,
      warmPool: { leaveAfterMs: 120_000 },
      agent: { registrationDelayMs: 5_000 },
      command: { durationMs: 8_000 },
      // A second run on instance 1 would fail: leaving the pool must run nothing.
      programs: { 'lifecycle-step': { exitCode: 1, instances: [1], runs: [2] } },
    },
    check: (r) => {
      assert.deepEqual(r.instances.map((i) => i.completions.map((c) => `${c.state} ${c.result} by ${c.by}`)), Array(2).fill(
        ['Warmed:Pending:Wait CONTINUE by api', 'Pending:Wait CONTINUE by api'],
      ));
      assertFinalStates(r, 'InService');
      // One command per instance, for its first action (entering the pool).
      assertCommandsPerInstance(r, 1);
      for (const i of r.instances) assert.equal(r.commands.find((c) => c.instance === i.index)!.comment, `lifecycle-action ${i.completions[0].token}`);
      assertStageCompletedAtOnce(r, 1);
      assertMetricsAddUp(r);
      assertHandlerNeverFailed(r);
    },
  },
  {
    options: {
      name: 'warm pool, stages: commands only on leaving the pool',
      hook: { ...LAUNCH, stages: ['leave-warm-pool'] },
      instances: 2,
      warmPool: { leaveAfterMs: 120_000 },
      agent: { registrationDelayMs: 30_000 },
      command: { durationMs: 8_000 },
      // The first (and only) run on instance 1 fails: that is the run leaving the pool.
      programs: { 'lifecycle-step': { exitCode: 1, instances: [1], runs: [1] } },
    },
    check: (r) => {
      assert.deepEqual(r.instances.map((i) => i.completions.map((c) => `${c.state} ${c.result} by ${c.by}`)), [
        ['Warmed:Pending:Wait CONTINUE by api', 'Pending:Wait CONTINUE by api'],
        ['Warmed:Pending:Wait CONTINUE by api', 'Pending:Wait ABANDON by api'],
      ]);
      assertFinalStates(r, ['InService', 'Terminated']);
      assertCommandsPerInstance(r, 1);
      for (const i of r.instances) assert.equal(r.commands.find((c) => c.instance === i.index)!.comment, `lifecycle-action ${i.completions[1].token}`);
      // Entering the pool: completed at once, without waiting the 30 s for the agent, asking SSM nothing.
      assertStageCompletedAtOnce(r, 0);
      for (const i of r.instances) {
        const event = r.events.find((e) => e.kind === 'lifecycle' && e.instance === i.index)!;
        assert.ok(i.completions[0].atMs - event.atMs < 5_000, `instance ${i.index}: entering the pool completed ${i.completions[0].atMs - event.atMs} ms after its event`);
      }
      assertMetricsAddUp(r);
      assertHandlerNeverFailed(r);
    },
  },
  {
    options: {
      name: 'a launching instance dies mid-command -> TimedOut at expiry, ABANDON',
      hook: LAUNCH,
      instances: 1,
      agent: { registrationDelayMs: 0 },
      command: { durationMs: 120_000 },
      schedule: [{ atMs: 30_000, instances: [0], happening: 'disappear' }],
    },
    check: (r) => {
      // Sent at about 1 s, expires 60 s + 300 s later; the heartbeat (300 + 180 + 120 s) is far off.
      assertCommandTimedOutAtExpiry(r, 0);
      assertFinalStates(r, 'Terminated');
      assertCompletions(r, 'ABANDON', 'api');
      const done = r.instances[0].completions[0].atMs;
      assert.ok(done > 360_000 && done < 600_000, `completed at ${done} ms: after the expiry, before the heartbeat timeout`);
      assertHandlerNeverFailed(r);
    },
  },
  {
    options: {
      name: 'lost lifecycle and status events -> the pass repairs both',
      hook: { transition: 'launch', timeoutSeconds: 60 },
      instances: 3,
      agent: { registrationDelayMs: 0 },
      command: { durationMs: 10_000 },
      events: {
        faults: [
          { kind: 'lifecycle', instances: [0], lose: true },
          { kind: 'command-status', status: 'Success', instances: [1], lose: true },
        ],
      },
      reconciliation: { phaseMs: 120_000 },
    },
    check: (r) => {
      // Instance 0: the pass at 120 s sees it waiting without a record (a sighting), the pass at
      // 480 s (a 6-minute period later) runs its command by instance id; the status event completes it.
      // Instance 1: the pass at 120 s completes it by its token. Nothing is left to the heartbeat timeout.
      assertFinalStates(r, 'InService');
      assertCompletions(r, 'CONTINUE', 'api');
      assertCommandsPerInstance(r, 1);
      assertOneCommandPerAction(r);
      assert.deepEqual(callsOf(r, 0), [
        // The sighting's heartbeat by instance id, the next pass's, its registration check and send;
        // then the status event finds the action by the pass's item (its ListCommands finds no token).
        'RecordLifecycleActionHeartbeat ok', 'RecordLifecycleActionHeartbeat ok', 'DescribeInstanceInformation ok',
        'SendCommand ok', 'ListCommands ok', 'CompleteLifecycleAction(CONTINUE) ok',
      ]);
      assert.deepEqual(callsOf(r, 1), ['DescribeInstanceInformation ok', 'RecordLifecycleActionHeartbeat ok', 'SendCommand ok', 'GetCommandInvocation ok', 'CompleteLifecycleAction(CONTINUE) ok']);
      const lost = r.instances[0].completions[0].atMs;
      assert.ok(lost > 480_000 && lost < 500_000, `instance 0 completed at ${lost} ms: one period after its sighting`);
      assert.ok(r.instances[1].completions[0].atMs < 122_000, 'instance 1 completed by the first pass');
      assert.equal(r.summary.heartbeatTimeouts, 0);
      // The pass's command too, once. (Not CommandsEnded: the pass completes without counting the command's end.)
      assertCommandsSentOnce(r);
      assertHandlerNeverFailed(r);
    },
  },
  {
    options: {
      name: 'a 24-hour command completes with CONTINUE, kept alive by the pass',
      hook: { transition: 'terminate', timeoutSeconds: 90_000 },
      instances: 1,
      command: { durationMs: 86_400_000 },
    },
    check: (r) => {
      // Heartbeat timeout 7,200 s; a pass every 360 s heartbeats the action once its last heartbeat
      // (or its start) is within two periods and 180 s of slack of running out: every 18th pass, 6,480 s.
      assertFinalStates(r, 'Terminated');
      assertCompletions(r, 'CONTINUE', 'api');
      assert.equal(r.summary.heartbeatTimeouts, 0);
      const beats = r.calls.filter((c) => c.instance === 0 && c.operation === 'RecordLifecycleActionHeartbeat' && !c.error)
        .map((c) => c.atMs);
      // The event path's heartbeat before the send, then the pass's.
      assert.equal(beats.length, 1 + 13, `heartbeats at ${beats.join(', ')}`);
      const gaps = beats.slice(1).map((at, n) => at - beats[n]);
      assert.ok(gaps.every((g) => g < 7_200_000), `gaps between heartbeats ${gaps.join(', ')} ms`);
      const done = r.instances[0].completions[0].atMs;
      assert.ok(done > 86_400_000 && done < 86_400_000 + 60_000, `completed at ${done} ms, by the status event`);
      assertHandlerNeverFailed(r);
    },
  },
  {
    seeds: FIVE_SEEDS,
    options: {
      name: 'a pass and status events race for the same actions',
      hook: { transition: 'terminate', timeoutSeconds: 60 },
      instances: 20,
      command: { durationMs: [5_000, 20_000] },
      // The status events arrive 5 to 40 s late, around the pass at 30 s.
      events: { faults: [{ kind: 'command-status', delayMs: [5_000, 40_000] }] },
      reconciliation: { phaseMs: 30_000 },
    },
    check: (r) => {
      assertFinalStates(r, 'Terminated');
      assertCompletions(r, 'CONTINUE', 'api');
      assertCommandsPerInstance(r, 1);
      assertOneCommandPerAction(r);
      assert.equal(r.summary.heartbeatTimeouts, 0);
      const kinds = new Map(r.invocations.map((i) => [i.id, i.kind]));
      const byPass = r.instances.filter((i) => kinds.get(i.completions[0].invocation!) === 'schedule').length;
      assert.ok(byPass > 0 && byPass < 20, `${byPass} completed by the pass, the rest by their status events`);
      for (const i of r.instances) {
        const completes = r.calls.filter((c) => c.instance === i.index && c.operation === 'CompleteLifecycleAction');
        assert.equal(completes.filter((c) => !c.error).length, 1, `instance ${i.index}: one completion took effect`);
        assert.ok(completes.every((c) => !c.error || c.error === 'ValidationError'), `instance ${i.index}: the other met No active Lifecycle Action`);
      }
      assertHandlerNeverFailed(r);
    },
  },
  {
    options: {
      name: 'warm pool: late and repeated status events of the first action, lost events repaired',
      hook: { transition: 'launch', timeoutSeconds: 60 },
      instances: 2,
      warmPool: { leaveAfterMs: [60_000, 60_000] },
      command: { durationMs: 10_000 },
      events: {
        faults: [
          // Instance 0: every status event arrives 200 s late, twice.
          { kind: 'command-status', instances: [0], delayMs: [200_000, 200_000], duplicates: 1 },
          // Instance 1: its lifecycle events are lost; the pass runs both actions' commands.
          { kind: 'lifecycle', instances: [1], lose: true },
        ],
      },
      reconciliation: { phaseMs: 100_000 },
    },
    check: (r) => {
      assertFinalStates(r, 'InService');
      assert.deepEqual(r.instances.map((i) => i.completions.map((c) => `${c.result} by ${c.by} in ${c.state}`)), range(2).map(() => [
        'CONTINUE by api in Warmed:Pending:Wait', 'CONTINUE by api in Pending:Wait',
      ]));
      assertCommandsPerInstance(r, 2);
      // Each action completed after a command of its own had ended, never with the other action's.
      assertOneCommandPerAction(r);
      assert.equal(r.summary.heartbeatTimeouts, 0);
      assert.equal(r.commands.filter((c) => c.instance === 1 && c.comment.startsWith('lifecycle-action pass-')).length, 2);
      assertHandlerNeverFailed(r);
    },
  },
  {
    options: {
      name: 'a pass over 1,000 waiting instances, 5% throttling',
      hook: { transition: 'terminate', timeoutSeconds: 60 },
      instances: 1_000,
      command: { durationMs: [2_000, 10_000] },
      events: { lossRate: { lifecycle: 1 } },
      api: { faults: throttling(0.05) },
      reconciliation: { phaseMs: 60_000 },
    },
    check: (r) => {
      // Every lifecycle event lost: the passes sight all 1,000, then run their commands, leaving to the
      // next pass whatever does not fit in the function's time.
      assertFinalStates(r, 'Terminated');
      assertCompletions(r, 'CONTINUE', 'api');
      assertCommandsPerInstance(r, 1);
      assertOneCommandPerAction(r);
      assert.equal(r.summary.heartbeatTimeouts, 0);
      assert.equal(r.calls.filter((c) => c.operation === 'DescribeAutoScalingGroups' && !c.error && !c.retry).length > 0, true);
      // At 5 % throttling over some 6,000 calls, a call throttled three times in a row is to be expected now and then.
      assertOnlyThrottledEventsRetried(r);
    },
  },
  {
    options: {
      name: 'an idle hook: each pass is two calls, nothing in DynamoDB, no log line',
      hook: { transition: 'terminate', timeoutSeconds: 300 },
      instances: 0,
      reconciliation: { phaseMs: 0, untilMs: 24 * 3_600_000 - 1 },
      horizonMs: 24 * 3_600_000,
    },
    check: (r) => {
      const passes = r.invocations.filter((i) => i.kind === 'schedule');
      assert.equal(passes.length, 240, 'one pass every 6 minutes for a day');
      assert.deepEqual(passes.filter((i) => i.result !== 'ok'), []);
      // The hooks' settings, then one DescribeAutoScalingGroups for all their groups.
      assert.deepEqual(r.calls.map(describeCall), Array(240).fill(['GetParametersByPath ok', 'DescribeAutoScalingGroups ok']).flat());
      assert.deepEqual(r.storeCalls, []);
      assert.deepEqual(r.logs.filter((l) => l.invocation !== undefined), []);
    },
  },
  {
    options: {
      name: 'an idle hook on a group with a warm pool: three calls a pass',
      hook: { transition: 'terminate', timeoutSeconds: 300 },
      warmPool: {},
      instances: 0,
      reconciliation: { phaseMs: 0, untilMs: 3 * 3_600_000 - 1 },
      horizonMs: 3 * 3_600_000,
    },
    check: (r) => {
      assert.deepEqual(r.calls.map(describeCall), Array(30).fill(['GetParametersByPath ok', 'DescribeAutoScalingGroups ok', 'DescribeWarmPool ok']).flat());
      assert.deepEqual(r.storeCalls, []);
    },
  },
  {
    options: {
      name: 'Lambda retries a hung launch twice: a long command still ends before the heartbeat',
      hook: { transition: 'launch', timeoutSeconds: 3_600 },
      instances: 3,
      command: { durationMs: 3_500_000 },
      // The first two invocations of each lifecycle event hang until the function's timeout (240 s);
      // Lambda retries about 1 and 2 minutes after each.
      lambda: {
        faults: [
          { kind: 'lifecycle', attempt: 1, afterCalls: 0, effect: 'hang' },
          { kind: 'lifecycle', attempt: 2, afterCalls: 0, effect: 'hang' },
        ],
      },
    },
    check: (r) => {
      // The command starts about 11 minutes late; the heartbeat timeout (3,600 + 180 + 120 s and two
      // periods) covers it, and the pre-send heartbeat restarts it anyway.
      assertFinalStates(r, 'InService');
      assertCompletions(r, 'CONTINUE', 'api');
      assertCommandsPerInstance(r, 1);
      assertOneCommandPerAction(r);
      assert.equal(r.summary.heartbeatTimeouts, 0);
      for (const i of range(3)) assert.deepEqual(outcomesOf(r, i).slice(0, 3), ['timeout', 'timeout', 'command-sent']);
      // The only failures are the six injected hangs.
      assert.equal(r.invocations.filter((i) => i.result !== 'ok').length, 6);
      assert.equal(r.deadLetters.length, 0);
    },
  },
  {
    options: {
      name: '1,000 launches while CompleteLifecycleAction answers 5xx to half the calls',
      hook: LAUNCH,
      instances: 1_000,
      command: { durationMs: [5_000, 30_000] },
      api: { faults: [{ ...resourceContention(), rate: 0.5 }] },
    },
    check: (r) => {
      // Each completion retries on its own budget (no quota shared by the environment's events):
      // no event is dead-lettered for want of retries, and what still fails the pass repairs.
      assertFinalStates(r, 'InService');
      assertCompletions(r, 'CONTINUE', 'api');
      assertCommandsPerInstance(r, 1);
      assertOneCommandPerAction(r);
      assert.equal(r.summary.heartbeatTimeouts, 0);
    },
  },
  {
    options: {
      name: 'best-effort delivery: 5% of lifecycle events lost',
      hook: { transition: 'terminate', timeoutSeconds: 60 },
      instances: 100,
      command: { durationMs: [2_000, 10_000] },
      events: { lossRate: { lifecycle: 0.05 } },
    },
    check: (r) => {
      // The instances whose event was lost get their command from the pass, a period after it first saw them.
      const lost = r.events.filter((e) => e.kind === 'lifecycle' && e.lost).map((e) => e.instance).sort((a, b) => a! - b!);
      assert.ok(lost.length > 0, 'no event was lost');
      assert.equal(r.summary.heartbeatTimeouts, 0);
      assert.equal(r.events.filter((e) => e.kind === 'command-status' && e.lost).length, 0);
      assertFinalStates(r, 'Terminated');
      assertCompletions(r, 'CONTINUE', 'api');
      assertCommandsPerInstance(r, 1);
      assertOneCommandPerAction(r);
      const byPass = r.commands.filter((c) => c.comment.startsWith('lifecycle-action pass-')).map((c) => c.instance).sort((a, b) => a - b);
      assert.deepEqual(byPass, lost, 'the pass ran exactly the commands whose lifecycle event was lost');
      assertCommandsSentOnce(r);
      assertHandlerNeverFailed(r);
    },
  },
  {
    options: {
      name: 'agent online but never picks up -> DeliveryTimedOut',
      hook: { transition: 'terminate', timeoutSeconds: 60, defaultResult: 'ABANDON' },
      instances: 2,
      command: { durationMs: 5_000 },
      overrides: [{ instances: [0], pickupMs: 'never' }],
    },
    check: (r) => {
      // Pending until delivery (60 s) + execution (60 s) timeout after the send, then TimedOut.
      const c = r.commands.find((x) => x.instance === 0)!;
      assert.deepEqual([c.status, c.statusDetails, c.responseCode], ['TimedOut', 'DeliveryTimedOut', -1]);
      assert.equal(c.endedAtMs! - c.requestedAtMs, 120_000);
      assert.deepEqual(statusEventsOf(r, 0), ['Pending', 'TimedOut']);
      assertFinalStates(r, 'Terminated');
      assertCompletions(r, ['ABANDON', 'CONTINUE'], 'api');
      assertHandlerNeverFailed(r);
    },
  },
  {
    options: {
      name: 'agent away right after the send -> Delayed, then runs',
      hook: TERMINATE,
      instances: 2,
      command: { durationMs: 5_000 },
      api: { faults: [{ operations: ['SendCommand'], instances: [0], after: 'agent-offline', times: 1 }] },
      schedule: [{ atMs: 40_000, instances: [0], happening: 'agent-online' }],
    },
    check: (r) => {
      assert.deepEqual(statusEventsOf(r, 0), ['Pending', 'Delayed', 'InProgress', 'Success']);
      assert.deepEqual(statusEventsOf(r, 1), ['Pending', 'InProgress', 'Success']);
      assertFinalStates(r, 'Terminated');
      assertCompletions(r, 'CONTINUE', 'api');
      assert.ok(r.instances[0].completions[0].atMs > 40_000, 'completed after the agent came back');
      assertHandlerNeverFailed(r);
    },
  },
  {
    options: {
      name: 'warm pool: two lifecycle actions per instance, each command its own result',
      hook: LAUNCH,
      instances: 2,
      warmPool: { leaveAfterMs: 120_000 },
      agent: { registrationDelayMs: 5_000 },
      command: { durationMs: 8_000 },
      // The second run on instance 1 (leaving the pool) fails; the first succeeded.
      programs: { 'lifecycle-step': { exitCode: 1, instances: [1], runs: [2] } },
    },
    check: (r) => {
      assert.deepEqual(r.instances.map((i) => i.completions.map((c) => `${c.state} ${c.result} by ${c.by}`)), [
        ['Warmed:Pending:Wait CONTINUE by api', 'Pending:Wait CONTINUE by api'],
        ['Warmed:Pending:Wait CONTINUE by api', 'Pending:Wait ABANDON by api'],
      ]);
      assertFinalStates(r, ['InService', 'Terminated']);
      assertCommandsPerInstance(r, 2);
      assert.deepEqual(r.commands.filter((c) => c.instance === 1).map((c) => c.status), ['Success', 'Failed']);
      // Each action had its own token: one comment per command, two distinct tokens per instance.
      for (const i of [0, 1]) assert.equal(new Set(r.commands.filter((c) => c.instance === i).map((c) => c.comment)).size, 2);
      assertMetricsAddUp(r);
      assertHandlerNeverFailed(r);
    },
  },
  {
    options: {
      name: 'warm pool: scale in returns instances to the pool',
      hook: TERMINATE,
      instances: 2,
      warmPool: {},
      command: { durationMs: 5_000 },
    },
    check: (r) => {
      assertFinalStates(r, 'Warmed:Stopped');
      assert.deepEqual(r.instances.map((i) => i.completions.map((c) => `${c.state} ${c.result} by ${c.by}`)), Array(2).fill(['Warmed:Pending:Wait CONTINUE by api']));
      assertHandlerNeverFailed(r);
    },
  },
  {
    options: {
      name: 'an operator completes an action during the run',
      hook: LAUNCH,
      instances: 2,
      agent: { registrationDelayMs: 0 },
      command: { durationMs: 60_000 },
      during: [{
        atMs: 20_000,
        run: (world) => {
          // Only while the commands still run: the handler's completion then finds no action.
          if (world.instance(0).state === 'Pending:Wait') world.complete(0, 'ABANDON');
        },
      }],
    },
    check: (r) => {
      assertFinalStates(r, ['Terminated', 'InService']);
      assertCompletions(r, ['ABANDON', 'CONTINUE'], ['operator', 'api']);
      assert.equal(r.instances[0].completions[0].atMs, 20_000);
      // Terminated mid-run, the instance's command times out at its expiry; the handler's
      // completion then finds no action.
      assert.deepEqual(r.commands.map((c) => [c.instance, c.status]).sort(), [[0, 'TimedOut'], [1, 'Success']]);
      assert.deepEqual(callsOf(r, 0).slice(-1), ['CompleteLifecycleAction(ABANDON) ValidationError']);
      assertHandlerNeverFailed(r);
    },
  },
  {
    options: {
      name: 'ResourceContention once for each instance after its send',
      hook: TERMINATE,
      instances: 3,
      command: { durationMs: 5_000 },
      api: {
        faults: [{
          ...resourceContention({ perInstance: true, times: 1 }),
          afterCall: { operation: 'SendCommand', applied: true },
        }],
      },
    },
    check: (r) => {
      for (const i of range(3)) {
        assert.deepEqual(callsOf(r, i), [
          'RecordLifecycleActionHeartbeat ok',
          'SendCommand ok',
          'CompleteLifecycleAction(CONTINUE) ResourceContention',
          'CompleteLifecycleAction(CONTINUE) ok (retry)',
        ], `calls of instance ${i}`);
      }
      assertCompletions(r, 'CONTINUE', 'api');
      assertHandlerNeverFailed(r);
    },
  },
  {
    options: {
      name: 'SendCommand rate limit (token bucket)',
      hook: TERMINATE,
      instances: 30,
      command: { durationMs: 5_000 },
      // 30 sends at once against a bucket of 10, refilled at 5 a second.
      api: { rateLimits: { SendCommand: { rate: 5, burst: 10 } } },
    },
    check: (r) => {
      assertFinalStates(r, 'Terminated');
      assertCompletions(r, 'CONTINUE', 'api');
      assert.deepEqual(appliedPerInstance(r, 'SendCommand'), Array(30).fill(1));
      const sends = r.calls.filter((c) => c.operation === 'SendCommand');
      assert.ok(sends.some((c) => c.error === 'ThrottlingException' && !c.injected), 'no call was throttled');
      // No more than the bucket allows in any window: burst + rate × window.
      const applied = sends.filter((c) => c.applied).map((c) => c.atMs).sort((a, b) => a - b);
      for (let n = 0; n < applied.length; n++) {
        const inWindow = applied.filter((t) => t >= applied[n] && t < applied[n] + 1_000).length;
        assert.ok(inWindow <= 10 + 5, `${inWindow} sends applied within a second of ${applied[n]} ms`);
      }
    },
  },
  {
    options: {
      name: 'events too old are dropped by EventBridge and by Lambda',
      hook: { transition: 'terminate', timeoutSeconds: 60 },
      instances: 2,
      command: { durationMs: 5_000 },
      // Instance 0: EventBridge cannot hand its lifecycle event over for 2 minutes, past the target's 60 s.
      // Instance 1: the first two invocations crash; the second retry would start past Lambda's 150 s.
      events: { maximumEventAgeSeconds: 60, faults: [{ kind: 'lifecycle', instances: [0], delayMs: 120_000 }] },
      lambda: {
        maximumEventAgeSeconds: 150,
        faults: [{ kind: 'lifecycle', instances: [1], afterCalls: 0, effect: 'crash', times: 2 }],
      },
    },
    check: (r) => {
      assert.deepEqual(r.deadLetters.map((d) => [d.by, d.kind, d.instance, d.error, d.attempts]), [
        ['eventbridge', 'lifecycle', 0, 'MaximumEventAgeExceeded', 0],
        ['lambda', 'lifecycle', 1, 'EventAgeExceeded', 2],
      ]);
      // The passes repair both: a sighting, then a period later the command; nothing is left to the heartbeat.
      assertCommandsPerInstance(r, 1);
      assertOneCommandPerAction(r);
      assertCompletions(r, 'CONTINUE', 'api');
    },
  },
  {
    options: {
      name: 'a launch hook and a terminate hook on one group',
      hook: { ...LAUNCH, commands: ['bootstrap'] },
      hooks: [{ ...TERMINATE, commands: ['drain'] }],
      instances: 2,
      agent: { registrationDelayMs: 0 },
      command: { durationMs: 5_000 },
      programs: { bootstrap: {}, drain: {} },
      scaleInAfterMs: 60_000,
    },
    check: (r) => {
      assertFinalStates(r, 'Terminated');
      assert.deepEqual(r.instances.map((i) => i.completions.map((c) => `${c.hook} ${c.state} ${c.result} by ${c.by}`)), Array(2).fill([
        'standin-hook Pending:Wait CONTINUE by api',
        'standin-hook-2 Terminating:Wait CONTINUE by api',
      ]));
      // Each hook's function ran its own document.
      for (const c of r.commands) {
        const sender = r.invocations.find((i) => i.id === c.sentBy)!;
        assert.deepEqual([c.ran.join(' '), sender.functionName], c.document === namesOf(0).documentName
          ? ['bootstrap', namesOf(0).functionName]
          : ['drain', namesOf(1).functionName]);
      }
      assertCommandsPerInstance(r, 2);
      assertHandlerNeverFailed(r);
    },
  },
  {
    options: {
      name: 'two terminate hooks: ABANDON on one skips the other',
      hook: { ...TERMINATE, commands: ['drain'] },
      hooks: [{ ...TERMINATE, defaultResult: 'ABANDON', commands: ['backup'] }],
      instances: 2,
      command: { durationMs: 5_000 },
      // On instance 1 the backup fails (its hook's failure result is ABANDON) while the drain still runs.
      programs: { drain: { hang: true, instances: [1] }, backup: { exitCode: 1, instances: [1] } },
    },
    check: (r) => {
      assertFinalStates(r, 'Terminated');
      assert.deepEqual(r.instances.map((i) => i.completions.map((c) => `${c.hook} ${c.result} by ${c.by}`).sort()), [
        ['standin-hook CONTINUE by api', 'standin-hook-2 CONTINUE by api'],
        ['standin-hook-2 ABANDON by api'],
      ]);
      // The first hook's action was skipped: its handler later finds none. The instance terminated
      // mid-run, so the drain stays InProgress until it expires.
      const drain = r.commands.find((c) => c.instance === 1 && c.ran.includes('drain'))!;
      assert.deepEqual([drain.status, drain.statusDetails], ['TimedOut', 'ExecutionTimedOut']);
      assert.deepEqual(callsOf(r, 1).filter((c) => c.startsWith('Complete')).sort(), [
        'CompleteLifecycleAction(ABANDON) ok',
        'CompleteLifecycleAction(CONTINUE) ValidationError',
      ]);
      assertHandlerNeverFailed(r);
    },
  },
  {
    options: {
      name: '1,000 instances scale in, 5% throttling',
      hook: TERMINATE,
      instances: 1_000,
      command: { durationMs: [5_000, 60_000] },
      api: { faults: throttling(0.05) },
    },
    check: (r) => {
      assertFinalStates(r, 'Terminated');
      assertCompletions(r, 'CONTINUE', 'api');
      assertCommandsPerInstance(r, 1);
      assertCommandComments(r);
      assert.deepEqual(appliedPerInstance(r, 'CompleteLifecycleAction'), Array(1_000).fill(1));
      assert.equal(r.summary.stuck, 0);
      assert.ok(r.summary.retries > 0, 'the throttling never hit');
      assert.equal(r.deadLetters.length, 0);
      // Every event ends with a successful invocation, whatever its earlier attempts did.
      const last = new Map<string, string>();
      for (const i of [...r.invocations].sort((a, b) => a.startMs - b.startMs)) last.set(i.eventId, i.result);
      assert.deepEqual([...last.values()].filter((v) => v !== 'ok'), []);
    },
  },
  // Deploys, updates and deletions of the stack through the stand-in's model of CloudFormation.
  ...DEPLOY_SCENARIOS,
  ...RETENTION_SCENARIOS,
  ...CONTEXT_SCENARIOS,
  ...DOCUMENT_SCENARIOS,
  ...GROUP_SCENARIOS,
  ...INTERLEAVINGS,
  ...THROTTLED_PASSES,
];
