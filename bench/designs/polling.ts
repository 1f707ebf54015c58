// The polling loop, modelled faithfully: one Lambda function, invoked by the
// lifecycle event only, sends the command and asks GetCommandInvocation every
// 5 s until the command reaches a final status, then completes the lifecycle
// action with CONTINUE on Success, ABANDON otherwise. It has Lambda's 15-minute
// limit; a longer command times the invocation out, and Lambda's retry sends
// the command again. It runs through the real AWS SDK v3 clients, like the
// shipped handler.
import { AutoScalingClient, CompleteLifecycleActionCommand } from '@aws-sdk/client-auto-scaling';
import { GetCommandInvocationCommand, SendCommandCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { Handler, HandlerFactory } from '../../test/standin';

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

interface LifecycleEvent {
  readonly detail: {
    readonly AutoScalingGroupName: string;
    readonly LifecycleHookName: string;
    readonly LifecycleActionToken: string;
    readonly EC2InstanceId: string;
  };
}

export function pollingHandler(config: PollingConfig = POLLING): HandlerFactory {
  return (): Handler => {
    const ssm = new SSMClient({});
    const autoScaling = new AutoScalingClient({});
    return async (event) => {
      const { detail } = event as LifecycleEvent;
      const sent = await ssm.send(new SendCommandCommand({
        // The same document as the hook's, so every design runs the same commands.
        DocumentName: process.env.HOOK_DOCUMENT_NAME,
        InstanceIds: [detail.EC2InstanceId],
      }));
      let status: string | undefined;
      while (!FINAL.includes(status ?? '')) {
        await new Promise((resolve) => setTimeout(resolve, config.pollSeconds * 1000));
        const invocation = await ssm.send(new GetCommandInvocationCommand({
          CommandId: sent.Command!.CommandId!,
          InstanceId: detail.EC2InstanceId,
        }));
        status = invocation.Status;
      }
      await autoScaling.send(new CompleteLifecycleActionCommand({
        AutoScalingGroupName: detail.AutoScalingGroupName,
        LifecycleHookName: detail.LifecycleHookName,
        LifecycleActionToken: detail.LifecycleActionToken,
        LifecycleActionResult: status === 'Success' ? 'CONTINUE' : 'ABANDON',
      }));
      return status;
    };
  };
}
