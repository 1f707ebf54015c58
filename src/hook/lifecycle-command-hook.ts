import { createHash } from 'node:crypto';
import {
  Annotations,
  Aws,
  CfnResource,
  Duration,
  Names,
  Lazy,
  Stack,
  Tags,
  Token,
  aws_autoscaling as autoscaling,
  aws_cloudwatch as cloudwatch,
  aws_events as events,
  aws_iam as iam,
  aws_lambda as lambda,
  aws_logs as logs,
  aws_s3 as s3,
  aws_sqs as sqs,
  aws_ssm as ssm,
} from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';
import { HookRole } from './hook-role';
import { configureInstanceRole } from './instance-role';
import { configureRetention, validateRetention } from './retention';
import { warnOfSpotInterruption } from './spot';
import {
  commandTimeoutSeconds,
  HookWork,
  hookWork,
  registrationTimeoutSeconds,
  validateCommands,
  validateDocumentSize,
  validateHookName,
  validateNotificationMetadata,
  validateOptionalText,
} from './validation';
import { CommandShell } from '../command-shell';
import { commandDocumentContent, existingDocumentContent, s3ScriptDocumentContent, validatePowerShellCommands } from '../document';
import {
  FAILURE_STATUSES,
  INVOCATION_DETAIL_TYPE,
  LAUNCH_DETAIL_TYPE,
  TERMINATE_DETAIL_TYPE,
} from '../handler/events';
import { EVENT_KEY, GroupTag, HOOK_KEY, HookSettings } from '../handler/hook-settings';
import { HOOK_METRICS, METRIC_DIMENSIONS, METRIC_NAMESPACE } from '../handler/metrics';
import { LifecycleStage } from '../lifecycle-stage';
import { suppressNagFindings } from '../nag-suppressions';
import { checkPropTypes } from '../prop-types';
import { DELIVERY_TIMEOUT_SECONDS, heartbeatTimeoutSeconds } from '../reconciliation-timing';
import { LifecycleCommandRuntime } from '../runtime/lifecycle-command-runtime';
import { commandScript, EXIT_ON_ERROR } from '../script';
import { stagesEnvironmentValue } from '../stage-choice';

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
   *
   * Give exactly one of `commands`, `documentName` and `scriptBucket` (with
   * `scriptKey`).
   *
   * The commands (and a script from S3) read their lifecycle action from
   * environment variables: `SSM_EC2InstanceId`, `SSM_AutoScalingGroupName`,
   * `SSM_LifecycleHookName`, `SSM_LifecycleTransition`, `SSM_Origin`,
   * `SSM_Destination` and `SSM_NotificationMetadata` (SSM Agent 3.3.2746.0 or
   * later). No value is ever part of the script's text; a command that names
   * one of them as `{{ name }}` is refused.
   *
   * @default - none: give `documentName` or `scriptBucket` instead
   */
  readonly commands?: string[];

  /**
   * An existing Command document to run instead of `commands`: your team's
   * own (its name, or the ARN of a document another account shares with
   * yours) or an AWS-owned one such as `AWS-RunRemoteScript`. The hook's own
   * document runs it in one `aws:runDocument` step: the instances' SSM agent
   * fetches it (`ssm:GetDocument`, part of `AmazonSSMManagedInstanceCore`)
   * and runs its steps. Its own steps decide what fails the command (the
   * construct adds no `set -e` there); the worst status of its steps is the
   * command's. `shell` and `workingDirectory` do not apply.
   *
   * @default - none: give `commands` or `scriptBucket` instead
   */
  readonly documentName?: string;

  /**
   * The version of `documentName` to run: `$DEFAULT`, `$LATEST` or a version
   * number. Only with `documentName`.
   *
   * @default - the document's default version
   */
  readonly documentVersion?: string;

  /**
   * The parameters of `documentName`: each a string (a `String` parameter,
   * or a `StringMap` one as JSON text) or a list of strings (a `StringList`
   * parameter); any other value fails at synth time. (Typed `any` because
   * jsii's other languages and their examples take no union of a string and
   * a list.) The instance's agent passes them to the document without
   * SSM's checks of SendCommand: a name the document does not declare is
   * ignored and the document's default applies. `{{ executionTimeout }}` in
   * a value becomes the hook's `timeout` in seconds. Only with `documentName`.
   *
   * @default - the document's defaults
   */
  readonly documentParameters?: { [name: string]: any };

  /**
   * The bucket of a script to run instead of `commands`, with `scriptKey`.
   * The hook's document downloads the object with `aws:downloadContent` into
   * the command's own directory on the instance and runs it with `shell`:
   * with `sh` the file is executed (its shebang picks the interpreter) and
   * its exit status is the command's result. With `configureInstanceRole`,
   * the instance role gets `s3:GetObject` on that one object (and
   * `kms:Decrypt` on the bucket's key, when it has one).
   *
   * @default - none: give `commands` or `documentName` instead
   */
  readonly scriptBucket?: s3.IBucket;

  /**
   * The key of the script's object in `scriptBucket`: one object (not a
   * prefix ending in `/`), known at synth time. With
   * `CommandShell.POWERSHELL`, it ends in `.ps1`.
   *
   * @default - none: only with `scriptBucket`
   */
  readonly scriptKey?: string;

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
   * (6 minutes) and, for launch hooks, `registrationTimeout`: 172,140 s for a
   * launch hook with the default registration timeout, 172,320 s for a
   * terminate hook. Commands longer than the heartbeat timeout allows are kept
   * alive by the reconciliation pass's heartbeats. When nothing of the runtime
   * answers, an instance waits the hook's heartbeat timeout: the longer of
   * `timeout` and `registrationTimeout`, plus 10 minutes (at most 2 hours).
   *
   * A Spot Instance terminates about two minutes after its interruption
   * notice, whatever the hook's heartbeat timeout: on Spot capacity a
   * terminate hook's commands get two minutes at most. A terminate hook
   * longer than that on an `AutoScalingGroup` of the app that visibly runs
   * Spot capacity adds the synth warning
   * `cdk-lifecycle-command-hook:timeoutBeyondSpotNotice`.
   */
  readonly timeout: Duration;

  /**
   * The lifecycle action result when the commands fail, time out, or cannot be
   * sent, and when the hook's heartbeat timeout runs out.
   *
   * @default - `ABANDON` for launch hooks (an instance whose bootstrap failed is
   * terminated and replaced, never put in service); `CONTINUE` for terminate
   * hooks (the instance terminates either way, and later hooks still run),
   * `ABANDON` for terminate hooks with `retainOnFailure`
   */
  readonly defaultResult?: autoscaling.DefaultResult;

  /**
   * Terminate hooks only: keep an instance whose commands fail, time out or
   * cannot be sent, for someone to look at, instead of terminating it. The
   * failure result becomes `ABANDON` (as does `defaultResult`, so a heartbeat
   * timeout retains too), and a group whose instance lifecycle policy sets
   * `RetentionTriggers.TerminateHookAbandon` to `retain` keeps the instance in
   * `Terminating:Retained`: still running and billed, out of the group's
   * desired capacity (a replacement launches), until someone calls
   * `TerminateInstanceInAutoScalingGroup`. Without that policy the abandoned
   * instance terminates. The policy is the group's: `configureGroupRetention`
   * sets it on an `AutoScalingGroup` of the app; an imported group's owner
   * sets it, and the hook adds the synth warning
   * `cdk-lifecycle-command-hook:retentionNotConfigured` when it cannot see it.
   *
   * @default false
   */
  readonly retainOnFailure?: boolean;

  /**
   * With `retainOnFailure`, on an `AutoScalingGroup` of the same app: set
   * the group's instance lifecycle policy so that it retains an instance whose
   * terminate hook is abandoned (`InstanceLifecyclePolicy.RetentionTriggers.TerminateHookAbandon`
   * `retain`). The policy applies to every terminate hook of the group. `true`
   * fails at synth time on an imported group, whose owner sets the policy.
   *
   * @default false
   */
  readonly configureGroupRetention?: boolean;

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
   * The commands read it as the environment variable
   * `SSM_NotificationMetadata`; the handler never logs it.
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
   * How long the new output log group keeps its events. Ignored when you
   * pass `outputLogGroup`. The handler's own log group is the runtime's
   * (`LifecycleCommandRuntimeProps.logRetention`).
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

  /**
   * The runtime that runs the commands and completes the actions: its
   * function, table, schedule and dead-letter queue serve every hook that
   * uses it. Give a `LifecycleCommandRuntime` of your own to keep this hook
   * apart from the stack's other hooks.
   *
   * @default - the stack's shared runtime, `LifecycleCommandRuntime.of(this)`
   */
  readonly runtime?: LifecycleCommandRuntime;
}

/**
 * Runs shell commands on each instance of an Auto Scaling group as it launches
 * or terminates, and completes the lifecycle action when they finish.
 *
 * Each hook creates the lifecycle hook, an SSM Command document holding the
 * commands, an EventBridge rule for the group's lifecycle events, a role of
 * its own (the only rights to send its document to its group's instances and
 * to complete that group's actions), a parameter holding its settings, and a
 * log group for the commands' output. The rest is the runtime's, shared by
 * every hook of the stack (`LifecycleCommandRuntime`): the function, its
 * role, the table of action records, the dead-letter queue, the rule on the
 * commands' status events, the reconciliation schedule, and for launch hooks
 * an Express state machine that waits between checks of a launching
 * instance's SSM registration. No function waits for an agent or a command:
 * the next check's invocation and the command's own status event complete
 * the lifecycle action.
 */
export class LifecycleCommandHook extends Construct {
  /**
   * The lifecycle hook resource, for an imported group. Undefined for a group
   * of the same app, whose own definition holds the hook (its
   * `LifecycleHookSpecificationList`), so that its first instances run the
   * commands too.
   */
  public readonly lifecycleHook?: autoscaling.ILifecycleHook;

  /** The name of the lifecycle hook. */
  public readonly lifecycleHookName: string;

  /** The runtime that serves this hook. */
  public readonly runtime: LifecycleCommandRuntime;

  /** The function that sends the commands and completes the lifecycle actions: the runtime's, shared by its hooks. */
  public readonly handler: lambda.IFunction;

  /** The role the function assumes to send this hook's commands and complete its group's lifecycle actions. */
  public readonly role: iam.IRole;

  /** The name of the SSM Command document that holds the commands. */
  public readonly documentName: string;

  /** The log group that receives the commands' output. */
  public readonly outputLogGroup: logs.ILogGroup;

  /**
   * Events that could not be delivered to the handler, or on which it failed
   * after its retries: the runtime's queue, shared by its hooks.
   */
  public readonly deadLetterQueue: sqs.IQueue;

  /**
   * The heartbeat timeout of the lifecycle hook: how long an action waits
   * without a heartbeat before Auto Scaling applies `defaultResult`, so the
   * longest an instance waits when nothing of the runtime answers. The longer
   * of `timeout` and `registrationTimeout`, plus 10 minutes, at most 7,200 s;
   * longer commands are kept alive by the reconciliation pass's heartbeats, up
   * to the 48-hour global timeout.
   */
  public readonly heartbeatTimeout: Duration;

  /** How often the runtime's reconciliation pass runs (6 minutes). */
  public readonly reconciliationPeriod: Duration;

  /** The name of the group, the value of the metrics' `AutoScalingGroupName` dimension. */
  private readonly groupName: string;

  constructor(scope: Construct, id: string, props: LifecycleCommandHookProps) {
    checkPropTypes(props);
    super(scope, id);

    const isLaunch = props.transition === autoscaling.LifecycleTransition.INSTANCE_LAUNCHING;
    const shell = props.shell ?? CommandShell.SH;
    const work = hookWork(props, shell === CommandShell.POWERSHELL);
    if (work.kind === 'commands') {
      validateCommands(work.commands);
      if (shell === CommandShell.POWERSHELL) validatePowerShellCommands(work.commands, (command) => Token.isUnresolved(command));
    }
    const stages = stagesEnvironmentValue(props.stages, props.transition);
    validateHookName(props.lifecycleHookName);
    validateOptionalText('workingDirectory', props.workingDirectory);
    validateNotificationMetadata(props.notificationMetadata);
    const registrationSeconds = registrationTimeoutSeconds(props.registrationTimeout, isLaunch);
    const timeoutSeconds = commandTimeoutSeconds(props.timeout, registrationSeconds);
    const heartbeatSeconds = heartbeatTimeoutSeconds(timeoutSeconds, registrationSeconds);
    this.heartbeatTimeout = Duration.seconds(heartbeatSeconds);
    const retain = validateRetention(props, isLaunch);

    const runtime = props.runtime ?? LifecycleCommandRuntime.of(this);
    this.runtime = runtime;
    this.handler = runtime.handler;
    this.deadLetterQueue = runtime.deadLetterQueue;
    this.reconciliationPeriod = runtime.reconciliationPeriod;

    // A retained instance is one whose terminate action was abandoned.
    const defaultResult = props.defaultResult
      ?? (isLaunch || retain ? autoscaling.DefaultResult.ABANDON : autoscaling.DefaultResult.CONTINUE);
    const group = props.autoScalingGroup;
    this.groupName = group.autoScalingGroupName;

    // A name known at synth time lets the rule and the settings refer to the
    // hook without depending on it, so the hook can depend on them instead:
    // it then exists only while something is there to complete its actions.
    // A group of this app gets the hook in its own definition (LifecycleHookSpecificationList), so
    // that its first instances run the commands; it then waits for what the hook needs, which
    // therefore names the group by a tag rather than by its name.
    // (Of this stack: a group in another stack would have to wait for this one, which refers to its role.)
    const ownGroup = group instanceof autoscaling.AutoScalingGroup && Stack.of(group) === Stack.of(this) ? group : undefined;
    // Such a hook's default name starts with the runtime's prefix: never the name a separate hook
    // resource of an earlier version had, whose deletion after an upgrade would remove this one.
    const hookName = props.lifecycleHookName ?? (ownGroup
      ? `${runtime.namePrefix}-${Names.uniqueResourceName(this, { maxLength: 240, separator: '-' })}`
      : Names.uniqueResourceName(this, { maxLength: 255, separator: '-' }));
    this.lifecycleHookName = hookName;
    // A group of the app (of this stack or another) shows its definition, and takes a policy given as a plain value.
    const appGroup = group instanceof autoscaling.AutoScalingGroup ? group : undefined;
    if (retain) configureRetention(this, appGroup, props.configureGroupRetention ?? false);
    if (!isLaunch) warnOfSpotInterruption(this, appGroup, timeoutSeconds);
    if (ownGroup && props.lifecycleHookName !== undefined) {
      Annotations.of(this).addWarningV2('cdk-lifecycle-command-hook:hookNameOnOwnGroup',
        `lifecycleHookName "${hookName}" names a hook in the group's own list (LifecycleHookSpecificationList). If this stack was deployed `
        + 'with an earlier version of this construct, whose separate lifecycle hook had this name, the update\'s cleanup deletes that hook '
        + 'by name and with it the one the group now relies on: later instances run no commands. Give a new name in that deploy, or none '
        + '(the default cannot collide); acknowledge this warning otherwise. See docs/how-it-works.md, "Where the hook sits in the stack".');
    }

    const content = this.documentContent(work, shell, timeoutSeconds, isLaunch, props.workingDirectory, props.notificationMetadata);
    validateDocumentSize(content);
    // Named with the runtime's prefix, which its rule on command statuses matches.
    const documentName = runtime._documentName(this);
    const document = new ssm.CfnDocument(this, 'Document', {
      name: documentName,
      documentType: 'Command',
      content,
      // An update adds a version under the same name, so that the status events
      // of commands still running on the old version still reach this hook.
      updateMethod: 'NewVersion',
    });
    this.documentName = document.ref;

    this.outputLogGroup = props.outputLogGroup ?? new logs.LogGroup(this, 'OutputLogGroup', { retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH });
    if (!props.outputLogGroup) {
      suppressOutputLogGroupFinding(this.outputLogGroup);
    }

    const groupTag: GroupTag | undefined = ownGroup && {
      key: `cdk-lifecycle-command-hook:${createHash('sha256').update(documentName).digest('hex').slice(0, 12)}`,
      value: documentName,
    };
    if (ownGroup && groupTag) {
      // On the group, and on its instances from their launch: the hook's role sends and completes by it.
      Tags.of(ownGroup).add(groupTag.key, groupTag.value, { applyToLaunchedInstances: true, includeResourceTypes: ['AWS::AutoScaling::AutoScalingGroup'] });
    }
    const hookRole = new HookRole(this, 'Role', {
      runtime,
      group: groupTag ? { tag: groupTag } : { name: group.autoScalingGroupName },
      documentName,
    });
    this.role = hookRole.role;

    const settings: HookSettings = {
      ...(groupTag ? { groupTag } : { groupName: group.autoScalingGroupName }),
      hookName,
      documentName,
      transition: isLaunch ? 'launch' : 'terminate',
      failureResult: defaultResult,
      outputLogGroupName: this.outputLogGroup.logGroupName,
      registrationTimeoutSeconds: registrationSeconds,
      deliveryTimeoutSeconds: DELIVERY_TIMEOUT_SECONDS,
      executionTimeoutSeconds: timeoutSeconds,
      heartbeatTimeoutSeconds: heartbeatSeconds,
      stages,
      roleArn: hookRole.role.roleArn,
    };
    // The reconciliation pass and the commands' status events find the hook's settings here.
    const parameter = new ssm.CfnParameter(this, 'Settings', {
      name: `${runtime.hookParameterPath}${documentName}`,
      type: 'String',
      tier: 'Standard',
      description: `Settings of lifecycle command hook ${hookName}, read by its runtime's function`,
      value: Stack.of(this).toJsonString(settings),
    });

    // The lifecycle events come wrapped with the hook's settings: the shared function learns which hook they are for.
    const lifecycleRule = new events.Rule(this, 'LifecycleActionRule', {
      ruleName: runtime._ruleName(Names.uniqueResourceName(this, { maxLength: 48, separator: '-' })),
      description: `Lifecycle actions of hook ${hookName}`,
      eventPattern: {
        source: ['aws.autoscaling'],
        detailType: [isLaunch ? LAUNCH_DETAIL_TYPE : TERMINATE_DETAIL_TYPE],
        // A group of the same app is not named (it waits for this rule): its hook's name, which bears the runtime's prefix, is enough.
        detail: ownGroup ? { LifecycleHookName: [hookName] } : {
          AutoScalingGroupName: [group.autoScalingGroupName],
          LifecycleHookName: [hookName],
        },
      },
      // EventBridge retries delivery until the action could no longer be completed.
      targets: [runtime._target(heartbeatSeconds, undefined, events.RuleTargetInput.fromObject({
        // The group's name comes with the event when the settings cannot name it.
        [HOOK_KEY]: ownGroup ? { ...settings, groupName: events.EventField.fromPath('$.detail.AutoScalingGroupName') } : settings,
        [EVENT_KEY]: events.EventField.fromPath('$'),
      }))],
    });

    const needs: IConstruct[] = [lifecycleRule, hookRole, parameter, document, ...runtime._dependables()];
    if (isLaunch) needs.push(...runtime._serveLaunchHook());
    if (props.configureInstanceRole ?? true) {
      const script = work.kind === 's3Script' ? { bucket: work.bucket, key: work.key } : undefined;
      const instancePolicy = configureInstanceRole(this, group, this.outputLogGroup, props.configureInstanceRole !== undefined, script);
      if (instancePolicy) needs.push(instancePolicy);
    }

    if (ownGroup) {
      addHookSpecification(ownGroup, {
        lifecycleHookName: hookName,
        lifecycleTransition: props.transition,
        heartbeatTimeout: heartbeatSeconds,
        defaultResult,
        notificationMetadata: props.notificationMetadata,
      });
      // The group, and so its first instances, wait for everything the hook needs.
      (ownGroup.node.defaultChild as autoscaling.CfnAutoScalingGroup).node.addDependency(...needs);
      this.lifecycleHook = undefined;
    } else {
      const hook = new autoscaling.LifecycleHook(this, 'Hook', {
        autoScalingGroup: group,
        lifecycleTransition: props.transition,
        lifecycleHookName: hookName,
        heartbeatTimeout: this.heartbeatTimeout,
        defaultResult,
        notificationMetadata: props.notificationMetadata,
      });
      hook.node.addDependency(...needs);
      this.lifecycleHook = hook;
    }
  }

  /** The content of the hook's document: the commands, a step that runs an existing document, or the S3 script's download and run. */
  private documentContent(
    work: HookWork, shell: CommandShell, timeoutSeconds: number, isLaunch: boolean, workingDirectory?: string, notificationMetadata?: string,
  ) {
    if (work.kind === 'document') {
      const { documentPath, parameters } = work;
      return existingDocumentContent({ documentPath, parameters, timeoutSeconds, isLaunch, notificationMetadata });
    }
    if (work.kind === 's3Script') {
      const url = s3ObjectUrl(work.bucket, work.key);
      return s3ScriptDocumentContent({ shell, url, fileName: work.fileName, timeoutSeconds, isLaunch, workingDirectory, notificationMetadata });
    }
    // Every line counts: the agent takes the script's exit status as the
    // command's result, and without `set -e` that is the last line's alone.
    const script = shell === CommandShell.SH ? commandScript(work.commands) : undefined;
    if (script?.foreignInterpreter !== undefined) {
      Annotations.of(this).addWarningV2('cdk-lifecycle-command-hook:commandsNotShell',
        `commands[0] is a shebang for ${script.foreignInterpreter}, not a POSIX shell: the commands run as one ${script.foreignInterpreter} program `
        + `and its exit status alone decides the command's result; the construct cannot add "${EXIT_ON_ERROR}". `
        + 'Make that program exit non-zero on any failure.');
    }
    return commandDocumentContent({ shell, commands: work.commands, timeoutSeconds, isLaunch, workingDirectory, notificationMetadata });
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
   * The number of events in the runtime's dead-letter queue (its
   * `ApproximateNumberOfMessagesVisible`): events the handler could not take,
   * of this hook or another of the runtime, whose lifecycle actions were left
   * to the reconciliation pass.
   *
   * @default - maximum over 5 minutes
   */
  public metricDeadLetters(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.runtime.metricDeadLetters(props);
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

}

/** The output log group the construct makes: encrypted by CloudWatch Logs, or by the user's own group. */
function suppressOutputLogGroupFinding(group: logs.ILogGroup) {
  suppressNagFindings(group.node.defaultChild as CfnResource, [{
    rule: 'NIST.800.53.R5-CloudWatchLogGroupEncrypted',
    reason: 'CloudWatch Logs encrypts every log group at rest; to encrypt the command output with a customer managed KMS key, pass an outputLogGroup that has one.',
  }]);
}

const hookSpecifications = new WeakMap<autoscaling.AutoScalingGroup, autoscaling.CfnAutoScalingGroup.LifecycleHookSpecificationProperty[]>();

/** Adds a hook to the group's own definition, beside any the group already has. */
function addHookSpecification(group: autoscaling.AutoScalingGroup, spec: autoscaling.CfnAutoScalingGroup.LifecycleHookSpecificationProperty) {
  let specs = hookSpecifications.get(group);
  if (!specs) {
    const list: autoscaling.CfnAutoScalingGroup.LifecycleHookSpecificationProperty[] = [];
    const cfn = group.node.defaultChild as autoscaling.CfnAutoScalingGroup;
    const existing = cfn.lifecycleHookSpecificationList;
    cfn.lifecycleHookSpecificationList = Lazy.any({
      produce: () => [...(Array.isArray(existing) ? existing : existing ? [existing] : []), ...list],
    }) as unknown as autoscaling.CfnAutoScalingGroup.LifecycleHookSpecificationProperty[];
    hookSpecifications.set(group, list);
    specs = list;
  }
  specs.push(spec);
}

/**
 * The object's path-style HTTPS URL in the bucket's region, as the agent's
 * `aws:downloadContent` parses it (agent/s3util/s3uri.go): each segment of
 * the key percent-encoded, so that `+`, spaces and `%` reach S3 as written.
 */
function s3ObjectUrl(bucket: s3.IBucket, key: string): string {
  const path = key.split('/').map((segment) => encodeURIComponent(segment)).join('/');
  return `https://s3.${bucket.env.region}.${Aws.URL_SUFFIX}/${bucket.bucketName}/${path}`;
}
