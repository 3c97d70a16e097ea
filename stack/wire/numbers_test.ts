import assert from "node:assert/strict";
import * as numbers from "./numbers.ts";

const ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname);
/** Folders that hold no source of ours. */
const SKIP = new Set([".git", "coverage", "node_modules"]);
/** A definition of a shared number (not a use, a re-export or a table of names). */
const DEFINITION =
  /^\s*(?:export\s+)?const\s+((?:LINKTYPE|ETHERTYPE|IP_PROTOCOL|IPPROTO)_[A-Z0-9_]+)\s*(?::\s*number\s*)?=\s*[0-9]/;
/** User plugins may name numbers of their own (an experimental EtherType), never a shared one. */
const PLUGIN_DIRS = ["plugins/", "tests/fixtures/plugins/"];

function* sources(dir: string, rel: string): Generator<string> {
  for (const e of Deno.readDirSync(dir)) {
    if (SKIP.has(e.name)) continue;
    if (e.isDirectory) yield* sources(`${dir}${e.name}/`, `${rel}${e.name}/`);
    else if (e.isFile && e.name.endsWith(".ts")) yield `${rel}${e.name}`;
  }
}

Deno.test("numbers: LINKTYPE_, ETHERTYPE_ and IP_PROTOCOL_ constants are defined only in stack/wire/numbers.ts", () => {
  const shared = new Set(Object.keys(numbers));
  const strays: string[] = [];
  for (const path of sources(ROOT, "")) {
    if (path === "stack/wire/numbers.ts") continue;
    const lines = Deno.readTextFileSync(ROOT + path).split("\n");
    lines.forEach((line, i) => {
      const name = DEFINITION.exec(line)?.[1];
      if (name === undefined) return;
      if (PLUGIN_DIRS.some((d) => path.startsWith(d)) && !shared.has(name)) return;
      strays.push(`${path}:${i + 1}: ${name}`);
    });
  }
  assert.deepEqual(strays, [], "import these from stack/wire/numbers.ts instead");
});

Deno.test("numbers: the guard's pattern sees a definition and ignores uses and re-exports", () => {
  assert.equal(DEFINITION.exec("const LINKTYPE_RAW = 101;")?.[1], "LINKTYPE_RAW");
  assert.equal(DEFINITION.exec("export const ETHERTYPE_ARP = 0x0806;")?.[1], "ETHERTYPE_ARP");
  assert.equal(DEFINITION.exec("  const IPPROTO_UDP: number = 17;")?.[1], "IPPROTO_UDP");
  assert.equal(DEFINITION.exec('export { IP_PROTOCOL_TCP } from "./numbers.ts";'), null);
  assert.equal(DEFINITION.exec("const t = ETHERTYPE_IPV4;"), null);
  assert.equal(DEFINITION.exec("export const IP_PROTOCOL_NAMES: Record<number, string> = {"), null);
});

Deno.test("numbers: the driver contract and the wire views re-export the same values", async () => {
  const driver = await import("../driver.ts");
  const ethernet = await import("./ethernet.ts");
  const ipv4 = await import("./ipv4.ts");
  assert.equal(driver.LINKTYPE_ETHERNET, numbers.LINKTYPE_ETHERNET);
  assert.equal(driver.LINKTYPE_RAW, numbers.LINKTYPE_RAW);
  assert.equal(ethernet.ETHERTYPE_VLAN, numbers.ETHERTYPE_VLAN);
  assert.equal(ipv4.IP_PROTOCOL_ICMP, numbers.IP_PROTOCOL_ICMP);
  assert.deepEqual(
    [numbers.LINKTYPE_ETHERNET, numbers.LINKTYPE_RAW, numbers.LINKTYPE_IPV4, numbers.LINKTYPE_IPV6],
    [1, 101, 228, 229],
  );
  assert.deepEqual(
    [numbers.ETHERTYPE_IPV4, numbers.ETHERTYPE_ARP, numbers.ETHERTYPE_IPV6],
    [0x0800, 0x0806, 0x86dd],
  );
  assert.deepEqual(
    [
      numbers.IP_PROTOCOL_ICMP,
      numbers.IP_PROTOCOL_IGMP,
      numbers.IP_PROTOCOL_TCP,
      numbers.IP_PROTOCOL_UDP,
    ],
    [1, 2, 6, 17],
  );
});
