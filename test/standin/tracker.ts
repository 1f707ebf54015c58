/**
 * Watches the HTTP requests the handler's SDK clients make, so the clock knows
 * when work is in flight and each call can be traced to the Lambda invocation
 * that made it. The SDK's Node.js handler creates requests through
 * `http.request`; wrapping it leaves serialization, signing and retries as
 * they are.
 */
import http from 'node:http';
import type { ExecutionContext, VirtualClock } from './clock';

/** Request header naming the Lambda invocation that made an API call. */
export const INVOCATION_HEADER = 'x-standin-invocation';
/** Request header numbering an invocation's requests (1: its first), SDK retries included. */
export const CALL_HEADER = 'x-standin-call';
/** Request header carrying a call point's fault to the server that answers the call (callpoint.ts). */
export const CALL_POINT_HEADER = 'x-standin-call-point';

/** The execution context of a Lambda invocation, as the clock carries it across awaits and timers. */
export interface InvocationContext extends ExecutionContext {
  readonly invocationId: string;
}

export type RequestObserver = (context: InvocationContext, request: http.ClientRequest) => void;

let active: RequestTracker | undefined;
let patched = false;

export class RequestTracker {
  /** Requests created and not yet closed. */
  inflight = 0;
  /** Requests closed so far: the clock's sign that work in flight progresses. */
  closed = 0;

  constructor(readonly clock: VirtualClock, private readonly observer: RequestObserver) {}

  activate(): void {
    patchHttp();
    active = this;
  }

  deactivate(): void {
    if (active === this) active = undefined;
  }

  track(request: http.ClientRequest, context: InvocationContext | undefined): void {
    this.inflight++;
    request.once('close', () => { this.inflight--; this.closed++; });
    if (!context) return;
    if (!context.owner.alive) {
      // A crashed or timed-out environment is frozen in Lambda: nothing it does reaches AWS.
      request.destroy(new Error('the execution environment was stopped'));
      return;
    }
    this.observer(context, request);
  }
}

function patchHttp(): void {
  if (patched) return;
  patched = true;
  const original = http.request;
  const wrapped = function (this: unknown, ...args: unknown[]): http.ClientRequest {
    const tracker = active;
    if (!tracker) return (original as (...a: unknown[]) => http.ClientRequest).apply(this, args);
    const context = tracker.clock.context.getStore() as InvocationContext | undefined;
    const options = args[0] as { headers?: unknown } | undefined;
    if (context?.invocationId && options && typeof options === 'object' && !(options instanceof URL)
      && options.headers && typeof options.headers === 'object' && !Array.isArray(options.headers)) {
      options.headers = { ...options.headers, [INVOCATION_HEADER]: context.invocationId };
    }
    const request = (original as (...a: unknown[]) => http.ClientRequest).apply(this, args);
    tracker.track(request, context);
    return request;
  };
  (http as { request: unknown }).request = wrapped;
}
