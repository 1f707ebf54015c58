/**
 * How the handler's SDK clients retry and how long they wait for an answer.
 *
 * The SDK's standard retry mode keeps a retry quota (a token bucket of 500,
 * 5 per retry, 10 per timeout) shared by every call of a client, and a client
 * lives as long as the execution environment: during an outage of one
 * operation (CompleteLifecycleAction answering 5xx to half the calls), the
 * events of a busy environment drain the quota, and then even a first retry
 * is refused and the event fails. The calls these clients make are reads, or
 * idempotent for a given action (completing, heartbeats, conditional writes),
 * so each call retries on its own budget: 3 attempts with full-jitter
 * exponential backoff, no quota shared across events. SendCommand keeps its own
 * client that never retries (sending.ts).
 *
 * A request that hangs would hold the invocation until the function's
 * timeout; each attempt gives up after a few seconds instead, and the retry
 * (or Lambda's) goes on from there.
 */

/** Attempts per call, the first included (as the standard mode's default). */
export const MAX_ATTEMPTS = 3;
/** Backoff base and cap before a retry (the standard mode's values), ms. */
const BASE_DELAY_MS = 100;
const THROTTLING_BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 20_000;
/** Longest wait for a connection, and for an answer, per attempt. */
export const CONNECTION_TIMEOUT_MS = 3_000;
export const REQUEST_TIMEOUT_MS = 8_000;

/** The structure of the SDK's RetryStrategyV2 and RetryToken, kept local to depend on no internal package. */
interface RetryToken {
  getRetryCount(): number;
  getRetryDelay(): number;
}
interface RetryErrorInfo {
  errorType: 'TRANSIENT' | 'THROTTLING' | 'SERVER_ERROR' | 'CLIENT_ERROR';
  retryAfterHint?: Date;
}

/** Retries transient, throttling and server errors up to MAX_ATTEMPTS, each call on its own: no shared quota. */
export class PerCallRetryStrategy {
  readonly mode = 'standard';

  constructor(private readonly maxAttempts: number = MAX_ATTEMPTS) {}

  async acquireInitialRetryToken(_scope: string): Promise<RetryToken> {
    return token(0, 0);
  }

  async refreshRetryTokenForRetry(previous: RetryToken, info: RetryErrorInfo): Promise<RetryToken> {
    const retries = previous.getRetryCount() + 1;
    if (info.errorType === 'CLIENT_ERROR' || retries >= this.maxAttempts) {
      throw new Error('no retry: the error is not transient, or the attempts are spent');
    }
    const base = info.errorType === 'THROTTLING' ? THROTTLING_BASE_DELAY_MS : BASE_DELAY_MS;
    const delay = Math.floor(Math.random() * Math.min(MAX_DELAY_MS, base * 2 ** retries));
    const hinted = info.retryAfterHint ? Math.max(0, info.retryAfterHint.getTime() - Date.now()) : 0;
    return token(retries, Math.max(delay, Math.min(hinted, MAX_DELAY_MS)));
  }

  recordSuccess(_token: RetryToken): void {}
}

function token(retries: number, delayMs: number): RetryToken {
  return { getRetryCount: () => retries, getRetryDelay: () => delayMs };
}

/** The options of every client of the handler but SendCommand's. */
export function clientOptions() {
  return {
    retryStrategy: new PerCallRetryStrategy(),
    requestHandler: { connectionTimeout: CONNECTION_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS },
  };
}
