import {
  Annotations,
  ArnFormat,
  CfnResource,
  Duration,
  Names,
  Stack,
  Token,
  RemovalPolicy,
  aws_autoscaling as autoscaling,
  aws_cloudwatch as cloudwatch,
  aws_dynamodb as dynamodb,
  aws_events as events,
  aws_events_targets as targets,
  aws_iam as iam,
  aws_lambda as lambda,
  aws_logs as logs,
  aws_sqs as sqs,
  aws_ssm as ssm,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { CommandShell } from './command-shell';
import { commandDocumentContent, EXECUTION_TIMEOUT_PARAMETER, validatePowerShellCommands } from './document';
import { ACTION_TABLE_KEY } from './handler/action-table';
import {
  FAILURE_STATUSES,
  HOOK_ENVIRONMENT,
  INVOCATION_DETAIL_TYPE,
  LAUNCH_DETAIL_TYPE,
  TERMINAL_STATUSES,
  TERMINATE_DETAIL_TYPE,
} from './handler/events';
import { LifecycleCommandFunction } from './handler/lifecycle-command-function';
import { HOOK_METRICS, METRIC_DIMENSIONS, METRIC_NAMESPACE } from './handler/metrics';
import { LifecycleStage } from './lifecycle-stage';
import { cfnResourceOf, nagFindingValue, NagSuppression, suppressNagFindings } from './nag-suppressions';
import { checkPropTypes, describeValue } from './prop-types';
import {
  COMPLETION_MARGIN_SECONDS, DELIVERY_TIMEOUT_SECONDS, heartbeatTimeoutSeconds, maxCommandSeconds, PASS_PERIOD_SECONDS,
} from './reconciliation-timing';
import { RegistrationWait } from './registration-wait';
import { commandScript, EXIT_ON_ERROR } from './script';
import { stagesEnvironmentValue } from './stage-choice';

/** Shortest command timeout: Auto Scaling's lowest heartbeat timeout. */
const MIN_TIMEOUT_SECONDS = 30;
/** The handler's time per invocation: one registration check, the claim, and the send with its lost-answer checks. */
const HANDLER_BASE_TIMEOUT_SECONDS = 60;
const DEFAULT_REGISTRATION_TIMEOUT_SECONDS = 180;
const MIN_REGISTRATION_TIMEOUT_SECONDS = 10;
/**
 * The registration wait counts against the hook's heartbeat timeout (7,200 s
 * at most) together with the command's own timeout; 14 minutes leaves the
 * commands almost the whole of it. The function does not wait: each check is
 * a short invocation, and a state machine waits between checks.
 */
const MAX_REGISTRATION_TIMEOUT_SECONDS = 840;
const HOOK_NAME_PATTERN = /^[A-Za-z0-9\-_\/]{1,255}$/;
/** Auto Scaling's limit on NotificationMetadata (API model, AnyPrintableAsciiStringMaxLen4000): 1 to 4,000 characters... */
const MAX_NOTIFICATION_METADATA_LENGTH = 4000;
/** ...each printable ASCII (space to tilde), tab, line feed or carriage return. */
const NOTIFICATION_METADATA_CHARACTER = /^[\t\n\r\x20-\x7e]$/;

/**
 * Properties of a `LifecycleCommandHook`.
 */
export interface LifecycleCommandHookProps {
  /**
   * The Auto Scaling group whose instances run the commands. A group of the same
   * app, or one imported with `AutoScalingGroup.fromAutoScalingGroupName`.
   */
  readonly autoScalingGroup: autoscaling.IAutoScalingGroup;

  /**
   * When the commands run: as an instance launches (it waits in `Pending:Wait`)
   * or as it terminates (it waits in `Terminating:Wait`).
   */
  readonly transition: autoscaling.LifecycleTransition;

  /**
   * Lines run in order by `shell` on the instance (as root on Linux, as
   * SYSTEM on Windows), through the hook's own SSM Command document.
   *
   * With `CommandShell.SH` (the default) they run as one `/bin/sh` script
   * that starts with `set -e`. A line that exits non-zero stops the script and
   * fails the command, except where `set -e` does not apply: a command tested
   * by `if`, `while` or `until`, any command of an `&&` or `||` list but the
   * last, any stage of a pipeline but the last, and a command negated with
   * `!`. End a line with `|| true` to let it fail. A first line that is a
   * shebang (`#!/bin/bash`) picks the interpreter: `set -e` follows it when it
   * names a POSIX shell (`sh`, `bash`, `dash`, `ksh`, `zsh`, also through
   * `/usr/bin/env`); for any other interpreter (`python3`) the lines are that
   * program, its exit status decides, and the construct adds a synth warning.
   * With `CommandShell.POWERSHELL`, see `shell`.
   */
  readonly commands: string[];

  /**
   * The shell that runs `commands`. With `CommandShell.POWERSHELL`, each
   * element of `commands` must be complete PowerShell (a statement, or a block
   * with newlines inside it): its exit code is checked after it.
   *
   * @default CommandShell.SH
   */
  readonly shell?: CommandShell;

  /**
   * The stages whose lifecycle events run the commands. With a warm pool, a
   * launch hook fires as an instance enters the pool, as it leaves the pool for
   * the group, and as it launches straight into the group; a terminate hook
   * fires as an instance returns to the pool and as it terminates. The action
   * of a stage not listed is completed at once with `CONTINUE`, without a
   * command. Only stages of the hook's `transition` are allowed.
   *
   * @default - every stage of the transition: all three for a launch hook,
   * both for a terminate hook
   */
  readonly stages?: LifecycleStage[];

  /**
   * How long the commands may run. A command still running then is stopped and
   * counts as failed. At most Auto Scaling's global timeout of an action (48
   * hours) less the time for delivery, completion, one reconciliation period
   * (15 minutes) and, for launch hooks, `registrationTimeout`: 171,600 s for a
   * launch hook with the default registration timeout, 171,780 s for a
   * terminate hook. Commands longer than the heartbeat timeout allows are kept
   * alive by the reconciliation pass's heartbeats.
   */
  readonly timeout: Duration;

  /**
   * The lifecycle action result when the commands fail, time out, or cannot be
   * sent, and when the hook's heartbeat timeout runs out.
   *
   * @default - `ABANDON` for launch hooks (an instance whose bootstrap failed is
   * terminated and replaced, never put in service); `CONTINUE` for terminate
   * hooks (the instance terminates either way, and later hooks still run)
   */
  readonly defaultResult?: autoscaling.DefaultResult;

  /**
   * The name of the lifecycle hook: 1 to 255 letters, digits, `-`, `_` or `/`.
   *
   * @default - a name unique to the stack and the construct path, fixed at synth time
   */
  readonly lifecycleHookName?: string;

  /**
   * The directory the commands start in.
   *
   * @default - the SSM agent's working directory for the command
   */
  readonly workingDirectory?: string;

  /**
   * Data Auto Scaling passes with each lifecycle event: 1 to 4,000
   * characters, each printable ASCII (space to `~`), a tab or a line break.
   * The handler never logs it.
   *
   * @default - no metadata
   */
  readonly notificationMetadata?: string;

  /**
   * The log group that receives the commands' full output (stdout and stderr).
   *
   * @default - a new log group whose events are kept for `logRetention`
   */
  readonly outputLogGroup?: logs.ILogGroup;

  /**
   * How long the new output log group and the handler's own log group keep
   * their events. Ignored for `outputLogGroup` when you pass one.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * Launch hooks only: how long the hook waits for a launching instance's SSM
   * agent to register before it completes the action with `defaultResult`.
   * Between 10 seconds and 14 minutes. The function checks once per
   * invocation and returns; the hook's Express state machine waits 2, 4, 8,
   * 16, then every 20 seconds between checks, so the command follows the
   * agent's registration within about 20 seconds.
   *
   * @default Duration.minutes(3)
   */
  readonly registrationTimeout?: Duration;

  /**
   * Whether to give the group's instance role `AmazonSSMManagedInstanceCore`
   * and the right to write the output log group. Applies only to an
   * `AutoScalingGroup` of this app whose role the construct can reach. For an
   * imported group, or one whose launch template hides its role, its owner
   * grants these (see the README): `true` set explicitly then fails at synth
   * time, and the default adds a synth warning.
   *
   * @default true
   */
  readonly configureInstanceRole?: boolean;
}

/**
 * Runs shell commands on each instance of an Auto Scaling group as it launches
 * or terminates, and completes the lifecycle action when they finish.
 *
 * It creates the lifecycle hook, an SSM Command document holding the commands,
 * two EventBridge rules (the group's lifecycle event, and the status of the
 * document's command invocations), a handler function, its least-privilege role,
 * an encrypted dead-letter queue, and a log group for the commands' output;
 * a launch hook also gets an Express state machine that waits between checks
 * of a launching instance's SSM registration. No function waits for an agent
 * or a command: the next check's invocation and the command's own status
 * event complete the lifecycle action.
 */
export class LifecycleCommandHook extends Construct {
  /** The lifecycle hook on the group. */
  public readonly lifecycleHook: autoscaling.ILifecycleHook;

  /** The name of the lifecycle hook. */
  public readonly lifecycleHookName: string;

  /** The function that sends the commands and completes the lifecycle actions. */
  public readonly handler: lambda.IFunction;

  /** The name of the SSM Command document that holds the commands. */
  public readonly documentName: string;

  /** The log group that receives the commands' output. */
  public readonly outputLogGroup: logs.ILogGroup;

  /**
   * Events that could not be delivered to the handler, or on which it failed
   * after its retries. A message here means a lifecycle action was left to the
   * heartbeat timeout.
   */
  public readonly deadLetterQueue: sqs.IQueue;

  /**
   * The heartbeat timeout of the lifecycle hook: how long an action waits
   * without a heartbeat before Auto Scaling applies `defaultResult`. The time
   * the commands need (with registration, delivery and completion) plus two
   * reconciliation periods, at most 7,200 s; longer commands are kept alive by
   * the reconciliation pass's heartbeats, up to the 48-hour global timeout.
   */
  public readonly heartbeatTimeout: Duration;

  /** How often the reconciliation pass runs (15 minutes). */
  public readonly reconciliationPeriod: Duration;

  /** The name of the group, the value of the metrics' `AutoScalingGroupName` dimension. */
  private readonly groupName: string;

  constructor(scope: Construct, id: string, props: LifecycleCommandHookProps) {
    checkPropTypes(props);
    super(scope, id);

    const isLaunch = props.transition === autoscaling.LifecycleTransition.INSTANCE_LAUNCHING;
    validateCommands(props.commands);
    const shell = props.shell ?? CommandShell.SH;
    if (shell === CommandShell.POWERSHELL) validatePowerShellCommands(props.commands, (command) => Token.isUnresolved(command));
    const stages = stagesEnvironmentValue(props.stages, props.transition);
    validateHookName(props.lifecycleHookName);
    validateOptionalText('workingDirectory', props.workingDirectory);
    validateNotificationMetadata(props.notificationMetadata);
    const registrationSeconds = registrationTimeoutSeconds(props.registrationTimeout, isLaunch);
    const timeoutSeconds = commandTimeoutSeconds(props.timeout, registrationSeconds);
    const heartbeatSeconds = heartbeatTimeoutSeconds(timeoutSeconds + registrationSeconds + DELIVERY_TIMEOUT_SECONDS + COMPLETION_MARGIN_SECONDS);
    this.heartbeatTimeout = Duration.seconds(heartbeatSeconds);
    this.reconciliationPeriod = Duration.seconds(PASS_PERIOD_SECONDS);

    const defaultResult = props.defaultResult
      ?? (isLaunch ? autoscaling.DefaultResult.ABANDON : autoscaling.DefaultResult.CONTINUE);
    const retention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const group = props.autoScalingGroup;
    this.groupName = group.autoScalingGroupName;
    const stack = Stack.of(this);

    // A name known at synth time lets the rules and the handler refer to the
    // hook without depending on it, so the hook can depend on them instead:
    // it then exists only while something is there to complete its actions.
    const hookName = props.lifecycleHookName ?? Names.uniqueResourceName(this, { maxLength: 255, separator: '-' });
    const hook = new autoscaling.LifecycleHook(this, 'Hook', {
      autoScalingGroup: group,
      lifecycleTransition: props.transition,
      lifecycleHookName: hookName,
      heartbeatTimeout: this.heartbeatTimeout,
      defaultResult,
      notificationMetadata: props.notificationMetadata,
    });
    this.lifecycleHook = hook;
    this.lifecycleHookName = hookName;

    // Every line counts: the agent takes the script's exit status as the
    // command's result, and without `set -e` that is the last line's alone.
    const script = shell === CommandShell.SH ? commandScript(props.commands) : undefined;
    if (script?.foreignInterpreter !== undefined) {
      Annotations.of(this).addWarningV2('cdk-lifecycle-command-hook:commandsNotShell',
        `commands[0] is a shebang for ${script.foreignInterpreter}, not a POSIX shell: the commands run as one ${script.foreignInterpreter} program `
        + `and its exit status alone decides the command's result; the construct cannot add "${EXIT_ON_ERROR}". `
        + 'Make that program exit non-zero on any failure.');
    }
    const content = commandDocumentContent({
      shell,
      commands: props.commands,
      timeoutSeconds,
      isLaunch,
      workingDirectory: props.workingDirectory,
    });
    validateDocumentSize(content);
    const document = new ssm.CfnDocument(this, 'Document', {
      documentType: 'Command',
      content,
      // An update adds a version under the same name, so that the status events
      // of commands still running on the old version still match this hook.
      updateMethod: 'NewVersion',
    });
    this.documentName = document.ref;

    this.outputLogGroup = props.outputLogGroup ?? new logs.LogGroup(this, 'OutputLogGroup', { retention });

    const deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.deadLetterQueue = deadLetterQueue;

    const role = new iam.Role(this, 'HandlerRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Sends the lifecycle hook\'s command and completes its lifecycle actions',
    });
    // One record per lifecycle action: the claim that lets one invocation send
    // the action's command, and what completing the action needs. One table per
    // hook keeps the role's rights to one table and a fault to one hook; with
    // on-demand capacity an idle table costs nothing.
    const actionTable = new dynamodb.Table(this, 'ActionTable', {
      partitionKey: { name: ACTION_TABLE_KEY.partition, type: dynamodb.AttributeType.STRING },
      sortKey: { name: ACTION_TABLE_KEY.sort, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: ACTION_TABLE_KEY.ttl,
      // No encryption setting: DynamoDB encrypts every table at rest, by default with a
      // key it owns, which needs no key policy and adds no KMS charge per request.
      // Records live for days and mean nothing once their action has ended: the table goes with the hook.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    suppressNagFindings(actionTable.node.defaultChild as CfnResource, ACTION_TABLE_SUPPRESSIONS);
    const documentArn = stack.formatArn({ service: 'ssm', resource: 'document', resourceName: this.documentName });
    const instancesArn = stack.formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' });
    const groupArn = groupArnPattern(stack, group.autoScalingGroupName);
    // The handler's own statements sit in a policy that only this construct
    // writes to, so the wildcard suppressions on it cannot cover a statement
    // added to the role later (those land in the role's default policy).
    const handlerPolicy = new iam.Policy(this, 'HandlerPolicy', {
      roles: [role],
      statements: [
        new iam.PolicyStatement({
          sid: 'SendHookDocument',
          actions: ['ssm:SendCommand'],
          resources: [documentArn],
        }),
        new iam.PolicyStatement({
          sid: 'SendToGroupInstances',
          actions: ['ssm:SendCommand'],
          // Instance ids are unknown before launch: any instance, but only those Auto Scaling tagged with this group.
          resources: [instancesArn],
          conditions: { StringEquals: { 'ssm:resourceTag/aws:autoscaling:groupName': group.autoScalingGroupName } },
        }),
        new iam.PolicyStatement({
          sid: 'ReadCommandsAndRegistration',
          // ListCommands and DescribeInstanceInformation have no resource type: IAM accepts only "*".
          actions: ['ssm:ListCommands', 'ssm:DescribeInstanceInformation'],
          resources: ['*'],
        }),
        new iam.PolicyStatement({
          sid: 'ReconciliationReads',
          // The reconciliation pass's reads; none of them has a resource type, so IAM accepts only "*".
          actions: ['autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribeWarmPool', 'ssm:GetCommandInvocation'],
          resources: ['*'],
        }),
        new iam.PolicyStatement({
          sid: 'GroupLifecycleActions',
          // The heartbeat tells whether an action is still pending before its command is sent.
          actions: ['autoscaling:CompleteLifecycleAction', 'autoscaling:RecordLifecycleActionHeartbeat'],
          resources: [groupArn],
        }),
        new iam.PolicyStatement({
          sid: 'ActionRecords',
          actions: ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:Query'],
          resources: [actionTable.tableArn],
        }),
      ],
    });
    suppressNagFindings(handlerPolicy.node.defaultChild as CfnResource, [
      {
        rule: 'AwsSolutions-IAM5',
        finding: 'Resource::*',
        reason: 'Only ssm:ListCommands, ssm:DescribeInstanceInformation, ssm:GetCommandInvocation, autoscaling:DescribeAutoScalingGroups and autoscaling:DescribeWarmPool, read-only actions that have no resource type, so IAM accepts no resource but "*".',
      },
      {
        rule: 'AwsSolutions-IAM5',
        finding: `Resource::${nagFindingValue(this, instancesArn)}`,
        reason: 'ssm:SendCommand to instances whose ids are unknown before launch; the condition on ssm:resourceTag/aws:autoscaling:groupName limits it to instances of this group, and a second statement to this hook\'s document.',
      },
      {
        rule: 'AwsSolutions-IAM5',
        finding: `Resource::${nagFindingValue(this, groupArn)}`,
        reason: 'The "*" stands for the group\'s id, which CloudFormation does not expose; the ARN ends in this group\'s name, so only this group\'s lifecycle actions can be completed.',
      },
      INLINE_POLICY_SUPPRESSION,
    ]);

    // Launch hooks: the function checks the agent's registration once per
    // invocation, and this state machine waits between checks.
    const registrationWait = isLaunch ? new RegistrationWait(this, 'RegistrationWait') : undefined;
    if (registrationWait) handlerPolicy.addStatements(registrationWait.grantStart());

    const handlerLogGroup = new logs.LogGroup(this, 'HandlerLogGroup', { retention });
    handlerLogGroup.grantWrite(role);
    const handlerTimeoutSeconds = HANDLER_BASE_TIMEOUT_SECONDS;
    const handler = new LifecycleCommandFunction(this, 'Handler', {
      description: `Runs the commands of lifecycle hook ${id} and completes its lifecycle actions`,
      role,
      memorySize: 256,
      timeout: Duration.seconds(handlerTimeoutSeconds),
      logGroup: handlerLogGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      deadLetterQueue,
      retryAttempts: 2,
      // An event older than the heartbeat timeout names an action that has already ended.
      maxEventAge: this.heartbeatTimeout,
      environment: {
        [HOOK_ENVIRONMENT.groupName]: group.autoScalingGroupName,
        [HOOK_ENVIRONMENT.hookName]: hookName,
        [HOOK_ENVIRONMENT.documentName]: this.documentName,
        [HOOK_ENVIRONMENT.transition]: isLaunch ? 'launch' : 'terminate',
        [HOOK_ENVIRONMENT.failureResult]: defaultResult,
        [HOOK_ENVIRONMENT.outputLogGroupName]: this.outputLogGroup.logGroupName,
        [HOOK_ENVIRONMENT.registrationTimeoutSeconds]: String(registrationSeconds),
        [HOOK_ENVIRONMENT.deliveryTimeoutSeconds]: String(DELIVERY_TIMEOUT_SECONDS),
        [HOOK_ENVIRONMENT.executionTimeoutSeconds]: String(timeoutSeconds),
        [HOOK_ENVIRONMENT.stages]: stages,
        [HOOK_ENVIRONMENT.actionTableName]: actionTable.tableName,
        ...(registrationWait ? { [HOOK_ENVIRONMENT.registrationWaitArn]: registrationWait.stateMachineArn } : {}),
        [HOOK_ENVIRONMENT.passPeriodSeconds]: String(PASS_PERIOD_SECONDS),
        [HOOK_ENVIRONMENT.heartbeatTimeoutSeconds]: String(heartbeatSeconds),
      },
    });
    const registrationWaitMachine = registrationWait?.bind(handler);
    this.handler = handler;
    // The function runs only once its permissions exist.
    handler.node.addDependency(handlerPolicy);
    suppressNagFindings(handler.node.defaultChild as CfnResource, [
      {
        rule: 'NIST.800.53.R5-LambdaInsideVPC',
        reason: 'The handler calls only the SSM and Auto Scaling APIs, over TLS with IAM authentication, and serves no network clients; a VPC would need NAT or interface endpoints that the library cannot assume exist.',
      },
      {
        rule: 'NIST.800.53.R5-LambdaConcurrency',
        reason: 'Invoked only by this hook\'s two EventBridge rules, once per lifecycle action and once per command result; reserved concurrency would take from the account\'s pool, and EventBridge retries a throttled event.',
      },
    ]);
    suppressNagFindings(handlerLogGroup.node.defaultChild as CfnResource, [{
      rule: 'NIST.800.53.R5-CloudWatchLogGroupEncrypted',
      reason: 'CloudWatch Logs encrypts every log group at rest; this one holds the handler\'s one-line records (ids, statuses, error names), never command output or notification metadata.',
    }]);
    if (!props.outputLogGroup) {
      suppressNagFindings(this.outputLogGroup.node.defaultChild as CfnResource, [{
        rule: 'NIST.800.53.R5-CloudWatchLogGroupEncrypted',
        reason: 'CloudWatch Logs encrypts every log group at rest; to encrypt the command output with a customer managed KMS key, pass an outputLogGroup that has one.',
      }]);
    }
    const defaultPolicy = role.node.tryFindChild('DefaultPolicy');
    if (defaultPolicy) suppressNagFindings(cfnResourceOf(defaultPolicy)!, [INLINE_POLICY_SUPPRESSION]);

    // EventBridge retries delivery until the action could no longer be completed.
    const target = new targets.LambdaFunction(handler, {
      deadLetterQueue,
      retryAttempts: 185,
      maxEventAge: Duration.seconds(Math.min(Math.max(heartbeatSeconds, 60), 86_400)),
    });
    const lifecycleRule = new events.Rule(this, 'LifecycleActionRule', {
      description: `Lifecycle actions of hook ${id}`,
      eventPattern: {
        source: ['aws.autoscaling'],
        detailType: [isLaunch ? LAUNCH_DETAIL_TYPE : TERMINATE_DETAIL_TYPE],
        detail: {
          AutoScalingGroupName: [group.autoScalingGroupName],
          LifecycleHookName: [hookName],
        },
      },
      targets: [target],
    });
    const statusRule = new events.Rule(this, 'CommandStatusRule', {
      description: `Final statuses of the commands of hook ${id}`,
      eventPattern: {
        source: ['aws.ssm'],
        detailType: [INVOCATION_DETAIL_TYPE],
        detail: {
          'document-name': [this.documentName],
          'status': [...TERMINAL_STATUSES],
        },
      },
      targets: [target],
    });

    // The reconciliation pass. A scheduled rule rather than EventBridge Scheduler:
    // its events are free and it needs no role. A failed pass is not retried:
    // the next one comes a period later and does the same work.
    const passRule = new events.Rule(this, 'ReconciliationRule', {
      description: `Reconciliation pass of hook ${id}: completes the lifecycle actions whose events were lost`,
      schedule: events.Schedule.rate(this.reconciliationPeriod),
      targets: [new targets.LambdaFunction(handler, {
        deadLetterQueue,
        retryAttempts: 0,
        maxEventAge: Duration.seconds(PASS_PERIOD_SECONDS),
      })],
    });

    hook.node.addDependency(lifecycleRule, statusRule, passRule, handler, handlerPolicy);
    if (registrationWaitMachine) hook.node.addDependency(registrationWaitMachine);
    if (props.configureInstanceRole ?? true) {
      const instancePolicy = this.configureInstanceRole(group, props.configureInstanceRole !== undefined);
      if (instancePolicy) hook.node.addDependency(instancePolicy);
    }
  }

  /**
   * Return the given named metric of this hook.
   *
   * The handler publishes the hook's metrics in its log lines (CloudWatch's
   * embedded metric format), in the namespace `LifecycleCommandHook`, with the
   * dimensions `AutoScalingGroupName` and `LifecycleHookName`. A metric
   * appears in CloudWatch once the handler has published it.
   *
   * @default - sum over 5 minutes
   */
  public metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRIC_NAMESPACE,
      metricName,
      dimensionsMap: this.metricDimensions(),
      statistic: 'Sum',
      ...props,
    }).attachTo(this);
  }

  /**
   * The number of lifecycle actions the handler completed, with either result
   * or with the one given. Includes actions of a stage not in `stages`
   * (completed with `CONTINUE` without a command).
   *
   * @param result count only the actions completed with this result
   * @default - sum over 5 minutes
   */
  public metricActionsCompleted(result?: autoscaling.DefaultResult, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    const dimensionsMap = result === undefined ? this.metricDimensions() : this.metricDimensions({ [METRIC_DIMENSIONS.result]: result });
    return this.metric(HOOK_METRICS.actionsCompleted.name, { dimensionsMap, ...props });
  }

  /**
   * The number of lifecycle actions the handler completed with `ABANDON`: on a
   * launch hook with the default `defaultResult`, the launches whose commands
   * failed, timed out or could not be sent, each terminated and replaced.
   *
   * @default - sum over 5 minutes
   */
  public metricActionsAbandoned(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metricActionsCompleted(autoscaling.DefaultResult.ABANDON, props);
  }

  /**
   * The time from the lifecycle event to the handler's completion of the
   * action, in milliseconds: the registration wait, the commands' run, and the
   * delivery of the events in between. Actions of a stage not in `stages`,
   * completed at once, are left out.
   *
   * @default - average over 5 minutes
   */
  public metricActionDuration(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(HOOK_METRICS.actionDuration.name, { statistic: 'Average', ...props });
  }

  /**
   * The number of commands the handler sent, one per lifecycle action that
   * runs the commands.
   *
   * @default - sum over 5 minutes
   */
  public metricCommandsSent(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(HOOK_METRICS.commandsSent.name, props);
  }

  /**
   * The number of commands that ended in any status but `Success`: failed,
   * timed out (during delivery or execution) or cancelled.
   *
   * @default - sum over 5 minutes
   */
  public metricCommandsFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(HOOK_METRICS.commandsFailed.name, props);
  }

  /**
   * The number of lifecycle actions whose command could not be sent (the
   * instance's SSM agent did not register in time, the instance was gone or
   * unmanaged, access was denied), each completed at once with `defaultResult`.
   * The metric `CommandsNotSent` with a `Reason` dimension counts them by reason.
   *
   * @default - sum over 5 minutes
   */
  public metricCommandsNotSent(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(HOOK_METRICS.commandsNotSent.name, props);
  }

  /**
   * The number of lifecycle actions that a reconciliation pass found
   * unfinished, their events lost or failed, and completed.
   *
   * @default - sum over 5 minutes
   */
  public metricActionsRepaired(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(HOOK_METRICS.actionsRepaired.name, props);
  }

  /**
   * The number of events in the dead-letter queue (its
   * `ApproximateNumberOfMessagesVisible`): events the handler could not take,
   * whose lifecycle actions were left to the heartbeat timeout.
   *
   * @default - maximum over 5 minutes
   */
  public metricDeadLetters(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.deadLetterQueue.metricApproximateNumberOfMessagesVisible(props);
  }

  /**
   * Defines an EventBridge rule that fires when a command of this hook ends in
   * any status but `Success` on an instance: `Failed`, `TimedOut`,
   * `Cancelled` (and `Undeliverable` or `Terminated`, should SSM ever send
   * them as a status). The event is SSM's "EC2 Command Invocation
   * Status-change Notification"; its detail names the `instance-id`, the
   * `command-id` and the `status`. Route it to SNS, a chat channel, or any
   * target EventBridge supports.
   *
   * @param id the construct id of the rule, within this hook
   * @param options the rule's target, description, name and any extra event pattern
   */
  public onCommandFailed(id: string, options: events.OnEventOptions = {}): events.Rule {
    const rule = new events.Rule(this, id, options);
    rule.addEventPattern({
      source: ['aws.ssm'],
      detailType: [INVOCATION_DETAIL_TYPE],
      detail: {
        'document-name': [this.documentName],
        'status': [...FAILURE_STATUSES],
      },
    });
    rule.addTarget(options.target);
    return rule;
  }

  private metricDimensions(extra: Record<string, string> = {}): Record<string, string> {
    return {
      [METRIC_DIMENSIONS.groupName]: this.groupName,
      [METRIC_DIMENSIONS.hookName]: this.lifecycleHookName,
      ...extra,
    };
  }

  /** Lets the instances of a group of this app register with SSM and write the command output. */
  private configureInstanceRole(group: autoscaling.IAutoScalingGroup, explicit: boolean): iam.Policy | undefined {
    const unreachable = (why: string, who: string) => {
      const message = `configureInstanceRole: ${why}, so the construct cannot grant it `
        + `AmazonSSMManagedInstanceCore and the right to write the output log group; ${who} must grant them on the instance role `
        + '(the README\'s "Instance permissions" has the policy); set configureInstanceRole: false once they are granted.';
      if (explicit) throw new Error(`LifecycleCommandHook: ${message}`);
      Annotations.of(this).addWarningV2('cdk-lifecycle-command-hook:instanceRoleNotConfigured', message);
      return undefined;
    };
    // An imported group's role is its owner's to configure.
    if (!(group instanceof autoscaling.AutoScalingGroup)) {
      return unreachable('the group is imported, not an AutoScalingGroup of this app, and its instance role is out of reach', 'the group\'s owner');
    }
    let instanceRole: iam.IRole;
    try {
      instanceRole = group.role;
    } catch {
      // A group built from a launch template may not expose its role.
      return unreachable('the group\'s launch template does not expose its role', 'you');
    }
    const ssmCore = iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore');
    instanceRole.addManagedPolicy(ssmCore);
    const instanceRoleResource = cfnResourceOf(instanceRole);
    if (instanceRoleResource) {
      suppressNagFindings(instanceRoleResource, [{
        rule: 'AwsSolutions-IAM4',
        finding: `Policy::${nagFindingValue(this, ssmCore.managedPolicyArn)}`,
        reason: 'Added by LifecycleCommandHook: AmazonSSMManagedInstanceCore is the AWS-maintained minimum the SSM agent needs to register and receive commands; a copy would fall behind the agent.',
      }]);
    }
    const outputLogGroupArn = this.outputLogGroup.logGroupArn;
    const policy = new iam.Policy(this, 'InstanceOutputPolicy', {
      statements: [
        new iam.PolicyStatement({
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
          resources: [outputLogGroupArn],
        }),
        // The agent calls CreateLogGroup before each upload and takes
        // "already exists" as success; refused, it uploads nothing.
        new iam.PolicyStatement({
          actions: ['logs:CreateLogGroup'],
          // The log group's ARN in both forms CloudWatch Logs uses, with and without the trailing ":*".
          resources: [Stack.of(this).formatArn({
            service: 'logs',
            resource: 'log-group',
            resourceName: this.outputLogGroup.logGroupName,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }), outputLogGroupArn],
        }),
      ],
    });
    policy.attachToRole(instanceRole);
    const outputLogGroupFinding = nagFindingValue(this, outputLogGroupArn);
    suppressNagFindings(policy.node.defaultChild as CfnResource, [
      INLINE_POLICY_SUPPRESSION,
      // A log group passed by name has the ARN "...:log-group:NAME:*", whose "*" covers that group's log streams only;
      // any other "*" (a pattern of log group names) stays a finding for the user to judge.
      ...(/:log-group:[^*]+:\*$/.test(outputLogGroupFinding) ? [{
        rule: 'AwsSolutions-IAM5',
        finding: `Resource::${outputLogGroupFinding}`,
        reason: 'The ARN of the output log group as CloudWatch Logs writes it: the trailing "*" covers the log streams of that one group, which the SSM agent creates per command.',
      }] : []),
    ]);
    return policy;
  }
}

/** Findings on the table of action records that stay by design. */
const ACTION_TABLE_SUPPRESSIONS: NagSuppression[] = [
  {
    rule: 'AwsSolutions-DDB3',
    reason: 'Each record is a claim that matters only while its lifecycle action is pending (at most 48 hours); a restore to an earlier point would bring back claims of ended actions and nothing of value, so point-in-time recovery would be paid for and never used.',
  },
  {
    rule: 'NIST.800.53.R5-DynamoDBPITREnabled',
    reason: 'Each record is a claim that matters only while its lifecycle action is pending (at most 48 hours); a restore to an earlier point would bring back claims of ended actions and nothing of value.',
  },
  {
    rule: 'NIST.800.53.R5-DynamoDBInBackupPlan',
    reason: 'Short-lived claims of pending lifecycle actions, deleted by TTL after three days; a backup would hold nothing worth restoring.',
  },
];

/** Every policy this construct creates belongs to a single role and lives and dies with the hook. */
const INLINE_POLICY_SUPPRESSION: NagSuppression = {
  rule: 'NIST.800.53.R5-IAMNoInlinePolicy',
  reason: 'A policy that this construct attaches to a single role, created and deleted with the hook; a managed policy would be a separate object that nothing else should attach.',
};

function groupArnPattern(stack: Stack, groupName: string): string {
  return stack.formatArn({
    service: 'autoscaling',
    resource: 'autoScalingGroup',
    resourceName: `*:autoScalingGroupName/${groupName}`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

function validateCommands(commands: string[]) {
  // jsii checks the types for the other languages; plain JavaScript reaches here with anything.
  if (!Array.isArray(commands)) {
    throw new Error(`LifecycleCommandHook: commands is ${describeValue(commands)}; give a list of shell lines, e.g. ["systemctl stop app"].`);
  }
  if (Token.isUnresolved(commands)) {
    throw new Error('LifecycleCommandHook: commands is a list token; give a list known at synth time (each line may hold tokens), '
      + `because the construct puts "${EXIT_ON_ERROR}" after a first-line shebang or before the first line.`);
  }
  if (commands.length === 0) {
    throw new Error('LifecycleCommandHook: commands is empty; give at least one shell line, e.g. ["systemctl stop app"].');
  }
  commands.forEach((command: unknown, index) => {
    if (typeof command !== 'string') {
      throw new Error(`LifecycleCommandHook: commands[${index}] is ${describeValue(command)}; every command must be a string, one shell line.`);
    }
  });
  commands.forEach((command, index) => {
    if (!Token.isUnresolved(command) && command.trim() === '') {
      throw new Error(`LifecycleCommandHook: commands[${index}] is blank (${JSON.stringify(command)}); every command must be a non-blank shell line.`);
    }
    if (Token.isUnresolved(command)) return;
    for (const [reference, name] of command.matchAll(DOCUMENT_PARAMETER)) {
      if (name === EXECUTION_TIMEOUT_PARAMETER) continue;
      throw new Error(`LifecycleCommandHook: commands[${index}] contains ${JSON.stringify(reference)}, which SSM would replace with the document parameter "${name}", `
        + `and the document declares no such parameter. To give the shell the braces, put an empty quoted string between them: ${escapedReference(reference)} `
        + `(inside double quotes: ${escapedReference(reference, '""')}); the shell prints ${reference}.`);
    }
  });
}

/** `{{ name }}` as `{''{ name }}`: SSM no longer sees a parameter, and the shell drops the empty quotes. */
function escapedReference(reference: string, quotes = "''"): string {
  return `{${quotes}${reference.slice(1)}`;
}

/**
 * `{{ name }}` with a name of letters and digits: the SSM agent replaces it with
 * the document parameter of that name. Other braces (Go templates such as
 * `{{.ID}}`, awk, jq) reach the shell as written.
 */
const DOCUMENT_PARAMETER = /\{\{\s*([a-zA-Z0-9]+)\s*\}\}/g;

/** SSM refuses Command documents larger than 64 KB. */
const MAX_DOCUMENT_BYTES = 64 * 1024;

function validateDocumentSize(content: object) {
  const bytes = Buffer.byteLength(JSON.stringify(content), 'utf8');
  if (bytes > MAX_DOCUMENT_BYTES) {
    throw new Error(`LifecycleCommandHook: commands make an SSM document of ${bytes} bytes; SSM accepts at most ${MAX_DOCUMENT_BYTES}. Move long scripts to a file on the instance (or an S3 object) and call it.`);
  }
}

function validateHookName(name: string | undefined) {
  if (name === undefined || Token.isUnresolved(name)) return;
  if (!HOOK_NAME_PATTERN.test(name)) {
    throw new Error(`LifecycleCommandHook: lifecycleHookName ${JSON.stringify(name)} is not a valid lifecycle hook name; use 1 to 255 letters, digits, '-', '_' or '/'.`);
  }
}

function validateOptionalText(prop: string, value: string | undefined) {
  if (value === undefined || Token.isUnresolved(value)) return;
  if (value.trim() === '') {
    throw new Error(`LifecycleCommandHook: ${prop} is blank (${JSON.stringify(value)}); omit it or give a non-blank value.`);
  }
}

function validateNotificationMetadata(metadata: string | undefined) {
  if (metadata === undefined || Token.isUnresolved(metadata)) return;
  const allowed = `Auto Scaling accepts 1 to ${MAX_NOTIFICATION_METADATA_LENGTH} characters, each printable ASCII (space to "~"), a tab or a line break`;
  if (metadata.length < 1 || metadata.length > MAX_NOTIFICATION_METADATA_LENGTH) {
    throw new Error(`LifecycleCommandHook: notificationMetadata is ${metadata.length} characters long; ${allowed}.`);
  }
  const index = [...metadata].findIndex((c) => !NOTIFICATION_METADATA_CHARACTER.test(c));
  if (index >= 0) {
    const character = [...metadata][index];
    const code = `U+${character.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
    throw new Error(`LifecycleCommandHook: notificationMetadata has ${JSON.stringify(character)} (${code}) at character ${index}; ${allowed}; `
      + 'encode anything else, e.g. as base64.');
  }
}

function registrationTimeoutSeconds(timeout: Duration | undefined, isLaunch: boolean): number {
  if (!isLaunch) {
    if (timeout !== undefined) {
      throw new Error('LifecycleCommandHook: registrationTimeout applies to launch hooks only (a terminating instance is already registered with SSM); remove it or use LifecycleTransition.INSTANCE_LAUNCHING.');
    }
    return 0;
  }
  if (timeout === undefined) return DEFAULT_REGISTRATION_TIMEOUT_SECONDS;
  const seconds = timeout.toSeconds({ integral: false });
  if (Token.isUnresolved(seconds)) {
    throw new Error('LifecycleCommandHook: registrationTimeout must be known at synth time; it sets the hook\'s heartbeat timeout.');
  }
  if (!Number.isInteger(seconds) || seconds < MIN_REGISTRATION_TIMEOUT_SECONDS || seconds > MAX_REGISTRATION_TIMEOUT_SECONDS) {
    throw new Error(`LifecycleCommandHook: registrationTimeout is ${seconds} seconds; it must be a whole number of seconds from ${MIN_REGISTRATION_TIMEOUT_SECONDS} to ${MAX_REGISTRATION_TIMEOUT_SECONDS}.`);
  }
  return seconds;
}

function commandTimeoutSeconds(timeout: Duration, registrationSeconds: number): number {
  const seconds = timeout.toSeconds({ integral: false });
  if (Token.isUnresolved(seconds)) {
    throw new Error('LifecycleCommandHook: timeout must be known at synth time; it sets the hook\'s heartbeat timeout.');
  }
  const room = registrationSeconds + DELIVERY_TIMEOUT_SECONDS + COMPLETION_MARGIN_SECONDS;
  const max = maxCommandSeconds(room);
  if (!Number.isInteger(seconds) || seconds < MIN_TIMEOUT_SECONDS || seconds > max) {
    throw new Error(
      `LifecycleCommandHook: timeout is ${seconds} seconds; it must be a whole number of seconds from ${MIN_TIMEOUT_SECONDS} to ${max} ` +
      `(Auto Scaling's 172800-second global timeout of a lifecycle action less ${room} seconds for ${registrationSeconds ? 'SSM registration, ' : ''}delivery and completion `
      + `and ${PASS_PERIOD_SECONDS} seconds for the reconciliation pass that completes it if the command's status event is lost).`,
    );
  }
  return seconds;
}
