// The registration wait's state machine, as synthesized and with its
// intrinsics resolved, validated as Amazon States Language by asl-validator
// (JSON schemas of the States Language, and the JSONPath syntax of its paths).
import aslValidator from 'asl-validator';
import { runtimeTemplates } from './hook-template';

const runtimes = Object.values(runtimeTemplates());
/** Every state machine of the compliance stacks, by `<stack>/<logical id>`, its definition resolved. */
const definitions: Record<string, any> = {};
for (const r of runtimes) {
  for (const [id, res] of Object.entries(r.resources)) {
    if (res.Type !== 'AWS::StepFunctions::StateMachine') continue;
    const definition = res.Properties!.DefinitionString ?? res.Properties!.Definition;
    definitions[`${r.stackName}/${id}`] = typeof definition === 'object' && !('Fn::Join' in definition) && !('Fn::Sub' in definition)
      ? r.resolve(definition)
      : JSON.parse(r.resolve(definition));
  }
}

test('each runtime of the compliance stacks that serves a launch hook has its one state machine to check', () => {
  const serving = runtimes.filter((r) => Object.values(r.hooks).some((h) => h.settings.transition === 'launch'));
  expect(serving.length).toBeGreaterThan(0);
  expect(Object.keys(definitions).sort()).toEqual(serving.map((r) => `${r.stackName}/${r.logicalId('RegistrationWait/Resource')}`).sort());
});

test.each(Object.keys(definitions))('%s is valid Amazon States Language', (id) => {
  const { isValid, errorsText } = aslValidator(definitions[id]);
  expect(isValid ? '' : errorsText('\n')).toBe('');
});

test('the validator refuses a definition whose StartAt names no state', () => {
  const [first] = Object.values(definitions);
  expect(aslValidator({ ...first, StartAt: 'NoSuchState' }).isValid).toBe(false);
});
