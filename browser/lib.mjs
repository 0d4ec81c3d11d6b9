// What the stories share: signing in, checking each page with axe-core, screenshots,
// and plain assertions.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

export const base = (process.env.CONCORDAT_URL || "http://127.0.0.1:8080").replace(/\/$/, "");
export const password = process.env.CONCORDAT_PASSWORD || "story password 1234";
const screenshots = process.env.CONCORDAT_SCREENSHOTS || "";

export const DESKTOP = { width: 1280, height: 900 };
export const MOBILE = { width: 375, height: 812 };

export function expect(condition, message) {
  if (!condition) throw new Error(message);
}

export function expectEqual(actual, wanted, what) {
  if (actual !== wanted) throw new Error(`${what}: wanted ${JSON.stringify(wanted)}, got ${JSON.stringify(actual)}`);
}

/// One story's browser contexts (one per person in it).
export class Run {
  constructor(browser, name) {
    this.browser = browser;
    this.name = name;
    this.contexts = [];
    this.checked = 0;
  }

  /// A new person at the browser: a context of their own (cookies, JavaScript on or off).
  async person({ javaScript = true } = {}) {
    const context = await this.browser.newContext({ viewport: DESKTOP, javaScriptEnabled: javaScript });
    this.contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    const problems = [];
    page.on("pageerror", (error) => problems.push(String(error)));
    page.on("console", (message) => { if (message.type() === "error") problems.push(message.text()); });
    page.problems = problems;
    return page;
  }

  /// A person signed in as `username`, on their home page.
  async signedIn(username, options) {
    const page = await this.person(options);
    await signIn(page, username);
    return page;
  }

  /// Checks the page in view with axe-core: no serious or critical violation. With
  /// `shot`, photographs it at desktop and mobile widths as `<shot>-desktop.png` and
  /// `<shot>-mobile.png`.
  async check(page, shot) {
    this.checked += 1;
    await page.waitForLoadState("load");
    const violations = await axe(page);
    const bad = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
    if (bad.length > 0) {
      const detail = bad
        .map((v) => `${v.impact} ${v.id}: ${v.help}\n       ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join("\n       ")}`)
        .join("\n     ");
      throw new Error(`accessibility violations on ${page.url()}:\n     ${detail}`);
    }
    if (shot && screenshots) {
      const size = page.viewportSize();
      await page.screenshot({ path: path.join(screenshots, `${shot}-desktop.png`), fullPage: true });
      await page.setViewportSize(MOBILE);
      const mobile = await axe(page);
      const badMobile = mobile.filter((v) => v.impact === "serious" || v.impact === "critical");
      expect(badMobile.length === 0, `accessibility violations at 375 px on ${page.url()}: ${badMobile.map((v) => v.id).join(", ")}`);
      await page.screenshot({ path: path.join(screenshots, `${shot}-mobile.png`), fullPage: true });
      await page.setViewportSize(size);
    }
  }

  async close() {
    for (const context of this.contexts) await context.close();
  }
}

async function axe(page) {
  const already = await page.evaluate(() => typeof window.axe !== "undefined");
  // Evaluated through the DevTools protocol: the pages' Content Security Policy
  // (script-src 'self') rightly refuses an injected script tag.
  if (!already) await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ["violations"] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) }));
  });
}

/// Signs `page` in as `username` with the sign-in form.
export async function signIn(page, username) {
  await page.goto(`${base}/sign-in`);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${base}/`);
}

/// Goes to `path` and says what status the server answered.
export async function visit(page, path) {
  const response = await page.goto(`${base}${path}`);
  return response ? response.status() : 0;
}

/// The story users' API: a signed-in JSON client for setting a story's scene.
export async function api(username) {
  const response = await fetch(`${base}/api/v1/session`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  expect(response.ok, `signing ${username} in over the API answered ${response.status}`);
  const body = await response.json();
  const cookie = response.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
  const csrf = body.csrf_token;
  const call = async (method, url, json) => {
    const r = await fetch(`${base}${url}`, {
      method,
      headers: { "content-type": "application/json", cookie, "x-csrf-token": csrf },
      body: json === undefined ? undefined : JSON.stringify(json),
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${url} as ${username} answered ${r.status}: ${text}`);
    return text ? JSON.parse(text) : null;
  };
  return {
    get: (url) => call("GET", url),
    post: (url, json) => call("POST", url, json ?? {}),
  };
}

/// What has the keyboard's focus: its tag, type, name, accessible label and whether the
/// focus is drawn (an outline or a box shadow).
async function focused(page) {
  return page.evaluate(() => {
    const e = document.activeElement;
    if (!e || e === document.body) return null;
    const label = (e.labels && e.labels[0] ? e.labels[0].innerText : e.innerText || e.value || "").trim();
    const style = getComputedStyle(e);
    return {
      tag: e.tagName.toLowerCase(),
      type: e.type || "",
      name: e.getAttribute("name") || "",
      label,
      checked: Boolean(e.checked),
      drawn: style.outlineStyle !== "none" || style.boxShadow !== "none",
    };
  });
}

/// Presses Tab until the focus is on an element `wanted` accepts (of what `focused`
/// says), checking that every element passed on the way shows its focus; fails if
/// `limit` presses do not reach one.
export async function tabTo(page, what, wanted, limit = 150) {
  for (let i = 0; i < limit; i += 1) {
    await page.keyboard.press("Tab");
    const here = await focused(page);
    if (!here) continue;
    expect(here.drawn, `the focus on ${here.tag} "${here.label}" is not drawn`);
    if (wanted(here)) return here;
  }
  throw new Error(`${limit} presses of Tab did not reach ${what}`);
}

/// With the focus in a group of radios, chooses the one labelled `label` with the
/// arrow keys (Space first, as a group with nothing chosen yet needs).
export async function chooseRadio(page, label) {
  await page.keyboard.press("Space");
  for (let i = 0; i < 20; i += 1) {
    const here = await focused(page);
    if (here && here.checked && here.label === label) return;
    await page.keyboard.press("ArrowDown");
  }
  throw new Error(`the arrow keys did not reach the radio "${label}"`);
}
