import { PerCallRetryStrategy } from '../src/handler/client-options';
import type { HookConfig } from '../src/handler/events';
import { heartbeatDue, repeatWhileTimeLasts, waitStatesOf } from '../src/handler/reconcile';
import {
  DELIVERY_TIMEOUT_SECONDS, globalTimeoutSeconds, heartbeatTimeoutSeconds, maxCommandSeconds, PASS_PERIOD_SECONDS,
} from '../src/reconciliation-timing';

// Waits take no real time: each is only noted.
const mockSleeps: number[] = [];
jest.mock('../src/handler/timing', () => ({
  sleep: async (ms: number) => {
    mockSleeps.push(ms);
  },
}));

const config = { heartbeatTimeoutSeconds: 7200, passPeriodSeconds: 900 } as HookConfig;

describe('when the pass heartbeats a running command', () => {
  test('not while the pass after next, two periods and 180 s of slack later, still comes before the timeout', () => {
    expect(heartbeatDue(config, 0, 5_200_000)).toBe(false);
  });
  test('once the pass after next might come too late: the next pass still can, should this one fail', () => {
    expect(heartbeatDue(config, 0, 5_230_000)).toBe(true);
  });
  test('never without a known heartbeat timeout (a function deployed before the pass)', () => {
    expect(heartbeatDue({ ...config, heartbeatTimeoutSeconds: 0 }, 0, 1e12)).toBe(false);
  });
});

test('the wait states of each transition, warm pools included', () => {
  expect(waitStatesOf('launch')).toEqual(['Pending:Wait', 'Warmed:Pending:Wait']);
  expect(waitStatesOf('terminate')).toEqual(['Terminating:Wait', 'Warmed:Pending:Wait', 'Warmed:Terminating:Wait']);
});

test('an instance retained after an abandoned terminate action is in no wait state: the pass leaves it alone', () => {
  for (const retained of ['Terminating:Retained', 'Warmed:Pending:Retained', 'Warmed:Terminating:Retained']) {
    expect([...waitStatesOf('launch'), ...waitStatesOf('terminate')]).not.toContain(retained);
  }
});

describe('timing that follows from the period', () => {
  test('heartbeat: the longer of the command and the registration wait, plus 10 minutes, at most 7200 s', () => {
    // A 5-minute terminate hook: an instance waits at most 15 minutes when nothing answers.
    expect(heartbeatTimeoutSeconds(300, 0)).toBe(900);
    expect(heartbeatTimeoutSeconds(300, 600)).toBe(1200);
    expect(heartbeatTimeoutSeconds(6700, 180)).toBe(7200);
  });
  test('the pass repairs a lost status event before the heartbeat: a period and its lateness fit after the command', () => {
    for (const timeout of [30, 300, 3600]) {
      // The send heartbeats; the command ends at most a delivery timeout plus its own timeout later.
      const commandEnd = DELIVERY_TIMEOUT_SECONDS + timeout;
      expect(commandEnd + PASS_PERIOD_SECONDS + 180).toBeLessThanOrEqual(heartbeatTimeoutSeconds(timeout, 0));
    }
  });
  test('global timeout: 48 hours or 100 heartbeats', () => {
    expect(globalTimeoutSeconds(7200)).toBe(172_800);
    expect(globalTimeoutSeconds(600)).toBe(60_000);
  });
  test('longest command: the global timeout less its room and one period', () => {
    expect(maxCommandSeconds(120)).toBe(172_800 - 120 - 360);
  });
});

describe('retries without a shared quota', () => {
  test('a call retries a server error even after many other calls spent their retries', async () => {
    const strategy = new PerCallRetryStrategy();
    for (let i = 0; i < 1000; i++) {
      const token = await strategy.acquireInitialRetryToken('autoscaling');
      const retried = await strategy.refreshRetryTokenForRetry(token, { errorType: 'SERVER_ERROR' });
      await expect(strategy.refreshRetryTokenForRetry(retried, { errorType: 'SERVER_ERROR' })).resolves.toBeDefined();
    }
    const fresh = await strategy.acquireInitialRetryToken('autoscaling');
    await expect(strategy.refreshRetryTokenForRetry(fresh, { errorType: 'SERVER_ERROR' })).resolves.toBeDefined();
  });
  test('three attempts at most, and none after a client error', async () => {
    const strategy = new PerCallRetryStrategy();
    const first = await strategy.acquireInitialRetryToken('ssm');
    const second = await strategy.refreshRetryTokenForRetry(first, { errorType: 'THROTTLING' });
    const third = await strategy.refreshRetryTokenForRetry(second, { errorType: 'TRANSIENT' });
    expect(third.getRetryCount()).toBe(2);
    await expect(strategy.refreshRetryTokenForRetry(third, { errorType: 'SERVER_ERROR' })).rejects.toThrow();
    await expect(strategy.refreshRetryTokenForRetry(first, { errorType: 'CLIENT_ERROR' })).rejects.toThrow();
  });
  test('the delay grows, with full jitter, within the cap', async () => {
    const strategy = new PerCallRetryStrategy(10);
    let token = await strategy.acquireInitialRetryToken('ssm');
    for (let n = 1; n < 10; n++) {
      token = await strategy.refreshRetryTokenForRetry(token, { errorType: 'THROTTLING' });
      expect(token.getRetryDelay()).toBeLessThanOrEqual(Math.min(20_000, 500 * 2 ** n));
    }
  });
});

describe('what throttling fails past the SDK\'s attempts, the pass repeats while it has time', () => {
  const throttled = () => Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
  /** A call that fails `failures` times, then answers; and how often it was made. */
  const failing = (failures: number, error: () => Error = throttled) => {
    const made = { count: 0 };
    const call = async () => {
      if (++made.count <= failures) throw error();
      return 'answered';
    };
    return { made, call };
  };
  beforeEach(() => {
    mockSleeps.length = 0;
  });

  test('repeated until it goes through, with a growing wait between repeats', async () => {
    const { made, call } = failing(3);
    await expect(repeatWhileTimeLasts(() => 300_000, 40_000, call)).resolves.toBe('answered');
    expect(made.count).toBe(4);
    expect(mockSleeps).toHaveLength(3);
    // 250 ms doubled a repeat, jittered down to half of it.
    expect(mockSleeps[0]).toBeGreaterThanOrEqual(250);
    expect(mockSleeps[0]).toBeLessThanOrEqual(500);
    expect(mockSleeps[2]).toBeGreaterThanOrEqual(1_000);
    expect(mockSleeps[2]).toBeLessThanOrEqual(2_000);
  });
  test('at most the attempts given: an instance handled a few times, so that it does not hold up the others', async () => {
    const { made, call } = failing(5);
    await expect(repeatWhileTimeLasts(() => 300_000, 40_000, call, 3)).rejects.toThrow('Rate exceeded');
    expect(made.count).toBe(3);
  });
  test('not once the function has less than its reserve left after the wait', async () => {
    const { made, call } = failing(1);
    await expect(repeatWhileTimeLasts(() => 40_200, 40_000, call)).rejects.toThrow('Rate exceeded');
    expect(made.count).toBe(1);
    expect(mockSleeps).toEqual([]);
  });
  test('never after an error that repeating cannot mend', async () => {
    const { made, call } = failing(1, () => Object.assign(new Error('no such group'), { name: 'ValidationError', $metadata: { httpStatusCode: 400 } }));
    await expect(repeatWhileTimeLasts(() => 300_000, 40_000, call)).rejects.toThrow('no such group');
    expect(made.count).toBe(1);
  });
});
