import fs from 'node:fs';
import path from 'node:path';
import { Headway } from './headway';

// A server of the workflows' tests' own, with a workflows file of demo steps: `check` counts,
// then `report` and `tidy` run side by side once it succeeded; `breaks` fails its first step,
// which cancels the step waiting for it.
const WORKFLOWS = `
[[workflow]]
name = "check_then_report"
title = "Check, then report"
description = "Counts, then reports and tidies up side by side."

[workflow.params.steps]
type = "integer"
title = "Steps"
min = 1
max = 1000
default = 20

[[workflow.step]]
name = "check"
kind = "demo"
params = { steps = "{steps}", interval_ms = 60 }

[[workflow.step]]
name = "report"
kind = "demo"
needs = ["check"]
params = { steps = 10, interval_ms = 40 }

[[workflow.step]]
name = "tidy"
kind = "demo"
needs = ["check"]
params = { steps = 5, interval_ms = 40 }

[workflow.i18n.zh-CN]
title = "检查，然后报告"

[workflow.params.steps.i18n.zh-CN]
title = "步数"
`;

/** A server on `slot` with the workflows above, on its own SQLite file named for `name`. */
export function workflowServer(slot: number, name: string): Headway {
  const dir = path.resolve(__dirname, '..', '..', 'target', 'e2e');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `workflows-${name}-${Date.now()}.toml`);
  fs.writeFileSync(file, WORKFLOWS);
  return new Headway(slot, `target/e2e/workflows-${name}-${Date.now()}.db`, {}, ['--workflows', file]);
}
