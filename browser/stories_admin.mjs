// The account and administration stories. Their names start with "admin:", so that
// CONCORDAT_STORIES=admin: runs only these.
import { base, expect, expectEqual, visit } from "./lib.mjs";

export const stories = [];
const story = (name, body) => stories.push([name, body]);

story("admin: an administrator creates a user through the form and sees it in the list", async (run) => {
  const admin = await run.signedIn("nca.admin");
  await admin.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Administration" }).click();
  await admin.getByRole("heading", { name: "Administration" }).waitFor();
  await run.check(admin, "admin-home");
  await admin.getByRole("link", { name: "Users", exact: true }).click();
  await admin.getByRole("heading", { name: "Users" }).waitFor();
  await run.check(admin, "admin-users");
  await admin.getByRole("button", { name: "Create a user" }).click();
  await admin.getByRole("heading", { name: "Create a user" }).waitFor();
  await run.check(admin, "admin-user-new");

  // Sent with nothing filled in: the summary, and the form as it was.
  await admin.getByLabel("Name", { exact: true }).fill("DC Grace Hopper");
  await admin.getByRole("button", { name: "Create user" }).click();
  await admin.getByRole("heading", { name: "There is a problem" }).waitFor();
  expectEqual(await admin.getByLabel("Name", { exact: true }).inputValue(), "DC Grace Hopper", "the name kept");
  await run.check(admin, "admin-user-new-error");

  await admin.getByLabel("Username").fill("g.hopper");
  await admin.getByLabel("Tasking officer").check();
  await admin.getByLabel("SC", { exact: true }).check();
  await admin.getByRole("button", { name: "Create user" }).click();
  await admin.getByRole("heading", { name: "DC Grace Hopper" }).waitFor();
  await admin.getByRole("heading", { name: "Account created" }).waitFor();
  const password = (await admin.locator("#one-time-password").textContent()).trim();
  expect(password.length >= 12, `a one-time password (${password})`);
  await run.check(admin, "admin-user");

  await visit(admin, "/admin/users");
  await admin.getByRole("link", { name: "g.hopper" }).waitFor();
  expect(!(await admin.content()).includes(password), "the one-time password is shown only once");

  await admin.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "Administration" }).click();
  await admin.getByRole("link", { name: "Organisations", exact: true }).click();
  await admin.getByRole("heading", { name: "Organisations" }).waitFor();
  await run.check(admin, "admin-organisations");
  await admin.getByRole("link", { name: "National Crime Agency", exact: true }).click();
  await admin.getByRole("heading", { name: "Sign-in policy" }).waitFor();
  await run.check(admin, "admin-organisation");
});

story("admin: a user creates and revokes a token; an administrator reads the audit log and who saw a record", async (run) => {
  const officer = await run.signedIn("wmp.tasking");
  await officer.getByRole("link", { name: /wmp\.tasking/ }).click();
  await officer.waitForURL(`${base}/account`);
  await officer.getByRole("heading", { name: "Your account" }).waitFor();
  await run.check(officer, "account");
  await officer.getByRole("link", { name: "Your API tokens" }).click();
  await officer.getByRole("heading", { name: "Your API tokens" }).waitFor();
  await officer.getByLabel("Name", { exact: true }).fill("Force intelligence system");
  await officer.getByRole("button", { name: "Create token" }).click();
  await officer.getByRole("heading", { name: /created/ }).waitFor();
  const secret = (await officer.locator("#token-secret").textContent()).trim();
  expect(secret.startsWith("cct_"), `the secret is shown (${secret})`);
  await run.check(officer, "account-tokens");

  // Revoking asks first; the dialog's answer sends the form.
  await officer.getByRole("button", { name: /^Revoke/ }).click();
  await officer.getByRole("dialog").waitFor();
  await officer.getByRole("button", { name: /^Yes, revoke/ }).click();
  await officer.waitForURL(`${base}/account/tokens`);
  await officer.getByText("revoked", { exact: true }).waitFor();
  expect(!(await officer.content()).includes(secret), "the secret is not shown again");

  const admin = await run.signedIn("nca.admin");
  await visit(admin, "/admin/audit?who=wmp.tasking");
  await admin.getByRole("heading", { name: "Audit log" }).waitFor();
  await admin.getByText("token.revoke").first().waitFor();
  await run.check(admin, "admin-audit");
  await admin.getByRole("button", { name: "Verify the audit chain" }).click();
  await admin.getByRole("heading", { name: "The audit chain is intact" }).waitFor();

  await visit(admin, "/admin/audit?who=wmp.tasking");
  await admin.locator("table a[href*='kind=token']").first().click();
  await admin.getByRole("heading", { name: "Who saw this record?" }).waitFor();
  await admin.getByRole("heading", { name: /Everything about it/ }).waitFor();
  await run.check(admin, "admin-who-saw");
});
