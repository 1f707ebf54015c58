// Where the evaluator follows IAM's documented semantics that a plain wildcard
// match would not: one case each, with the page of the IAM User Guide (or the
// Service Authorization Reference) that states the rule.
import { Authorization, evaluate, Statement } from './iam-evaluator';

const ACCOUNT = '123456789012';
const QUEUE = `arn:aws:sqs:eu-west-1:${ACCOUNT}:dead-letters`;
const sendFrom = (sourceArn: string): Authorization => ({ action: 'sqs:SendMessage', resource: QUEUE, context: { 'aws:SourceArn': sourceArn } });
const allow = (s: Partial<Statement>): Statement => ({ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: QUEUE, ...s });

// IAM User Guide, "IAM JSON policy elements: Condition operators", Amazon
// Resource Name (ARN) condition operators: ArnEquals and ArnLike are both
// "case-sensitive matching of the ARN. Each of the six colon-delimited
// components of the ARN is checked separately and each can include
// multi-character match wildcards (*) or single-character match wildcards (?)".
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_ARN
test('ArnEquals takes wildcards, as ArnLike does', () => {
  const s = allow({ Condition: { ArnEquals: { 'aws:SourceArn': `arn:aws:events:eu-west-1:${ACCOUNT}:rule/hook-*` } } });
  expect(evaluate([s], sendFrom(`arn:aws:events:eu-west-1:${ACCOUNT}:rule/hook-a`))).toBe('allowed');
  expect(evaluate([s], sendFrom(`arn:aws:events:eu-west-1:${ACCOUNT}:rule/other`))).toBe('implicitly denied');
});

test('ArnLike matches each of the six components on its own: a wildcard in one never covers the next', () => {
  const s = allow({ Condition: { ArnLike: { 'aws:SourceArn': `arn:aws:sns:*:${ACCOUNT}:alerts` } } });
  expect(evaluate([s], sendFrom(`arn:aws:sns:eu-west-1:${ACCOUNT}:alerts`))).toBe('allowed');
  // Read across components, "*" would cover "eu-west-1:210987654321:team" and allow another account's topic.
  expect(evaluate([s], sendFrom(`arn:aws:sns:eu-west-1:210987654321:team:${ACCOUNT}:alerts`))).toBe('implicitly denied');
});

// IAM User Guide, "IAM JSON policy elements: Condition operators": "If the key
// that you specify in a policy condition is not present in the request context,
// the values do not match and the condition is false." Which keys an action's
// requests carry is the Service Authorization Reference's "Condition keys"
// column for the action and its resource types ("Actions, resources, and
// condition keys for AWS services"): ssm:ListCommands lists none.
// https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssystemsmanager.html
test('a condition key the action does not support is absent from its request, so the condition is false', () => {
  const tag = 'ssm:resourceTag/aws:autoscaling:groupName';
  const s: Statement = { Effect: 'Allow', Action: ['ssm:ListCommands', 'ssm:SendCommand'], Resource: '*', Condition: { StringEquals: { [tag]: 'web' } } };
  expect(evaluate([s], { action: 'ssm:SendCommand', resource: `arn:aws:ec2:eu-west-1:${ACCOUNT}:instance/i-1`, context: { [tag]: 'web' } })).toBe('allowed');
  expect(evaluate([s], { action: 'ssm:ListCommands', resource: '*', context: { [tag]: 'web' } })).toBe('implicitly denied');
});

// IAM User Guide, "IAM JSON policy elements: Resource", Using wildcards in
// resource ARNs: wildcards are used "within the individual segments of an ARN
// (the parts separated by colons)"; "if the * wildcard is the last character of
// a resource ARN segment, it can expand to match beyond the colon boundaries".
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html#reference_policies_elements_resource_wildcards
test('a * inside a resource\'s region stays in the region; a * that ends a segment may match past the colons', () => {
  const instances: Statement = { Effect: 'Allow', Action: 'ssm:SendCommand', Resource: `arn:aws:ec2:eu-*-1:${ACCOUNT}:instance/*` };
  const send = (resource: string): Authorization => ({ action: 'ssm:SendCommand', resource });
  expect(evaluate([instances], send(`arn:aws:ec2:eu-west-1:${ACCOUNT}:instance/i-1`))).toBe('allowed');
  expect(evaluate([instances], send(`arn:aws:ec2:eu-west-2:210987654321:x-1:${ACCOUNT}:instance/i-1`))).toBe('implicitly denied');
  const logGroup: Statement = { Effect: 'Allow', Action: 'logs:PutLogEvents', Resource: `arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:app:*` };
  expect(evaluate([logGroup], { action: 'logs:PutLogEvents', resource: `arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:app:log-stream:2026/11/28/i-1` })).toBe('allowed');
});
