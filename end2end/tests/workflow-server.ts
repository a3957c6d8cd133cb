import fs from 'node:fs';
import path from 'node:path';
import { Headway } from './headway';

// A server of the workflows' tests' own, with a workflows file of demo steps: `check` counts,
// then `report` and `tidy` run side by side once it succeeded; `breaks` fails its first step,
// which cancels the step waiting for it; `shout_then_measure` takes an uploaded text, and its
// second step reads the file its first step wrote.
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

[[workflow]]
name = "fan_words"
title = "Say each word"

[[workflow.step]]
name = "list"
kind = "words"

[[workflow.step]]
name = "say"
kind = "say"
needs = ["list"]
each = "{steps.list.result.words}"
concurrency = 2
params = { word = "{item}" }

[[workflow]]
name = "shout_then_measure"
title = "Shout, then measure"

[workflow.params.text]
type = "file"
title = "Text"
accept = [".txt"]

[[workflow.step]]
name = "shout"
kind = "shout"
params = { text = "{text}" }

[[workflow.step]]
name = "measure"
kind = "measure"
needs = ["shout"]
params = { text = "{steps.shout.outputs.loud.txt}" }

[[workflow]]
name = "mends"
title = "Count, then a step that fails until mended"

[[workflow.step]]
name = "count"
kind = "demo"
params = { steps = 3, interval_ms = 10 }

[[workflow.step]]
name = "mend"
kind = "flaky"
needs = ["count"]
`;

/** A server of the workflows above and its `flaky` command, which fails until `mend()`. */
export class WorkflowServer extends Headway {
  constructor(slot: number, name: string, readonly marker: string, args: string[]) {
    super(slot, `target/e2e/workflows-${name}-${Date.now()}.db`, {}, args);
  }

  /** From now on the `flaky` command succeeds. */
  mend() {
    fs.writeFileSync(this.marker, '');
  }
}

/** A server on `slot` with the workflows above, on its own SQLite file named for `name`. */
export function workflowServer(slot: number, name: string): WorkflowServer {
  const dir = path.resolve(__dirname, '..', '..', 'target', 'e2e', `workflows-${name}-${Date.now()}`);
  fs.mkdirSync(dir, { recursive: true });
  const marker = path.join(dir, 'mended');
  const script = path.join(dir, 'flaky.sh');
  fs.writeFileSync(script, `#!/bin/sh\n[ -f '${marker}' ] || { echo not mended yet >&2; exit 3; }\necho mended\n`, { mode: 0o755 });
  const commands = path.join(dir, 'commands.toml');
  const say = path.join(dir, 'say.sh');
  fs.writeFileSync(say, `#!/bin/sh\necho "$1"\nsleep 0.3\n`, { mode: 0o755 });
  const words = path.join(dir, 'words.sh');
  fs.writeFileSync(words, `#!/bin/sh\necho 'result {"words": ["alpha", "beta", "gamma"]}' >&3\n`, { mode: 0o755 });
  fs.writeFileSync(
    commands,
    `[[command]]\nname = "flaky"\ntitle = "Flaky"\nprogram = "${script}"\n\n` +
      `[[command]]\nname = "words"\ntitle = "Words"\nprogram = "${words}"\n\n` +
      `[[command]]\nname = "say"\ntitle = "Say"\nprogram = "${say}"\nargs = ["{word}"]\n\n` +
      `[command.params.word]\ntype = "string"\nrequired = true\n`,
  );
  // `shout` writes its text file in capitals as its output `loud.txt`; `measure` counts the
  // bytes of its file.
  const shout = path.join(dir, 'shout.sh');
  fs.writeFileSync(shout, `#!/bin/sh\ntr a-z A-Z < "$1" > "$HEADWAY_OUTPUT_DIR/loud.txt"\n`, { mode: 0o755 });
  const measure = path.join(dir, 'measure.sh');
  fs.writeFileSync(
    measure,
    `#!/bin/sh\nprintf 'result {"bytes": %s, "head": "%s"}\\n' "$(wc -c < "$1")" "$(head -c 5 "$1")" >&3\n`,
    { mode: 0o755 },
  );
  fs.appendFileSync(
    commands,
    `\n[[command]]\nname = "shout"\ntitle = "Shout"\nprogram = "${shout}"\nargs = ["{text}"]\n\n` +
      `[command.params.text]\ntype = "file"\naccept = [".txt"]\n\n` +
      `[[command]]\nname = "measure"\ntitle = "Measure"\nprogram = "${measure}"\nargs = ["{text}"]\n\n` +
      `[command.params.text]\ntype = "file"\naccept = [".txt"]\n`,
  );
  const workflows = path.join(dir, 'workflows.toml');
  fs.writeFileSync(workflows, WORKFLOWS);
  return new WorkflowServer(slot, name, marker, ['--commands', commands, '--workflows', workflows]);
}
