import {
  ArnFormat,
  CfnResource,
  Names,
  Stack,
  aws_iam as iam,
  aws_lambda as lambda,
  aws_stepfunctions as sfn,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { WAIT_SECONDS_KEY } from '../handler/events';
import { NagSuppression, suppressNagFindings } from '../nag-suppressions';

/**
 * The wait of launch hooks between two checks of an instance's SSM registration:
 * an Express state machine that waits the seconds its input names, then
 * invokes the runtime's function asynchronously with that input, and ends. The
 * function returns while it waits, so the wait costs a Step Functions request
 * and a few seconds at 64 MB instead of Lambda time.
 *
 * Its name is fixed at synth time, so the function's environment and policy
 * can name its ARN before it exists; it then refers to the function, not the
 * other way round.
 */
export class RegistrationWait extends Construct {
  /** The state machine's ARN, known before the function is created. */
  public readonly stateMachineArn: string;
  private readonly stateMachineName: string;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    // Step Functions allows 80 characters in a state machine name.
    this.stateMachineName = Names.uniqueResourceName(this, { maxLength: 80, separator: '-' });
    this.stateMachineArn = Stack.of(this).formatArn({
      service: 'states',
      resource: 'stateMachine',
      resourceName: this.stateMachineName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }

  /** Lets `role` start executions of this state machine, and nothing else of Step Functions. */
  grantStart(): iam.PolicyStatement {
    return new iam.PolicyStatement({
      sid: 'StartRegistrationWait',
      actions: ['states:StartExecution'],
      resources: [this.stateMachineArn],
    });
  }

  /** Creates the state machine, invoking `handler` after each wait. */
  bind(handler: lambda.IFunction): sfn.CfnStateMachine {
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com'),
      description: 'Invokes the lifecycle command runtime\'s function after a registration wait',
    });
    const policy = new iam.Policy(this, 'Policy', {
      roles: [role],
      statements: [new iam.PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        // The function itself, unqualified: no version or alias ARN.
        resources: [handler.functionArn],
      })],
    });
    const definition = {
      Comment: 'Waits before the next check of a launching instance\'s SSM registration, then invokes the runtime\'s function with the check',
      StartAt: 'Wait',
      States: {
        Wait: { Type: 'Wait', SecondsPath: `$.${WAIT_SECONDS_KEY}`, Next: 'Check' },
        Check: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke',
          // Asynchronous: the execution ends once Lambda has queued the event; Lambda's own
          // retries and dead-letter queue then apply to the check as to any other event.
          Parameters: { 'FunctionName': handler.functionArn, 'InvocationType': 'Event', 'Payload.$': '$' },
          Retry: [{
            ErrorEquals: ['Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException'],
            IntervalSeconds: 1,
            MaxAttempts: 3,
            BackoffRate: 2,
          }],
          End: true,
        },
      },
    };
    const stateMachine = new sfn.CfnStateMachine(this, 'Resource', {
      stateMachineName: this.stateMachineName,
      stateMachineType: 'EXPRESS',
      roleArn: role.roleArn,
      definitionString: Stack.of(this).toJsonString(definition),
    });
    stateMachine.node.addDependency(policy);
    suppressNagFindings(stateMachine, STATE_MACHINE_SUPPRESSIONS);
    suppressNagFindings(policy.node.defaultChild as CfnResource, [{
      rule: 'NIST.800.53.R5-IAMNoInlinePolicy',
      reason: 'A policy that this construct attaches to a single role, created and deleted with the runtime; a managed policy would be a separate object that nothing else should attach.',
    }]);
    return stateMachine;
  }
}

const NO_LOGS_REASON = 'The state machine only waits and invokes the runtime\'s function, which logs every registration check; Express execution logs would be billed per GB ingested for nothing the function\'s log does not hold.';

/** Findings on the registration wait state machine that stay by design. */
const STATE_MACHINE_SUPPRESSIONS: NagSuppression[] = [
  { rule: 'AwsSolutions-SF1', reason: NO_LOGS_REASON },
  {
    rule: 'AwsSolutions-SF2',
    reason: 'Two states, a Wait and an asynchronous Lambda invoke: a trace would show the wait and nothing else; the function\'s log lines carry the instance and the attempt.',
  },
];
