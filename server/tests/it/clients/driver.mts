// The TypeScript client's driver (`clients::a_typescript_client_…`): the calls the Python client makes,
// through `openapi-fetch` with the types `openapi-typescript` generated from the served document,
// so that a call the document does not describe fails to compile. Arguments: the server, a token.
import createClient from "openapi-fetch";
import type { paths } from "./schema.js";

const [base, token] = process.argv.slice(2);
const client = createClient<paths>({ baseUrl: base, headers: { Authorization: `Bearer ${token}` } });

function answer<T>(r: { data?: T; error?: unknown; response: Response }, what: string): T {
  if (r.data === undefined) {
    throw new Error(`${what}: ${r.response.status} ${JSON.stringify(r.error)}`);
  }
  return r.data;
}
function check(ok: boolean, what: string, value: unknown): void {
  if (!ok) throw new Error(`${what}: ${JSON.stringify(value)}`);
}

const started = answer(
  await client.POST("/api/v1/jobs", { body: { kind: "demo", params: { steps: 10000, interval_ms: 50 } } }),
  "start",
);
const job = answer(await client.GET("/api/v1/jobs/{id}", { params: { path: { id: started.id } } }), "read");
check(job.id === started.id && job.kind === "demo", "the job read back", job);
const page = answer(await client.GET("/api/v1/jobs"), "list");
check(page.jobs.some((j) => j.id === started.id), "the list", page);
const cancelled = answer(
  await client.POST("/api/v1/jobs/{id}/cancel", { params: { path: { id: started.id } } }),
  "cancel",
);
check(cancelled.status === "cancelling" || cancelled.status === "cancelled", "the cancel", cancelled.status);
const schedule = answer(
  await client.POST("/api/v1/schedules", {
    body: { kind: "demo", params: { steps: 1, interval_ms: 1 }, cron: "0 2 * * 1-5", timezone: "Europe/Paris" },
  }),
  "schedule",
);
const read = answer(await client.GET("/api/v1/schedules/{id}", { params: { path: { id: schedule.id } } }), "read the schedule");
check(read.cron === "0 2 * * 1-5" && read.timezone === "Europe/Paris", "the schedule read back", read);
// Every kind's parameters, of every type: the type is one of the strings the document lists.
const kinds = answer(await client.GET("/api/v1/kinds"), "kinds");
const types = new Set(kinds.flatMap((k) => k.params.map((p) => p.type)));
check((["choice", "set", "file", "integer", "string"] as const).every((t) => types.has(t)), "the kinds' parameter types", [...types]);
console.log("driven", started.id, schedule.id);
