// The default of a switch over a union that TypeScript checks is exhaustive: it fails to compile
// when a member is added and not handled, and throws if a value the types ruled out comes anyway.

export function assertNever(value: never): never {
  throw new Error(`unhandled value ${JSON.stringify(value)}`);
}
