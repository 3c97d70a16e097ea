// deno-lint-ignore-file no-console -- the command line prints
/**
 * `cli.ts graph`: prints a stack's data path Click-style.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { createStack, LINKTYPE_RAW, loadStack, type Stack, VirtualNetwork } from "../mod.ts";

/** Help text of `graph`. */
export const GRAPH_HELP = `Usage: deno run --allow-read cli.ts graph [options]

Prints the plugin graph of a stack: which plugin handles which key of which
table, the hook chains and the services.

Options:
  --manifest FILE   a JSON stack manifest (default: the built-in plugins)
  --plugin PATH     add a plugin by file path or URL (repeatable)
  --json            print describe() as JSON instead
  --help            this text

Example:
  deno run --allow-read cli.ts graph --plugin ./plugins/heartbeat/mod.ts
`;

/** Runs `graph`; returns the exit code. */
export async function runGraph(
  args: string[],
  print: (s: string) => void = console.log,
): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      manifest: { type: "string" },
      plugin: { type: "string", multiple: true },
      json: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (values.help) {
    print(GRAPH_HELP);
    return 0;
  }
  let stack: Stack;
  if (values.manifest) stack = await loadStack(values.manifest);
  else if (values.plugin?.length) {
    const base = createStack();
    const names = base.pluginNames;
    base.close();
    stack = await loadStack({ plugins: [...names, ...values.plugin] });
  } else stack = createStack();
  // Two example interfaces so the graph shows both link types.
  const net = new VirtualNetwork();
  stack.addInterface({ name: "eth0", driver: net.link().a });
  stack.addInterface({ name: "tun0", driver: net.link({ linkType: LINKTYPE_RAW }).a });
  print(values.json ? JSON.stringify(stack.describe(), null, 2) : stack.graph());
  stack.close();
  net.close();
  return 0;
}
