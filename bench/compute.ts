// The three designs on the offline stand-in, in the same run: Lambda compute,
// API calls, delay and outcome per lifecycle action for commands of 5 s to
// 90 min, and the same designs at 10, 100 and 1,000 simultaneous actions with
// 5% throttling. Everything runs on the stand-in's virtual clock with seeded
// randomness, so the figures repeat on any machine.
import { requestUnits } from './claim';
import { COMPLETION_MARGIN_SECONDS, DELIVERY_TIMEOUT_SECONDS, maxCommandSeconds } from '../src/reconciliation-timing';
import { runScenario, throttling } from '../test/standin';
import type { HandlerFactory, ScenarioOptions, ScenarioResult, Transition } from '../test/standin';
import { FIXED_SLEEP, fixedSleepHandler } from './designs/fixed-sleep';
import { POLLING, pollingHandler } from './designs/polling';
import { EXPRESS_PRICES, expressGbSeconds, LAMBDA_PRICES } from './prices';

export type DesignName = 'shipped (event-driven)' | 'fixed sleep' | 'polling every 5 s';

export interface Design {
  readonly name: DesignName;
  /** Scenario options that make the stand-in run this design. */
  readonly options: (transition: Transition, hookTimeoutSeconds: number) => Pick<ScenarioOptions, 'hook' | 'lambda' | 'events' | 'reconciliation'> & { handler?: HandlerFactory };
}

/**
 * The longest `timeout` the construct takes for a terminate hook: Auto
 * Scaling's global timeout (48 h) less delivery, completion and one
 * reconciliation period, as the construct computes it (171,780 s).
 */
export const MAX_TERMINATE_TIMEOUT_SECONDS = maxCommandSeconds(DELIVERY_TIMEOUT_SECONDS + COMPLETION_MARGIN_SECONDS);

/**
 * The construct's `timeout` a user would give for a command of this length:
 * a quarter more than it takes, at least the construct's 30 s, at most what
 * the construct takes.
 */
export function hookTimeoutFor(commandSeconds: number): number {
  return Math.min(MAX_TERMINATE_TIMEOUT_SECONDS, Math.max(30, Math.ceil(commandSeconds * 1.25)));
}

export const DESIGNS: readonly Design[] = [
  {
    name: 'shipped (event-driven)',
    // The bundled handler with the template's memory, timeout, rules and heartbeat.
    options: (transition, timeoutSeconds) => ({ hook: { transition, timeoutSeconds } }),
  },
  {
    name: 'fixed sleep',
    options: (transition, timeoutSeconds) => ({
      hook: { transition, timeoutSeconds, heartbeatTimeoutSeconds: FIXED_SLEEP.heartbeatTimeoutSeconds },
      handler: fixedSleepHandler(FIXED_SLEEP),
      lambda: { memoryMB: FIXED_SLEEP.memoryMB, timeoutSeconds: FIXED_SLEEP.timeoutSeconds },
      events: { kinds: ['lifecycle'] },
      // Made by hand: the function has no schedule.
      reconciliation: false,
    }),
  },
  {
    name: 'polling every 5 s',
    options: (transition, timeoutSeconds) => ({
      hook: { transition, timeoutSeconds, heartbeatTimeoutSeconds: POLLING.heartbeatTimeoutSeconds },
      handler: pollingHandler(POLLING),
      lambda: { memoryMB: POLLING.memoryMB, timeoutSeconds: POLLING.timeoutSeconds },
      events: { kinds: ['lifecycle'] },
      // Made by hand: the function has no schedule.
      reconciliation: false,
    }),
  },
];

export type Outcome = 'correct' | 'wrong' | 'heartbeat' | 'stuck';

export interface ActionRow {
  readonly design: DesignName;
  readonly transition: Transition;
  readonly commandSeconds: number;
  readonly actions: number;
  readonly memoryMB: number;
  /** Mean Lambda GB-s per lifecycle action. */
  readonly gbSeconds: number;
  readonly apiCalls: number;
  readonly commands: number;
  readonly invocations: number;
  /** Cold starts (new execution environments) per action; Lambda bills their init phase too. */
  readonly coldStarts: number;
  /** Step Functions Express executions per action (a launch hook's registration waits). */
  readonly executions: number;
  /** Express GB-s per action, as billed (64 MB, 100 ms). */
  readonly executionGbSeconds: number;
  /** Longest single invocation, ms. */
  readonly longestInvocationMs: number;
  /** Dollars per action at list prices: Lambda requests and GB-s, Step Functions requests and GB-s. */
  readonly dollars: number;
  /** Invocations per action by the reconciliation pass's schedule (shared by the actions waiting at once). */
  readonly passInvocations: number;
  /** Auto Scaling and SSM calls per action made by the reconciliation passes (included in `apiCalls`). */
  readonly passApiCalls: number;
  /** RecordLifecycleActionHeartbeat calls per action. */
  readonly heartbeats: number;
  /** DynamoDB write and read request units per action (the action table). */
  readonly wru: number;
  readonly rru: number;
  /** Mean ms from the command's end to the completion that took effect; negative: before the command ended. */
  readonly delayMs: number;
  readonly outcomes: Readonly<Record<Outcome, number>>;
}

export interface ScaleRow {
  readonly design: DesignName;
  readonly actions: number;
  readonly apiCalls: number;
  readonly retries: number;
  readonly gbSecondsPerAction: number;
  /** Virtual ms until the last lifecycle action completed (by anyone). */
  readonly lastCompletionMs: number;
  readonly stuck: number;
  readonly heartbeat: number;
  readonly wrong: number;
  readonly commands: number;
  readonly lambdaRetries: number;
  readonly deadLetters: number;
  readonly realMs: number;
}

export const COMMAND_SECONDS = [5, 60, 300, 1_200, 5_400];
/**
 * Commands longer than a heartbeat timeout may be (7,200 s): 6 h, 24 h, and
 * 47.5 h, the longest whole half hour under the construct's limit (a 48-hour
 * command cannot end inside Auto Scaling's 48-hour global timeout, which
 * counts from the start of the wait).
 */
export const LONG_COMMAND_SECONDS = [21_600, 86_400, 171_000];
const HOURS_MS = 3_600_000;
const TERMINAL = ['Success', 'Failed', 'TimedOut', 'Cancelled', 'Undeliverable'];

function gbSeconds(r: ScenarioResult): number {
  // Lambda bills each invocation per 1 ms at the function's memory.
  const ms = r.invocations.reduce((sum, i) => sum + Math.ceil(i.billedMs ?? 0), 0);
  return (ms / 1000) * (r.summary.memoryMB / 1024);
}

/**
 * How each instance's lifecycle action ended. The command's end is when its
 * first command would have finished on its own: its final status event, or,
 * when the instance was terminated under it, its start plus its duration.
 */
function judge(r: ScenarioResult, commandMs: number): Array<{ outcome: Outcome; delayMs?: number }> {
  return r.instances.map((instance) => {
    const completion = instance.completions[0];
    if (!completion) return { outcome: 'stuck' };
    const events = r.events.filter((e) => e.kind === 'command-status' && e.instance === instance.index);
    const started = events.find((e) => e.status === 'InProgress');
    const ended = events.find((e) => e.status !== undefined && TERMINAL.includes(e.status));
    const endMs = ended?.status === 'Success' || ended?.status === 'Failed'
      ? ended.atMs
      : started ? started.atMs + commandMs : undefined;
    const delayMs = endMs === undefined ? undefined : completion.atMs - endMs;
    if (completion.by === 'heartbeat') return { outcome: 'heartbeat', delayMs };
    if (delayMs === undefined || delayMs < 0) return { outcome: 'wrong', delayMs };
    // Every command of the benchmark succeeds: the right result is CONTINUE.
    return { outcome: completion.result === 'CONTINUE' ? 'correct' : 'wrong', delayMs };
  });
}

function checkRan(r: ScenarioResult): void {
  if (r.errors.length > 0) throw new Error(`${r.summary.name}: the stand-in failed:\n${r.errors.join('\n')}`);
}

/** One design, `actions` lifecycle actions spread over a minute so that each has the function to itself. */
async function measureAction(
  design: Design, transition: Transition, commandSeconds: number, seed: number, actions: number, horizonMs?: number,
): Promise<ActionRow> {
  const r = await runScenario({
    name: `${design.name}, ${transition}, ${commandSeconds} s command`,
    ...design.options(transition, hookTimeoutFor(commandSeconds)),
    instances: actions,
    spreadMs: 60_000,
    command: { durationMs: commandSeconds * 1000 },
    seed,
    horizonMs,
  });
  checkRan(r);
  const judged = judge(r, commandSeconds * 1000);
  const outcomes: Record<Outcome, number> = { correct: 0, wrong: 0, heartbeat: 0, stuck: 0 };
  for (const j of judged) outcomes[j.outcome]++;
  const delays = judged.map((j) => j.delayMs).filter((d): d is number => d !== undefined);
  const lambdaGbSeconds = gbSeconds(r) / actions;
  const invocations = r.invocations.length / actions;
  const executions = r.executions.length / actions;
  const executionGbSeconds = r.executions.reduce((sum, e) => sum + expressGbSeconds((e.endMs ?? r.summary.virtualMs) - e.startMs), 0) / actions;
  const perAction = (n: number) => n / actions;
  const passes = new Set(r.invocations.filter((i) => i.kind === 'schedule').map((i) => i.id));
  const units = requestUnits(r.storeCalls);
  return {
    design: design.name,
    transition,
    commandSeconds,
    actions,
    memoryMB: r.summary.memoryMB,
    gbSeconds: lambdaGbSeconds,
    apiCalls: r.calls.length / actions,
    commands: r.summary.commandsSent / actions,
    invocations,
    executions,
    executionGbSeconds,
    longestInvocationMs: Math.max(...r.invocations.map((i) => i.billedMs ?? 0)),
    dollars: invocations * LAMBDA_PRICES.perMillionRequests / 1e6 + lambdaGbSeconds * LAMBDA_PRICES.perGbSecond
      + executions * EXPRESS_PRICES.perMillionRequests / 1e6 + executionGbSeconds * EXPRESS_PRICES.perGbHour / 3600,
    coldStarts: r.invocations.filter((i) => i.coldStart).length / actions,
    passInvocations: perAction(passes.size),
    passApiCalls: perAction(r.calls.filter((c) => c.invocation !== undefined && passes.has(c.invocation)).length),
    heartbeats: perAction(r.calls.filter((c) => c.operation === 'RecordLifecycleActionHeartbeat').length),
    wru: perAction(units.wru),
    rru: perAction(units.rru),
    delayMs: delays.length ? delays.reduce((a, b) => a + b, 0) / delays.length : NaN,
    outcomes,
  };
}

/** Per lifecycle action of a terminate hook, for each command duration and design. */
export async function measureActions(seed: number, actions = 10): Promise<ActionRow[]> {
  const rows: ActionRow[] = [];
  for (const commandSeconds of COMMAND_SECONDS) {
    for (const design of DESIGNS) rows.push(await measureAction(design, 'terminate', commandSeconds, seed, actions));
  }
  return rows;
}

/**
 * Per lifecycle action of a terminate hook for commands of 6 to 47.5 hours:
 * three actions a row (the passes that keep them alive are shared, as in a
 * fleet), the scenario's horizon past the command's end.
 */
export async function measureLongCommands(seed: number, actions = 3): Promise<ActionRow[]> {
  const rows: ActionRow[] = [];
  for (const commandSeconds of LONG_COMMAND_SECONDS) {
    for (const design of DESIGNS) {
      rows.push(await measureAction(design, 'terminate', commandSeconds, seed, actions, commandSeconds * 1000 + 2 * HOURS_MS));
    }
  }
  return rows;
}

/**
 * A launch hook: the instance's SSM agent registers 15-45 s after launch. The
 * shipped handler checks registration once per invocation before it sends,
 * and its Express state machine waits between checks; the hand-made designs
 * send at once, are refused, and wait for Lambda's retry a minute later.
 */
export async function measureLaunch(seed: number, commandSeconds = [60, 300], actions = 10): Promise<ActionRow[]> {
  const rows: ActionRow[] = [];
  for (const seconds of commandSeconds) {
    for (const design of DESIGNS) rows.push(await measureAction(design, 'launch', seconds, seed, actions));
  }
  return rows;
}

/** Many simultaneous actions (a scale-in of the whole group) with 5% of calls throttled. */
export async function measureScale(seed: number, counts = [10, 100, 1_000], commandSeconds = 60): Promise<ScaleRow[]> {
  const rows: ScaleRow[] = [];
  for (const actions of counts) {
    for (const design of DESIGNS) {
      const r = await runScenario({
        name: `${design.name}, ${actions} actions`,
        ...design.options('terminate', hookTimeoutFor(commandSeconds)),
        instances: actions,
        command: { durationMs: commandSeconds * 1000 },
        api: { faults: throttling(0.05) },
        seed,
      });
      checkRan(r);
      const judged = judge(r, commandSeconds * 1000);
      const completions = r.instances.flatMap((i) => i.completions.map((c) => c.atMs));
      rows.push({
        design: design.name,
        actions,
        apiCalls: r.summary.apiCalls,
        retries: r.summary.retries,
        gbSecondsPerAction: gbSeconds(r) / actions,
        lastCompletionMs: completions.length ? Math.max(...completions) : NaN,
        stuck: r.summary.stuck,
        heartbeat: judged.filter((j) => j.outcome === 'heartbeat').length,
        wrong: judged.filter((j) => j.outcome === 'wrong').length,
        commands: r.summary.commandsSent,
        lambdaRetries: r.summary.lambdaRetries,
        deadLetters: r.summary.deadLetters,
        realMs: r.summary.realMs,
      });
    }
  }
  return rows;
}

if (require.main === module) {
  void (async () => {
    console.table(await measureActions(1));
    console.table(await measureLaunch(1));
    console.table(await measureScale(1));
  })();
}
