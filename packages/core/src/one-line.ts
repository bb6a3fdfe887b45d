/** Folds a message onto one line, so every error the CLI prints or records stays one line. */
export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, " ").trim();
}
