export * from './lifecycle-command-hook';
export * from './lifecycle-stage';
export * from './command-shell';
