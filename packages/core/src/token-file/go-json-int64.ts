/**
 * Reading int64 values as the Go tokend's protojson (google.golang.org/protobuf v1.36.11) reads
 * them: a JSON number, or a string that starts with one, whose value is an integer in the int64
 * range. The number may have a fraction or an exponent (`"4e9"`, `"1796672232.0"`,
 * `"17966722320e-1"`) as long as its value is whole; leading zeros, `+`, hex, spaces around it
 * and `Infinity` are refused. Written from the JSON grammar and checked spelling by spelling
 * against the Go binary (testing/token-file-spellings.ts).
 */

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Go's protojson gives up on integers whose digits, exponent applied, pass uint64's 20. */
const MAX_DIGITS = 20;

const isDigit = (c: string | undefined) => c !== undefined && c >= "0" && c <= "9";

/**
 * Go's JSON tokenizer ends a number only at a delimiter: a letter, digit, `-`, `+`, `.` or `_`
 * right after the number makes the whole token invalid (`01`, `1.`, `1x`).
 */
const NOT_DELIMITER = /[-+._a-zA-Z0-9]/;

/**
 * The length of the JSON number that starts at `start` in `text`, as Go's JSON tokenizer reads it,
 * or -1 when there is none. Its grammar is JSON's, with one quirk: an `e` or `E` with no digits
 * after it still ends the number when a delimiter follows (`1e}` reads as 1), but not at the very
 * end of the text.
 */
export function goJsonNumberLength(text: string, start: number): number {
  let i = start;
  if (text[i] === "-") i++;
  if (text[i] === "0") i++;
  else if (isDigit(text[i]) && text[i] !== "0") {
    while (isDigit(text[i])) i++;
  } else return -1;
  if (text[i] === "." && isDigit(text[i + 1])) {
    i += 2;
    while (isDigit(text[i])) i++;
  }
  if ((text[i] === "e" || text[i] === "E") && i + 1 < text.length) {
    i++;
    if (text[i] === "+" || text[i] === "-") {
      i++;
      if (i >= text.length) return -1;
    }
    while (isDigit(text[i])) i++;
  }
  const next = text[i];
  return next !== undefined && NOT_DELIMITER.test(next) ? -1 : i - start;
}

/**
 * The int64 value of a JSON number token (as found by {@link goJsonNumberLength}), or undefined
 * when it is not a whole number in the int64 range. `-0`, `0e999` and `0.0` are 0.
 */
export function goJsonInt64(token: string): bigint | undefined {
  const match = /^(-?)(?:0|([1-9]\d*))(?:\.(\d+))?(?:[eE]([-+]?\d*))?$/.exec(token);
  if (!match) return undefined;
  const [, sign, int = "", fracDigits = "", expText] = match;
  const frac = fracDigits.replace(/0+$/, "");
  if (int === "" && frac === "") return 0n; // before the exponent is read, as Go does
  let exp = 0;
  if (expText !== undefined && expText !== "") {
    // Go parses the exponent as an int32 (a sign alone does not parse).
    if (!/\d/.test(expText)) return undefined;
    const e = Number(expText);
    if (!Number.isSafeInteger(e) || e < -(2 ** 31) || e > 2 ** 31 - 1) return undefined;
    exp = e;
  }
  let digits: string;
  if (exp >= 0) {
    if (frac.length > exp || int.length + exp > MAX_DIGITS) return undefined;
    digits = int + frac + "0".repeat(exp - frac.length);
  } else {
    if (frac.length > 0) return undefined;
    const point = int.length + exp;
    if (point < 0 || /[^0]/.test(int.slice(point))) return undefined;
    digits = int.slice(0, point);
  }
  if (digits === "") digits = "0";
  const n = BigInt(`${sign}${digits}`);
  return n < INT64_MIN || n > INT64_MAX ? undefined : n;
}

/** Go's unicode.IsSpace, which strings.TrimSpace trims (JavaScript's \s differs in U+0085, U+FEFF). */
const GO_SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/u;

/**
 * An int64 written in a JSON string, as protojson v1.36.11 reads one: no space at either end, and
 * the first JSON token of the string a number whose value {@link goJsonInt64} accepts. What
 * follows that number is not looked at (`"1 796 672 232"` is 1), as long as the number ends where
 * Go's tokenizer ends one; protobuf-go v1.37 refuses it, so a Go tokend built with it will too.
 */
export function goJsonInt64FromString(text: string): bigint | undefined {
  if (GO_SPACE.test(text.slice(0, 1)) || GO_SPACE.test(text.slice(-1))) return undefined;
  const length = goJsonNumberLength(text, 0);
  return length > 0 ? goJsonInt64(text.slice(0, length)) : undefined;
}
