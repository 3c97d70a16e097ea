// deno-lint-ignore-file no-console -- the command line prints
/**
 * The deno-netstack command line: `demo`, `graph`, `up` (a virtual host on
 * TUN/TAP), and more as they land. The only place that picks real clocks,
 * real randomness and real drivers.
 *
 * @module
 */
import { DEMO_HELP, runDemo } from "./cli/demo.ts";
import { GRAPH_HELP, runGraph } from "./cli/graph.ts";
import { runUp, UP_HELP } from "./cli/up.ts";
import { REPLAY_HELP, runReplay } from "./cli/replay.ts";
import { DECODE_HELP, runDecode } from "./cli/decode.ts";
import { SERVICES } from "./plugins/services/mod.ts";

const HELP = `deno-netstack: a TCP/IP stack in TypeScript for Deno

Usage: deno run -A cli.ts <command> [options]

Commands:
  demo     a virtual LAN in memory: ARP, ping, a capture (no privileges)
  graph    print the plugin graph of a stack
  up       a virtual host on a TUN/TAP device (or on an in-memory network)
  replay   replay a pcap/pcapng capture into a virtual host, on virtual time
  decode   print a capture one line per packet, like tcpdump -n
  help     this text; "help <command>" for a command's options

Run "deno run -A cli.ts <command> --help" for each command's flags.
`;

const COMMANDS: Record<string, { help: string; run: (args: string[]) => Promise<number> }> = {
  demo: { help: DEMO_HELP, run: async (a) => (await runDemo(a)).code },
  graph: { help: GRAPH_HELP, run: runGraph },
  up: { help: UP_HELP, run: (a) => runUp(a, { services: SERVICES }) },
  replay: { help: REPLAY_HELP, run: (a) => runReplay(a, { services: SERVICES }) },
  decode: { help: DECODE_HELP, run: (a) => runDecode(a) },
};

/** Runs the CLI with `args`; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const [cmd, ...rest] = args;
  if (cmd === undefined || cmd === "help" || cmd === "--help" || cmd === "-h") {
    const topic = rest[0] !== undefined ? COMMANDS[rest[0]] : undefined;
    console.log(topic ? topic.help : HELP);
    return 0;
  }
  const command = COMMANDS[cmd];
  if (!command) {
    console.error(`Unknown command "${cmd}".\n\n${HELP}`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    console.error(`${cmd}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
