/**
 * How the handler reads the errors of AWS calls: which are worth another
 * attempt, which were refused outright, and the few answers that mean
 * something in the domain. Pure functions.
 */

/** Connection and DNS failures: the request may not have reached AWS, or its answer was lost. */
const NETWORK_ERROR_CODES = ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN'];

/** Errors worth another Lambda attempt once the SDK's own retries are spent. */
export function isTransient(error: unknown): boolean {
  const e = error as { name?: string; code?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number } };
  if (e?.$retryable) return true;
  // Node's network errors keep their name `Error`; the SDK renames only some of them TimeoutError.
  if (NETWORK_ERROR_CODES.includes(e?.code ?? '')) return true;
  if ([
    'Throttling', 'ThrottlingException', 'ResourceContention', 'ResourceContentionFault', 'TooManyUpdates', 'InternalServerError',
    'ProvisionedThroughputExceededException', 'RequestLimitExceeded', 'TransactionConflictException',
  ].includes(e?.name ?? '')) return true;
  const status = e?.$metadata?.httpStatusCode;
  return status === undefined ? errorName(error) === 'TimeoutError' : status >= 500;
}

/** Throttled requests were refused, so repeating them cannot run anything twice. */
export function isThrottling(error: unknown): boolean {
  const e = error as { name?: string; $retryable?: { throttling?: boolean } };
  return e?.$retryable?.throttling === true
    || ['Throttling', 'ThrottlingException', 'TooManyRequestsException', 'RequestLimitExceeded'].includes(e?.name ?? '');
}

/** Auto Scaling's answer when the action named has ended (completed, timed out, or never existed). */
export function isNoActiveAction(error: unknown): boolean {
  return errorName(error) === 'ValidationError' && /No active Lifecycle Action found/i.test(errorMessage(error));
}

/** DynamoDB's answer when a conditional write found the item in another state. */
export function isConditionFailed(error: unknown): boolean {
  return errorName(error) === 'ConditionalCheckFailedException';
}

export function errorName(error: unknown): string {
  return (error as { name?: string })?.name ?? 'Error';
}

export function errorMessage(error: unknown): string {
  return (error as { message?: string })?.message ?? String(error);
}
