// medval's page: load an example or paste a resource, POST it to $validate, show the OperationOutcome as a table and
// the order-sign CDS Hooks cards for the same orders. No framework, no build step; text is always set as text.
"use strict";

const $ = (id) => document.getElementById(id);
const RULE_SYSTEM = "https://medval.dev/fhir/CodeSystem/medval-rule";

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "class") node.className = value; else node.setAttribute(name, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child ?? "")));
  return node;
}

async function loadExampleList() {
  const response = await fetch("/examples");
  const { examples } = await response.json();
  for (const example of examples) $("example").append(element("option", { value: example.name }, `${example.name}: ${example.title}`));
}

async function loadExample() {
  const name = $("example").value;
  if (!name) return;
  const response = await fetch(`/examples/${name}`);
  $("resource").value = JSON.stringify(await response.json(), null, 2);
  $("status").textContent = `Loaded ${name}.`;
}

function readInput(text) {
  const trimmed = text.trim();
  if (trimmed.startsWith("<")) {
    const root = new DOMParser().parseFromString(trimmed, "application/xml").documentElement;
    return { xml: true, type: root ? root.localName : "", resource: null };
  }
  const resource = JSON.parse(trimmed);
  return { xml: false, type: resource.resourceType, resource };
}

function innerType(input) {
  if (input.type !== "Parameters" || !input.resource) return input.type;
  const wrapped = (input.resource.parameter || []).find((p) => p.name === "resource");
  return wrapped && wrapped.resource ? wrapped.resource.resourceType : input.type;
}

async function validate() {
  $("status").textContent = "Checking…";
  let input;
  try {
    input = readInput($("resource").value);
  } catch (error) {
    $("status").textContent = `Not JSON or XML medval can read: ${error.message}`;
    return;
  }
  const endpoint = innerType(input) === "Bundle" ? "/fhir/Bundle/$validate" : "/fhir/MedicationRequest/$validate";
  const version = $("version").value;
  const mediaType = (input.xml ? "application/fhir+xml" : "application/fhir+json") + (version ? `; fhirVersion=${version}` : "");
  const response = await fetch(endpoint, { method: "POST", headers: { "Content-Type": mediaType, Accept: "application/fhir+json" }, body: $("resource").value });
  const outcome = await response.json();
  showOutcome(outcome, response.status);
  $("status").textContent = `HTTP ${response.status}`;
  await showCards(input);
}

function showOutcome(outcome, status) {
  const body = $("issues").querySelector("tbody");
  body.replaceChildren();
  const counts = {};
  for (const issue of outcome.issue || []) {
    const coding = ((issue.details || {}).coding || []).find((c) => c.system === RULE_SYSTEM) || {};
    counts[issue.severity] = (counts[issue.severity] || 0) + 1;
    body.append(element("tr", { "data-rule": coding.code || "" },
      element("td", {}, element("span", { class: `sev ${issue.severity}` }, issue.severity)),
      element("td", { class: "rule", title: coding.display || "" }, coding.code || issue.code),
      element("td", {}, (issue.details || {}).text || ""),
      element("td", { class: "path" }, (issue.expression || []).join(", ")),
      element("td", { class: "source" }, issue.diagnostics || "")));
  }
  const summary = Object.entries(counts).map(([severity, n]) => `${n} ${severity}`).join(", ");
  $("verdict-summary").textContent = `(HTTP ${status}: ${summary || "no issues"})`;
  $("verdict").hidden = false;
}

function hookRequest(resource) {
  // The orders go in draftOrders; in a Bundle, the other entries are the prefetch a CDS client would send.
  let orders = [resource];
  const prefetch = {};
  if (resource.resourceType === "Parameters") return hookRequest(((resource.parameter || []).find((p) => p.name === "resource") || {}).resource || {});
  if (resource.resourceType === "Bundle") {
    const entries = (resource.entry || []).map((e) => e.resource).filter(Boolean);
    orders = entries.filter((r) => r.resourceType === "MedicationRequest" && ["draft", "active"].includes(r.status));
    const byKey = { Condition: "conditions", AllergyIntolerance: "allergies", MedicationRequest: "medicationRequests", MedicationStatement: "medicationStatements", Observation: "observations" };
    for (const r of entries) {
      if (r.resourceType === "Patient") prefetch.patient = r;
      const key = byKey[r.resourceType];
      if (key && !orders.includes(r)) (prefetch[key] = prefetch[key] || { resourceType: "Bundle", type: "searchset", entry: [] }).entry.push({ resource: r });
    }
  }
  const reference = ((orders[0] || {}).subject || {}).reference || "Patient/example";
  const request = {
    hook: "order-sign",
    hookInstance: crypto.randomUUID ? crypto.randomUUID() : String(Date.now()),
    context: { userId: "Practitioner/medval-page", patientId: reference.split("/").pop(), draftOrders: { resourceType: "Bundle", type: "collection", entry: orders.map((r) => ({ resource: r })) } },
  };
  if (Object.keys(prefetch).length) request.prefetch = prefetch;
  return request;
}

function markdown(text) {
  // CDS Hooks detail is GitHub-flavoured markdown; the few forms medval writes, on escaped text only.
  const escaped = text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const inline = (s) => s.replace(/\*\*(.+?)\*\*/g, "<strong>$1</strong>").replace(/`(.+?)`/g, "<code>$1</code>");
  return escaped.split(/\n\n+/).map((block) => {
    const lines = block.split("\n");
    if (lines.every((l) => l.startsWith("- "))) return `<ul>${lines.map((l) => `<li>${inline(l.slice(2))}</li>`).join("")}</ul>`;
    return `<p>${inline(block)}</p>`;
  }).join("");
}

async function showCards(input) {
  const cards = $("cards");
  cards.replaceChildren();
  $("cds").hidden = false;
  if (input.xml) {
    $("cds-note").textContent = "CDS Hooks requests are JSON: paste the order as JSON to see its cards.";
    return;
  }
  const request = hookRequest(input.resource);
  $("cds-note").textContent = request.prefetch
    ? "The Bundle's other entries were sent as prefetch, as an EHR would."
    : "Sent without prefetch and with no FHIR server configured, so patient-specific checks say they could not run.";
  const response = await fetch("/cds-services/medval-order-sign", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(request) });
  const answer = await response.json();
  if (!response.ok) {
    cards.append(element("p", { class: "note" }, `The CDS service answered ${response.status}: ${JSON.stringify(answer).slice(0, 300)}`));
    return;
  }
  if (!(answer.cards || []).length) cards.append(element("p", { class: "note" }, "No cards: the EHR would show nothing."));
  for (const card of answer.cards || []) {
    const detail = element("div", { class: "detail" });
    detail.innerHTML = markdown(card.detail || "");
    const suggestions = element("div", { class: "suggestions" }, ...(card.suggestions || []).map((s) => element("button", { type: "button", disabled: "" }, s.label)));
    cards.append(element("article", { class: `card ${card.indicator}` },
      element("div", {}, element("span", { class: "indicator" }, card.indicator), element("span", { class: "summary" }, card.summary)),
      detail, suggestions,
      element("div", { class: "source" }, `Source: ${(card.source || {}).label || ""}`)));
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("load").addEventListener("click", loadExample);
  $("example").addEventListener("change", loadExample);
  $("validate").addEventListener("click", () => validate().catch((error) => { $("status").textContent = `Failed: ${error.message}`; }));
  loadExampleList().catch(() => { $("status").textContent = "The example list could not be loaded."; });
});
