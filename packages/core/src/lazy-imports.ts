/**
 * The modules of core that need protobuf-es or Connect, each loaded on first use: importing the
 * package root loads neither (bench/import-cost.ts). Once loaded, a module is handed out without
 * another trip through the module loader. The CLI's bundle replaces this module by static imports
 * (packages/cli/scripts/bundle.mjs), its own chunks being lazy already.
 * Keep to one `export const name = once(() => import("./module.js"));` per line.
 */

export const loadMintTokenRpc = once(() => import("./mint-token-rpc.js"));
export const loadTokenMinterTransport = once(() => import("./token-minter-transport.js"));
export const loadMachineTokenParser = once(() => import("./machine-token.js"));
export const loadUnauthenticatedError = once(() => import("./unauthenticated-error.js"));

function once<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () => {
    loaded ??= load();
    return loaded;
  };
}
