import { createHash } from 'node:crypto';
import {
  CfnResource,
  Duration,
  Names,
  RemovalPolicy,
  Stack,
  Token,
  aws_cloudwatch as cloudwatch,
  aws_dynamodb as dynamodb,
  aws_events as events,
  aws_iam as iam,
  aws_lambda as lambda,
  aws_logs as logs,
  aws_sqs as sqs,
} from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';
import { RegistrationWait } from './registration-wait';
import { RuntimePolicy } from './runtime-policy';
import { ACTION_TABLE_KEY } from '../handler/action-table';
import { INVOCATION_DETAIL_TYPE, TERMINAL_STATUSES } from '../handler/events';
import { RUNTIME_ENVIRONMENT } from '../handler/hook-settings';
import { LifecycleCommandFunction } from '../handler/lifecycle-command-function';
import { cfnResourceOf, INLINE_POLICY_SUPPRESSION, NagSuppression, suppressNagFindings } from '../nag-suppressions';
import { MAX_HEARTBEAT_SECONDS, PASS_PERIOD_SECONDS } from '../reconciliation-timing';

/** The handler's time per invocation: one registration check, the claim, and the send with its lost-answer checks. */
const HANDLER_TIMEOUT_SECONDS = 60;
/** EventBridge retries delivery of a hook's events this often (its maximum), within the events' maximum age. */
const RULE_RETRY_ATTEMPTS = 185;
/** The construct id of the stack's shared runtime. */
const SHARED_ID = 'LifecycleCommandRuntime';

/**
 * Properties of a `LifecycleCommandRuntime`.
 */
export interface LifecycleCommandRuntimeProps {
  /**
   * How long the handler's log group keeps its events.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * What runs the hooks' commands and completes their lifecycle actions, shared
 * by every `LifecycleCommandHook` that uses it: one function and its role, one
 * table of action records, one dead-letter queue, the rule on the commands'
 * status events, one reconciliation schedule, and for launch hooks one
 * registration-wait state machine.
 *
 * A stack gets one without asking: every hook that names no `runtime` uses
 * `LifecycleCommandRuntime.of(stack)`. Create one yourself to keep a group of
 * hooks apart from the others (its own function, table and schedule), and
 * pass it as each hook's `runtime`.
 */
export class LifecycleCommandRuntime extends Construct {
  /**
   * The stack's shared runtime, created the first time it is asked for.
   *
   * @param scope any construct of the stack
   */
  public static of(scope: IConstruct): LifecycleCommandRuntime {
    const stack = Stack.of(scope);
    const existing = stack.node.tryFindChild(SHARED_ID);
    if (existing instanceof LifecycleCommandRuntime) return existing;
    if (existing) throw new Error(`LifecycleCommandRuntime: the stack ${stack.node.path} already has a child "${SHARED_ID}" that is not a LifecycleCommandRuntime.`);
    return new LifecycleCommandRuntime(stack, SHARED_ID);
  }

  /** The function that sends the hooks' commands and completes their lifecycle actions. */
  public readonly handler: lambda.IFunction;

  /** The function's role. Each hook's sends and completions go through a role of the hook's own, which this role assumes. */
  public readonly role: iam.IRole;

  /** The table of action records, one per lifecycle action, each hook's kept apart. */
  public readonly actionTable: dynamodb.ITable;

  /**
   * Events that could not be delivered to the function, or on which it failed
   * after its retries. A message here means a lifecycle action was left to the
   * reconciliation pass, or to its heartbeat timeout.
   */
  public readonly deadLetterQueue: sqs.IQueue;

  /** How often the reconciliation pass runs (6 minutes). */
  public readonly reconciliationPeriod: Duration;

  /**
   * The prefix of the names of the hooks' documents and rules, unique to this
   * runtime: the runtime's rule on command statuses matches documents by it,
   * and EventBridge may invoke the function from rules that bear it.
   */
  public readonly namePrefix: string;

  /** The Parameter Store path under which each hook keeps its settings, ending in `/`. */
  public readonly hookParameterPath: string;

  /** The IAM path of the hooks' roles, which the function's role may assume. */
  public readonly hookRolePath: string;

  private readonly policy: RuntimePolicy;
  private readonly function: lambda.Function;
  private registrationWait?: RegistrationWait;
  private waitMachine?: IConstruct;

  constructor(scope: Construct, id: string, props: LifecycleCommandRuntimeProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    this.namePrefix = `lch-${runtimeHash(this)}`;
    this.hookParameterPath = `/cdk-lifecycle-command-hook/${this.namePrefix}/`;
    this.hookRolePath = `/cdk-lifecycle-command-hook/${this.namePrefix}/`;
    this.reconciliationPeriod = Duration.seconds(PASS_PERIOD_SECONDS);

    const deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.deadLetterQueue = deadLetterQueue;
    // Every rule of the runtime's hooks dead-letters here: one statement for the rules' name prefix,
    // rather than one per rule, so a hook adds nothing to the queue's policy.
    deadLetterQueue.addToResourcePolicy(new iam.PolicyStatement({
      sid: 'RulesOfThisRuntime',
      principals: [new iam.ServicePrincipal('events.amazonaws.com')],
      actions: ['sqs:SendMessage'],
      resources: [deadLetterQueue.queueArn],
      conditions: { ArnLike: { 'aws:SourceArn': this.ruleArnPattern() } },
    }));

    // One record per lifecycle action: the claim that lets one invocation send
    // the action's command, and what completing the action needs. With
    // on-demand capacity an idle table costs nothing.
    const actionTable = new dynamodb.Table(this, 'ActionTable', {
      partitionKey: { name: ACTION_TABLE_KEY.partition, type: dynamodb.AttributeType.STRING },
      sortKey: { name: ACTION_TABLE_KEY.sort, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: ACTION_TABLE_KEY.ttl,
      // No encryption setting: DynamoDB encrypts every table at rest, by default with a
      // key it owns, which needs no key policy and adds no KMS charge per request.
      // Records live for days and mean nothing once their action has ended: the table goes with the runtime.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    suppressNagFindings(actionTable.node.defaultChild as CfnResource, ACTION_TABLE_SUPPRESSIONS);
    this.actionTable = actionTable;

    const role = new iam.Role(this, 'HandlerRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Runs the lifecycle command hooks\' commands and completes their lifecycle actions',
    });
    this.role = role;
    const hookParameterArns = [
      stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: this.hookParameterPath.slice(1, -1) }),
      stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: `${this.hookParameterPath.slice(1)}*` }),
    ];
    const hookRolesArn = stack.formatArn({ service: 'iam', region: '', resource: 'role', resourceName: `${this.hookRolePath.slice(1)}*` });
    this.policy = new RuntimePolicy(this, 'HandlerPolicy', { role, actionTable, hookParameterArns, hookRolesArn });

    const handlerLogGroup = new logs.LogGroup(this, 'HandlerLogGroup', { retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH });
    handlerLogGroup.grantWrite(role);
    const fn = new LifecycleCommandFunction(this, 'Handler', {
      description: 'Runs the commands of lifecycle command hooks and completes their lifecycle actions',
      role,
      memorySize: 256,
      timeout: Duration.seconds(HANDLER_TIMEOUT_SECONDS),
      logGroup: handlerLogGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      deadLetterQueue,
      retryAttempts: 2,
      // An event older than the longest heartbeat timeout names an action that has ended.
      maxEventAge: Duration.seconds(MAX_HEARTBEAT_SECONDS),
      environment: {
        [RUNTIME_ENVIRONMENT.actionTableName]: actionTable.tableName,
        [RUNTIME_ENVIRONMENT.passPeriodSeconds]: String(PASS_PERIOD_SECONDS),
        [RUNTIME_ENVIRONMENT.hookParameterPath]: this.hookParameterPath,
        [RUNTIME_ENVIRONMENT.namePrefix]: this.namePrefix,
      },
    });
    this.function = fn;
    this.handler = fn;
    // The function runs only once its permissions exist.
    fn.node.addDependency(this.policy.policy);
    // EventBridge may invoke the function from this runtime's rules, and from no other.
    fn.addPermission('InvokedByRules', {
      principal: new iam.ServicePrincipal('events.amazonaws.com'),
      sourceArn: this.ruleArnPattern(),
      sourceAccount: stack.account,
    });
    suppressNagFindings(fn.node.defaultChild as CfnResource, HANDLER_SUPPRESSIONS);
    suppressNagFindings(handlerLogGroup.node.defaultChild as CfnResource, [{
      rule: 'NIST.800.53.R5-CloudWatchLogGroupEncrypted',
      reason: 'CloudWatch Logs encrypts every log group at rest; this one holds the handler\'s one-line records (ids, statuses, error names), never command output or notification metadata.',
    }]);
    const defaultPolicy = role.node.tryFindChild('DefaultPolicy');
    if (defaultPolicy) suppressNagFindings(cfnResourceOf(defaultPolicy)!, [INLINE_POLICY_SUPPRESSION]);

    // The commands' final statuses, for every hook of the runtime: their documents share the runtime's prefix.
    new events.Rule(this, 'CommandStatusRule', {
      ruleName: this._ruleName('command-status'),
      description: 'Final statuses of the commands of the lifecycle command hooks',
      eventPattern: {
        source: ['aws.ssm'],
        detailType: [INVOCATION_DETAIL_TYPE],
        detail: {
          'document-name': [{ prefix: `${this.namePrefix}-` }],
          'status': [...TERMINAL_STATUSES],
        },
      },
      targets: [this._target(MAX_HEARTBEAT_SECONDS)],
    });

    // The reconciliation pass. A scheduled rule rather than EventBridge Scheduler:
    // its events are free and it needs no role. A failed pass is not retried:
    // the next one comes a period later and does the same work.
    new events.Rule(this, 'ReconciliationRule', {
      ruleName: this._ruleName('reconciliation'),
      description: 'Reconciliation pass of the lifecycle command hooks: repairs what lost events left',
      schedule: events.Schedule.rate(this.reconciliationPeriod),
      targets: [this._target(PASS_PERIOD_SECONDS, 0)],
    });
  }

  /**
   * The number of events in the dead-letter queue (its
   * `ApproximateNumberOfMessagesVisible`): events the function could not take.
   *
   * @default - maximum over 5 minutes
   */
  public metricDeadLetters(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.deadLetterQueue.metricApproximateNumberOfMessagesVisible(props);
  }

  /**
   * A rule target that invokes the function, with the runtime's dead-letter
   * queue and retries, and the given input. Adds no permission: the function
   * may be invoked by every rule whose name has the runtime's prefix.
   * @internal
   */
  public _target(maxEventAgeSeconds: number, retryAttempts: number = RULE_RETRY_ATTEMPTS, input?: events.RuleTargetInput): events.IRuleTarget {
    const arn = this.function.functionArn;
    const dlq = this.deadLetterQueue.queueArn;
    return {
      bind: () => ({
        arn,
        input,
        targetResource: this.function,
        deadLetterConfig: { arn: dlq },
        retryPolicy: {
          maximumRetryAttempts: retryAttempts,
          maximumEventAgeInSeconds: Math.min(Math.max(maxEventAgeSeconds, 60), 86_400),
        },
      }),
    };
  }

  /**
   * A rule's name with the runtime's prefix, at most 64 characters.
   * @internal
   */
  public _ruleName(suffix: string): string {
    return `${this.namePrefix}-${suffix}`.slice(0, 64);
  }

  /**
   * The name of a hook's document: the runtime's prefix, then a name unique to the hook's construct path.
   * @internal
   */
  public _documentName(hook: IConstruct): string {
    return `${this.namePrefix}-${Names.uniqueResourceName(hook, { maxLength: 100, separator: '-' })}`;
  }

  /**
   * Makes the runtime ready for a launch hook: the registration wait, the
   * right to start it and to read the agents' registration.
   * @returns what a launch hook's lifecycle hook must wait for
   * @internal
   */
  public _serveLaunchHook(): IConstruct[] {
    if (!this.registrationWait) {
      this.registrationWait = new RegistrationWait(this, 'RegistrationWait');
      this.policy.serveLaunchHooks(this.registrationWait);
      this.function.addEnvironment(RUNTIME_ENVIRONMENT.registrationWaitArn, this.registrationWait.stateMachineArn);
      this.waitMachine = this.registrationWait.bind(this.function);
    }
    return [this.waitMachine!];
  }

  /**
   * What every hook must wait for before Auto Scaling sends it actions: the
   * function, its rights, and the rules that deliver the commands' statuses
   * and run the pass.
   * @internal
   */
  public _dependables(): IConstruct[] {
    return [this.function, this.policy.policy, this.node.findChild('CommandStatusRule'), this.node.findChild('ReconciliationRule')];
  }

  private ruleArnPattern(): string {
    return Stack.of(this).formatArn({ service: 'events', resource: 'rule', resourceName: `${this.namePrefix}-*` });
  }
}

/**
 * Ten hex digits unique to the runtime in its account and region: its stack's
 * name and its construct path. Names of documents and rules start with them.
 */
function runtimeHash(runtime: Construct): string {
  const stackName = Stack.of(runtime).stackName;
  const basis = `${Token.isUnresolved(stackName) ? '' : stackName}/${runtime.node.path}`;
  return createHash('sha256').update(basis).digest('hex').slice(0, 10);
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

const HANDLER_SUPPRESSIONS: NagSuppression[] = [
  {
    rule: 'NIST.800.53.R5-LambdaInsideVPC',
    reason: 'The handler calls only the SSM, Auto Scaling, STS and DynamoDB APIs, over TLS with IAM authentication, and serves no network clients; a VPC would need NAT or interface endpoints that the library cannot assume exist.',
  },
  {
    rule: 'NIST.800.53.R5-LambdaConcurrency',
    reason: 'Invoked only by the rules of its hooks (one event per lifecycle action and per command result), its own schedule and its registration wait; reserved concurrency would take from the account\'s pool, and EventBridge retries a throttled event.',
  },
];
