/**
 * The message of anything thrown, never `undefined`: an Error's message, or the value as text (a
 * thrown string, a rejected number). The one way this project reads a caught value's message.
 */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
