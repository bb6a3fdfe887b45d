/**
 * The `X-Prpc-Grpc-Timeout` header: a duration as `<digits><unit>`, the count at most 8 digits.
 */

const MAX_COUNT = 99_999_999n;

/** Units from finest to coarsest with their size in nanoseconds, as the Go client tries them. */
const UNITS: ReadonlyArray<readonly [string, bigint]> = [
  ["n", 1n],
  ["u", 1_000n],
  ["m", 1_000_000n],
  ["S", 1_000_000_000n],
  ["M", 60_000_000_000n],
  ["H", 3_600_000_000_000n],
];

/**
 * Encodes a timeout in milliseconds like Go's pRPC client: rounded up to the finest unit whose
 * count fits in 8 digits (60 s → `60000000u`, 5 min → `300000m`). Negative values encode as `0n`.
 */
export function encodePrpcTimeout(ms: number): string {
  const ns = BigInt(Math.max(0, Math.ceil(ms * 1e6)));
  for (const [unit, size] of UNITS) {
    const count = (ns + size - 1n) / size;
    if (count <= MAX_COUNT) return `${count}${unit}`;
  }
  return `${MAX_COUNT}H`;
}

/** A parsed timeout header: milliseconds, or why the value is malformed. */
export type ParsedPrpcTimeout = { value: number; error?: undefined } | { value?: undefined; error: string };

/** Decodes an `X-Prpc-Grpc-Timeout` value (`\d+[HMSmun]`) into milliseconds. */
export function decodePrpcTimeout(text: string): ParsedPrpcTimeout {
  const m = /^(\d+)([HMSmun])$/.exec(text);
  if (!m) return { error: `bad timeout format ${JSON.stringify(text)}` };
  const size = UNITS.find(([u]) => u === m[2])?.[1] ?? 1n;
  return { value: Number(BigInt(m[1] ?? "0") * size) / 1e6 };
}
