export * from './hook/lifecycle-command-hook';
export * from './runtime/lifecycle-command-runtime';
export * from './lifecycle-stage';
export * from './command-shell';
