/** The message of a caught value: an Error's message, or the value as text (a thrown string). */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
