// Writes each HL7 FHIR JSON example as FHIR XML with the `fhir` npm package (FHIR.js), a converter independent of
// medval and of fhir.resources, so the XML round-trip tests are not medval checking itself. Run at development time
// only (tests never need npm):
//   npm install --prefix /tmp/fhirjs fhir@4.12.0
//   NODE_PATH=/tmp/fhirjs/node_modules node tools/hl7_examples_to_xml.js tests/fixtures/hl7/r4 tests/fixtures/hl7/r4-xml
// FHIR.js ships the R4 definitions only, so R4 examples are converted (R5 would need its definitions loaded).
"use strict";
const fs = require("fs");
const path = require("path");
const { Fhir } = require("fhir");

const [source, target] = process.argv.slice(2);
if (!source || !target) {
  console.error("usage: node tools/hl7_examples_to_xml.js SOURCE_DIR TARGET_DIR");
  process.exit(2);
}
const fhir = new Fhir();
fs.mkdirSync(target, { recursive: true });
let written = 0;
for (const name of fs.readdirSync(source).sort()) {
  if (!name.endsWith(".json")) continue;
  const xml = fhir.jsonToXml(fs.readFileSync(path.join(source, name), "utf8"));
  fs.writeFileSync(path.join(target, name.replace(/\.json$/, ".xml")), xml + "\n");
  written += 1;
}
console.log(`${written} XML file(s) written to ${target}`);
