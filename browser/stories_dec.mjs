// Deconfliction and catalogue stories (issue 7): a case officer registers a subject
// that hits another organisation's, and both see the hit live; a registration's
// address pasted into another organisation's browser is the not-found page.
import { api, base, expect, expectEqual, visit } from "./lib.mjs";

export const stories = [];
const story = (name, body) => stories.push([name, body]);

const WILLIAM_SMITH = {
  kind: "person",
  names: [{ given: "William", surname: "Smith" }],
  date_of_birth: "1980-04-01",
  sex: "male",
  addresses: [{ number: "14", lines: ["Tonbridge Road"], town: "Maidstone", postcode: "ME16 8RX" }],
  phones: ["07700 900123"],
};

story("a case officer registers a subject that hits another organisation's and both see the hit live", async (run) => {
  // Greater Manchester has registered William Smith (set up through the API).
  const gmpApi = await api("gmp.case");
  await gmpApi.post("/api/v1/registrations", {
    record: WILLIAM_SMITH,
    operation_reference: "Op HERON 24/117",
    point_of_contact: { name: "DS Jane Cole", detail: "0161 872 5050" },
    disclosure: "open",
  });

  // Greater Manchester's case officer has the deconfliction page open, listening.
  const gmp = await run.signedIn("gmp.case");
  const listening = gmp.waitForResponse((r) => r.url().includes("/api/v1/notifications/stream"));
  await gmp.getByRole("link", { name: "Deconfliction", exact: true }).click();
  await gmp.getByRole("heading", { name: "Deconfliction", level: 1 }).waitFor();
  await listening;
  const hits = gmp.locator("#hits");
  expect(!(await hits.textContent()).includes("West Midlands"), "no hit yet");
  await run.check(gmp, "deconfliction");

  // West Midlands' case officer registers the same man, as they typed him.
  const wmp = await run.signedIn("wmp.case");
  await visit(wmp, "/deconfliction");
  await wmp.getByRole("link", { name: "Register a subject" }).click();
  await run.check(wmp, "registration-kind");
  await wmp.getByLabel("A person").check();
  await wmp.getByRole("button", { name: "Continue" }).click();
  await wmp.getByLabel("Given names").waitFor();
  await run.check(wmp, "registration-new");
  await wmp.getByLabel("Given names").fill("Bill");
  await wmp.getByLabel("Surname").fill("Smyth");
  await wmp.getByLabel("Date of birth (optional)").fill("04/01/1980");
  await wmp.getByLabel("House number or name").fill("14");
  await wmp.getByLabel("Street").fill("Tonbridge Rd");
  await wmp.getByLabel("Town").fill("Maidstone");
  await wmp.getByLabel("Postcode").fill("ME168RX");
  await wmp.getByLabel("Phone (optional)").fill("+44 7700 900123");
  await wmp.getByLabel("Name", { exact: true }).fill("DC Sam Patel");
  await wmp.getByLabel("Telephone or email").fill("0121 626 5000");
  await wmp.getByRole("button", { name: "Register and check" }).click();
  await wmp.waitForURL(/\/deconfliction\/registrations\/[0-9a-f-]+$/);
  await wmp.getByRole("heading", { name: /1 hit/ }).waitFor();
  await wmp.locator("#registration-hits").getByRole("cell", { name: "Greater Manchester Police", exact: true }).waitFor();
  await run.check(wmp, "registration");
  const registration = wmp.url();

  // Greater Manchester's open page shows the hit without reloading.
  await hits.getByRole("cell", { name: "West Midlands Police", exact: true }).waitFor({ timeout: 10_000 });
  expectEqual(gmp.url(), `${base}/deconfliction`, "the page was not reloaded");

  // West Midlands opens the hit: who to call at Greater Manchester; acknowledges it.
  await wmp.getByRole("link", { name: /Open the hit/ }).click();
  await wmp.getByText("DS Jane Cole").waitFor();
  await run.check(wmp, "hit");
  await wmp.getByRole("button", { name: "Acknowledge hit" }).click();
  await wmp.getByText("acknowledged", { exact: true }).first().waitFor();

  // Greater Manchester pastes West Midlands' registration address: not found.
  const status = await visit(gmp, new URL(registration).pathname);
  expectEqual(status, 404, "another organisation's registration");
  await gmp.getByRole("heading", { name: "Page not found" }).waitFor();
  await run.check(gmp, "registration-not-found");
});

story("a case officer plans activity and sees it on the map; anyone reads the catalogue", async (run) => {
  const wmp = await run.signedIn("wmp.case");
  await visit(wmp, "/deconfliction/activities/new");
  await run.check(wmp, "activity-new");
  const at = (hours) => new Date(Date.now() + hours * 3_600_000).toISOString().replace(/\.\d+Z$/, "Z");
  await wmp.getByLabel("Warrant or search").check();
  await wmp.getByLabel("Title").fill("Warrant at the Digbeth unit");
  await wmp.getByLabel("Latitude").fill("52.4751");
  await wmp.getByLabel("Longitude").fill("-1.8833");
  await wmp.getByLabel("Postcode (optional)").fill("B7 5QT");
  await wmp.getByLabel("Starts").fill(at(24));
  await wmp.getByLabel("Ends").fill(at(27));
  await wmp.getByLabel("Name", { exact: true }).fill("DS Amy Rowe");
  await wmp.getByLabel("Telephone or email").fill("0121 626 5000");
  await wmp.getByRole("button", { name: "Plan and check" }).click();
  await wmp.waitForURL(/\/deconfliction\/activities\/[0-9a-f-]+$/);
  await wmp.getByRole("heading", { name: "Warrant at the Digbeth unit" }).waitFor();
  await run.check(wmp, "activity");
  await visit(wmp, "/deconfliction");
  await wmp.getByRole("img", { name: "Map of my organisation's planned activity" }).waitFor();
  await run.check(wmp, "deconfliction-map");

  const admin = await run.signedIn("nca.admin");
  await admin.getByRole("link", { name: "Catalogue", exact: true }).click();
  await admin.getByRole("heading", { name: "Catalogue and registry" }).waitFor();
  await run.check(admin, "catalogue");
  await admin.getByRole("link", { name: "West Midlands Police" }).first().click();
  await admin.getByRole("heading", { name: "West Midlands Police" }).waitFor();
  await run.check(admin, "organisation");
});
