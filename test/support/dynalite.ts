/**
 * DynamoDB for handler tests: dynalite, an independent implementation of
 * DynamoDB's API, in process and in memory, on a loopback port. The handler's
 * own DynamoDB client talks to it through AWS_ENDPOINT_URL_DYNAMODB.
 */
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ACTION_TABLE_KEY } from '../../src/handler/action-table';

export interface LocalDynamoDb {
  readonly endpoint: string;
  /** A client of the local endpoint, for a test to read or seed records. */
  readonly client: DynamoDBClient;
  /** Operations received, in order (`PutItem`, `Query`, …). */
  readonly operations: string[];
  /** The table each of those operations named. */
  readonly tables: Array<string | undefined>;
  /**
   * The next `times` requests of `operation` take effect, and then their
   * connection is reset instead of answered: a lost answer, which the SDK
   * retries.
   */
  loseAnswers(operation: string, times?: number): void;
  stop(): Promise<void>;
}

const CREDENTIALS = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'local-dynalite-secret-not-a-real-one' };

/** Starts dynalite and points the environment of the handler's DynamoDB client at it. */
export async function startDynamoDb(): Promise<LocalDynamoDb> {
  // dynalite ships no types.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dynalite = require('dynalite') as (options: Record<string, unknown>) => http.Server;
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const operations: string[] = [];
  const tables: Array<string | undefined> = [];
  const toLose = new Map<string, number>();
  server.prependListener('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? 'unknown';
    const n = operations.push(operation) - 1;
    const lose = toLose.get(operation) ?? 0;
    if (lose > 0) {
      toLose.set(operation, lose - 1);
      // dynalite has applied the request by the time it answers: the answer never arrives.
      res.end = (() => { req.socket.destroy(); return res; }) as typeof res.end;
    }
    const body: Buffer[] = [];
    req.on('data', (c: Buffer) => body.push(c));
    req.on('end', () => {
      try {
        tables[n] = (JSON.parse(Buffer.concat(body).toString('utf8')) as { TableName?: string }).TableName;
      } catch {
        tables[n] = undefined;
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_DYNAMODB: endpoint,
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
  });
  const client = new DynamoDBClient({ endpoint, region: 'eu-west-1', credentials: CREDENTIALS });
  return {
    endpoint,
    client,
    operations,
    tables,
    loseAnswers(operation: string, times = 1) {
      toLose.set(operation, (toLose.get(operation) ?? 0) + times);
    },
    async stop() {
      client.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Creates a table of action records as the construct declares it. */
export async function createActionTable(db: LocalDynamoDb, name: string): Promise<void> {
  await db.client.send(new CreateTableCommand({
    TableName: name,
    KeySchema: [
      { AttributeName: ACTION_TABLE_KEY.partition, KeyType: 'HASH' },
      { AttributeName: ACTION_TABLE_KEY.sort, KeyType: 'RANGE' },
    ],
    AttributeDefinitions: [
      { AttributeName: ACTION_TABLE_KEY.partition, AttributeType: 'S' },
      { AttributeName: ACTION_TABLE_KEY.sort, AttributeType: 'S' },
    ],
    BillingMode: 'PAY_PER_REQUEST',
  }));
}
