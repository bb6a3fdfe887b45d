// Preloaded into every measured process (candidate and bare Node alike): appends its peak RSS in
// KiB to BENCH_RSS_FILE when it exits, so both sides are measured the same way.
const fs = require("node:fs");
process.on("exit", () => {
  if (process.env.BENCH_RSS_FILE)
    fs.appendFileSync(process.env.BENCH_RSS_FILE, `${process.resourceUsage().maxRSS}\n`);
});
