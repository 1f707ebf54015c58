/**
 * What the claim on each lifecycle action costs: the shipped handler's DynamoDB
 * requests per action, in request units and dollars, under the conditions the
 * claim exists for (duplicated events, lost SendCommand answers), beside the
 * AWS API calls and commands per action. Simulated on the stand-in (dynalite
 * serves the table).
 */
import { runScenario } from '../test/standin';
import type { ScenarioOptions, ScenarioResult } from '../test/standin';

/**
 * DynamoDB on-demand list prices, US East (N. Virginia), standard table class,
 * in force since the cut of on-demand throughput prices on 1 November 2024:
 * $0.625 per million write request units, $0.125 per million read request
 * units. Checked on 29 November 2026.
 */
export const DYNAMODB_PRICES = { perMillionWru: 0.625, perMillionRru: 0.125, region: 'US East (N. Virginia)', since: '1 November 2024', checked: '29 November 2026' } as const;

export interface ClaimRow {
  readonly condition: string;
  readonly actions: number;
  /** Auto Scaling and SSM calls per action. */
  readonly apiCalls: number;
  readonly dynamodbCalls: number;
  /** Write request units per action: each PutItem and UpdateItem of an item under 1 KB, conditional failures included. */
  readonly wru: number;
  /** Read request units per action: each strongly consistent GetItem and Query of under 4 KB. */
  readonly rru: number;
  readonly dollarsPerMillionActions: number;
  readonly commandsPerAction: number;
}

const WRITES = ['PutItem', 'UpdateItem', 'DeleteItem'];
const READS = ['GetItem', 'Query'];

/** Request units of the handler's DynamoDB calls: items under 1 KB written, under 4 KB read strongly consistently. */
export function requestUnits(calls: ScenarioResult['storeCalls']): { wru: number; rru: number } {
  return {
    wru: calls.filter((c) => WRITES.includes(c.operation)).length,
    rru: calls.filter((c) => READS.includes(c.operation)).length,
  };
}

function row(condition: string, r: ScenarioResult): ClaimRow {
  if (r.errors.length > 0) throw new Error(`${condition}: the stand-in failed:\n${r.errors.join('\n')}`);
  const actions = r.instances.length;
  const units = requestUnits(r.storeCalls);
  const wru = units.wru / actions;
  const rru = units.rru / actions;
  return {
    condition,
    actions,
    apiCalls: r.calls.length / actions,
    dynamodbCalls: r.storeCalls.length / actions,
    wru,
    rru,
    dollarsPerMillionActions: wru * DYNAMODB_PRICES.perMillionWru + rru * DYNAMODB_PRICES.perMillionRru,
    commandsPerAction: r.summary.commandsSent / actions,
  };
}

const TERMINATE = { transition: 'terminate', timeoutSeconds: 300 } as const;

export async function measureClaim(seed: number): Promise<ClaimRow[]> {
  const base: Omit<ScenarioOptions, 'name'> = { hook: TERMINATE, instances: 100, spreadMs: 60_000, command: { durationMs: 60_000 }, seed };
  const conditions: Array<[string, Partial<ScenarioOptions>]> = [
    ['each event once', {}],
    ['every lifecycle event twice, 0–200 ms apart', { ssm: { visibilityLagMs: 1_000 }, events: { faults: [{ kind: 'lifecycle', duplicates: 1, duplicateDelayMs: [0, 200] }] } }],
    ['every first SendCommand answer lost (500 after applying), ListCommands 1 s behind', {
      ssm: { visibilityLagMs: 1_000 },
      api: { faults: [{ operations: ['SendCommand'], times: 100, error: { code: 'InternalServerError', afterApplying: true } }] },
    }],
  ];
  const rows: ClaimRow[] = [];
  for (const [condition, extra] of conditions) {
    rows.push(row(condition, await runScenario({ name: `claim: ${condition}`, ...base, ...extra })));
  }
  return rows;
}
