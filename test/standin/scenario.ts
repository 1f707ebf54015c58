/**
 * Runs one scenario on the stand-in: synthesizes the hook, starts the HTTP
 * endpoint, points the handler's SDK clients at it, plays the fleet and the
 * faults out on the virtual clock, and returns what happened.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { VirtualClock } from './clock';
import { DynamoDbHost, StoreCall } from './dynamodb';
import { EventBus, EventRecord } from './eventbridge';
import { DeadLetter, InvocationRecord, LambdaService } from './lambda';
import type { Handler, HandlerFactory, ScenarioOptions } from './options';
import { Rng } from './rng';
import { ApiCall, StandInServer } from './server';
import { ResourceNames, synthesizeHook } from './template';
import { RequestTracker } from './tracker';
import { Completion, Instance, LifecycleState, World } from './world';

export const BUNDLED_HANDLER = path.resolve(__dirname, '../../assets/handler/lifecycle-command.lambda/index.js');

/**
 * The handler as the npm package ships it. Each execution environment loads its
 * own copy of the module, so it gets its own SDK clients (created at module load).
 */
export function bundledHandler(file: string = BUNDLED_HANDLER): HandlerFactory {
  if (!fs.existsSync(file)) throw new Error(`${file} does not exist: run \`npx projen bundle\` first`);
  const load = createRequire(__filename);
  return () => {
    delete load.cache[file];
    const handler = (load(file) as { handler?: Handler }).handler;
    if (typeof handler !== 'function') throw new Error(`${file} exports no handler function`);
    return handler;
  };
}

export interface InstanceReport {
  readonly index: number;
  readonly id: string;
  readonly state: LifecycleState;
  readonly ec2Running: boolean;
  readonly completions: readonly Completion[];
  /** Commands SSM accepted for the instance. */
  readonly commands: number;
}

export interface CommandReport {
  readonly id: string;
  readonly instance: number;
  readonly comment: string;
  readonly status: string;
  /** The Lambda invocation that sent it. */
  readonly sentBy?: string;
  /** When SSM accepted it, virtual ms from the start. */
  readonly sentAtMs: number;
}

export interface ScenarioSummary {
  readonly name: string;
  readonly instances: number;
  /** Lifecycle actions completed with CONTINUE (by the handler, an operator or the heartbeat timeout). */
  readonly continued: number;
  readonly abandoned: number;
  /** Instances still in a wait state when the run ended. */
  readonly stuck: number;
  /** Commands SSM accepted. */
  readonly commandsSent: number;
  /** API calls that reached the stand-in, retries included. */
  readonly apiCalls: number;
  /** The SDK's own retries of throttled or failed calls. */
  readonly retries: number;
  /** Lifecycle actions ended by their heartbeat timeout. */
  readonly heartbeatTimeouts: number;
  /** Lambda's asynchronous retries of failed events. */
  readonly lambdaRetries: number;
  readonly deadLetters: number;
  readonly invocations: number;
  /** Sum of billed handler time, virtual ms. */
  readonly billedMs: number;
  /** The function's memory, for GB-seconds. */
  readonly memoryMB: number;
  readonly virtualMs: number;
  readonly realMs: number;
}

export interface LogLine {
  readonly atMs: number;
  readonly level: string;
  readonly invocation?: string;
  readonly text: string;
}

export interface ScenarioResult {
  readonly summary: ScenarioSummary;
  readonly instances: readonly InstanceReport[];
  readonly calls: readonly ApiCall[];
  /** The handler's DynamoDB calls (its table of action records), as dynalite answered them. */
  readonly storeCalls: readonly StoreCall[];
  readonly invocations: readonly InvocationRecord[];
  readonly deadLetters: readonly DeadLetter[];
  readonly events: readonly EventRecord[];
  readonly commands: readonly CommandReport[];
  readonly logs: readonly LogLine[];
  /** How the run ended: nothing left to do, or the horizon was reached. */
  readonly ending: 'idle' | 'stopped' | 'horizon';
  /** Exceptions inside the stand-in or thrown from timers: always a failure. */
  readonly errors: readonly string[];
}

export const NAMES: ResourceNames = {
  account: '123456789012',
  region: 'eu-west-1',
  groupName: 'web-fleet',
  hookName: 'standin-hook',
  documentName: 'StandIn-HookDocument-4F2C1B9A7E3D',
  outputLogGroupName: 'StandIn-HookOutputLogGroup-8D7E6F5A4B3C',
  functionName: 'StandIn-HookHandler-1A2B3C4D5E6F',
  actionTableName: 'StandIn-HookActionTable-7C6B5A4D3E2F',
};

const HOURS = 3_600_000;

export async function runScenario(options: ScenarioOptions): Promise<ScenarioResult> {
  const realStart = performance.now();
  const { heartbeatTimeoutSeconds, ...constructProps } = options.hook;
  const template = synthesizeHook(constructProps, NAMES);
  const memoryMB = options.lambda?.memoryMB ?? template.memoryMB;
  const seed = options.seed ?? 1;
  const rng = new Rng(seed);
  // The SDK's retry jitter draws from Math.random: a separate seeded stream keeps runs repeatable.
  const sdkRng = new Rng(seed * 7919 + 17);
  const clock = new VirtualClock();
  const internalErrors: unknown[] = [];

  let bus: EventBus | undefined;
  let lambda: LambdaService | undefined;
  const world = new World(clock, rng, {
    account: NAMES.account,
    region: NAMES.region,
    groupName: NAMES.groupName,
    hookName: NAMES.hookName,
    transition: template.transition,
    heartbeatTimeoutSeconds: heartbeatTimeoutSeconds ?? template.heartbeatTimeoutSeconds,
    defaultResult: template.defaultResult,
    documentName: NAMES.documentName,
    executionTimeoutSeconds: template.executionTimeoutSeconds,
    visibilityLagMs: options.ssm?.visibilityLagMs ?? 0,
    agent: options.agent ?? {},
    command: options.command ?? {},
    overrides: options.overrides ?? [],
  }, (event, meta) => bus!.put(event, meta));
  bus = new EventBus(clock, rng, template.eventPatterns, options.events ?? {}, (event, meta) => lambda!.invoke(event, meta));
  lambda = new LambdaService(clock, rng, {
    functionName: NAMES.functionName,
    timeoutSeconds: options.lambda?.timeoutSeconds ?? template.functionTimeoutSeconds,
    memoryMB,
    retryAttempts: template.retryAttempts,
    account: NAMES.account,
    region: NAMES.region,
  }, options.lambda ?? {}, options.handler ?? bundledHandler());
  const server = new StandInServer(clock, world, rng, options.api ?? {}, (e) => internalErrors.push(e));
  const tracker = new RequestTracker(clock, lambda.observeRequest);
  const endpoint = await server.start();
  const dynamodb = new DynamoDbHost(clock, (id) => world.instances.find((i) => i.id === id)?.index);
  const dynamodbEndpoint = template.actionTable ? await dynamodb.start(template.actionTable) : undefined;

  const restoreEnv = setEnvironment({
    ...template.environment,
    AWS_ENDPOINT_URL: endpoint,
    AWS_ENDPOINT_URL_SSM: undefined,
    AWS_ENDPOINT_URL_AUTO_SCALING: undefined,
    AWS_ENDPOINT_URL_DYNAMODB: dynamodbEndpoint,
    AWS_REGION: NAMES.region,
    AWS_DEFAULT_REGION: NAMES.region,
    AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7STANDIN',
    AWS_SECRET_ACCESS_KEY: 'stand-in-secret-access-key-not-a-real-one',
    AWS_SESSION_TOKEN: undefined,
    AWS_PROFILE: undefined,
    // As in Lambda: no shared config files and no settings that change the SDK's defaults
    // (a developer's retry_mode or max_attempts would change every retry the scenarios count).
    AWS_CONFIG_FILE: path.join(os.tmpdir(), 'standin-no-such-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(os.tmpdir(), 'standin-no-such-aws-credentials'),
    AWS_MAX_ATTEMPTS: undefined,
    AWS_RETRY_MODE: undefined,
    AWS_DEFAULTS_MODE: undefined,
    AWS_USE_FIPS_ENDPOINT: undefined,
    AWS_USE_DUALSTACK_ENDPOINT: undefined,
    AWS_LAMBDA_FUNCTION_NAME: NAMES.functionName,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memoryMB),
  });
  const logs: LogLine[] = [];
  const restoreConsole = captureConsole(clock, logs, options.verbose ?? false);
  const random = Math.random;
  Math.random = () => sdkRng.next();
  // In Lambda an unhandled rejection kills the runtime; here it fails the scenario instead of the process.
  const onUnhandled = (reason: unknown) => internalErrors.push(new Error(`unhandled rejection: ${reason instanceof Error ? reason.stack : String(reason)}`));
  process.on('unhandledRejection', onUnhandled);
  tracker.activate();
  clock.install();

  let ending: ScenarioResult['ending'] = 'idle';
  try {
    const spread = options.spreadMs ?? 0;
    for (let i = 0; i < options.instances; i++) {
      const instance = world.addInstance();
      const at = options.instances > 1 ? (spread * i) / (options.instances - 1) : 0;
      clock.schedule(at, () => world.enterHook(instance));
    }
    for (const s of options.schedule ?? []) {
      clock.schedule(s.atMs, () => {
        for (const i of s.instances) world.happen(world.instances[i], s.happening);
      });
    }
    ending = await clock.run({
      busy: () => tracker.inflight > server.parked,
      untilElapsedMs: options.horizonMs ?? 49 * HOURS,
    });
  } finally {
    clock.uninstall();
    tracker.deactivate();
    process.off('unhandledRejection', onUnhandled);
    Math.random = random;
    restoreConsole();
    restoreEnv();
    await server.stop();
    if (dynamodbEndpoint) await dynamodb.stop();
  }

  const errors = [...internalErrors, ...clock.errors].map((e) => (e instanceof Error ? e.stack ?? e.message : String(e)));
  const instances = world.instances.map(report);
  const completions = instances.flatMap((i) => i.completions);
  const summary: ScenarioSummary = {
    name: options.name,
    instances: instances.length,
    continued: completions.filter((c) => c.result === 'CONTINUE').length,
    abandoned: completions.filter((c) => c.result === 'ABANDON').length,
    stuck: instances.filter((i) => i.state.endsWith(':Wait')).length,
    commandsSent: world.commands.length,
    apiCalls: server.calls.length,
    retries: server.calls.filter((c) => c.retry).length,
    heartbeatTimeouts: completions.filter((c) => c.by === 'heartbeat').length,
    lambdaRetries: lambda.invocations.filter((i) => i.attempt > 1).length,
    deadLetters: lambda.deadLetters.length,
    invocations: lambda.invocations.length,
    billedMs: lambda.invocations.reduce((sum, i) => sum + (i.billedMs ?? 0), 0),
    memoryMB,
    virtualMs: clock.elapsed,
    realMs: performance.now() - realStart,
  };
  return {
    summary,
    instances,
    calls: server.calls,
    storeCalls: dynamodb.calls,
    invocations: lambda.invocations,
    deadLetters: lambda.deadLetters,
    events: bus.records,
    commands: world.commands.map((c) => ({
      id: c.id,
      instance: c.invocations[0].instance.index,
      comment: c.comment,
      status: c.status,
      sentBy: c.sentBy,
      sentAtMs: c.requestedAt - (clock.now - clock.elapsed),
    })),
    logs,
    ending,
    errors,
  };
}

function report(i: Instance): InstanceReport {
  return { index: i.index, id: i.id, state: i.state, ec2Running: i.ec2Running, completions: [...i.completions], commands: i.commandIds.length };
}

/** Sets (or, for undefined, removes) environment variables; returns a function that puts them back. */
function setEnvironment(vars: Record<string, string | undefined>): () => void {
  const saved = new Map<string, string | undefined>();
  for (const [k, v] of Object.entries(vars)) {
    saved.set(k, process.env[k]);
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  return () => {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

/** Keeps the handler's log lines with the invocation that wrote them, instead of printing them. */
function captureConsole(clock: VirtualClock, logs: LogLine[], verbose: boolean): () => void {
  const levels = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;
  const saved = levels.map((l) => console[l]);
  const print = console.log;
  for (const level of levels) {
    console[level] = (...args: unknown[]) => {
      const context = clock.context.getStore() as { invocationId?: string } | undefined;
      const text = args.map((a) => (typeof a === 'string' ? a : safeJson(a))).join(' ');
      const line: LogLine = { atMs: clock.elapsed, level, invocation: context?.invocationId, text };
      logs.push(line);
      if (verbose) print(`[${(line.atMs / 1000).toFixed(3)}s ${level}${line.invocation ? ' ' + line.invocation.slice(0, 8) : ''}] ${text}`);
    };
  }
  return () => levels.forEach((l, n) => { console[l] = saved[n]; });
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
