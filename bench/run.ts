// Runs every benchmark in one go, prints its tables, and writes
// bench/RESULTS.md and bench/compute.png.
//
//   npx projen bench                # seed 1, as committed
//   npx projen bench -- --seed=7    # every simulated random draw from another seed
//
// Figures on the stand-in's virtual clock (GB-s, API calls, delays, outcomes,
// scale) depend only on the seed; synth and module-load times are real time on
// this machine. Nothing here fails on a figure.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { renderComputeChart } from './chart';
import { ClaimRow, DYNAMODB_PRICES, measureClaim } from './claim';
import {
  ActionRow, COMMAND_SECONDS, DesignName, hookTimeoutFor, LONG_COMMAND_SECONDS, MAX_TERMINATE_TIMEOUT_SECONDS,
  measureActions, measureLaunch, measureLongCommands, measureScale, Outcome, ScaleRow,
} from './compute';
import { FIXED_SLEEP } from './designs/fixed-sleep';
import { POLLING } from './designs/polling';
import { HandlerSizeRow, measureHandlerSize } from './handler-size';
import { measurePass, MONTH_MS, PASS_INIT_MS, PassCostRow } from './pass';
import { measureSynth, SynthRow } from './synth';

const RESULTS = path.join(__dirname, 'RESULTS.md');
const CHART = path.join(__dirname, 'compute.png');
const HEADLINE_SECONDS = 300;
const SCALE_COMMAND_SECONDS = 60;
const CLOUDFORMATION_RESOURCE_LIMIT = 500;
/** The stand-in's virtual cold start, which Lambda bills as the init phase. */
const INIT_MS = 200;

const SHIPPED: DesignName = 'shipped (event-driven)';
const FIXED: DesignName = 'fixed sleep';
const POLL: DesignName = 'polling every 5 s';

// ---- formatting ----

function table(header: string[], rows: string[][], align: Array<'l' | 'r'> = []): string {
  const rule = header.map((_, n) => (align[n] === 'r' ? '---:' : '---'));
  return [header, rule, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

function num(n: number, digits = 3): string {
  if (!Number.isFinite(n)) return '–';
  if (n === 0) return '0';
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString('en-US');
  return Number(n.toPrecision(digits)).toString();
}

function seconds(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  const s = ms / 1000;
  const sign = s < 0 ? '−' : '+';
  const a = Math.abs(s);
  return `${sign}${a < 10 ? a.toFixed(1) : Math.round(a).toLocaleString('en-US')} s`;
}

function duration(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  if (ms >= 3_600_000) return `${(ms / 3_600_000).toFixed(2)} h`;
  if (ms >= 60_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 1000).toFixed(1)} s`;
}

function commandLabel(s: number): string {
  if (s < 60) return `${s} s`;
  return s < 21_600 ? `${s / 60} min` : `${s / 3_600} h`;
}

function outcome(o: Readonly<Record<Outcome, number>>, total: number): string {
  const parts = (Object.entries(o) as Array<[Outcome, number]>).filter(([, n]) => n > 0);
  if (parts.length === 1) return `${parts[0][0]} ${parts[0][1]}/${total}`;
  return parts.map(([k, n]) => `${k} ${n}`).join(', ');
}

function ratio(a: number, b: number): string {
  const r = a / b;
  return `${r >= 100 ? Math.round(r).toLocaleString('en-US') : r.toFixed(1)}×`;
}

const out = (s = '') => process.stdout.write(`${s}\n`);

// ---- tables ----

function actionTable(rows: readonly ActionRow[]): string {
  return table(
    ['command', 'design', 'memory', 'Lambda GB-s / action', 'API calls / action', 'commands sent / action', 'command end → completion', 'outcome'],
    rows.map((r) => [
      commandLabel(r.commandSeconds),
      r.design,
      `${r.memoryMB} MB`,
      num(r.gbSeconds),
      num(r.apiCalls),
      num(r.commands),
      seconds(r.delayMs),
      outcome(r.outcomes, r.actions),
    ]),
    ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'l'],
  );
}

function launchTable(rows: readonly ActionRow[]): string {
  return table(
    ['command', 'design', 'memory', 'Lambda GB-s / action', 'invocations / action', 'longest invocation', 'Step Functions executions / action',
      'Express GB-s / action', '$ per 1,000 actions (Lambda + Step Functions)', 'API calls / action', 'commands sent / action', 'command end → completion', 'outcome'],
    rows.map((r) => [
      commandLabel(r.commandSeconds),
      r.design,
      `${r.memoryMB} MB`,
      num(r.gbSeconds),
      num(r.invocations),
      duration(r.longestInvocationMs),
      num(r.executions),
      num(r.executionGbSeconds),
      `$${(r.dollars * 1000).toFixed(4)}`,
      num(r.apiCalls),
      num(r.commands),
      seconds(r.delayMs),
      outcome(r.outcomes, r.actions),
    ]),
    ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
  );
}

function longTable(rows: readonly ActionRow[]): string {
  return table(
    ['command', 'design', 'Lambda GB-s / action', 'invocations / action (by the pass)', 'heartbeats / action', 'API calls / action',
      'DynamoDB WRU + RRU / action', '$ per 1,000 actions (Lambda + DynamoDB)', 'commands sent / action', 'command end → completion', 'outcome'],
    rows.map((r) => [
      commandLabel(r.commandSeconds),
      r.design,
      num(r.gbSeconds),
      `${num(r.invocations)} (${num(r.passInvocations)})`,
      num(r.heartbeats),
      num(r.apiCalls),
      `${num(r.wru)} + ${num(r.rru)}`,
      `$${(withDynamoDb(r) * 1000).toFixed(4)}`,
      num(r.commands),
      seconds(r.delayMs),
      outcome(r.outcomes, r.actions),
    ]),
    ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
  );
}

function withDynamoDb(r: ActionRow): number {
  return r.dollars + r.wru * DYNAMODB_PRICES.perMillionWru / 1e6 + r.rru * DYNAMODB_PRICES.perMillionRru / 1e6;
}

function passTable(rows: readonly PassCostRow[]): string {
  return table(
    ['condition', 'covers', 'passes', 'API calls', 'longest pass', 'Lambda GB-s (init billed)', 'DynamoDB WRU + RRU', 'left to a later pass', '$ in all', '$ per pass'],
    rows.map((r) => [
      r.condition,
      duration(r.spanMs),
      r.passes.toLocaleString('en-US'),
      Object.entries(r.apiCallsByOperation).map(([op, n]) => `${n.toLocaleString('en-US')} ${op}`).join(', '),
      duration(r.longestPassMs),
      num(r.gbSeconds),
      `${r.wru.toLocaleString('en-US')} + ${r.rru.toLocaleString('en-US')}`,
      String(r.left),
      `$${r.dollars.toFixed(4)}`,
      `$${(r.dollars / r.passes).toFixed(7)}`,
    ]),
    ['l', 'r', 'r', 'l', 'r', 'r', 'r', 'r', 'r', 'r'],
  );
}

function claimTable(rows: readonly ClaimRow[]): string {
  return table(
    ['condition', 'AWS API calls / action', 'DynamoDB requests / action', 'WRU / action', 'RRU / action', 'claim: $ per million actions', 'commands sent / action'],
    rows.map((r) => [r.condition, num(r.apiCalls), num(r.dynamodbCalls), num(r.wru), num(r.rru), `$${r.dollarsPerMillionActions.toFixed(2)}`, num(r.commandsPerAction)]),
    ['l', 'r', 'r', 'r', 'r', 'r', 'r'],
  );
}

function scaleTable(rows: readonly ScaleRow[]): string {
  return table(
    ['actions', 'design', 'API calls', 'SDK retries', 'Lambda GB-s / action', 'last action completed after', 'stuck', 'left to heartbeat', 'completed wrongly', 'commands sent', 'Lambda retries', 'dead letters'],
    rows.map((r) => [
      r.actions.toLocaleString('en-US'),
      r.design,
      r.apiCalls.toLocaleString('en-US'),
      r.retries.toLocaleString('en-US'),
      num(r.gbSecondsPerAction),
      duration(r.lastCompletionMs),
      String(r.stuck),
      String(r.heartbeat),
      String(r.wrong),
      r.commands.toLocaleString('en-US'),
      r.lambdaRetries.toLocaleString('en-US'),
      r.deadLetters.toLocaleString('en-US'),
    ]),
    ['r', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  );
}

function handlerTable(rows: readonly HandlerSizeRow[]): string {
  return table(
    ['handler', 'asset bytes', 'median cold module load', 'fresh processes'],
    rows.map((r) => [r.variant, r.bytes.toLocaleString('en-US'), `${r.medianLoadMs.toFixed(1)} ms`, String(r.processes)]),
    ['l', 'r', 'r', 'r'],
  );
}

function synthTable(rows: readonly SynthRow[]): string {
  return table(
    ['design', 'hooks in the stack', 'resources', 'resources / hook', 'median synth time', 'CloudFormation (at most 500 resources)'],
    rows.map((r) => [
      r.design,
      String(r.hooks),
      String(r.resources),
      num(r.resourcesPerHook),
      `${Math.round(r.medianSynthMs)} ms`,
      r.resources > CLOUDFORMATION_RESOURCE_LIMIT ? `**refused**: ${r.resources} > 500, split the hooks over stacks` : 'accepted',
    ]),
    ['l', 'r', 'r', 'r', 'r', 'l'],
  );
}

function find<T extends { design: DesignName }>(rows: readonly T[], design: DesignName, where: (r: T) => boolean): T {
  const row = rows.find((r) => r.design === design && where(r));
  if (!row) throw new Error(`no row for ${design}`);
  return row;
}

function headlineTable(actions: readonly ActionRow[], scale: readonly ScaleRow[]): string {
  const at = (d: DesignName) => find(actions, d, (r) => r.commandSeconds === HEADLINE_SECONDS);
  const big = (d: DesignName) => find(scale, d, (r) => r.actions === 1_000);
  const shipped = at(SHIPPED);
  const configs = new Map<DesignName, string>([
    [SHIPPED, `${shipped.memoryMB} MB, 2 short invocations`],
    [FIXED, `${FIXED_SLEEP.memoryMB} MB, sleeps ${FIXED_SLEEP.sleepSeconds} s`],
    [POLL, `${POLLING.memoryMB} MB, polls every ${POLLING.pollSeconds} s`],
  ]);
  return table(
    ['design', 'function', 'Lambda GB-s / action', 'vs shipped', 'API calls / action', 'command end → completion', 'outcome', '1,000 actions at once: last completed after', 'left to heartbeat'],
    [SHIPPED, FIXED, POLL].map((d) => {
      const r = at(d);
      const s = big(d);
      return [
        d === SHIPPED ? `**${d}**` : d,
        configs.get(d)!,
        num(r.gbSeconds),
        d === SHIPPED ? '1×' : ratio(r.gbSeconds, shipped.gbSeconds),
        num(r.apiCalls),
        seconds(r.delayMs),
        outcome(r.outcomes, r.actions),
        duration(s.lastCompletionMs),
        String(s.heartbeat),
      ];
    }),
    ['l', 'l', 'r', 'r', 'r', 'r', 'l', 'r', 'r'],
  );
}

// ---- main ----

async function main(): Promise<void> {
  const args = process.argv.slice(2).filter((a) => a !== '--');
  const seedArg = args.find((a) => a.startsWith('--seed='));
  const seed = seedArg ? Number(seedArg.slice('--seed='.length)) : 1;
  const started = performance.now();
  const cpus = os.cpus();
  const machine = `${cpus.length} cores (${cpus[0]?.model.trim() ?? 'unknown CPU'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, ` +
    `${os.platform()} ${os.arch()}, Node.js ${process.version}`;
  out(`Benchmarks, seed ${seed}, on ${machine}\n`);
  const timings: Array<[string, number]> = [];
  const timed = async <T>(label: string, f: () => T | Promise<T>): Promise<T> => {
    const t = performance.now();
    const value = await f();
    timings.push([label, performance.now() - t]);
    return value;
  };

  const actions = await timed('designs per lifecycle action (stand-in)', () => measureActions(seed));
  out(`## Per lifecycle action, terminate hook\n\n${actionTable(actions)}\n`);
  const long = await timed('long commands (stand-in)', () => measureLongCommands(seed));
  out(`## Long commands, terminate hook\n\n${longTable(long)}\n`);
  const launch = await timed('launch hook (stand-in)', () => measureLaunch(seed));
  out(`## Per lifecycle action, launch hook\n\n${launchTable(launch)}\n`);
  const scale = await timed('scale (stand-in)', () => measureScale(seed, [10, 100, 1_000], SCALE_COMMAND_SECONDS));
  out(`## Scale\n\n${scaleTable(scale)}\n`);
  const pass = await timed('reconciliation pass (stand-in)', () => measurePass(seed));
  out(`## The reconciliation pass\n\n${passTable(Object.values(pass))}\n`);
  const claim = await timed('claim (stand-in)', () => measureClaim(seed));
  out(`## The claim on each action\n\n${claimTable(claim)}\n`);
  const handler = await timed('handler size and load', () => measureHandlerSize(21));
  out(`## Handler\n\n${handlerTable(handler)}\n`);
  const synth = await timed('synth', () => measureSynth());
  out(`## Synth\n\n${synthTable(synth)}\n`);
  await timed('chart', () => renderComputeChart(
    actions.map((r) => ({ design: r.design, commandSeconds: r.commandSeconds, gbSeconds: r.gbSeconds })),
    CHART,
  ));

  const at = (d: DesignName, rows = actions) => find(rows, d, (r) => r.commandSeconds === HEADLINE_SECONDS);
  const shipped = at(SHIPPED);
  const fixed = at(FIXED);
  const polling = at(POLL);
  const withInit = (r: ActionRow) => r.gbSeconds + (r.coldStarts * INIT_MS / 1000) * (r.memoryMB / 1024);
  const launchShipped = at(SHIPPED, launch);
  const launchCheaper = launch
    .filter((r) => r.design !== SHIPPED)
    .filter((r) => r.gbSeconds < find(launch, SHIPPED, (s) => s.commandSeconds === r.commandSeconds).gbSeconds)
    .map((r) => `${r.design} for a ${commandLabel(r.commandSeconds)} command (${num(r.gbSeconds)} GB-s)`);
  const launchCompute = launchCheaper.length
    ? `more compute than ${launchCheaper.join(' and ')}`
    : 'still less compute than either hand-made design';
  const fixedBig = find(scale, FIXED, (r) => r.actions === 1_000);
  const pollingBig = find(scale, POLL, (r) => r.actions === 1_000);
  const shippedBig = find(scale, SHIPPED, (r) => r.actions === 1_000);
  const headline = headlineTable(actions, scale);
  const correct = [shipped, fixed, polling].filter((r) => r.outcomes.correct === r.actions);
  // The passes' calls are the hook's, whatever waits; per action they depend on how many instances wait at once.
  const actionCalls = (r: ActionRow) => r.apiCalls - r.passApiCalls;
  const fewest = Math.min(...correct.map(actionCalls));
  const tied = correct.filter((r) => r !== shipped && actionCalls(r) === actionCalls(shipped)).map((r) => r.design);
  const fewestLine = correct.includes(shipped) && actionCalls(shipped) === fewest
    ? `the fewest calls for the action itself of the designs that complete it correctly${tied.length ? ` (tied with ${tied.join(', ')})` : ''}`
    : `more calls for the action itself than ${correct.filter((r) => actionCalls(r) < actionCalls(shipped))
      .map((r) => `${r.design} (${num(actionCalls(r))} against ${num(actionCalls(shipped))})`).join(' and ')}`;
  const ratios = [
    `- Lambda compute for a 5-minute command: fixed sleep / shipped = **${ratio(fixed.gbSeconds, shipped.gbSeconds)}**, ` +
      `polling / shipped = **${ratio(polling.gbSeconds, shipped.gbSeconds)}** ` +
      `(${num(fixed.gbSeconds)}, ${num(polling.gbSeconds)} and ${num(shipped.gbSeconds)} GB-s per action).`,
    `- API calls per action for a 5-minute command: shipped ${num(shipped.apiCalls)}: ${num(actionCalls(shipped))} for the action (RecordLifecycleActionHeartbeat, SendCommand, CompleteLifecycleAction; ` +
      `and three DynamoDB requests for the claim, below) and ${num(shipped.passApiCalls)} the reconciliation passes' DescribeAutoScalingGroups, shared by the actions waiting; ` +
      `fixed sleep ${num(fixed.apiCalls)} (SendCommand, GetCommandInvocation, CompleteLifecycleAction), polling ${num(polling.apiCalls)}: ` +
      `the shipped design makes ${fewestLine}.`,
    `- From the command's end to CompleteLifecycleAction: shipped ${seconds(shipped.delayMs)} (the status event's delivery), ` +
      `fixed sleep ${seconds(fixed.delayMs)}, polling ${seconds(polling.delayMs)}.`,
  ];
  const longShipped = long.filter((r) => r.design === SHIPPED);
  const { idle, idleWarmPool: idleWarm, thousandWaiting: thousand } = pass;
  ratios.push(`- The reconciliation pass, idle: $${idle.dollars.toFixed(4)} per stack and month with one hook, $${pass.idleSixty.dollars.toFixed(4)} with 60 (one pass serves them all; ${idle.passes.toLocaleString('en-US')} invocations, ` +
    `${num(idle.gbSeconds)} GB-s with every init phase billed); commands of up to ${commandLabel(LONG_COMMAND_SECONDS[LONG_COMMAND_SECONDS.length - 1])} complete with CONTINUE (below).`);
  const totalMs = performance.now() - started;

  const md = `<!-- Written by bench/run.ts (npx projen bench). Do not edit by hand. -->
# Cost and speed of a lifecycle command hook

Three designs run the same commands on the same offline stand-in (test/standin/),
in one run, through the real AWS SDK v3 clients: **shipped** is this library's
event-driven handler as the package ships it; **fixed sleep** and **polling** are
faithful models of the hand-made patterns (bench/designs/). Figures marked
*simulated* come from the stand-in's virtual clock and depend only on the seed
(${seed}); they repeat exactly on any machine. Synth and load times are real
time on this machine: ${machine}.

## Headline

A terminate hook whose commands take 5 minutes; ten lifecycle actions, figures
per action (simulated). The last two columns: 1,000 instances entering the hook
at once, 1-minute commands, 5% of API calls throttled.

${headline}

${ratios.join('\n')}

![Lambda GB-s per lifecycle action against command duration](compute.png)

## What is compared

| design | invoked by | function | hook heartbeat timeout | what it does |
|---|---|---|---|---|
| shipped (event-driven) | the lifecycle event (the hook's rule) and the command's final-status event (the runtime's rule); a scheduled rule every 6 minutes (the reconciliation pass) | ${shipped.memoryMB} MB and the timeout of the synthesized template | the construct's: the longer of \`timeout\` and the registration wait, + 600 s, at most 7,200 s | claims the action in DynamoDB, RecordLifecycleActionHeartbeat (still pending?), SendCommand, records the command id, return; on the status event, finds the action by command id, CompleteLifecycleAction with its token; each pass lists the waiting instances, keeps long commands alive and repairs lost events |
| fixed sleep | the lifecycle event only | ${FIXED_SLEEP.memoryMB} MB (Lambda's default), ${FIXED_SLEEP.timeoutSeconds} s timeout | ${FIXED_SLEEP.heartbeatTimeoutSeconds} s (CloudFormation's default) | SendCommand, sleep ${FIXED_SLEEP.sleepSeconds} s, one GetCommandInvocation, CompleteLifecycleAction: CONTINUE on Success, otherwise ABANDON |
| polling every 5 s | the lifecycle event only | ${POLLING.memoryMB} MB, ${POLLING.timeoutSeconds} s timeout | ${POLLING.heartbeatTimeoutSeconds} s | SendCommand, GetCommandInvocation every ${POLLING.pollSeconds} s until a final status, CompleteLifecycleAction |

- **The sleep.** ${FIXED_SLEEP.sleepSeconds} s: sized for a drain of up to 5 minutes with twice
  the margin, inside Lambda's 900 s limit. It is the value most favourable to the
  pattern at the headline's 5-minute command (it completes correctly there); a
  shorter sleep completes the 5-minute command too early, a longer one cannot fit.
- **The construct's \`timeout\`** for each command is a quarter more than the command
  takes, at least 30 s (${COMMAND_SECONDS.map((s) => `${commandLabel(s)} → ${hookTimeoutFor(s)} s`).join(', ')});
  it is also the document's execution timeout for every design, so all three run
  the same document.
- **Neither hand-made model** checks whether its command was already sent: when
  Lambda retries a failed or timed-out invocation (twice, a minute and two
  minutes later), the commands run again.
- **Billed GB-s** = Σ over invocations of ⌈billed ms⌉ × memory / 1024 / 1000, the
  handler's time on the virtual clock (API latency 15–60 ms a call, EventBridge
  delivery 0.1–1.5 s, agent pickup 0.2–1.5 s). Lambda also bills the init phase
  of each cold start; the stand-in's cold start is ${INIT_MS} ms, which would take the
  shipped design's 5-minute figure from ${num(shipped.gbSeconds)} to ${num(withInit(shipped))} GB-s per action
  (fixed sleep ${num(withInit(fixed))}, polling ${num(withInit(polling))}).
- **Outcome**: *correct* if the action was completed after the command ended with
  the right result (CONTINUE: every command succeeds); *wrong* if completed
  before the command ended or with another result; *heartbeat* if the hook's
  heartbeat timeout applied the default result. **Command end → completion** is
  the mean simulated time from the end of the action's first command (when it
  would have ended, if the instance was terminated under it) to the completion
  that took effect; negative means before the command ended.
- **Lambda concurrency**: 100 execution environments for the function (the
  stand-in's default); more events wait in Lambda's asynchronous queue.

## Per lifecycle action, terminate hook (simulated)

Ten actions per row, entering the hook over a minute, far below the function's concurrency.

${actionTable(actions)}

Commands of 20 and 90 minutes outlast both hand-made functions' 15-minute limit:
the fixed sleep completes them ${FIXED_SLEEP.sleepSeconds} s after sending, before they end, with
ABANDON; polling times out, is retried twice by Lambda (sending the command
again each time), and the hook's one-hour heartbeat decides. The shipped design
makes the same calls for every duration; a longer command adds only the
reconciliation passes that run while it does (below); its delay is EventBridge's
delivery of the status event.

## Long commands, terminate hook (simulated)

Commands longer than any heartbeat timeout (7,200 s at most): ${LONG_COMMAND_SECONDS.map(commandLabel).join(', ')}. The
last is the longest whole half hour a hook takes: \`timeout\` may be at most
${MAX_TERMINATE_TIMEOUT_SECONDS.toLocaleString('en-US')} s (Auto Scaling's 48-hour global timeout, counted from the start of
the wait, less delivery, completion and one pass period), so a command of a full
48 hours cannot end inside any lifecycle action, and the construct refuses that
\`timeout\` at synth time. Three actions a row, entering over a minute, the same
hook settings as above (\`timeout\` a quarter more than the command, at most the
limit; the hand-made hooks keep their one-hour heartbeat). The passes run every
6 minutes whatever waits; their invocations are shared by the actions waiting
at the time, so a row's per-action pass figures fall as more instances wait.
Dollars: Lambda requests and GB-s and DynamoDB request units at list prices.

${longTable(long)}

The shipped hook keeps each action alive with RecordLifecycleActionHeartbeat from
the pass (${longShipped.map((r) => `${num(r.heartbeats)} for ${commandLabel(r.commandSeconds)}`).join(', ')}) and completes it ${longShipped.map((r) => seconds(r.delayMs)).join(', ')} after the command
ends, with CONTINUE: ${longShipped.every((r) => r.outcomes.correct === r.actions) ? 'every action, on every row' : '**not every action**'}. Neither hand-made design can run
such a command: the fixed sleep reads the status after ${FIXED_SLEEP.sleepSeconds} s and ABANDONs a
command still running, and polling is cut off by Lambda's 15 minutes, sends the
command again on each of Lambda's two retries, and leaves the action to the
one-hour heartbeat timeout.

## Per lifecycle action, launch hook (simulated)

The SSM agent of a launching instance registers 15–45 s after launch.

${launchTable(launch)}

**Waiting for the agent.** The shipped design checks the agent's registration
(DescribeInstanceInformation) once per invocation and returns; between checks
its Express state machine waits 2, 4, 8, 16, then 20 s and invokes the function
again. Per action: ${num(launchShipped.gbSeconds)} Lambda GB-s in ${num(launchShipped.invocations)} invocations (the longest
${duration(launchShipped.longestInvocationMs)}), ${num(launchShipped.executions)} Express executions (${num(launchShipped.executionGbSeconds)} GB-s at 64 MB), ${num(launchShipped.apiCalls)} API
calls, $${(launchShipped.dollars * 1000).toFixed(4)} per 1,000 actions for a 5-minute command: ${launchCompute}.
The hand-made designs send at once, are refused (\`InvalidInstanceId\`) and rely
on Lambda's retry a minute later, which costs nothing while it waits but delays
the command by up to a minute. The shipped design's cost does not grow with the command.

## Scale (simulated)

A terminate hook, ${commandLabel(SCALE_COMMAND_SECONDS)} commands, every instance entering the hook at the same
moment, 5% of all API calls throttled (\`Throttling\` / \`ThrottlingException\`),
the SDK's standard retries.

${scaleTable(scale)}

The hand-made functions hold an execution environment for the whole command,
so at 1,000 actions they go through the 100 environments in waves: polling's
last action completes after ${duration(pollingBig.lastCompletionMs)}; the fixed sleep's waves of
${FIXED_SLEEP.sleepSeconds} s run into the one-hour heartbeat, which ends ${fixedBig.heartbeat} of the 1,000 actions with
the default result, and the queued invocations of those actions then fail (the
instances are gone) and ${fixedBig.deadLetters} events end in the dead-letter queue. The shipped
design holds an environment for a fraction of a second per event, and its last
action completes after ${duration(shippedBig.lastCompletionMs)}.

## The reconciliation pass (simulated)

A scheduled rule invokes the runtime's function every 6 minutes
(${(MONTH_MS / 360_000).toLocaleString('en-US')} times in AWS's 730-hour billing month), one pass for every hook of the
runtime. With nothing waiting a pass is one GetParametersByPath per 10 hooks, one
DescribeAutoScalingGroups per 50 groups (and one DescribeWarmPool per group with a
warm pool) and nothing in DynamoDB. Each pass is billed as a cold start with a
${PASS_INIT_MS} ms init phase (Lambda bills the init phase, and does not say how long
it keeps an idle environment; loading the handler's modules takes less, see
Handler below): an upper bound. The scheduled rule, Auto Scaling
and SSM calls cost nothing; with its system log level at WARN the function writes
no log line for an idle pass. The last row: 1,000 instances enter a terminate
hook at once and run 3-hour commands whose status events are all lost, so the
passes keep every action alive and then complete each one.

${passTable(Object.values(pass))}

- **Idle cost per hook and month**: $${idle.dollars.toFixed(4)} (${idle.passes.toLocaleString('en-US')} invocations,
  ${num(idle.gbSeconds)} GB-s, ${idle.apiCalls.toLocaleString('en-US')} API calls), $${idleWarm.dollars.toFixed(4)} on a group with a warm pool: ${Math.max(idle.dollars, idleWarm.dollars) < 0.01 ? 'under one cent' : '**over one cent**'}.
- **1,000 instances waiting**: the longest pass took ${duration(thousand.longestPassMs)} of the function's
  time; ${thousand.left === 0 ? 'no instance was left to a later pass' : `${thousand.left} instances were left to a later pass`};
  $${(thousand.dollars / thousand.passes).toFixed(5)} a pass, $${thousand.dollars.toFixed(4)} for the ${thousand.passes} passes of the 3 hours.

## The claim on each action (simulated)

The shipped handler claims each lifecycle action with a conditional write to
the hook's DynamoDB table before it sends the command, records the command id,
and finds the action by that id when the command ends: one PutItem, one
UpdateItem and one Query per action, more when events repeat. A terminate hook,
100 actions per row, 1-minute commands. Request units: each write of an item
under 1 KB is one WRU (a conditional write that fails included), each strongly
consistent read under 4 KB one RRU. Dollars at DynamoDB's on-demand list prices
in ${DYNAMODB_PRICES.region} since ${DYNAMODB_PRICES.since} ($${DYNAMODB_PRICES.perMillionWru} per million WRU,
$${DYNAMODB_PRICES.perMillionRru} per million RRU; checked ${DYNAMODB_PRICES.checked}); Auto Scaling and SSM calls cost nothing.

${claimTable(claim)}

Without the claim, the handler asked ListCommands before SendCommand: 3 AWS API
calls per action and nothing in DynamoDB, but on this stand-in, with ListCommands
a second behind, both copies of a lifecycle event sent a command (200 instances
of 200 got two), and 62 to 69 of 100 instances whose first SendCommand answer
was lost got a second one (seeds 1–5). With the claim: none, on every seed
(\`npx projen scenarios\`).

## Handler (real time)

The asset as the package ships it (the AWS SDK v3 comes from the Lambda
runtime), beside the same handler with the SDK bundled in and minified; median
time of \`require()\` in fresh Node.js processes.

${handlerTable(handler)}

## Synth (real time)

Hooks on imported groups in one stack, beside aws-cdk-lib's \`LifecycleHook\` with
a \`FunctionHook\` doing the bare minimum (a function behind an SNS topic, whose
code you still write). The construct's extra resources are its document, rules,
dead-letter queue, log groups and least-privilege policies.

${synthTable(synth)}

## This run

${table(['part', 'real time'], [...timings.map(([l, ms]) => [l, `${(ms / 1000).toFixed(1)} s`]), ['total (bench/run.ts)', `${(totalMs / 1000).toFixed(1)} s`]], ['l', 'r'])}

Rerun with \`npx projen bench\` (\`npx projen bench -- --seed=7\` for other random
draws); it rewrites this file and compute.png.
`;
  fs.writeFileSync(RESULTS, md);
  out('## Headline\n');
  out(headline);
  out();
  for (const r of ratios) out(r);
  out();
  for (const [label, ms] of timings) out(`${label}: ${(ms / 1000).toFixed(1)} s`);
  out(`\nwrote ${path.relative(process.cwd(), RESULTS)} and ${path.relative(process.cwd(), CHART)} in ${(totalMs / 1000).toFixed(1)} s`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
