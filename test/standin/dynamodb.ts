/**
 * DynamoDB for the handler's table of action records, served by dynalite (an
 * independent implementation of DynamoDB's API, in process, in memory) on a
 * loopback port of its own. The table is created as the synthesized template
 * declares it. Its calls take no virtual time: the clock waits while they are
 * in flight (see tracker.ts), as it does for every request.
 */
import type http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { answerFaultOf, type CallPoints } from './callpoint';
import { RealDate, type VirtualClock } from './clock';
import type { StoreFault } from './options';
import type { Rng } from './rng';
import { CALL_HEADER, INVOCATION_HEADER } from './tracker';
import { instanceOfPartition } from '../../src/handler/action-table';

/** The `AWS::DynamoDB::Table` properties the stand-in reads. */
export interface TableDefinition {
  readonly name: string;
  readonly keySchema: ReadonlyArray<{ AttributeName: string; KeyType: string }>;
  readonly attributeDefinitions: ReadonlyArray<{ AttributeName: string; AttributeType: string }>;
  readonly ttlAttribute?: string;
}

/** One DynamoDB call as dynalite answered it. */
export interface StoreCall {
  readonly atMs: number;
  readonly operation: string;
  /** Index of the instance whose record the call is about. */
  readonly instance?: number;
  readonly invocation?: string;
  /** Which of the invocation's requests it was (1: its first), SDK retries counted: a call point (callpoint.ts). */
  readonly call?: number;
  readonly status: number;
  /** The error type answered, e.g. `ConditionalCheckFailedException`. */
  readonly error?: string;
}

type Dynalite = (options: Record<string, unknown>) => http.Server;

export class DynamoDbHost {
  readonly calls: StoreCall[] = [];
  private readonly server: http.Server;
  private partitionKey = '';

  /** Per fault, per instance: matching successful calls seen. */
  private readonly faultCounts = new Map<string, number>();

  constructor(
    private readonly clock: VirtualClock,
    private readonly instanceIndex: (instanceId: string) => number | undefined,
    private readonly faults: readonly StoreFault[] = [],
    /** Answers a call point loses or holds. */
    private readonly callPoints?: CallPoints,
    private readonly rng?: Rng,
  ) {
    for (const f of faults) {
      if (f.answer === 'throttled' && (f.instances || f.bodyIncludes !== undefined || f.skip !== undefined || f.times !== undefined)) {
        throw new Error('store: a throttled fault matches by operations and rate only (it is decided before the request body is read)');
      }
    }
    const dynalite = createRequire(__filename)('dynalite') as Dynalite;
    this.server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    // A throttled request is refused before dynalite sees it: nothing of it takes effect.
    const serve = this.server.listeners('request') as Array<(req: http.IncomingMessage, res: http.ServerResponse) => void>;
    this.server.removeAllListeners('request');
    this.server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      if (!this.throttles(operationOf(req))) {
        for (const listener of serve) listener.call(this.server, req, res);
        return;
      }
      req.resume();
      const refused = JSON.stringify({
        __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
        message: 'The level of configured provisioned throughput for the table was exceeded.',
      });
      res.writeHead(400, { 'Content-Type': 'application/x-amz-json-1.0', 'Content-Length': Buffer.byteLength(refused, 'utf8') });
      res.end(refused);
    });
    // As for the stand-in's own endpoint: no keep-alive timeout on real time.
    this.server.keepAliveTimeout = 0;
    this.server.headersTimeout = 0;
    this.server.requestTimeout = 0;
    this.server.prependListener('request', (req, res) => this.observe(req, res));
  }

  /** Starts dynalite on a free loopback port and creates the tables (one per hook); returns the endpoint URL. Call before the clock is installed. */
  async start(tables: readonly TableDefinition[]): Promise<string> {
    this.partitionKey = tables[0].keySchema.find((k) => k.KeyType === 'HASH')?.AttributeName ?? '';
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    const admin = new DynamoDBClient({
      endpoint,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIAIOSFODNN7STANDIN', secretAccessKey: 'stand-in-secret-access-key-not-a-real-one' },
    });
    for (const table of tables) await this.createTable(admin, table);
    admin.destroy();
    this.calls.length = 0;
    return endpoint;
  }

  private async createTable(admin: DynamoDBClient, table: TableDefinition): Promise<void> {
    await admin.send(new CreateTableCommand({
      TableName: table.name,
      KeySchema: table.keySchema.map((k) => ({ AttributeName: k.AttributeName, KeyType: k.KeyType as 'HASH' | 'RANGE' })),
      AttributeDefinitions: table.attributeDefinitions.map((a) => ({ AttributeName: a.AttributeName, AttributeType: a.AttributeType as 'S' | 'N' | 'B' })),
      BillingMode: 'PAY_PER_REQUEST',
    }));
    if (table.ttlAttribute) {
      // dynalite does not implement UpdateTimeToLive; the records of a scenario never live long enough to expire anyway.
      await admin.send(new UpdateTimeToLiveCommand({
        TableName: table.name,
        TimeToLiveSpecification: { AttributeName: table.ttlAttribute, Enabled: true },
      })).catch(() => undefined);
    }
  }

  /** Whether a throttled fault refuses this call. */
  private throttles(operation: string): boolean {
    return this.faults.some((f) => f.answer === 'throttled' && (!f.operations || f.operations.includes(operation)) && (this.rng?.chance(f.rate ?? 1) ?? true));
  }

  /** Whether a store fault takes this applied call's answer. */
  private loseAnswer(operation: string, body: string): boolean {
    const instanceId = instanceIdOf(body, this.partitionKey);
    const instance = instanceId === undefined ? undefined : this.instanceIndex(instanceId);
    for (const [n, fault] of this.faults.entries()) {
      if (fault.answer !== 'lost') continue;
      if (fault.operations && !fault.operations.includes(operation)) continue;
      if (fault.instances && (instance === undefined || !fault.instances.includes(instance))) continue;
      if (fault.bodyIncludes !== undefined && !body.includes(fault.bodyIncludes)) continue;
      const counter = `${n}|${instance ?? ''}`;
      const seen = this.faultCounts.get(counter) ?? 0;
      this.faultCounts.set(counter, seen + 1);
      if (seen >= (fault.skip ?? 0) && seen < (fault.skip ?? 0) + (fault.times ?? 1)) return true;
    }
    return false;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private observe(req: http.IncomingMessage, res: http.ServerResponse): void {
    // The Date header carries virtual time, as the stand-in's own answers do: a real
    // time hours away from the handler's clock would make the SDK correct for clock skew and retry.
    res.sendDate = false;
    res.setHeader('Date', new RealDate(this.clock.now).toUTCString());
    const operation = operationOf(req);
    const invocation = req.headers[INVOCATION_HEADER] as string | undefined;
    const call = req.headers[CALL_HEADER] === undefined ? undefined : Number(req.headers[CALL_HEADER]);
    const answerFault = answerFaultOf(req);
    const body: Buffer[] = [];
    req.on('data', (c: Buffer) => body.push(c));
    const answer: Buffer[] = [];
    const write = res.write.bind(res) as (...a: unknown[]) => boolean;
    const end = res.end.bind(res) as (...a: unknown[]) => http.ServerResponse;
    const keep = (chunk: unknown) => {
      if (typeof chunk === 'string' || Buffer.isBuffer(chunk)) answer.push(Buffer.from(chunk as string));
    };
    (res as { write: unknown }).write = (chunk: unknown, ...rest: unknown[]) => { keep(chunk); return write(chunk, ...rest); };
    (res as { end: unknown }).end = (chunk: unknown, ...rest: unknown[]) => {
      if (res.statusCode === 200 && (answerFault === 'answer-lost' || this.loseAnswer(operation, Buffer.concat(body).toString('utf8')))) {
        // Applied by dynalite; the answer is replaced, as by a 500 after DynamoDB wrote the item.
        const lost = JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'Internal server error' });
        res.statusCode = 500;
        res.removeHeader('x-amz-crc32');
        res.setHeader('Content-Length', Buffer.byteLength(lost, 'utf8'));
        keep(lost);
        return end(lost);
      }
      if (typeof chunk !== 'function') keep(chunk);
      if (answerFault === 'hold' && this.callPoints) {
        // Applied by dynalite; the answer waits while the call point's other work runs.
        void this.callPoints.hold().then(() => end(chunk, ...rest));
        return res;
      }
      return end(chunk, ...rest);
    };
    res.once('finish', () => {
      const instanceId = instanceIdOf(Buffer.concat(body).toString('utf8'), this.partitionKey);
      let error: string | undefined;
      if (res.statusCode >= 400) {
        try {
          error = String((JSON.parse(Buffer.concat(answer).toString('utf8')) as { __type?: string }).__type ?? '').split('#').pop();
        } catch {
          error = `HTTP ${res.statusCode}`;
        }
      }
      this.calls.push({
        atMs: this.clock.elapsed,
        operation,
        instance: instanceId === undefined ? undefined : this.instanceIndex(instanceId),
        invocation,
        call,
        status: res.statusCode,
        error,
      });
    });
  }
}

function operationOf(req: http.IncomingMessage): string {
  return String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? 'unknown';
}

/** The instance a request is about: the partition key of its key or item, or an instance id it queries by. */
function instanceIdOf(body: string, partitionKey: string): string | undefined {
  try {
    const p = JSON.parse(body) as Record<string, any>;
    const values = Object.values<{ S?: string }>(p.ExpressionAttributeValues ?? {}).map((v) => v.S);
    // The partition key is the hook and the instance (`<hook>|<instance id>`).
    const key = p.Key?.[partitionKey]?.S ?? p.Item?.[partitionKey]?.S ?? values.find((v) => /(^|\|)i-[0-9a-f]+$/.test(v ?? ''));
    return key === undefined ? undefined : instanceOfPartition(key);
  } catch {
    return undefined;
  }
}
