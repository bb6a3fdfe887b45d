import { filePathProblem } from "@luci-machine-tokend/core/internal";

/**
 * The complaint about the first command-line word that is PEM text (a key pasted where its path
 * belongs): one line naming its flag (or its place), never showing it, since Go's flag errors,
 * the unknown-command line and every message naming a path would print it whole. Undefined when
 * no word is.
 */
export function pemTextArgument(argv: readonly string[]): string | undefined {
  for (const [i, word] of argv.entries()) {
    const problem = filePathProblem(word);
    if (problem === undefined) continue;
    const before = argv[i - 1];
    const flag = /^--?[\w-]+(?==)/.exec(word)?.[0] ?? (before?.startsWith("-") ? before : undefined);
    return flag ? `invalid value for flag ${flag}: ${problem}` : `invalid argument ${i + 1}: ${problem}`;
  }
  return undefined;
}
