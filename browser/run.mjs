// Concordat's browser stories, in a real headless Chromium (playwright-core), against
// a running server: CONCORDAT_URL (the server), CONCORDAT_PASSWORD (every story user's
// password), CONCORDAT_SCREENSHOTS (where the screenshots go), CONCORDAT_CHROMIUM (the
// browser). Run by crates/server/tests/it/browser.rs, which starts the server.
//
// Every page a story opens is checked with axe-core: a serious or critical violation
// fails the story. Each main page is photographed at 1280 and 375 pixels wide.
import { readdirSync } from "node:fs";
import { chromium } from "playwright-core";
import { Run } from "./lib.mjs";

// Every stories*.mjs beside this file exports `stories`, a list of [name, story].
const here = new URL(".", import.meta.url);
const stories = [];
for (const file of readdirSync(here).filter((f) => /^stories.*\.mjs$/.test(f)).sort()) {
  stories.push(...(await import(new URL(file, here).href)).stories);
}

const only = process.argv[2];
const browser = await chromium.launch({
  executablePath: process.env.CONCORDAT_CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});

let failed = 0;
const started = Date.now();
for (const [name, story] of stories) {
  if (only && !name.includes(only)) continue;
  const run = new Run(browser, name);
  const t0 = Date.now();
  try {
    // A story that hangs fails after two minutes rather than stopping the run.
    let timer;
    const limit = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error("the story took over 120 s")), 120_000);
    });
    try {
      await Promise.race([story(run), limit]);
    } finally {
      clearTimeout(timer);
    }
    console.log(`ok   ${name} (${run.checked} pages checked, ${Date.now() - t0} ms)`);
  } catch (error) {
    failed += 1;
    console.log(`FAIL ${name}\n     ${String(error && error.stack ? error.stack : error).split("\n").join("\n     ")}`);
  } finally {
    await run.close();
  }
}
await browser.close();
console.log(`${stories.length - failed} of ${stories.length} browser stories passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exit(failed === 0 ? 0 : 1);
