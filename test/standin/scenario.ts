/**
 * Runs one scenario on the stand-in: synthesizes the hook, starts the HTTP
 * endpoint, points the handler's SDK clients at it, plays the fleet and the
 * faults out on the virtual clock, and returns what happened.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { CallPoints } from './callpoint';
import { VirtualClock } from './clock';
import { Deployment, StackEvent, synthesizeDeployment } from './cloudformation';
import { AWS_RUN_REMOTE_SCRIPT } from './documents';
import { DynamoDbHost, StoreCall } from './dynamodb';
import { EventBus, EventRecord } from './eventbridge';
import { DeadLetter, InvocationRecord, LambdaService } from './lambda';
import { envelope } from './model';
import type { Handler, HandlerFactory, ScenarioOptions } from './options';
import { Rng } from './rng';
import { CallHistory } from './selector';
import { ApiCall, StandInServer } from './server';
import { ExecutionRecord, StepFunctions } from './stepfunctions';
import { hookId, ResourceNames, synthesizeRuntime } from './template';
import { RequestTracker } from './tracker';
import { Completion, EventMeta, Instance, LifecycleState, registrationCheckInstance, World } from './world';
import { LifecycleCommandRuntime } from '../../src';

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
  /** Its Auto Scaling group's name. */
  readonly group: string;
  readonly state: LifecycleState;
  readonly ec2Running: boolean;
  readonly completions: readonly Completion[];
  /** Commands SSM accepted for the instance. */
  readonly commands: number;
  /** Virtual ms from the start when its SSM agent last came online. */
  readonly agentOnlineAtMs?: number;
}

/** One command and its result on its instance (the handler sends each command to one instance). */
export interface CommandReport {
  readonly id: string;
  readonly instance: number;
  readonly comment: string;
  /** The document it ran: one per hook. */
  readonly document: string;
  /** The command's status. */
  readonly status: string;
  /** The invocation's details: `DeliveryTimedOut`, `ExecutionTimedOut`, `Undeliverable`, or the status. */
  readonly statusDetails: string;
  /** The script's exit status as the agent reported it (-1: it never ran, or never reported). */
  readonly responseCode: number;
  /** The execution timeout the agent applied, seconds. */
  readonly executionTimeoutSeconds: number;
  /** Virtual ms from the start: sent, and ended (if it did). */
  readonly requestedAtMs: number;
  readonly endedAtMs?: number;
  /** The programs the script called, in order. */
  readonly ran: readonly string[];
  readonly stdout: string;
  readonly stderr: string;
  /** The Lambda invocation that sent it. */
  readonly sentBy?: string;
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
  /** Step Functions executions started (registration waits). */
  readonly executions: number;
  /** Sum of the executions' durations, virtual ms. */
  readonly executionMs: number;
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
  /** Step Functions executions (launch hooks' registration waits). */
  readonly executions: readonly ExecutionRecord[];
  readonly commands: readonly CommandReport[];
  readonly logs: readonly LogLine[];
  /** How the run ended: nothing left to do, or the horizon was reached. */
  readonly ending: 'idle' | 'stopped' | 'horizon';
  /** Exceptions inside the stand-in or thrown from timers: always a failure. */
  readonly errors: readonly string[];
  /** With `callPoint`: whether the run reached it. */
  readonly callPointReached?: boolean;
  /** With `deploy`: the stack's events, each step's final status, and the creation policy's signals (virtual ms). */
  readonly stack?: {
    readonly events: readonly StackEvent[];
    readonly outcomes: ReadonlyArray<{ readonly step: string; readonly status: string; readonly atMs: number }>;
    readonly signals: readonly number[];
    readonly groupName: string;
    readonly hookNames: readonly string[];
    /** Each hook's document, in the order of `hookNames`. */
    readonly documentNames: readonly string[];
  };
}

export const NAMES: ResourceNames = {
  account: '123456789012',
  region: 'eu-west-1',
  groupName: 'web-fleet',
  hookName: 'standin-hook',
  outputLogGroupName: 'StandIn-HookOutputLogGroup-8D7E6F5A4B3C',
  functionName: 'StandIn-RuntimeHandler-1A2B3C4D5E6F',
  actionTableName: 'StandIn-RuntimeActionTable-7C6B5A4D3E2F',
};

const HOURS = 3_600_000;

/** The physical names of the n-th hook (0: the scenario's `hook`, then its `hooks`): its own, and the runtime's it shares. */
export function namesOf(n: number): ResourceNames & { readonly documentName: string } {
  const hookName = n === 0 ? NAMES.hookName : `${NAMES.hookName}-${n + 1}`;
  return { ...NAMES, hookName, documentName: documentNameOf(n) };
}

/** The name of the n-th group of a scenario (a hook's `group`): `web-fleet`, then `web-fleet-2`, ... */
export function groupNameOf(n: number): string {
  return n === 0 ? NAMES.groupName : `${NAMES.groupName}-${n + 1}`;
}

const documentNames = new Map<number, string>();

/** The name the construct gives the n-th hook's document in the stand-in's stack. */
function documentNameOf(n: number): string {
  let name = documentNames.get(n);
  if (name === undefined) {
    const stack = new Stack(new App(), 'StandIn', { env: { account: NAMES.account, region: NAMES.region } });
    name = LifecycleCommandRuntime.of(stack)._documentName(new Construct(stack, hookId(n)));
    documentNames.set(n, name);
  }
  return name;
}

/** Whether an instance may still need a pass: it waits, or will enter a hook later. */
function passMatters(instance: Instance, scalesIn: boolean, launches: boolean): boolean {
  return instance.actions.length > 0
    || ['Pending', 'Warmed:Pending'].includes(instance.state)
    // A stopped instance leaves the pool for the group only in a group that launches.
    || (launches && instance.state === 'Warmed:Stopped')
    || (scalesIn && instance.state === 'InService');
}

export async function runScenario(options: ScenarioOptions): Promise<ScenarioResult> {
  const realStart = performance.now();
  // Each hook is its own construct, as a user adds them, all served by the stack's one runtime.
  const hookOptions = [options.hook, ...(options.hooks ?? [])];
  // With `deploy`, CloudFormation's model deploys the stack on a group of the app during the run.
  const deploySynthesis = options.deploy ? synthesizeDeployment(options, NAMES) : undefined;
  const runtime = deploySynthesis?.runtime ?? synthesizeRuntime(
    hookOptions.map(({ heartbeatTimeoutSeconds: _, group: __, ...constructProps }) => constructProps),
    NAMES,
    hookOptions.map((_, n) => namesOf(n).hookName),
    hookOptions.map((h) => groupNameOf(h.group ?? 0)),
  );
  // Groups 0 … the highest a hook names, each with its hooks (a deployed stack has the one group CloudFormation creates).
  const groupCount = deploySynthesis ? 1 : Math.max(...hookOptions.map((h) => h.group ?? 0)) + 1;
  const hooks = hookOptions.map((hook, n) => ({
    group: hook.group ?? 0,
    names: namesOf(n),
    template: runtime.hooks[n],
    heartbeatTimeoutSeconds: hook.heartbeatTimeoutSeconds ?? runtime.hooks[n].heartbeatTimeoutSeconds,
  }));
  const memoryMB = options.lambda?.memoryMB ?? runtime.memoryMB;
  const seed = options.seed ?? 1;
  const rng = new Rng(seed);
  // The SDK's retry jitter draws from Math.random: a separate seeded stream keeps runs repeatable.
  const sdkRng = new Rng(seed * 7919 + 17);
  const clock = new VirtualClock();
  const internalErrors: unknown[] = [];
  const deployment = options.deploy && new Deployment(clock, seed, deploySynthesis!, options.deploy);
  // Whether a resource of the stack exists now: always, unless CloudFormation's model deploys it.
  const exists = (logicalId: string | undefined) => deployment === undefined || deployment.exists(logicalId);

  const history = new CallHistory();
  let bus: EventBus | undefined;
  const world = new World(clock, rng, {
    account: NAMES.account,
    region: NAMES.region,
    groups: Array.from({ length: groupCount }, (_, g) => ({
      groupName: deploySynthesis?.groupName ?? groupNameOf(g),
      // CloudFormation's model puts the group's hooks as it creates them.
      hooks: deployment ? [] : hooks.filter((h) => h.group === g).map((h) => ({
        name: h.names.hookName,
        transition: h.template.transition,
        heartbeatTimeoutSeconds: h.heartbeatTimeoutSeconds,
        defaultResult: h.template.defaultResult,
        ...(h.template.notificationMetadata !== undefined ? { notificationMetadata: h.template.notificationMetadata } : {}),
      })),
      warmPool: options.warmPool,
      scaleInAfterMs: options.scaleInAfterMs,
      terminateHookAbandon: options.terminateHookAbandon,
    })),
    documents: hooks.map((h) => ({ ...h.template.document, name: h.template.documentName })),
    visibilityLagMs: options.ssm?.visibilityLagMs ?? 0,
    agent: options.agent ?? {},
    command: options.command ?? {},
    programs: options.programs ?? {},
    overrides: options.overrides ?? [],
    accountContent: { documents: { 'AWS-RunRemoteScript': AWS_RUN_REMOTE_SCRIPT, ...options.documents }, s3Objects: options.s3Objects ?? {} },
  }, (event, meta) => bus!.put(event, meta));
  const handlerFactory = options.handler ?? bundledHandler();
  const lambda = new LambdaService(clock, rng, {
    functionName: NAMES.functionName,
    timeoutSeconds: options.lambda?.timeoutSeconds ?? runtime.functionTimeoutSeconds,
    memoryMB,
    retryAttempts: runtime.retryAttempts,
    maximumEventAgeSeconds: options.lambda?.maximumEventAgeSeconds ?? runtime.maximumEventAgeSeconds,
    environment: runtime.environment,
    account: NAMES.account,
    region: NAMES.region,
  }, options.lambda ?? {}, handlerFactory, history);
  const lambdas = [lambda];
  world.stepFunctions = new StepFunctions(clock, rng, runtime.stateMachine ? [{
    ...runtime.stateMachine,
    functions: new Map([[runtime.functionArn, (payload: Record<string, unknown>, meta: EventMeta) => {
      if (exists(runtime.functionLogicalId)) lambda.invoke(payload, meta);
    }]]),
  }] : [], options.stepFunctions ?? {}, (payload) => {
    const id = registrationCheckInstance(payload);
    return world.instances.find((i) => i.id === id)?.index;
  });
  bus = new EventBus(clock, rng, runtime.rules.map((rule) => ({
    patterns: [rule.pattern],
    maximumEventAgeSeconds: rule.maximumEventAgeSeconds,
    invoke: (event, meta) => {
      // A function not (yet) created is not invoked.
      if (exists(runtime.functionLogicalId)) lambda.invoke(rule.input(event), meta);
    },
    ...(deployment ? { active: () => exists(rule.logicalId) } : {}),
  })), options.events ?? {}, history);
  // What CloudFormation created with the stack: the hooks' settings and roles (CloudFormation's model creates its own).
  for (const h of deployment ? [] : runtime.hooks) {
    world.parameters.put(h.parameter.name, h.parameter.value);
    world.sts.createRole(h.roleArn);
  }
  const passRng = new Rng(seed * 104_729 + 3);
  // The reconciliation pass, as the scheduled rule invokes it.
  const invokePass = () => lambda.invoke(envelope(passRng.uuid(), 'aws.events', 'Scheduled Event', NAMES.account, NAMES.region, clock.now,
    [`arn:aws:events:${NAMES.region}:${NAMES.account}:rule/${NAMES.functionName}-Reconciliation`], {}), { kind: 'schedule' });
  const callPoints = new CallPoints(clock, lambda, options.callPoint, {
    pass: invokePass,
    nextAction: (index) => world.instances.filter((i) => index === undefined || i.index === index).forEach((i) => world.groupOf(i).hurry(i)),
  });
  const server = new StandInServer(clock, world, rng, options.api ?? {}, (e) => internalErrors.push(e), history, callPoints);
  const tracker = new RequestTracker(clock, (context, request) => {
    lambdas.forEach((l) => l.observeRequest(context, request));
    callPoints.observeRequest(context, request);
  });
  const endpoint = await server.start();
  // The store's throttling draws from a stream of its own, so that adding it leaves every other draw as it was.
  const storeRng = new Rng(seed * 65_537 + 11);
  const dynamodb = new DynamoDbHost(clock, (id) => world.instances.find((i) => i.id === id)?.index, options.store?.faults, callPoints, storeRng);
  const dynamodbEndpoint = await dynamodb.start([runtime.actionTable]);

  // The function's variables are restored at the end; the function sets them as its code runs.
  const restoreEnv = setEnvironment({
    ...runtime.environment,
    AWS_ENDPOINT_URL: endpoint,
    AWS_ENDPOINT_URL_SSM: undefined,
    AWS_ENDPOINT_URL_AUTO_SCALING: undefined,
    AWS_ENDPOINT_URL_DYNAMODB: dynamodbEndpoint,
    AWS_ENDPOINT_URL_SFN: undefined,
    AWS_ENDPOINT_URL_STS: undefined,
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
    deployment?.start(world);
    const spread = options.spreadMs ?? 0;
    for (const group of world.autoscaling.all) {
      for (let i = 0; i < options.instances; i++) {
        const instance = world.addInstance(group.config.groupName);
        const at = options.instances > 1 ? (spread * i) / (options.instances - 1) : 0;
        clock.schedule(at, () => world.enterHook(instance));
      }
    }
    for (const s of options.schedule ?? []) {
      clock.schedule(s.atMs, () => {
        for (const i of s.instances) world.happen(world.instances[i], s.happening);
      });
    }
    for (const d of options.during ?? []) clock.schedule(d.atMs, () => d.run(world.control()));
    if (options.reconciliation !== false) {
      const reconciliation = options.reconciliation;
      const periodMs = (runtime.scheduleSeconds ?? 0) * 1000;
      if (periodMs > 0) {
        const tick = () => {
          if (exists(runtime.scheduleLogicalId) && exists(runtime.functionLogicalId)) invokePass();
          const matters = world.instances.some((i) => passMatters(i, options.scaleInAfterMs !== undefined, world.groupOf(i).launches));
          if (matters || deployment?.busy || clock.elapsed + periodMs <= (reconciliation?.untilMs ?? 0)) clock.schedule(periodMs, tick);
        };
        clock.schedule(reconciliation?.phaseMs ?? passRng.draw([0, periodMs - 1]), tick);
      }
    }
    ending = await clock.run({
      busy: () => tracker.inflight > server.parked + callPoints.parked,
      progress: () => tracker.closed,
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
    world.dispose();
    await dynamodb.stop();
  }

  const errors = [...internalErrors, ...clock.errors].map((e) => (e instanceof Error ? e.stack ?? e.message : String(e)));
  const invocations = lambda.invocations;
  const deadLetters = [...bus.deadLetters, ...lambdas.flatMap((l) => l.deadLetters)];
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
    lambdaRetries: invocations.filter((i) => i.attempt > 1).length,
    deadLetters: deadLetters.length,
    invocations: invocations.length,
    executions: world.stepFunctions.executions.length,
    executionMs: world.stepFunctions.executions.reduce((sum, e) => sum + ((e.endMs ?? clock.elapsed) - e.startMs), 0),
    billedMs: invocations.reduce((sum, i) => sum + (i.billedMs ?? 0), 0),
    memoryMB,
    virtualMs: clock.elapsed,
    realMs: performance.now() - realStart,
  };
  return {
    summary,
    instances,
    calls: server.calls,
    storeCalls: dynamodb.calls,
    invocations,
    deadLetters,
    events: bus.records,
    executions: world.stepFunctions.executions,
    commands: world.commands.map((c) => {
      const inv = c.invocations[0];
      return {
        id: c.id,
        instance: inv.instance.index,
        comment: c.comment,
        document: c.documentName,
        status: c.status,
        statusDetails: inv.statusDetails,
        responseCode: inv.responseCode,
        executionTimeoutSeconds: c.executionTimeoutSeconds,
        requestedAtMs: c.requestedAt - clock.now + clock.elapsed,
        endedAtMs: inv.endedAt !== undefined ? inv.endedAt - clock.now + clock.elapsed : undefined,
        ran: inv.ran,
        stdout: inv.stdout,
        stderr: inv.stderr,
        sentBy: c.sentBy,
      };
    }),
    logs,
    ending,
    errors,
    ...(options.callPoint ? { callPointReached: callPoints.reached } : {}),
    ...(deployment ? {
      stack: {
        events: deployment.cloudformation.events,
        outcomes: deployment.outcomes,
        signals: deployment.signals,
        groupName: deploySynthesis!.groupName,
        hookNames: runtime.hooks.map((h) => h.hookName ?? ''),
        documentNames: runtime.hooks.map((h) => h.documentName),
      },
    } : {}),
  };
}

function report(i: Instance): InstanceReport {
  return {
    index: i.index,
    id: i.id,
    group: i.group,
    state: i.state,
    ec2Running: i.ec2Running,
    completions: [...i.completions],
    commands: i.commandIds.length,
    agentOnlineAtMs: i.agentOnlineAtMs,
  };
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

/**
 * Keeps the handler's log lines with the invocation that wrote them, instead
 * of printing them: its `console` calls, and the lines it writes to standard
 * output (the outcome lines in embedded metric format, which in Lambda go to
 * the log stream as written). Standard output written outside an invocation
 * (the runner's own) is printed as usual.
 */
function captureConsole(clock: VirtualClock, logs: LogLine[], verbose: boolean): () => void {
  const levels = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;
  const saved = levels.map((l) => console[l]);
  const print = console.log;
  const keep = (level: string, text: string) => {
    const context = clock.context.getStore() as { invocationId?: string } | undefined;
    const line: LogLine = { atMs: clock.elapsed, level, invocation: context?.invocationId, text };
    logs.push(line);
    if (verbose) print(`[${(line.atMs / 1000).toFixed(3)}s ${level}${line.invocation ? ' ' + line.invocation.slice(0, 8) : ''}] ${text}`);
  };
  for (const level of levels) {
    console[level] = (...args: unknown[]) => keep(level, args.map((a) => (typeof a === 'string' ? a : safeJson(a))).join(' '));
  }
  const stdout = process.stdout;
  const write = stdout.write;
  stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const context = clock.context.getStore() as { invocationId?: string } | undefined;
    if (!context?.invocationId) return (write as (...a: unknown[]) => boolean).call(stdout, chunk, ...rest);
    for (const text of String(chunk).split('\n').filter(Boolean)) keep(levelOfLine(text), text);
    const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    done?.();
    return true;
  }) as typeof stdout.write;
  return () => {
    levels.forEach((l, n) => { console[l] = saved[n]; });
    stdout.write = write;
  };
}

/** A JSON line's own `level` (`INFO` → `info`), as Lambda's log-level filter reads it; `stdout` for any other line. */
function levelOfLine(text: string): string {
  try {
    const level = (JSON.parse(text) as { level?: unknown }).level;
    return typeof level === 'string' ? level.toLowerCase() : 'stdout';
  } catch {
    return 'stdout';
  }
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
