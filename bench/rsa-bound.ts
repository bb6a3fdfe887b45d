import { createPrivateKey, createPublicKey, sign, verify } from "node:crypto";
import { availableParallelism } from "node:os";

/** The dev server's CPU-bound ceiling: each mint costs one RSA sign (the token) and two verifies. */
export interface RsaBound {
  signMs: number;
  verifyMs: number;
  mintsPerSecond: number;
}

/** Times RSA-2048 sign and verify with `keyPem` here, and scales one mint's cost to every core. */
export function rsaBound(keyPem: string, rounds = 300): RsaBound {
  const key = createPrivateKey(keyPem);
  const pub = createPublicKey(key);
  const data = Buffer.alloc(300, 7);
  const signature = sign("sha256", data, key);
  const time = (f: () => void) => {
    f();
    const started = performance.now();
    for (let i = 0; i < rounds; i++) f();
    return (performance.now() - started) / rounds;
  };
  const signMs = time(() => sign("sha256", data, key));
  const verifyMs = time(() => verify("sha256", data, pub, signature));
  return { signMs, verifyMs, mintsPerSecond: (availableParallelism() * 1000) / (signMs + 2 * verifyMs) };
}
