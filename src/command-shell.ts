/**
 * The shell that runs a hook's commands on the instance.
 */
export enum CommandShell {
  /**
   * `/bin/sh`, through the SSM agent's `aws:runShellScript` plugin (Linux and macOS instances).
   */
  SH = 'sh',
  /**
   * PowerShell, through the SSM agent's `aws:runPowerShellScript` plugin:
   * Windows PowerShell 5.1 (`powershell.exe`) on Windows instances, `pwsh` on
   * Linux instances that have it.
   */
  POWERSHELL = 'powershell',
}
