// Offline schema check of rendered Kubernetes manifests: node validate.mjs FILE... (or - for stdin).
//
// Each YAML document is checked with the kubernetes-models validators, which are compiled from the
// Kubernetes 1.34 OpenAPI (built-in kinds) and the prometheus-operator CRDs (ServiceMonitor): types
// (a string where an integer belongs), required fields, int-or-string, quantities and formats.
// It does NOT reject unknown or misspelled fields (the OpenAPI has no additionalProperties: false), and
// it knows nothing of admission rules; `kubectl apply --dry-run=server --validate=strict` against a real
// cluster does both. Exits 1 when any document fails or a kind is unknown, and prints one line per object.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node validate.mjs FILE... (- for stdin)");
  process.exit(2);
}

function modulePath(apiVersion, kind) {
  if (apiVersion.startsWith("monitoring.coreos.com/")) {
    return `@kubernetes-models/prometheus-operator/${apiVersion}/${kind}`;
  }
  return `kubernetes-models/${apiVersion}/${kind}`;
}

let failures = 0;
let checked = 0;
for (const file of files) {
  const text = readFileSync(file === "-" ? 0 : file, "utf8");
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) {
      console.error(`${file}: YAML error: ${doc.errors[0].message}`);
      failures++;
      continue;
    }
    const obj = doc.toJS();
    if (obj === null || obj === undefined) continue;
    const name = `${obj.kind ?? "?"}/${obj.metadata?.name ?? "?"}`;
    if (typeof obj.apiVersion !== "string" || typeof obj.kind !== "string") {
      console.error(`${file}: ${name}: apiVersion and kind are required`);
      failures++;
      continue;
    }
    let Model;
    try {
      Model = (await import(modulePath(obj.apiVersion, obj.kind)))[obj.kind];
    } catch {
      Model = undefined;
    }
    if (typeof Model !== "function") {
      console.error(`${file}: ${name}: no schema for ${obj.apiVersion} ${obj.kind}`);
      failures++;
      continue;
    }
    try {
      new Model(obj).validate();
      checked++;
      console.log(`ok ${obj.apiVersion} ${name}`);
    } catch (e) {
      failures++;
      console.error(`${file}: ${obj.apiVersion} ${name}: ${e.message}`);
    }
  }
}
console.log(`manifest-check: ${checked} valid, ${failures} invalid`);
process.exit(failures === 0 && checked > 0 ? 0 : 1);
