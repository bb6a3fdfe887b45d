// Writes CommonJS twins (`.d.cts`) of a package's declaration files, for the `require` branch of its
// exports map. The code stays one ES module (Node >= 20.19 can require it); only TypeScript needs
// to be told the CommonJS view, or a `.cts` file under moduleResolution node16 fails with TS1479.
// A twin is the `.d.ts` with its relative imports pointing at twins (`./x.js` -> `./x.cjs`, which
// TypeScript reads as `./x.d.cts`); only files reachable from an exported entry get one. A dual
// build (tshy, tsup) would compile twice and ship the JavaScript twice for what is a rename.
//
// tsc writes the declarations to dist/. When the exports map names them in another folder (the
// CLI: dist/types, so the tarball carries only the public ones), the reachable `.d.ts` files are
// copied there too.
//
// Usage: node scripts/write-cjs-types.mjs [PACKAGE_DIR...]   (default: the current directory)
// Also checks that the package ships a README.md and a LICENSE, so no tarball goes out without them.
import { access, mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";

const RELATIVE_IMPORT = /((?:from|import)\s*\(?\s*["'])(\.{1,2}\/[^"']+)\.js(["'])/g;

for (const dir of process.argv.length > 2 ? process.argv.slice(2) : ["."]) {
  const pkg = JSON.parse(await readFile(join(dir, "package.json"), "utf8"));
  await Promise.all(["README.md", "LICENSE"].map((f) => access(join(dir, f)).catch(missing(pkg, f))));
  const built = resolve(dir, "dist");
  const typesDir = resolve(dir, dirname(pkg.exports["."].types));
  const pending = requireTypes(pkg.exports).map((cts) =>
    relative(typesDir, resolve(dir, cts)).replace(/\.d\.cts$/, ""),
  );
  const done = new Set();
  while (pending.length > 0) {
    const module = pending.pop();
    if (done.has(module)) continue;
    done.add(module);
    const text = (await readFile(join(built, `${module}.d.ts`), "utf8")).replace(
      /^\/\/# sourceMappingURL=.*\n?/m,
      "",
    );
    for (const [, , spec] of text.matchAll(RELATIVE_IMPORT)) pending.push(join(dirname(module), spec));
    await mkdir(dirname(join(typesDir, module)), { recursive: true });
    if (typesDir !== built) await writeFile(join(typesDir, `${module}.d.ts`), text);
    await writeFile(join(typesDir, `${module}.d.cts`), text.replace(RELATIVE_IMPORT, "$1$2.cjs$3"));
  }
}

/** The `.d.cts` files named by the `require` conditions of an exports map. */
function requireTypes(exports) {
  if (typeof exports !== "object" || exports === null) return [];
  return Object.entries(exports).flatMap(([key, value]) =>
    key === "require" && typeof value === "object" && typeof value.types === "string"
      ? [value.types]
      : requireTypes(value),
  );
}

function missing(pkg, file) {
  return () => {
    throw new Error(`${pkg.name}: ${file} is missing; every package ships one`);
  };
}
