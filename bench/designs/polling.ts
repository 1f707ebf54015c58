// The polling loop, modelled faithfully: send the command, ask
// GetCommandInvocation every 5 s until the command reaches a final status,
// complete the action. It has Lambda's 15-minute limit; a longer command times
// the invocation out, and Lambda's retry sends the command again.
import { handMadeHandler, sleep } from './hand-made';
import type { HandlerFactory } from '../../test/standin';

export interface PollingConfig {
  readonly memoryMB: number;
  readonly timeoutSeconds: number;
  readonly pollSeconds: number;
  /** The hand-made hook's heartbeat timeout: CloudFormation's default, one hour. */
  readonly heartbeatTimeoutSeconds: number;
}

export const POLLING: PollingConfig = {
  memoryMB: 128,
  timeoutSeconds: 900,
  pollSeconds: 5,
  heartbeatTimeoutSeconds: 3_600,
};

const FINAL = ['Success', 'Failed', 'TimedOut', 'Cancelled', 'Undeliverable', 'Terminated'];

export function pollingHandler(config: PollingConfig = POLLING): HandlerFactory {
  return handMadeHandler(async (readStatus) => {
    let status: string | undefined;
    while (!FINAL.includes(status ?? '')) {
      await sleep(config.pollSeconds);
      status = await readStatus();
    }
    return status;
  });
}
