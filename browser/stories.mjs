// The browser stories, each an async function of a Run (lib.mjs). The server holds the
// story people of crates/server/tests/it/helpers.rs, all with the same password.
import { api, base, expect, expectEqual, signIn, visit } from "./lib.mjs";

export const stories = [];
const story = (name, body) => stories.push([name, body]);

story("a user signs in, sees their work, and signs out", async (run) => {
  const page = await run.person();
  await visit(page, "/");
  await page.waitForURL(`${base}/sign-in`);
  await run.check(page, "sign-in");
  await signIn(page, "mps.tasking");
  await run.check(page, "home");
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(`${base}/sign-in`);
});

story("a sign-in with a blank password shows the error summary and keeps the username", async (run) => {
  const page = await run.person();
  await visit(page, "/sign-in");
  await page.getByLabel("Username").fill("mps.tasking");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "There is a problem" }).waitFor();
  expectEqual(await page.getByLabel("Username").inputValue(), "mps.tasking", "the username kept");
  await run.check(page, "sign-in-error");
});

story("the daily briefing pack prints from the browser", async (run) => {
  const page = await run.signedIn("nca.tasking");
  await visit(page, "/briefing");
  await page.getByRole("heading", { name: /Daily management pack/ }).waitFor();
  await run.check(page, "briefing");
});
