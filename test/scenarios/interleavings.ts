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
import { assert, assertHandlerNeverFailed, assertOneCommandPerAction, ScenarioResult } from './checks';

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
];
