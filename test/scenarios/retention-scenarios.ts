/**
 * Scenarios of retention: a terminate hook with `retainOnFailure` on a group
 * whose instance lifecycle policy retains an instance whose terminate action
 * is abandoned (test/standin/autoscaling.ts). A failed drain keeps its
 * instance running in `Terminating:Retained`; nothing of the runtime touches it
 * again, passes included, until an operator releases it.
 */
import {
  assert,
  assertCommandsPerInstance,
  assertFinalStates,
  assertHandlerNeverFailed,
  assertMetricsAddUp,
  assertOneCommandPerAction,
  ScenarioResult,
  storeCallsOf,
} from './checks';
import type { Scenario } from './scenarios';

const MINUTES = 60_000;
const HOURS = 60 * MINUTES;
const RETAINING = { transition: 'terminate', timeoutSeconds: 300, retainOnFailure: true } as const;
/** The instances whose drain fails. */
const FAILING = [2, 5, 8] as const;

/** When the instance's last lifecycle action ended, virtual ms. */
function endedAt(r: ScenarioResult, instance: number): number {
  return Math.max(...r.instances[instance].completions.map((c) => c.atMs));
}

/** The handler's AWS calls and table writes about the instance after this time. */
function touchedAfter(r: ScenarioResult, instance: number, fromMs: number): string[] {
  return [
    ...r.calls.filter((c) => c.instance === instance && c.atMs > fromMs).map((c) => `${c.operation} at ${c.atMs} ms`),
    ...r.storeCalls.filter((c) => c.instance === instance && c.atMs > fromMs).map((c) => `${c.operation} at ${c.atMs} ms`),
  ];
}

/** Scheduled passes that ran after this time. */
function passesAfter(r: ScenarioResult, fromMs: number): number {
  return r.invocations.filter((i) => i.kind === 'schedule' && i.startMs > fromMs).length;
}

export const RETENTION_SCENARIOS: readonly Scenario[] = [
  {
    options: {
      name: 'retention: 10 drains, 3 fail -> 3 retained and running, 7 terminated; passes over them for 2 hours touch nothing',
      hook: RETAINING,
      terminateHookAbandon: 'retain',
      instances: 10,
      spreadMs: 20_000,
      command: { durationMs: [5_000, 60_000] },
      programs: { 'lifecycle-step': { exitCode: 1, instances: FAILING } },
      reconciliation: { untilMs: 2 * HOURS },
    },
    report: (r) => {
      const last = Math.max(...FAILING.map((i) => endedAt(r, i)));
      return `retained ${r.instances.filter((i) => i.state === 'Terminating:Retained').length}, terminated ${r.instances.filter((i) => i.state === 'Terminated').length}; `
        + `${passesAfter(r, last)} passes after the last retention, ${FAILING.flatMap((i) => touchedAfter(r, i, endedAt(r, i))).length} calls about a retained instance`;
    },
    check: (r) => {
      const retained = (i: number) => (FAILING as readonly number[]).includes(i);
      assertFinalStates(r, r.instances.map((i) => (retained(i.index) ? 'Terminating:Retained' : 'Terminated')));
      assert.deepEqual(r.instances.map((i) => i.ec2Running), r.instances.map((i) => retained(i.index)), 'retained instances keep running');
      // Each action ended once, by the handler: abandoned for a failed drain, never by the heartbeat timeout.
      assert.deepEqual(r.instances.map((i) => i.completions.map((c) => `${c.result} by ${c.by}`)),
        r.instances.map((i) => [retained(i.index) ? 'ABANDON by api' : 'CONTINUE by api']));
      assert.equal(r.summary.heartbeatTimeouts, 0);
      assertCommandsPerInstance(r, 1);
      assertOneCommandPerAction(r);
      assert.deepEqual(r.commands.map((c) => `${c.instance} ${c.status}`).sort(),
        r.instances.map((i) => `${i.index} ${retained(i.index) ? 'Failed' : 'Success'}`).sort());
      // A retained instance is in no wait state: no pass heartbeats, completes, sends or writes for it afterwards.
      const last = Math.max(...FAILING.map((i) => endedAt(r, i)));
      assert.ok(passesAfter(r, last) >= 15, `only ${passesAfter(r, last)} passes ran over the retained instances`);
      for (const i of FAILING) {
        assert.deepEqual(touchedAfter(r, i, endedAt(r, i)), [], `instance ${i} touched after its retention`);
        // Its record was written up to the command's end: claimed, sent, ended.
        assert.ok(storeCallsOf(r, i).length > 0, `instance ${i} has no action record`);
      }
      assert.deepEqual(r.logs.filter((l) => l.text.includes('lifecycle action pending without a record')), []);
      // The failed drains' own outcome lines are at error level; nothing else is.
      const outcome = /"message":"(command ended|lifecycle action completed)"/;
      assert.deepEqual(r.logs.filter((l) => l.level === 'error' && !outcome.test(l.text)).map((l) => l.text), [], 'error lines');
      assertMetricsAddUp(r);
      assertHandlerNeverFailed(r);
    },
  },
  {
    options: {
      name: 'retention by the other paths: failed drains whose status events are lost, a command that cannot be sent -> retained, then left alone',
      hook: RETAINING,
      terminateHookAbandon: 'retain',
      instances: 6,
      command: { durationMs: [5_000, 30_000] },
      programs: { 'lifecycle-step': { exitCode: 1, instances: [0, 1] } },
      // The pass finds the failed commands and abandons their actions.
      events: { faults: [{ kind: 'command-status', status: 'Failed', lose: true }] },
      // Instance 2's agent is offline when its command is sent: SendCommand refuses it.
      schedule: [{ atMs: 0, instances: [2], happening: 'agent-offline' }],
      reconciliation: { untilMs: 2 * HOURS },
    },
    check: (r) => {
      const retained = [0, 1, 2];
      assertFinalStates(r, r.instances.map((i) => (retained.includes(i.index) ? 'Terminating:Retained' : 'Terminated')));
      assert.deepEqual(r.instances.map((i) => i.completions.map((c) => `${c.result} by ${c.by}`)),
        r.instances.map((i) => [retained.includes(i.index) ? 'ABANDON by api' : 'CONTINUE by api']));
      // Completed by a pass (the status events were lost), and by the invocation whose send was refused.
      const kindOf = (i: number) => r.invocations.find((inv) => inv.id === r.instances[i].completions[0].invocation)?.kind;
      assert.deepEqual(retained.map(kindOf), ['schedule', 'schedule', 'lifecycle']);
      assert.ok(r.calls.some((c) => c.instance === 2 && c.operation === 'SendCommand' && c.error === 'InvalidInstanceId'));
      assertCommandsPerInstance(r, [1, 1, 0, 1, 1, 1]);
      assertOneCommandPerAction(r);
      assert.equal(r.summary.heartbeatTimeouts, 0);
      for (const i of retained) assert.deepEqual(touchedAfter(r, i, endedAt(r, i)), [], `instance ${i} touched after its retention`);
      assert.ok(passesAfter(r, Math.max(...retained.map((i) => endedAt(r, i)))) >= 15);
      assertHandlerNeverFailed(r);
    },
  },
  {
    options: {
      name: 'retention: a retained instance released after 30 minutes drains again as a new action, then terminates',
      hook: RETAINING,
      terminateHookAbandon: 'retain',
      instances: 3,
      command: { durationMs: [5_000, 30_000] },
      // The drain fails on its first run only: the operator fixed what it tripped on.
      programs: { 'lifecycle-step': { exitCode: 1, instances: [1], runs: [1] } },
      during: [{ atMs: 30 * MINUTES, run: (world) => world.release(1) }],
    },
    check: (r) => {
      assertFinalStates(r, 'Terminated');
      assert.deepEqual(r.instances.map((i) => i.completions.map((c) => `${c.result} by ${c.by}`)),
        [['CONTINUE by api'], ['ABANDON by api', 'CONTINUE by api'], ['CONTINUE by api']]);
      const [first, second] = r.instances[1].completions;
      assert.notEqual(first.token, second.token, 'the release is a new lifecycle action');
      assert.ok(second.atMs > 30 * MINUTES);
      // Retained from its first completion to the release: nothing in between.
      assert.deepEqual(touchedAfter(r, 1, first.atMs).filter((t) => Number(/at (\d+) ms/.exec(t)![1]) < 30 * MINUTES), []);
      assertCommandsPerInstance(r, [1, 2, 1]);
      assertOneCommandPerAction(r);
      assert.equal(r.summary.heartbeatTimeouts, 0);
      assertHandlerNeverFailed(r);
    },
  },
  {
    options: {
      name: 'retention asked, but the group\'s policy terminates -> the abandoned instance terminates',
      hook: RETAINING,
      instances: 3,
      command: { durationMs: [5_000, 30_000] },
      programs: { 'lifecycle-step': { exitCode: 1, instances: [0] } },
    },
    check: (r) => {
      assertFinalStates(r, 'Terminated');
      assert.deepEqual(r.instances.map((i) => i.completions.map((c) => `${c.result} by ${c.by}`)),
        [['ABANDON by api'], ['CONTINUE by api'], ['CONTINUE by api']]);
      assertCommandsPerInstance(r, 1);
      assertHandlerNeverFailed(r);
    },
  },
];
