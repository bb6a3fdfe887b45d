#!/usr/bin/env node
// CommonJS (bin/package.json): the run bundle compiled with its code cache (src/code-cached-start.ts).
require("../dist/bundle/start.cjs").startRunBundle({
  dir: `${__dirname}/../dist/bundle`,
});
