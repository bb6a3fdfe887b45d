// Collects the licences of the third-party packages that esbuild bundled into the CLI, so the one
// tarball carries every notice its code needs. Which packages: the inputs of the bundle's outputs
// (esbuild's metafile), mapped to the node_modules folder each comes from. Hand-written: the esbuild
// licence plugins are little used and skip packages that ship no licence file (@bufbuild/protobuf,
// @connectrpc/connect), whose notices live in their files' headers.
import { readdir, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";

const LICENSE_FILE = /^(licen[cs]e|copying|notice|copyrightnotice)([-.].*)?$/i;
/** Words of a comment that grants or states a licence (kept by packages without a licence file). */
const LICENSE_WORDS = /licen[cs]e|redistribution and use|permission is hereby granted/i;

/**
 * The text of THIRD-PARTY-LICENSES.txt for a build: for each bundled package, its name, version,
 * licence id and the text of its licence and notice files; a package that ships none contributes
 * the distinct licence headers of its bundled files instead. Throws when a package has neither,
 * so a bundle never ships without a notice.
 */
export async function thirdPartyLicenses(metafile, absWorkingDir) {
  const packages = new Map(); // package folder -> bundled input files
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const root = packageRoot(resolve(absWorkingDir, input));
      if (root === undefined || bytesInOutput === 0) continue;
      packages.set(root, [...(packages.get(root) ?? []), resolve(absWorkingDir, input)]);
    }
  }
  const sections = new Map(); // "name@version (licence)" -> text; one section for copies of a version
  for (const [root, inputs] of packages) {
    const pkg = JSON.parse(await readFile(join(root, "package.json"), "utf8"));
    const title = `${pkg.name}@${pkg.version}: ${pkg.license ?? "licence below"}`;
    if (sections.has(title)) continue;
    const names = (await readdir(root)).filter((f) => LICENSE_FILE.test(f)).sort();
    let texts = await Promise.all(names.map((f) => readFile(join(root, f), "utf8")));
    if (texts.length === 0) texts = await licenseHeaders([...new Set(inputs)]);
    if (texts.length === 0) throw new Error(`${pkg.name}: bundled, but ships no licence file or header`);
    sections.set(title, texts.map((t) => t.trim()).join("\n\n"));
  }
  const rule = "-".repeat(100);
  return [
    "Third-party software bundled in luci-machine-tokend (dist/bundle), with its licences.",
    "The full text of the Apache License 2.0 is this package's LICENSE file.",
    "",
    ...[...sections.keys()].sort().map((title) => `${rule}\n${title}\n${rule}\n\n${sections.get(title)}\n`),
  ].join("\n");
}

/** The folder of the installed package a file belongs to, or undefined for our own sources. */
function packageRoot(file) {
  const at = file.lastIndexOf("/node_modules/");
  if (at < 0) return undefined;
  const rest = file.slice(at + "/node_modules/".length).split("/");
  const depth = rest[0]?.startsWith("@") ? 2 : 1;
  return file.slice(0, at + "/node_modules/".length) + rest.slice(0, depth).join("/");
}

/** The distinct licence comments at the top of the files (e.g. "Copyright … Licensed under …"). */
async function licenseHeaders(files) {
  const headers = new Set();
  for (const file of files) {
    for (const comment of leadingComments(await readFile(file, "utf8"))) {
      if (LICENSE_WORDS.test(comment)) headers.add(comment);
    }
  }
  return [...headers];
}

/** The comments before the first statement: a run of `//` lines is one comment, as is a block. */
function leadingComments(source) {
  const comments = [];
  const token = /\s*(?:((?:\/\/[^\n]*\n?[ \t]*)+)|\/\*([\s\S]*?)\*\/)/y;
  for (let m = token.exec(source); m; m = token.exec(source)) {
    const lines =
      m[1] !== undefined
        ? m[1].split("\n").map((l) => l.replace(/^\s*\/\/ ?/, ""))
        : m[2].split("\n").map((l) => l.replace(/^\s*\*? ?/, ""));
    comments.push(
      lines
        .map((l) => l.trimEnd())
        .join("\n")
        .trim(),
    );
  }
  return comments;
}
