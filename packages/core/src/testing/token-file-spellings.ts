/**
 * Spellings of the token file's values as the Go luci_machine_tokend reads them (its protojson).
 * Every row was checked against the reference binary by the differential scenarios in
 * packages/cli/src/e2e/differential/token-file-spellings.ts, which run them again whenever
 * LUCI_GO_TOKEND is set; token-file-json.test.ts holds ours to them without Go.
 */

/**
 * An int64 field (`expiry`, `last_update`, `next_update`): the JSON text of the value, and the
 * value Go read, or "refused" (the whole file is then no token: NEW_TOKEN).
 */
export const INT64_SPELLINGS: ReadonlyArray<readonly [json: string, go: bigint | "refused"]> = [
  // As written: a decimal string (Go's writer) or a bare number.
  ['"1796672232"', 1796672232n],
  ["1796672232", 1796672232n],
  ['"-1"', -1n],
  ["-1", -1n],
  // An exponent or a fraction is fine while the value is whole.
  ['"4e9"', 4000000000n],
  ["4e9", 4000000000n],
  ['"1E9"', 1000000000n],
  ['"4e+9"', 4000000000n],
  ['"1796672232.0"', 1796672232n],
  ["1796672232.0", 1796672232n],
  ['"17966722320e-1"', 1796672232n],
  ["17966722320e-1", 1796672232n],
  ['"1.796672232e9"', 1796672232n],
  ["1.796672232e9", 1796672232n],
  ['"0.5e1"', 5n],
  ['"100e-2"', 1n],
  ['"1e-0"', 1n],
  ['"1796672232000000000000000000000000000000000e-33"', 1796672232n],
  ['"9.223372036854775807e18"', 9223372036854775807n],
  ['"1796672232.5"', "refused"],
  ["1796672232.5", "refused"],
  ["1.00000000000000000001", "refused"],
  ['"5e-1"', "refused"],
  ["1e-400", "refused"],
  ['"1e400"', "refused"],
  ["1e400", "refused"],
  ['"1e19"', "refused"],
  ['"1e2147483648"', "refused"],
  // Go's tokenizer quirks: a bare `1e` before a delimiter is 1; zero is zero whatever its exponent.
  ["1e", 1n],
  ["4E", 4n],
  ['"1e"', "refused"],
  ['"0e99999999999"', 0n],
  // Zero, sign, leading zeros.
  ['"-0"', 0n],
  ["-0", 0n],
  ['"-0.0"', 0n],
  ['"+1796672232"', "refused"],
  ['"0001796672232"', "refused"],
  ['"01796672232"', "refused"],
  ['"00000000000000000000000000000000000001796672232"', "refused"],
  // Spaces and other characters in or around the quotes.
  ['" 1796672232"', "refused"],
  ['"1796672232 "', "refused"],
  ['"\\t1796672232"', "refused"],
  ['"1796672232\\n"', "refused"],
  ['"1796672232\\u00a0"', "refused"],
  ['"\\ufeff1796672232"', "refused"],
  // v1.36.11 reads the first number of a string and ignores what follows (v1.37 refuses it).
  ['"1 796 672 232"', 1n],
  ['"1796672232 x"', 1796672232n],
  ['"1796672232,5"', 1796672232n],
  ['"4e9]"', 4000000000n],
  ['"1e x"', 1n],
  ['"1796672232x"', "refused"],
  ['"1_796_672_232"', "refused"],
  ['"0x6B175A68"', "refused"],
  ['"Infinity"', "refused"],
  ['"NaN"', "refused"],
  ['"\\u0031\\u0037\\u0039\\u0036\\u0036\\u0037\\u0032\\u0032\\u0033\\u0032"', 1796672232n],
  // The int64 range, and digits past 2^53 (a bare number is read exactly, not as a double).
  ['"9223372036854775807"', 9223372036854775807n],
  ["9223372036854775807", 9223372036854775807n],
  ['"9223372036854775808"', "refused"],
  ["9223372036854775808", "refused"],
  ['"-9223372036854775808"', -9223372036854775808n],
  ["-9223372036854775808", -9223372036854775808n],
  ['"-9223372036854775809"', "refused"],
  ["9007199254740993", 9007199254740993n],
  ["12345678901234567890123", "refused"],
  // Not numbers at all.
  ["null", 0n],
  ['"null"', "refused"],
  ['""', "refused"],
  ["true", "refused"],
  ["[1796672232]", "refused"],
  ['{"seconds": 1796672232}', "refused"],
];

/**
 * `tokend_state` (bytes): the JSON text made from `std`, padded standard base64 that ends in `==`
 * and holds `+` and `/`; and whether Go decoded it to the same bytes or refused it (the whole file
 * is then no token).
 */
export const BASE64_SPELLINGS: ReadonlyArray<
  readonly [name: string, spell: (std: string) => string, go: "decoded" | "refused"]
> = [
  ["standard, padded", (std) => q(std), "decoded"],
  ["standard, unpadded", (std) => q(unpad(std)), "decoded"],
  ["URL-safe, padded", (std) => q(urlSafe(std)), "decoded"],
  ["URL-safe, unpadded", (std) => q(unpad(urlSafe(std))), "decoded"],
  ["both alphabets (- and /)", (std) => q(std.replace("+", "-")), "refused"],
  ["one = of two", (std) => q(std.slice(0, -1)), "refused"],
  ["three =", (std) => q(`${std}=`), "refused"],
  ["= inside", (std) => q(`${std.slice(0, 4)}=${std.slice(4)}`), "refused"],
  ["a space inside", (std) => q(`${std.slice(0, 8)} ${std.slice(8)}`), "refused"],
  ["a tab inside", (std) => q(`${std.slice(0, 8)}\\t${std.slice(8)}`), "refused"],
  // \r and \n are skipped, but count in the length that decides whether padding is expected.
  ["a newline inside, padded", (std) => q(`${std.slice(0, 8)}\\n${std.slice(8)}`), "refused"],
  ["a newline inside, unpadded", (std) => q(`${std.slice(0, 8)}\\n${unpad(std).slice(8)}`), "decoded"],
  ["two newlines inside, unpadded", (std) => q(`${std.slice(0, 8)}\\r\\n${unpad(std).slice(8)}`), "refused"],
  ["four newlines inside, padded", (std) => q(`${std.slice(0, 8)}\\r\\n\\r\\n${std.slice(8)}`), "decoded"],
  ["four newlines between the =", (std) => q(`${std.slice(0, -1)}\\r\\n\\r\\n=`), "decoded"],
  ["four newlines after the padding", (std) => q(`${std}\\n\\n\\n\\n`), "decoded"],
  ["two newlines after the padding", (std) => q(`${std}\\r\\n`), "refused"],
  ["a \\u escape", (std) => `"\\u00${std.charCodeAt(0).toString(16)}${std.slice(1)}"`, "decoded"],
  ["a \\/ escape", (std) => q(std).replace("/", "\\/"), "decoded"],
  [
    "bits left over in the last character",
    (std) => q(`${std.slice(0, -3)}${nextDigit(std.at(-3))}==`),
    "decoded",
  ],
];

const q = (text: string) => `"${text}"`;
const unpad = (std: string) => std.replace(/=+$/, "");
const urlSafe = (std: string) => std.replace(/\+/g, "-").replace(/\//g, "_");
const nextDigit = (c: string | undefined) => String.fromCharCode((c ?? "A").charCodeAt(0) + 1);
