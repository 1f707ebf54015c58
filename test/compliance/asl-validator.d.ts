// asl-validator 4 publishes no type declarations: the function the tests call.
declare module 'asl-validator' {
  function validator(definition: unknown, options?: { checkPaths?: boolean; checkArn?: boolean }): {
    isValid: boolean;
    errors: unknown[];
    errorsText: (separator?: string) => string;
  };
  export = validator;
}
