// The widespread hand-made pattern, modelled faithfully: send the command,
// sleep a fixed time, read the command's status once, complete the action.
import { handMadeHandler, sleep } from './hand-made';
import type { HandlerFactory } from '../../test/standin';

export interface FixedSleepConfig {
  /** The function's memory: Lambda's default, kept by the common samples. */
  readonly memoryMB: number;
  /** The function's timeout: Lambda's limit, so that the sleep fits. */
  readonly timeoutSeconds: number;
  /** How long it sleeps between SendCommand and its one GetCommandInvocation. */
  readonly sleepSeconds: number;
  /** The hand-made hook's heartbeat timeout: CloudFormation's default, one hour. */
  readonly heartbeatTimeoutSeconds: number;
}

export const FIXED_SLEEP: FixedSleepConfig = {
  memoryMB: 128,
  timeoutSeconds: 900,
  // Chosen for a typical drain of up to 5 minutes, with 2x margin, well inside
  // the 900 s limit: the most favourable fixed value for the 5-minute command.
  sleepSeconds: 600,
  heartbeatTimeoutSeconds: 3_600,
};

export function fixedSleepHandler(config: FixedSleepConfig = FIXED_SLEEP): HandlerFactory {
  return handMadeHandler(async (readStatus) => {
    await sleep(config.sleepSeconds);
    return readStatus();
  });
}
