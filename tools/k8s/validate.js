// Validates rendered Kubernetes manifests offline: every object against the
// Kubernetes OpenAPI schemas (kubernetes-models), plus the suite's own rules
// for workloads (non-root, read-only root fs, resources, gRPC probes) and
// Services (named grpc/metrics ports).
//   kubectl kustomize deploy/k8s/overlays/dev | node tools/k8s/validate.js
"use strict";
const fs = require("fs");
const YAML = require("yaml");

const input = fs.readFileSync(0, "utf8");
const docs = YAML.parseAllDocuments(input).map((d) => d.toJSON()).filter(Boolean);
const errors = [];
const seen = {};

function modelFor(apiVersion, kind) {
  try {
    // "v1/Service", "apps/v1/Deployment", "batch/v1/Job", ...
    return require(`kubernetes-models/${apiVersion}/${kind}`)[kind];
  } catch (e) {
    return null;
  }
}

function checkPodSpec(where, spec, needsProbes) {
  const sc = spec.securityContext || {};
  if (sc.runAsNonRoot !== true) errors.push(`${where}: pod securityContext.runAsNonRoot must be true`);
  if (spec.automountServiceAccountToken !== false) {
    errors.push(`${where}: automountServiceAccountToken must be false`);
  }
  for (const c of spec.containers || []) {
    const csc = c.securityContext || {};
    if (csc.readOnlyRootFilesystem !== true) errors.push(`${where}/${c.name}: readOnlyRootFilesystem must be true`);
    if (csc.allowPrivilegeEscalation !== false) errors.push(`${where}/${c.name}: allowPrivilegeEscalation must be false`);
    const r = c.resources || {};
    if (!r.requests || !r.limits) errors.push(`${where}/${c.name}: resources.requests and .limits required`);
    if (needsProbes) {
      if (!c.readinessProbe || !c.readinessProbe.grpc) errors.push(`${where}/${c.name}: gRPC readinessProbe required`);
      if (!c.livenessProbe || !c.livenessProbe.grpc) errors.push(`${where}/${c.name}: gRPC livenessProbe required`);
      const names = (c.ports || []).map((p) => p.name);
      for (const n of ["grpc", "metrics"]) {
        if (!names.includes(n)) errors.push(`${where}/${c.name}: container port '${n}' required`);
      }
    }
  }
}

for (const obj of docs) {
  const where = `${obj.kind}/${obj.metadata && obj.metadata.name}`;
  seen[obj.kind] = (seen[obj.kind] || 0) + 1;
  if (obj.kind === "Secret" && obj.data) {
    // YAML folds long base64 values over lines; the API server reads them
    // without the folding whitespace, and so does this check.
    for (const k of Object.keys(obj.data)) obj.data[k] = String(obj.data[k]).replace(/\s+/g, "");
  }
  const Model = modelFor(obj.apiVersion, obj.kind);
  if (!Model) {
    errors.push(`${where}: unknown apiVersion/kind ${obj.apiVersion} ${obj.kind}`);
    continue;
  }
  try {
    new Model(obj).validate();
  } catch (e) {
    errors.push(`${where}: schema: ${e.message}`);
  }
  const labels = (obj.metadata && obj.metadata.labels) || {};
  if (obj.kind !== "Namespace" && labels["app.kubernetes.io/part-of"] !== "crm") {
    errors.push(`${where}: label app.kubernetes.io/part-of=crm required`);
  }
  if (obj.kind === "Deployment") {
    checkPodSpec(where, obj.spec.template.spec, true);
    if (!obj.spec.template.spec.terminationGracePeriodSeconds) {
      errors.push(`${where}: terminationGracePeriodSeconds required`);
    }
  }
  if (obj.kind === "Job") checkPodSpec(where, obj.spec.template.spec, false);
  if (obj.kind === "Service") {
    const names = (obj.spec.ports || []).map((p) => p.name);
    for (const n of ["grpc", "metrics"]) {
      if (!names.includes(n)) errors.push(`${where}: port named '${n}' required`);
    }
  }
}

for (const kind of ["Deployment", "Service", "ServiceAccount", "Job"]) {
  if (!seen[kind]) errors.push(`no ${kind} rendered`);
}
const summary = Object.entries(seen).map(([k, n]) => `${n} ${k}`).join(", ");
if (errors.length) {
  for (const e of errors) console.error(`invalid: ${e}`);
  console.error(`${errors.length} problem(s) in ${docs.length} objects`);
  process.exit(1);
}
console.log(`valid: ${docs.length} objects (${summary})`);
