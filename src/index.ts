export * from './lifecycle-command-hook';
