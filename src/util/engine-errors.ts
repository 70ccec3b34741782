// Errors the JavaScript engine throws on input nobody checked for (a stack overflow on deep nesting, an allocation
// that is too large). They are RangeErrors like our own "out of range" errors, but their wording means nothing to a
// user: every surface reports them as "nested too deeply or too large" instead.
export function isEngineRangeError(e: unknown): boolean {
  return (
    e instanceof RangeError &&
    /Maximum call stack size exceeded|Invalid (array|string|typed array) length|Array buffer allocation failed/i.test(
      e.message,
    )
  );
}

/** The engine's own errors (a bug, or an input shape nobody checked): never shown to a user as they are. */
export function isInternalError(e: unknown): boolean {
  return e instanceof TypeError || e instanceof ReferenceError || e instanceof EvalError || isEngineRangeError(e);
}

export const TOO_DEEP =
  'the input is nested too deeply or too large to process; check that it is what you meant to give';
