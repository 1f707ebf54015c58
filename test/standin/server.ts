/**
 * The stand-in's HTTP endpoint, on a loopback port chosen at start. It speaks
 * the wire protocols the SDK v3 clients use: Auto Scaling's awsQuery
 * (form-encoded POST, XML answers and XML errors), SSM's JSON 1.1
 * (`X-Amz-Target: AmazonSSM.<Operation>`) and Step Functions' JSON 1.0
 * (`X-Amz-Target: AWSStepFunctions.<Operation>`). Every call waits its latency on the
 * virtual clock ("parked"), then faults apply, the world performs it, and the
 * call is recorded.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as querystring from 'node:querystring';
import { answerFaultOf, type CallPoints } from './callpoint';
import type { VirtualClock } from './clock';
import { RealDate } from './clock';
import type { ApiFault, ApiOptions, Happening, InjectedError } from './options';
import type { Rng } from './rng';
import { CallHistory, FaultGate } from './selector';
import { CALL_HEADER, INVOCATION_HEADER } from './tracker';
import { ApiError, World } from './world';

export type Service = 'autoscaling' | 'ssm' | 'stepfunctions' | 'sts';

/** One API call as the stand-in saw it. */
export interface ApiCall {
  readonly seq: number;
  /** Virtual ms from the start, when the call was answered. */
  readonly atMs: number;
  readonly service: Service;
  readonly operation: string;
  /** Index of the instance the call is about. */
  readonly instance?: number;
  /** The SDK's attempt number (`amz-sdk-request`): above 1 for the SDK's own retries. */
  readonly attempt: number;
  /** The SDK's retry, or the handler's own repeat of a request that failed in the same invocation. */
  readonly retry: boolean;
  /** The Lambda invocation that made the call. */
  readonly invocation?: string;
  /** Which of the invocation's requests it was (1: its first), SDK retries counted: a call point (callpoint.ts). */
  readonly call?: number;
  readonly status: number;
  /** The error code answered, if any. */
  readonly error?: string;
  /** Whether the call took effect (or, for reads, was answered with data). */
  readonly applied: boolean;
  /** Whether the error came from a fault option rather than the world's rules. */
  readonly injected: boolean;
  /** CompleteLifecycleAction: the result asked for. */
  readonly result?: string;
  /** SendCommand: the command created. */
  readonly commandId?: string;
}

const AUTOSCALING_OPERATIONS: Record<string, (w: World, p: Record<string, unknown>, invocation?: string) => Record<string, unknown>> = {
  CompleteLifecycleAction: (w, p, inv) => w.autoscaling.completeLifecycleAction(p, inv),
  RecordLifecycleActionHeartbeat: (w, p) => w.autoscaling.recordLifecycleActionHeartbeat(p),
  DescribeAutoScalingInstances: (w, p) => w.autoscaling.describeAutoScalingInstances(p),
  DescribeAutoScalingGroups: (w, p) => w.autoscaling.describeAutoScalingGroups(p),
  DescribeWarmPool: (w, p) => w.autoscaling.describeWarmPool(p),
};

const SSM_OPERATIONS: Record<string, (w: World, p: Record<string, unknown>, invocation?: string) => Record<string, unknown>> = {
  SendCommand: (w, p, inv) => w.runCommand.sendCommand(p, inv),
  ListCommands: (w, p) => w.runCommand.listCommands(p),
  ListCommandInvocations: (w, p) => w.runCommand.listCommandInvocations(p),
  GetCommandInvocation: (w, p) => w.runCommand.getCommandInvocation(p),
  DescribeInstanceInformation: (w, p) => w.agents.describeInstanceInformation(p),
  CancelCommand: (w, p) => w.runCommand.cancelCommand(p),
  GetParameter: (w, p) => w.parameters.getParameter(p),
  GetParametersByPath: (w, p) => w.parameters.getParametersByPath(p),
};

const STS_OPERATIONS: Record<string, (w: World, p: Record<string, unknown>, invocation?: string) => Record<string, unknown>> = {
  AssumeRole: (w, p) => w.sts.assumeRole(p),
};

const STEP_FUNCTIONS_OPERATIONS: Record<string, (w: World, p: Record<string, unknown>, invocation?: string) => Record<string, unknown>> = {
  StartExecution: (w, p) => w.stepFunctions.startExecution(p),
};

const OPERATION_TABLES: Readonly<Record<Service, typeof AUTOSCALING_OPERATIONS>> = {
  autoscaling: AUTOSCALING_OPERATIONS,
  ssm: SSM_OPERATIONS,
  stepfunctions: STEP_FUNCTIONS_OPERATIONS,
  sts: STS_OPERATIONS,
};

/** The operations the stand-in serves, by service. */
export const OPERATIONS: Readonly<Record<Service, readonly string[]>> = {
  autoscaling: Object.keys(AUTOSCALING_OPERATIONS),
  ssm: Object.keys(SSM_OPERATIONS),
  stepfunctions: Object.keys(STEP_FUNCTIONS_OPERATIONS),
  sts: Object.keys(STS_OPERATIONS),
};

/** The JSON protocols: target prefix and content type, by service. */
const JSON_PROTOCOLS: Readonly<Record<string, { service: Service; contentType: string }>> = {
  AmazonSSM: { service: 'ssm', contentType: 'application/x-amz-json-1.1' },
  AWSStepFunctions: { service: 'stepfunctions', contentType: 'application/x-amz-json-1.0' },
};

/** Which list parameters of the awsQuery operations are lists (`Name.member.N`). */
const QUERY_LISTS = new Set(['InstanceIds', 'AutoScalingGroupNames']);
/** The awsQuery services: their API version and XML namespace. */
const STS_VERSION = '2011-06-15';
const QUERY_NAMESPACES: Readonly<Record<string, string>> = {
  autoscaling: 'http://autoscaling.amazonaws.com/doc/2011-01-01/',
  sts: 'https://sts.amazonaws.com/doc/2011-06-15/',
};
const SERVER_ERRORS = new Set(['ResourceContention', 'InternalServerError', 'InternalFailure', 'ServiceUnavailable']);

interface Decoded {
  readonly service: Service;
  readonly operation: string;
  readonly params: Record<string, unknown>;
}

export class StandInServer {
  readonly calls: ApiCall[] = [];
  /** Requests received and waiting on the virtual clock: the clock may advance while they wait. */
  parked = 0;
  private readonly server: http.Server;
  private readonly faultGate: FaultGate<ApiFault>;
  private requestCounter = 0;
  private readonly buckets = new Map<string, { tokens: number; atMs: number }>();
  /** Requests (invocation, operation, body) whose last answer was an error. */
  private readonly failedRequests = new Set<string>();

  constructor(
    private readonly clock: VirtualClock,
    private readonly world: World,
    private readonly rng: Rng,
    private readonly options: ApiOptions,
    private readonly onError: (error: unknown) => void,
    private readonly history: CallHistory,
    /** Answers a call point loses or holds. */
    private readonly callPoints?: CallPoints,
  ) {
    this.faultGate = new FaultGate(rng, history);
    this.server = http.createServer((req, res) => this.receive(req, res));
    // Connections stay open for the whole run: a keep-alive timeout on real time could
    // close a socket the SDK is about to reuse and turn into a spurious retry.
    this.server.keepAliveTimeout = 0;
    this.server.headersTimeout = 0;
    this.server.requestTimeout = 0;
  }

  /** Starts listening on a free loopback port; returns the endpoint URL. */
  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private receive(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        this.handle(req, res, Buffer.concat(chunks).toString('utf8'));
      } catch (error) {
        this.onError(error);
        res.statusCode = 500;
        res.end();
      }
    });
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse, body: string): void {
    const decoded = decode(req, body);
    if (!decoded.ok) {
      respondError(res, decoded.service, new ApiError(decoded.code, decoded.message), this.clock.now, this.requestId());
      return;
    }
    const { service, operation, params } = decoded.value;
    const attempt = Number(/attempt=(\d+)/.exec(String(req.headers['amz-sdk-request'] ?? ''))?.[1] ?? 1);
    const invocation = req.headers[INVOCATION_HEADER] as string | undefined;
    const call = req.headers[CALL_HEADER] === undefined ? undefined : Number(req.headers[CALL_HEADER]);
    const answerFault = answerFaultOf(req);
    const instance = this.world.instanceOfCall(operation, params);
    // A retry is the SDK's next attempt, or the same request again from the same invocation after it failed.
    const sameRequest = `${invocation ?? '-'} ${operation} ${body}`;
    const retry = attempt > 1 || this.failedRequests.has(sameRequest);

    // Faults are decided when the call arrives; the call then takes its latency.
    const arrivedMs = this.clock.elapsed;
    let delay = this.rng.draw(this.options.latencyMs ?? [15, 60]);
    let error: InjectedError | undefined;
    let reset: 'before' | 'after' | undefined;
    const before: Happening[] = [];
    const after: Happening[] = [];
    const group = this.world.groupOfCall(operation, params);
    for (const fault of this.options.faults ?? []) {
      if (fault.groups && (group === undefined || !fault.groups.includes(group))) continue;
      if (!this.faultApplies(fault, operation, instance?.index, arrivedMs)) continue;
      if (fault.delayMs !== undefined) delay += this.rng.draw(fault.delayMs);
      if (fault.error && !error) error = fault.error;
      if (fault.reset && !reset) reset = fault.reset;
      if (fault.before) before.push(fault.before);
      if (fault.after) after.push(fault.after);
    }

    if (answerFault === 'answer-lost' && !error && !reset) {
      // The call point's lost answer: the call takes effect, and a 500 answers it.
      error = { code: QUERY_NAMESPACES[service] ? 'InternalFailure' : 'InternalServerError', status: 500, afterApplying: true };
    }
    const throttled = !error && !reset && this.rateLimited(operation);

    this.parked++;
    this.clock.schedule(delay, () => {
      this.parked--;
      try {
        const ctx = { attempt, retry, invocation, call, hold: answerFault === 'hold', instance: instance?.index, error, reset, before, after, throttled };
        const failed = this.perform({ service, operation, params }, res, ctx);
        if (failed) this.failedRequests.add(sameRequest);
        else this.failedRequests.delete(sameRequest);
      } catch (e) {
        this.onError(e);
        res.statusCode = 500;
        res.end();
      }
    });
  }

  private perform(
    call: Decoded,
    res: http.ServerResponse,
    ctx: {
      attempt: number;
      retry: boolean;
      invocation?: string;
      call?: number;
      /** A call point holds the answer (callpoint.ts). */
      hold: boolean;
      instance?: number;
      error?: InjectedError;
      reset?: 'before' | 'after';
      throttled: boolean;
      before: Happening[];
      after: Happening[];
    },
  ): boolean {
    const { service, operation, params } = call;
    const subject = ctx.instance !== undefined ? this.world.instances[ctx.instance] : undefined;
    if (subject) for (const h of ctx.before) this.world.happen(subject, h);

    const table = OPERATION_TABLES[service];
    const op = table[operation];
    let output: Record<string, unknown> | undefined;
    let failure: ApiError | undefined;
    let injected = false;
    if (ctx.throttled) {
      failure = new ApiError(QUERY_NAMESPACES[service] ? 'Throttling' : 'ThrottlingException', 'Rate exceeded');
    } else if (ctx.reset === 'before' || (ctx.error && !ctx.error.afterApplying)) {
      failure = ctx.reset ? CONNECTION_RESET : injectedError(ctx.error!);
      injected = true;
    } else if (!op) {
      failure = !QUERY_NAMESPACES[service]
        ? new ApiError('UnknownOperationException', `Operation ${operation} is not supported by the stand-in`)
        : new ApiError('InvalidAction', `The action ${operation} is not valid for this web service.`);
    } else {
      try {
        output = op(this.world, params, ctx.invocation);
      } catch (e) {
        if (!(e instanceof ApiError)) throw e;
        failure = e;
      }
      if (ctx.reset === 'after') {
        failure = CONNECTION_RESET;
        injected = true;
      } else if (ctx.error && !failure) {
        failure = injectedError(ctx.error);
        injected = true;
      }
    }
    const applied = output !== undefined;

    this.calls.push({
      seq: this.calls.length,
      atMs: this.clock.elapsed,
      service,
      operation,
      instance: ctx.instance,
      attempt: ctx.attempt,
      retry: ctx.retry,
      invocation: ctx.invocation,
      call: ctx.call,
      status: failure ? failure.status : 200,
      error: failure?.code,
      applied,
      injected,
      result: operation === 'CompleteLifecycleAction' ? String(params.LifecycleActionResult) : undefined,
      commandId: operation === 'SendCommand' && applied ? String((output!.Command as Record<string, unknown>).CommandId) : undefined,
    });

    this.history.record(operation, ctx.instance, applied);
    if (subject) for (const h of ctx.after) this.world.happen(subject, h);

    if (ctx.reset) {
      res.socket?.destroy();
      return true;
    }
    const requestId = this.requestId();
    const answer = () => {
      if (failure) respondError(res, service, failure, this.clock.now, requestId);
      else respond(res, service, operation, output!, this.clock.now, requestId);
    };
    if (ctx.hold && this.callPoints) void this.callPoints.hold().then(answer);
    else answer();
    return failure !== undefined;
  }

  /**
   * The operation's token bucket: `burst` tokens, refilled at `rate` a second;
   * a call finding it empty is throttled. Amazon EC2 documents this algorithm
   * for its API ("Request throttling for the Amazon EC2 API"); Auto Scaling and
   * SSM say only that they throttle per account and Region.
   */
  private rateLimited(operation: string): boolean {
    const limit = this.options.rateLimits?.[operation];
    if (!limit) return false;
    const now = this.clock.elapsed;
    const bucket = this.buckets.get(operation) ?? { tokens: limit.burst, atMs: now };
    bucket.tokens = Math.min(limit.burst, bucket.tokens + (limit.rate * (now - bucket.atMs)) / 1000);
    bucket.atMs = now;
    this.buckets.set(operation, bucket);
    if (bucket.tokens < 1) return true;
    bucket.tokens -= 1;
    return false;
  }

  private faultApplies(fault: ApiFault, operation: string, instance: number | undefined, atMs: number): boolean {
    if (fault.operations && !fault.operations.includes(operation)) return false;
    return this.faultGate.fires(fault, instance, atMs);
  }


  private requestId(): string {
    this.requestCounter++;
    return `${this.rng.hex(8)}-${this.rng.hex(4)}-4${this.rng.hex(3)}-a${this.rng.hex(3)}-${String(this.requestCounter).padStart(12, '0')}`;
  }
}

/** Recorded for a call whose connection was reset; never sent (there is no answer). */
const CONNECTION_RESET = new ApiError('ConnectionReset', 'the connection was reset', 0);

function injectedError(e: InjectedError): ApiError {
  const status = e.status ?? (SERVER_ERRORS.has(e.code) ? 500 : 400);
  const message = e.message ?? (/^Throttling/.test(e.code) ? 'Rate exceeded' : `${e.code} (injected by the stand-in)`);
  return new ApiError(e.code, message, status);
}

type DecodeResult = { ok: true; value: Decoded } | { ok: false; service: Service; code: string; message: string };

function decode(req: http.IncomingMessage, body: string): DecodeResult {
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string') {
    const [prefix, operation] = target.split('.');
    const protocol = JSON_PROTOCOLS[prefix];
    if (!protocol || !operation) return { ok: false, service: 'ssm', code: 'UnknownOperationException', message: `Unknown target ${target}` };
    const { service, contentType } = protocol;
    if (!String(req.headers['content-type']).startsWith(contentType)) {
      return { ok: false, service, code: 'SerializationException', message: `Expected ${contentType}` };
    }
    try {
      return { ok: true, value: { service, operation, params: body ? JSON.parse(body) : {} } };
    } catch {
      return { ok: false, service, code: 'SerializationException', message: 'Malformed JSON' };
    }
  }
  if (req.method !== 'POST' || !String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded')) {
    return { ok: false, service: 'autoscaling', code: 'InvalidAction', message: 'Expected a form-encoded POST' };
  }
  const form = querystring.parse(body);
  const operation = String(form.Action ?? '');
  // STS speaks the same awsQuery protocol, with its own version.
  if (form.Version === STS_VERSION) return { ok: true, value: { service: 'sts', operation, params: decodeQuery(form) } };
  if (form.Version !== '2011-01-01') return { ok: false, service: 'autoscaling', code: 'InvalidAction', message: `Unsupported version ${String(form.Version)}` };
  return { ok: true, value: { service: 'autoscaling', operation, params: decodeQuery(form) } };
}

/** Turns `Name.member.N=value` pairs into lists; other keys stay flat (no operation served needs nested structures). */
function decodeQuery(form: querystring.ParsedUrlQuery): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  const lists: Record<string, Array<[number, string]>> = {};
  for (const [key, value] of Object.entries(form)) {
    if (key === 'Action' || key === 'Version') continue;
    const v = Array.isArray(value) ? value[value.length - 1] : value ?? '';
    const m = /^(\w+)\.member\.(\d+)$/.exec(key);
    if (m && QUERY_LISTS.has(m[1])) (lists[m[1]] ??= []).push([Number(m[2]), v]);
    else params[key] = v;
  }
  for (const [name, items] of Object.entries(lists)) params[name] = items.sort((a, b) => a[0] - b[0]).map(([, v]) => v);
  return params;
}

function baseHeaders(res: http.ServerResponse, nowMs: number, requestId: string): void {
  // The Date header carries virtual time, as a real endpoint's would carry real time.
  res.sendDate = false;
  res.setHeader('Date', new RealDate(nowMs).toUTCString());
  res.setHeader('x-amzn-RequestId', requestId);
  // Each connection serves one request: every execution environment's clients (one per hook role) would otherwise keep
  // a socket open for the whole run, and the clock's check for pending I/O lists every open handle at each turn.
  res.setHeader('Connection', 'close');
}

function respond(
  res: http.ServerResponse,
  service: Service,
  operation: string,
  output: Record<string, unknown>,
  nowMs: number,
  requestId: string,
): void {
  baseHeaders(res, nowMs, requestId);
  if (!QUERY_NAMESPACES[service]) {
    res.setHeader('Content-Type', jsonContentType(service));
    // JSON 1.0 and 1.1 timestamps are epoch seconds; the replacer sees the raw value before Date.toJSON.
    res.end(JSON.stringify(output, function (this: Record<string, unknown>, key: string, v: unknown) {
      const raw = this[key];
      return raw instanceof RealDate ? raw.getTime() / 1000 : v;
    }));
    return;
  }
  res.setHeader('Content-Type', 'text/xml');
  res.end(
    `<${operation}Response xmlns="${QUERY_NAMESPACES[service]}">`
    + `<${operation}Result>${toXml(output)}</${operation}Result>`
    + `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata>`
    + `</${operation}Response>`,
  );
}

function respondError(res: http.ServerResponse, service: Service, error: ApiError, nowMs: number, requestId: string): void {
  baseHeaders(res, nowMs, requestId);
  res.statusCode = error.status;
  if (!QUERY_NAMESPACES[service]) {
    res.setHeader('Content-Type', jsonContentType(service));
    res.end(JSON.stringify({ __type: error.code, message: error.message }));
    return;
  }
  res.setHeader('Content-Type', 'text/xml');
  res.end(
    `<ErrorResponse xmlns="${QUERY_NAMESPACES[service]}">`
    + `<Error><Type>${error.status >= 500 ? 'Receiver' : 'Sender'}</Type><Code>${escapeXml(error.code)}</Code><Message>${escapeXml(error.message)}</Message></Error>`
    + `<RequestId>${requestId}</RequestId>`
    + '</ErrorResponse>',
  );
}

function jsonContentType(service: Service): string {
  return Object.values(JSON_PROTOCOLS).find((p) => p.service === service)!.contentType;
}

/** The small XML the awsQuery answers need: objects become elements, lists `member` elements, dates ISO 8601. */
function toXml(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (value instanceof RealDate) return value.toISOString();
  if (Array.isArray(value)) return value.map((v) => `<member>${toXml(v)}</member>`).join('');
  if (typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `<${k}>${toXml(v)}</${k}>`)
      .join('');
  }
  return escapeXml(String(value));
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}
