// The widespread hand-made pattern, modelled faithfully: one Lambda function,
// invoked by the lifecycle event only, sends the command, sleeps a fixed time,
// reads the command's status once and completes the lifecycle action with
// CONTINUE on Success, ABANDON otherwise. Nothing checks whether a command was
// already sent, so Lambda's retry of a failed or timed-out invocation sends it
// again. It runs through the real AWS SDK v3 clients, like the shipped handler.
import { AutoScalingClient, CompleteLifecycleActionCommand } from '@aws-sdk/client-auto-scaling';
import { GetCommandInvocationCommand, SendCommandCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { Handler, HandlerFactory } from '../../test/standin';

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

interface LifecycleEvent {
  readonly detail: {
    readonly AutoScalingGroupName: string;
    readonly LifecycleHookName: string;
    readonly LifecycleActionToken: string;
    readonly EC2InstanceId: string;
  };
}

export function fixedSleepHandler(config: FixedSleepConfig = FIXED_SLEEP): HandlerFactory {
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
      await new Promise((resolve) => setTimeout(resolve, config.sleepSeconds * 1000));
      const invocation = await ssm.send(new GetCommandInvocationCommand({
        CommandId: sent.Command!.CommandId!,
        InstanceId: detail.EC2InstanceId,
      }));
      await autoScaling.send(new CompleteLifecycleActionCommand({
        AutoScalingGroupName: detail.AutoScalingGroupName,
        LifecycleHookName: detail.LifecycleHookName,
        LifecycleActionToken: detail.LifecycleActionToken,
        LifecycleActionResult: invocation.Status === 'Success' ? 'CONTINUE' : 'ABANDON',
      }));
      return invocation.Status;
    };
  };
}
