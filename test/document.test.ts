import { App, Duration, Stack, aws_autoscaling as autoscaling } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { CommandShell, LifecycleCommandHook, LifecycleCommandHookProps, LifecycleStage } from '../src';
import { commandDocumentContent, powerShellScript, POWERSHELL_EXIT_CODE_FUNCTION, POWERSHELL_TRAP } from '../src/document';

function hookTemplate(props: Partial<LifecycleCommandHookProps> = {}) {
  const stack = new Stack(new App(), 'Stack', { env: { account: '123456789012', region: 'eu-west-1' } });
  new LifecycleCommandHook(stack, 'Hook', {
    autoScalingGroup: autoscaling.AutoScalingGroup.fromAutoScalingGroupName(stack, 'Fleet', 'web-fleet'),
    transition: autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
    commands: ['systemctl stop application'],
    timeout: Duration.minutes(5),
    ...props,
  });
  return Template.fromStack(stack);
}

function documentContent(template: Template) {
  const [document] = Object.values(template.findResources('AWS::SSM::Document'));
  return document.Properties.Content;
}

/** The stages in the hook's settings, as its parameter holds them (a JSON text joined with the tokens it names). */
function hookStages(template: Template): string | undefined {
  const [parameter] = Object.values(template.findResources('AWS::SSM::Parameter'));
  const value = parameter.Properties.Value;
  const text = typeof value === 'string' ? value : (value['Fn::Join'][1] as unknown[]).map((p) => (typeof p === 'string' ? p : '"token"')).join('');
  return /"stages":"([^"]*)"/.exec(text)?.[1];
}

const WINDOWS_COMMANDS = [
  'Stop-Service -Name W3SVC',
  'C:\\tools\\drain.exe --wait 30',
  'Write-Output "drained"',
];

describe('the sh document', () => {
  test('is the default and runs the commands under set -e', () => {
    const content = documentContent(hookTemplate({ commands: ['systemctl stop application', 'sync'] }));
    expect(content.mainSteps).toEqual([{
      action: 'aws:runShellScript',
      name: 'runCommands',
      inputs: { runCommand: ['set -e', 'systemctl stop application', 'sync'], timeoutSeconds: '{{ executionTimeout }}' },
    }]);
  });

  test('does not apply PowerShell\'s checks: a trailing pipe is sh\'s business', () => {
    expect(() => hookTemplate({ commands: ['ls |', 'wc -l'] })).not.toThrow();
  });
});

describe('the PowerShell document', () => {
  const template = hookTemplate({ shell: CommandShell.POWERSHELL, commands: WINDOWS_COMMANDS, workingDirectory: 'C:\\app' });
  const content = documentContent(template);
  const step = content.mainSteps[0];

  test('runs aws:runPowerShellScript with the same execution timeout parameter and working directory', () => {
    expect(step.action).toBe('aws:runPowerShellScript');
    expect(step.name).toBe('runCommands');
    expect(step.inputs.timeoutSeconds).toBe('{{ executionTimeout }}');
    expect(step.inputs.workingDirectory).toBe('C:\\app');
    expect(content.parameters.executionTimeout).toMatchObject({ type: 'String', default: '300' });
  });

  test('stops on cmdlet errors, traps any terminating error into exit 1, then runs each command between its checks', () => {
    expect(step.inputs.runCommand).toEqual([
      '$ErrorActionPreference = \'Stop\'',
      POWERSHELL_EXIT_CODE_FUNCTION,
      POWERSHELL_TRAP,
      '$LifecycleCommandLine = 1; $global:LASTEXITCODE = 0',
      'Stop-Service -Name W3SVC',
      'if ($global:LASTEXITCODE -ne 0) { exit (Get-LifecycleCommandExitCode 1 $global:LASTEXITCODE) }',
      '$LifecycleCommandLine = 2; $global:LASTEXITCODE = 0',
      'C:\\tools\\drain.exe --wait 30',
      'if ($global:LASTEXITCODE -ne 0) { exit (Get-LifecycleCommandExitCode 2 $global:LASTEXITCODE) }',
      '$LifecycleCommandLine = 3; $global:LASTEXITCODE = 0',
      'Write-Output "drained"',
      'if ($global:LASTEXITCODE -ne 0) { exit (Get-LifecycleCommandExitCode 3 $global:LASTEXITCODE) }',
    ]);
  });

  test('the trap and the exit code function say which line failed, and keep codes the agent reads otherwise from passing', () => {
    expect(POWERSHELL_TRAP).toMatch(/^trap \{.*\$LifecycleCommandLine.*exit 1 \}$/);
    // 3010 asks the agent to reboot on Windows; 168 is success; 194 reboot on Linux; a low byte of 0 is success once truncated.
    expect(POWERSHELL_EXIT_CODE_FUNCTION).toContain('if ($Code -eq 3010 -or (($Code -band 0xFF) -in 0, 168, 194)) { return 1 }; return $Code');
  });

  test('every generated line leaves the commands to SSM as written: no {{ name }} that the agent would substitute', () => {
    const generated = powerShellScript(['a']).filter((line) => line !== 'a');
    for (const line of generated) expect(line).not.toMatch(/\{\{\s*[a-zA-Z0-9]+\s*\}\}/);
  });

  test('a command with newlines inside stays one unit between its checks', () => {
    const script = powerShellScript(['foreach ($s in "a", "b") {\n  Restart-Service $s\n}']);
    expect(script.slice(3)).toEqual([
      '$LifecycleCommandLine = 1; $global:LASTEXITCODE = 0',
      'foreach ($s in "a", "b") {\n  Restart-Service $s\n}',
      'if ($global:LASTEXITCODE -ne 0) { exit (Get-LifecycleCommandExitCode 1 $global:LASTEXITCODE) }',
    ]);
  });

  test('the content builder gives the same step for both transitions but the description', () => {
    const launch = commandDocumentContent({ shell: CommandShell.POWERSHELL, commands: ['a'], timeoutSeconds: 60, isLaunch: true });
    expect(launch.description).toBe('Commands run by a lifecycle hook as instances launch.');
    expect(launch.mainSteps[0].inputs).not.toHaveProperty('workingDirectory');
  });
});

describe('the action\'s context in the document', () => {
  const CONTEXT = ['EC2InstanceId', 'AutoScalingGroupName', 'LifecycleHookName', 'LifecycleTransition', 'Origin', 'Destination', 'NotificationMetadata'];

  test.each([CommandShell.SH, CommandShell.POWERSHELL])('with shell %s: every context parameter is ENV_VAR, and no line names one as {{ }}', (shell) => {
    const content = documentContent(hookTemplate({ shell, commands: ['a'], notificationMetadata: 'team=web\nport=8080' }));
    for (const name of CONTEXT) expect(content.parameters[name]).toMatchObject({ type: 'String', interpolationType: 'ENV_VAR' });
    expect(content.parameters.NotificationMetadata.default).toBe('team=web\nport=8080');
    expect(content.parameters.EC2InstanceId.default).toBe('');
    for (const line of content.mainSteps[0].inputs.runCommand as string[]) {
      expect(line).not.toMatch(new RegExp(`\\{\\{\\s*(${CONTEXT.join('|')})\\s*\\}\\}`));
    }
    // Values never reach the step by any other input either.
    expect(JSON.stringify(content.mainSteps)).not.toContain('team=web');
  });

  test('the content builder declares the same parameters, the metadata empty when there is none', () => {
    const content = commandDocumentContent({ shell: CommandShell.SH, commands: ['a'], timeoutSeconds: 60, isLaunch: true });
    const parameters: Record<string, { default?: string; description: string }> = content.parameters;
    expect(Object.keys(parameters)).toEqual(['executionTimeout', ...CONTEXT]);
    expect(parameters.NotificationMetadata).toMatchObject({ default: '', interpolationType: 'ENV_VAR' });
    expect(parameters.NotificationMetadata.description).toContain('SSM_NotificationMetadata');
  });
});

describe('PowerShell commands are checked at synth time', () => {
  const powerShell = (commands: string[]) => () => hookTemplate({ shell: CommandShell.POWERSHELL, commands });

  test.each([
    [['Get-Process `', '  -Name app'], 'commands[0] ends with a backtick'],
    [['Get-Service |', 'Stop-Service'], 'commands[0] ends with a pipe'],
    [['$text = @"', 'hello', '"@'], 'commands[0] opens a here-string'],
    [['if ($a) { b }', 'else { c }'], 'commands[1] starts with "else"'],
    [['try { a }', 'catch { b }'], 'commands[1] starts with "catch"'],
  ])('%j is refused', (commands, message) => {
    expect(powerShell(commands)).toThrow(message);
    expect(powerShell(commands)).toThrow('with shell CommandShell.POWERSHELL each element must be complete PowerShell');
  });

  test('blank lines and SSM parameter references are refused as for sh; other braces pass', () => {
    expect(powerShell(['Write-Output a', '  '])).toThrow('commands[1] is blank');
    expect(powerShell(['Write-Output {{ name }}'])).toThrow('commands[0] contains "{{ name }}"');
    expect(powerShell(['docker ps --format "{{.ID}}"', 'if ($a) { b } else { c }'])).not.toThrow();
  });

  test('look-alikes inside a complete line pass', () => {
    expect(powerShell(["Write-Output '@'", 'else-tool.exe --check', 'Write-Output "a|b"', '$x = @"\nhere\n"@'])).not.toThrow();
  });
});

describe('stages', () => {
  test('default to every stage of the transition, in the settings of the hook', () => {
    expect(hookStages(hookTemplate())).toBe('return-to-warm-pool,terminate');
    expect(hookStages(hookTemplate({ transition: autoscaling.LifecycleTransition.INSTANCE_LAUNCHING })))
      .toBe('enter-warm-pool,leave-warm-pool,launch-into-group');
  });

  test('a choice is passed in the transition\'s order, without repeats', () => {
    const template = hookTemplate({
      transition: autoscaling.LifecycleTransition.INSTANCE_LAUNCHING,
      stages: [LifecycleStage.LEAVE_WARM_POOL, LifecycleStage.ENTER_WARM_POOL, LifecycleStage.LEAVE_WARM_POOL],
    });
    expect(hookStages(template)).toBe('enter-warm-pool,leave-warm-pool');
  });

  test('the rule still takes every lifecycle event of the hook, so that skipped stages are completed at once', () => {
    hookTemplate({ stages: [LifecycleStage.TERMINATE] }).hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        'source': ['aws.autoscaling'],
        'detail-type': ['EC2 Instance-terminate Lifecycle Action'],
        'detail': Match.not(Match.objectLike({ Origin: Match.anyValue() })),
      },
    });
  });

  test('a stage of the other transition is refused, naming the prop, the value and what is allowed', () => {
    expect(() => hookTemplate({ stages: [LifecycleStage.TERMINATE, LifecycleStage.ENTER_WARM_POOL] })).toThrow(
      'LifecycleCommandHook: stages[1] is LifecycleStage.ENTER_WARM_POOL, which is not a stage of a terminate hook; '
      + 'a terminate hook has LifecycleStage.RETURN_TO_WARM_POOL, LifecycleStage.TERMINATE.',
    );
    expect(() => hookTemplate({ stages: ['bogus' as LifecycleStage] })).toThrow('stages[0] is "bogus"');
  });

  test('an empty list is refused', () => {
    expect(() => hookTemplate({ stages: [] })).toThrow('LifecycleCommandHook: stages is empty; omit it to run the commands at every stage');
  });
});
