// What both hand-made designs share: one Lambda function, invoked by the
// lifecycle event only, sends the command, waits for its status its own way,
// and completes the lifecycle action with CONTINUE on Success, ABANDON
// otherwise. Nothing checks whether a command was already sent, so Lambda's
// retry of a failed or timed-out invocation sends it again. It runs through the
// real AWS SDK v3 clients, like the shipped handler.
import { AutoScalingClient, CompleteLifecycleActionCommand } from '@aws-sdk/client-auto-scaling';
import { GetCommandInvocationCommand, SendCommandCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { Handler, HandlerFactory } from '../../test/standin';

interface LifecycleEvent {
  readonly detail: {
    readonly AutoScalingGroupName: string;
    readonly LifecycleHookName: string;
    readonly LifecycleActionToken: string;
    readonly EC2InstanceId: string;
  };
}

/** Reads the command's status once (GetCommandInvocation). */
export type ReadStatus = () => Promise<string | undefined>;

/** How a design waits: it returns the status it completes the action on. */
export type WaitForStatus = (readStatus: ReadStatus) => Promise<string | undefined>;

export function sleep(seconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, seconds * 1000));
}

export function handMadeHandler(waitForStatus: WaitForStatus): HandlerFactory {
  return (): Handler => {
    const ssm = new SSMClient({});
    const autoScaling = new AutoScalingClient({});
    return async (delivered) => {
      // The stand-in delivers the hook's rule's input: the lifecycle event with the hook's settings.
      const { hook, event } = delivered as { hook?: { documentName: string }; event?: LifecycleEvent };
      if (!hook || !event) return 'ignored';
      const { detail } = event;
      const sent = await ssm.send(new SendCommandCommand({
        // The same document as the hook's, so every design runs the same commands.
        DocumentName: hook.documentName,
        InstanceIds: [detail.EC2InstanceId],
      }));
      const status = await waitForStatus(async () => (await ssm.send(new GetCommandInvocationCommand({
        CommandId: sent.Command!.CommandId!,
        InstanceId: detail.EC2InstanceId,
      }))).Status);
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
