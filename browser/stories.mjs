// The browser stories, each an async function of a Run (lib.mjs). The server holds the
// story people of crates/server/tests/it/helpers.rs, all with the same password.
import { api, base, chooseRadio, expect, expectEqual, signIn, tabTo, visit } from "./lib.mjs";

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

const NDM = {
  information: "Firearms discharged at two robberies; the group is a high priority.",
  threat_and_risk: "Threat to life from an armed group across the region.",
  powers_and_policy: "Surveillance authorised under Part II RIPA.",
  options_and_contingencies: "Support the force's operation with specialist surveillance.",
  action_and_review: "Deploy within 48 hours; review at the next tasking meeting.",
};

story("a force tasking officer raises a request; the national agency reads the recommendation and decides it", async (run) => {
  const force = await run.signedIn("wmp.tasking");
  await force.getByRole("link", { name: "Requests", exact: true }).click();
  await run.check(force, "requests-empty");
  await force.getByRole("button", { name: "Raise a request" }).or(force.getByRole("link", { name: "Raise a request" })).first().click();
  await run.check(force, "request-new");
  await force.getByLabel("Title").fill("Armed surveillance on the Eastside CViT group");
  await force.getByLabel("A specialist capability").check();
  await force.getByLabel("Capability", { exact: true }).selectOption({ label: "Specialist Surveillance" });
  await force.getByLabel("Which organisation are you asking?").selectOption({ label: "National Crime Agency" });
  await force.getByLabel("Firearms").check();
  await force.getByText("Where the activity is: forces' areas").click();
  await force.getByLabel("West Midlands Police").check();
  await force.getByLabel("Urgent", { exact: true }).check();
  await force.getByLabel("The case").fill("A CViT robbery group has discharged firearms twice this month.");
  await force.getByRole("button", { name: "Raise request" }).click();
  await force.getByRole("heading", { name: "Armed surveillance on the Eastside CViT group" }).waitFor();
  await run.check(force, "request-draft");
  await force.getByRole("button", { name: "Submit to National Crime Agency" }).click();
  await force.getByText("submitted", { exact: true }).first().waitFor();
  const address = force.url();

  const agency = await run.signedIn("nca.tasking");
  await agency.getByRole("region", { name: "Requests awaiting your organisation's decision" })
    .getByRole("link", { name: "Armed surveillance on the Eastside CViT group" }).click();
  expectEqual(agency.url(), address, "the agency opens the force's request");
  await agency.getByRole("heading", { name: "Recommendation" }).waitFor();
  const tests = await agency.locator(".checklist > li").count();
  expect(tests >= 5, `the recommendation explains each of its tests (saw ${tests})`);
  await run.check(agency, "request-decide");
  await agency.getByRole("radio", { name: "Accept" }).check();
  for (const [name, text] of Object.entries(NDM)) await agency.locator(`#${name}`).fill(text);
  await agency.getByLabel("Code name").fill("Operation Nightjar");
  await agency.getByLabel("Pursue").check();
  await agency.getByRole("button", { name: "Record decision" }).click();
  await agency.getByText("in force").waitFor();
  await agency.getByText("accepted", { exact: true }).first().waitFor();
  await run.check(agency, "request-decided");

  // The force sees the decision on its request.
  await force.reload();
  await force.getByText("in force").waitFor();
});

story("a tasking officer raises a request with the keyboard alone", async (run) => {
  const page = await run.signedIn("wmp.tasking");
  await visit(page, "/requests/new");
  await run.check(page, "request-new-keyboard");
  // The first Tab reaches the skip link; Enter takes the focus to the content.
  const skip = await tabTo(page, "the skip link", (e) => e.tag === "a");
  expectEqual(skip.label, "Skip to main content", "the first stop");
  await page.keyboard.press("Enter");
  await tabTo(page, "the title", (e) => e.name === "title");
  await page.keyboard.type("Keyboard-only request for specialist surveillance");
  await tabTo(page, "what is asked for", (e) => e.name === "kind");
  await chooseRadio(page, "A specialist capability");
  await tabTo(page, "the capability", (e) => e.name === "capability");
  await page.keyboard.type("Specialist Surveillance");
  await tabTo(page, "the receiver", (e) => e.name === "receiver");
  await page.keyboard.type("National Crime Agency");
  await tabTo(page, "the threat area Firearms", (e) => e.name === "threat_areas" && e.label === "Firearms");
  await page.keyboard.press("Space");
  await tabTo(page, "the forces' areas", (e) => e.tag === "summary");
  await page.keyboard.press("Enter");
  await tabTo(page, "West Midlands Police's area", (e) => e.name === "areas" && e.label === "West Midlands Police");
  await page.keyboard.press("Space");
  await tabTo(page, "the urgency", (e) => e.name === "urgency");
  await chooseRadio(page, "Urgent");
  await tabTo(page, "the case", (e) => e.name === "case");
  await page.keyboard.type("Typed without a mouse: a CViT group has discharged firearms twice.");
  await tabTo(page, "the button", (e) => e.tag === "button" && e.label === "Raise request");
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { name: "Keyboard-only request for specialist surveillance" }).waitFor();
  await page.getByText("Specialist Surveillance").first().waitFor();
  expect(await page.getByText("draft", { exact: true }).first().isVisible(), "the request is a draft");
});

story("with JavaScript off, a request form with errors keeps what was typed and then raises it", async (run) => {
  const page = await run.signedIn("wmp.tasking", { javaScript: false });
  await visit(page, "/requests/new");
  await page.getByLabel("A specialist capability").check();
  await page.getByLabel("The case").fill("Kept as typed, with no script to help.");
  await page.getByRole("button", { name: "Raise request" }).click();
  await page.getByRole("heading", { name: "There is a problem" }).waitFor();
  expect(await page.locator(".error-summary a[href='#title']").count() === 1, "the summary links to the title");
  expectEqual(await page.getByLabel("The case").inputValue(), "Kept as typed, with no script to help.", "the case kept");
  expect(await page.getByLabel("A specialist capability").isChecked(), "the choice kept");
  // (No axe check here: axe is a script, and this person's browser runs none.)
  await page.getByLabel("Title").fill("Raised with JavaScript off");
  await page.getByLabel("Capability", { exact: true }).selectOption({ label: "Specialist Surveillance" });
  await page.getByLabel("Which organisation are you asking?").selectOption({ label: "National Crime Agency" });
  await page.getByLabel("Firearms").check();
  // The forces' areas fold away in a <details>, which opens without a script too.
  const areas = page.locator("details", { has: page.locator("#areas-west-midlands") });
  if ((await areas.getAttribute("open")) === null) await areas.locator("summary").click();
  await page.getByLabel("West Midlands Police").check();
  await page.getByLabel("Routine", { exact: true }).check();
  await page.getByRole("button", { name: "Raise request" }).click();
  await page.getByRole("heading", { name: "Raised with JavaScript off" }).waitFor();
  // A button that asks for confirmation with a script submits plainly without one.
  await page.getByRole("button", { name: "Submit to National Crime Agency" }).click();
  await page.getByText("submitted", { exact: true }).first().waitFor();
});

story("a record's address pasted by another organisation's user gets the not-found page", async (run) => {
  const force = await api("wmp.tasking");
  const raised = await force.post("/api/v1/requests", {
    title: "Only for West Midlands and the agency",
    kind: { type: "assistance" },
    receiver: "nca",
    threat_areas: ["firearms"],
    geography: { areas: ["west-midlands"], international: false },
    urgency: "routine",
    case: "What is happening, what is asked, and why.",
    marking: { classification: "official" },
  });
  await force.post(`/api/v1/requests/${raised.id}/submit`);
  const other = await run.signedIn("mps.tasking");
  expectEqual(await visit(other, `/requests/${raised.id}`), 404, "the status");
  await other.getByRole("heading", { name: "Page not found" }).waitFor();
  expect(!(await other.content()).includes("Only for West Midlands"), "nothing of the record shown");
  await run.check(other, "not-found");
});

story("the change-password form shows its errors without changing anything", async (run) => {
  const page = await run.signedIn("mps.analyst");
  await visit(page, "/account/password");
  await run.check(page, "password");
  await page.getByLabel("Current password").fill("not my password");
  await page.getByRole("button", { name: "Change password" }).click();
  await page.getByRole("heading", { name: "There is a problem" }).waitFor();
  await run.check(page, "password-errors");
  // The password is unchanged: signing in afresh works.
  await run.signedIn("mps.analyst");
});
