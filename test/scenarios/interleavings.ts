/**
 * Scenarios of two writers of one action, or of one instance's successive
 * actions, meeting late: a late lifecycle event and the reconciliation pass's
 * claim, a registration deadline and a copy of the launch event, an operator's
 * completion and an older command's end. Each holds one rule: a command is
 * sent only by the holder of the action's record in a state that allows it,
 * an action is completed only through a record state that stops any later
 * send, and a command's result completes only its own action.
 */
import type { ScenarioOptions } from '../standin';
import { assert, assertCompletions, assertHandlerNeverFailed, assertOneCommandPerAction, ScenarioResult } from './checks';

interface Scenario {
  readonly options: ScenarioOptions;
  readonly seeds?: readonly number[];
  readonly check: (r: ScenarioResult) => void;
}

const FIVE_SEEDS = [1, 2, 3, 4, 5] as const;
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/**
 * 40 launches whose lifecycle events EventBridge holds until after the pass
 * claimed their actions (sighted at 10 s, claimed and sent at 370 s): each
 * event meets the pass's claim while the pass's command runs, and adopts it.
 */
function lateEventsMeetThePass(name: string, more: Partial<ScenarioOptions>): ScenarioOptions {
  return {
    name,
    hook: { transition: 'launch', timeoutSeconds: 300 },
    instances: 40,
    agent: { registrationDelayMs: 0 },
    command: { durationMs: [100_000, 150_000] },
    reconciliation: { phaseMs: 10_000 },
    events: { faults: [{ kind: 'lifecycle', delayMs: [372_000, 400_000] }] },
    ...more,
  };
}

function assertOnePassCommandEach(r: ScenarioResult, instances: number): void {
  assertOneCommandPerAction(r);
  assert.equal(r.commands.length, instances, 'one command per launch');
  assert.equal(r.summary.continued, instances);
  assert.equal(r.summary.heartbeatTimeouts, 0);
}

export const INTERLEAVINGS: readonly Scenario[] = [
  {
    seeds: FIVE_SEEDS,
    options: lateEventsMeetThePass('late lifecycle events adopt the pass\'s claim, the adoption\'s answer lost -> one command', {
      store: { faults: [{ operations: ['UpdateItem'], bodyIncludes: 'SET #token = :token', instances: range(40), answer: 'lost' }] },
    }),
    check: (r) => {
      assertOnePassCommandEach(r, 40);
      assertHandlerNeverFailed(r);
    },
  },
  {
    seeds: FIVE_SEEDS,
    options: lateEventsMeetThePass('late lifecycle events adopt the pass\'s claim, then crash; Lambda retries -> one command', {
      // The event's calls: DescribeInstanceInformation, the claim (PutItem), the adoption (UpdateItem); then the runtime dies.
      lambda: { faults: [{ kind: 'lifecycle', attempt: 1, afterCalls: 3, effect: 'crash' }] },
    }),
    check: (r) => {
      assertOnePassCommandEach(r, 40);
    },
  },
  {
    seeds: FIVE_SEEDS,
    options: {
      name: 'warm pool: the first action\'s lifecycle event arrives after the pass claimed the second -> one command each',
      hook: { transition: 'launch', timeoutSeconds: 1_800 },
      instances: 5,
      warmPool: { leaveAfterMs: [90_000, 110_000] },
      agent: { registrationDelayMs: 0 },
      // Long enough that the late event arrives while the second command runs.
      command: { durationMs: [150_000, 200_000] },
      reconciliation: { phaseMs: 10_000 },
      events: {
        faults: [
          // The first action's event (entering the pool) comes 18 minutes late; the second's (leaving it) never.
          { kind: 'lifecycle', perInstance: true, times: 1, delayMs: [1_100_000, 1_120_000] },
          { kind: 'lifecycle', perInstance: true, skip: 1, lose: true },
        ],
      },
    },
    check: (r) => {
      // The passes ran both actions of every instance (sighted, then claimed a period later); the
      // late event of the first action finds it ended and takes nothing over.
      assertOneCommandPerAction(r);
      assert.equal(r.commands.length, 10, 'two commands per instance');
      assert.deepEqual(r.instances.map((i) => i.completions.map((c) => `${c.state} ${c.result} by ${c.by}`)), Array(5).fill([
        'Warmed:Pending:Wait CONTINUE by api', 'Pending:Wait CONTINUE by api',
      ]));
      for (const i of range(5)) {
        const late = r.invocations.filter((inv) => inv.kind === 'lifecycle' && inv.instance === i).map((inv) => String(inv.value));
        assert.deepEqual(late, ['action-ended'], `instance ${i}: the late event of its first action`);
      }
      assert.equal(r.summary.heartbeatTimeouts, 0);
      assertHandlerNeverFailed(r);
    },
  },
  {
    seeds: FIVE_SEEDS,
    options: {
      name: 'warm pool: an operator completes the pass\'s action, its command ends during the next action -> that action is not completed by it',
      hook: { transition: 'launch', timeoutSeconds: 300 },
      instances: 2,
      warmPool: { leaveAfterMs: [60_000, 80_000] },
      agent: { registrationDelayMs: 0 },
      command: { durationMs: [20_000, 30_000] },
      reconciliation: { phaseMs: 10_000 },
      // Every lifecycle event is lost: the passes run both actions (sighted at 10 s, sent at 370 s).
      events: { faults: [{ kind: 'lifecycle', lose: true }] },
      // The first command hangs until its execution timeout, after the operator completed its action.
      programs: { 'lifecycle-step': { hang: true, runs: [1] } },
      during: [{
        atMs: 400_000,
        run: (world) => {
          for (const i of [0, 1]) if (world.instance(i).state === 'Warmed:Pending:Wait') world.complete(i, 'CONTINUE');
        },
      }],
    },
    check: (r) => {
      assert.deepEqual(r.instances.map((i) => i.completions.map((c) => `${c.state} ${c.result} by ${c.by}`)), Array(2).fill([
        'Warmed:Pending:Wait CONTINUE by operator', 'Pending:Wait CONTINUE by api',
      ]));
      assert.deepEqual(r.commands.map((c) => c.status), ['TimedOut', 'TimedOut', 'Success', 'Success']);
      assertOneCommandPerAction(r);
      assert.equal(r.summary.heartbeatTimeouts, 0);
      assertHandlerNeverFailed(r);
    },
  },
  {
    seeds: FIVE_SEEDS,
    options: {
      name: 'the registration deadline races a copy of the launch event -> no command for an ABANDONed launch',
      hook: { transition: 'launch', timeoutSeconds: 300, registrationTimeoutSeconds: 60 },
      instances: 100,
      // The agents register about when the deadline (60 s after the first check) passes.
      agent: { registrationDelayMs: [64_000, 65_500] },
      command: { durationMs: [5_000, 10_000] },
      reconciliation: false,
      // A copy of each launch event arrives as the deadline passes.
      events: { faults: [{ kind: 'lifecycle', duplicates: 1, duplicateDelayMs: [62_000, 64_000] }] },
      api: {
        faults: [
          { operations: ['DescribeInstanceInformation'], delayMs: [500, 2_000] },
          { operations: ['CompleteLifecycleAction'], delayMs: [0, 2_000] },
        ],
      },
    },
    check: (r) => {
      assertOneCommandPerAction(r);
      for (const i of r.instances) {
        const commands = r.commands.filter((c) => c.instance === i.index).length;
        if (i.completions[0]?.result === 'ABANDON') assert.equal(commands, 0, `instance ${i.index}: ABANDONed, and given a command`);
      }
      assert.equal(r.summary.stuck, 0);
      assert.equal(r.summary.heartbeatTimeouts, 0);
    },
  },
  {
    seeds: FIVE_SEEDS,
    options: {
      name: 'a registered agent restarts as the pass meets its stopped claim, after the deadline -> the command is sent once it is back',
      hook: { transition: 'launch', timeoutSeconds: 300, registrationTimeoutSeconds: 120 },
      instances: 10,
      agent: { registrationDelayMs: [18_000, 22_000] },
      command: { durationMs: [5_000, 10_000] },
      // The check that finds the agent online claims the action, then its runtime dies: on every attempt.
      lambda: { faults: [{ kind: 'registration-check', afterCalls: 2, effect: 'crash' }] },
      // The pass at 200 s (past the deadline, 120 s and its 40 s of grace) meets the stopped claim while the agents restart.
      reconciliation: { phaseMs: 200_000 },
      schedule: [
        { atMs: 190_000, instances: range(10), happening: 'agent-offline' },
        { atMs: 250_000, instances: range(10), happening: 'agent-online' },
      ],
    },
    check: (r) => {
      // Each agent registered at about 20 s: no launch is ABANDONed as "did not register in time".
      const abandoned = r.instances.filter((i) => i.completions.some((c) => c.result === 'ABANDON')).map((i) => i.index);
      assert.deepEqual(abandoned, [], 'healthy launches ABANDONed');
      assertCompletions(r, 'CONTINUE', 'api');
      assertOneCommandPerAction(r);
      assert.equal(r.commands.length, 10, 'one command per launch');
      assert.equal(r.summary.heartbeatTimeouts, 0);
    },
  },
];
