// The operation and direction pages in the browser: a tasking officer reads an
// operation's timeline of roles and records an outcome; the Director General's
// delegate drafts a direction, reads the checklist of preconditions, and issues it.
import { api, expect, expectEqual } from "./lib.mjs";

export const stories = [];
const story = (name, body) => stories.push([name, body]);

story("ops: a tasking officer opens an operation's timeline and records an outcome", async (run) => {
  const force = await api("wmp.tasking");
  const operation = await force.post("/api/v1/operations", {
    code_name: "Operation Sparrow",
    threat_areas: ["drugs"],
    strands: ["pursue", "protect"],
    support: ["nca"],
    reason: "County lines from Birmingham into the Black Country",
  });
  await force.post(`/api/v1/operations/${operation.id}/roles`, {
    roles: { lead: "west-midlands", support: ["nca"], coordinate: ["nca"] },
    reason: "The lines reach three regions",
  });

  const page = await run.signedIn("wmp.tasking");
  await page.getByRole("link", { name: "Operations", exact: true }).click();
  await page.getByRole("heading", { name: "Operations", exact: true }).waitFor();
  await run.check(page, "operations");
  await page.getByRole("link", { name: "Operation Sparrow" }).click();
  await page.getByRole("heading", { name: "Roles over time" }).waitFor();
  const now = await page.locator("tr.role-now").count();
  expect(now === 3, `the roles held now come first, marked (saw ${now})`);
  await page.getByText("The lines reach three regions").first().waitFor();
  await run.check(page, "operation");

  await page.getByRole("button", { name: "Record outcome" }).click();
  await page.getByRole("heading", { name: "There is a problem" }).waitFor();
  await page.getByLabel("Major").check();
  await page.getByLabel("Arrests").fill("4");
  await page.getByLabel("What happened").fill("Warrants executed at three addresses");
  await page.getByLabel("When it happened").fill("2026-11-03 06:00");
  await page.getByRole("button", { name: "Record outcome" }).click();
  await page.getByText("4 arrests").waitFor();
  expectEqual(await page.locator("#outcomes + div .tag").first().textContent(), "major", "the disruption's tag");
  await run.check(page, "operation-outcome");
});

story("ops: the Director General's delegate drafts a direction against the checklist and issues it", async (run) => {
  const agency = await api("nca.tasking");
  const asked = await agency.post("/api/v1/requests", {
    title: "Surveillance team for the Eastside group",
    kind: { type: "assistance" },
    receiver: "west-midlands",
    threat_areas: ["firearms"],
    geography: { areas: ["west-midlands"], international: false },
    urgency: "urgent",
    case: "An armed group; the agency needs a team before the force can answer.",
  });
  await agency.post(`/api/v1/requests/${asked.id}/submit`);

  const director = await run.signedIn("nca.director");
  await director.getByRole("link", { name: "Directions", exact: true }).click();
  await director.getByRole("heading", { name: "Directions", exact: true }).waitFor();
  await run.check(director, "directions");
  await director.getByRole("button", { name: "Draft a direction" }).click();
  await director.getByRole("heading", { name: "The legal preconditions" }).waitFor();
  await run.check(director, "direction-new");

  // Without the voluntary request the checklist says what is missing, and why.
  await director.getByLabel("Who is directed").selectOption({ label: "West Midlands Police" });
  await director.getByLabel("What the chief officer is directed to do").fill("Provide a surveillance team at Eastside.");
  await director.getByRole("button", { name: "Draft direction" }).click();
  await director.getByRole("heading", { name: "There is a problem" }).waitFor();
  const unmet = director.locator('.checklist li[data-condition="voluntary-route"]');
  expectEqual(await unmet.getAttribute("class"), "unmet", "the voluntary route not met");
  expect((await unmet.textContent()).includes("Ask the recipient voluntarily first"), "the failure explained");
  expectEqual(await director.getByLabel("What the chief officer is directed to do").inputValue(),
    "Provide a surveillance team at Eastside.", "the instructions kept");
  await run.check(director, "direction-refused");

  // With the request, needed before the force's answer is due, it is drafted.
  await director.getByLabel("The voluntary request that came before").selectOption({ value: asked.id });
  const soon = new Date(Date.now() + 3 * 3600 * 1000).toISOString();
  await director.getByLabel("Needed by (optional)").fill(soon);
  await director.getByRole("button", { name: "Draft direction" }).click();
  await director.getByRole("heading", { name: "Direction to West Midlands Police" }).waitFor();
  await run.check(director, "direction");
  await director.getByRole("button", { name: "Issue direction" }).click();
  await director.getByRole("button", { name: "Yes, issue direction" }).click();
  await director.getByText("issued", { exact: true }).first().waitFor();

  const force = await run.signedIn("wmp.tasking");
  await force.getByRole("link", { name: "Directions", exact: true }).click();
  await force.getByRole("link", { name: "Provide a surveillance team at Eastside." }).click();
  await force.getByRole("button", { name: "Acknowledge direction" }).click();
  await force.getByRole("button", { name: "Yes, acknowledge direction" }).click();
  await force.getByText("acknowledged", { exact: true }).first().waitFor();
  await run.check(force, "direction-acknowledged");
});
