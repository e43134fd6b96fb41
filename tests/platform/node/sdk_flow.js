// The flow an Appwrite user runs with node-appwrite, against a wixhttp platform.
// Env: NODE_PATH (the node_modules holding node-appwrite), ENDPOINT, PROJECT, KEY, RUNTIME,
// CODE (a .tar.gz), FUNCTION_ID, SDK_MAJOR. Prints one JSON line per step: {step, ok, error}.
"use strict";
const sdk = require("node-appwrite");
const { InputFile } = require("node-appwrite/file");

const env = process.env;
const major = Number(env.SDK_MAJOR);
const client = new sdk.Client().setEndpoint(env.ENDPOINT).setProject(env.PROJECT).setKey(env.KEY);
const functions = new sdk.Functions(client);
const fid = env.FUNCTION_ID;
const state = {};

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function until(what, read, done) {
  const deadline = Date.now() + 60000;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)}`);
    await sleep(100);
  }
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

const steps = [
  ["create function", async () => {
    const fn = await functions.create(fid, "node flow", env.RUNTIME, ["any"]);
    check(fn.$id === fid, `id ${fn.$id}`);
  }],
  ["get function", async () => {
    const fn = await functions.get(fid);
    check(fn.name === "node flow", `name ${fn.name}`);
  }],
  ["create deployment", async () => {
    const code = InputFile.fromPath(env.CODE, "code.tar.gz");
    const deployment = await functions.createDeployment(fid, code, true);
    state.deployment = deployment.$id;
  }],
  ["list deployments", async () => {
    const list = await functions.listDeployments(fid);
    check(list.total === 1 && list.deployments[0].$id === state.deployment, JSON.stringify(list));
  }],
  ["latest deployment by a bare orderDesc", async () => {
    // What `appwrite pull functions` asks: the newest deployment, orderDesc without an attribute.
    const list = await functions.listDeployments(fid, [sdk.Query.orderDesc(""), sdk.Query.limit(1)]);
    check(list.deployments.length === 1 && list.deployments[0].$id === state.deployment,
      JSON.stringify(list));
  }],
  ["wait for build", async () => {
    const done = await until("build", () => functions.getDeployment(fid, state.deployment),
      (d) => ["ready", "failed", "canceled"].includes(d.status));
    check(done.status === "ready", `status ${done.status}: ${done.buildLogs}`);
  }],
  ["activate deployment", async () => {
    const fn = await functions.updateFunctionDeployment(fid, state.deployment);
    check(fn.deploymentId === state.deployment, `deploymentId ${fn.deploymentId}`);
  }],
  ["sync execution", async () => {
    const execution = await functions.createExecution(fid, "hi", false, "/_functions/echo");
    check(execution.status === "completed" && execution.responseStatusCode === 200,
      `${execution.status} ${execution.responseStatusCode} ${execution.errors}`);
    check(JSON.parse(execution.responseBody).body === "hi", execution.responseBody);
  }],
  ["async execution", async () => {
    const created = await functions.createExecution(fid, "", true, "/_functions/echo");
    const done = await until("execution", () => functions.getExecution(fid, created.$id),
      (e) => ["completed", "failed"].includes(e.status));
    check(done.status === "completed", `status ${done.status}`);
  }],
  ["list executions", async () => {
    const list = await functions.listExecutions(fid, [sdk.Query.limit(10)]);
    check(list.total === 2, `total ${list.total}`);
  }],
  ["create variable", async () => {
    const variable = major >= 21
      ? await functions.createVariable(fid, sdk.ID.unique(), "GREETING", "hello")
      : await functions.createVariable(fid, "GREETING", "hello");
    check(variable.key === "GREETING" && variable.value === "hello", JSON.stringify(variable));
    state.variable = variable.$id;
  }],
  ["list variables", async () => {
    const list = await functions.listVariables(fid);
    check(list.total === 1 && list.variables[0].$id === state.variable, JSON.stringify(list));
  }],
  ["update variable", async () => {
    const variable = await functions.updateVariable(fid, state.variable, "GREETING", "bye");
    check(variable.value === "bye", JSON.stringify(variable));
  }],
  ["delete variable", async () => {
    await functions.deleteVariable(fid, state.variable);
    const list = await functions.listVariables(fid);
    check(list.total === 0, `total ${list.total}`);
  }],
  ["get deployment", async () => {
    const deployment = await functions.getDeployment(fid, state.deployment);
    check(deployment.status === "ready" && deployment.sourceSize > 0, JSON.stringify(deployment));
  }],
  ["download deployment", async () => {
    const data = Buffer.from(await functions.getDeploymentDownload(fid, state.deployment));
    check(data[0] === 0x1f && data[1] === 0x8b, `not gzip: ${data.length} bytes`);
  }],
  ["list functions", async () => {
    const list = await functions.list([sdk.Query.equal("$id", [fid])]);
    check(list.total === 1, `total ${list.total}`);
  }],
  ["delete function", async () => {
    await functions.delete(fid);
    try {
      await functions.get(fid);
    } catch (error) {
      check(error.code === 404, `code ${error.code}`);
      return;
    }
    throw new Error("still there");
  }],
];

(async () => {
  for (const [step, run] of steps) {
    try {
      await run();
      console.log(JSON.stringify({ step, ok: true }));
    } catch (error) {
      const message = `${error.code || ""} ${error.type || ""} ${error.message}`.trim();
      console.log(JSON.stringify({ step, ok: false, error: message }));
    }
  }
})();
