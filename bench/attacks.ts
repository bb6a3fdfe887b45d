/**
 * `npm run bench:attacks`: only the dev server's memory under the attacks of issue 20 (also part
 * of `npm run bench`). See BENCHMARKS.md.
 */
import { availableParallelism } from "node:os";
import { attackRows } from "./dev-server-attacks.js";
import { printTable } from "./table.js";

const missed = printTable(
  `dev server under attack (node ${process.version}, ${availableParallelism()} cores)`,
  await attackRows(),
);
process.exitCode = missed === 0 ? 0 : 1;
