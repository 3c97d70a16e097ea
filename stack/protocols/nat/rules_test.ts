import assert from "node:assert/strict";
import { compileNatRule, formatNatRule, parseNatRule, ruleMatches } from "./rules.ts";

const ip = (s: string) => s.split(".").reduce((a, b) => (a * 256 + Number(b)) >>> 0, 0);

Deno.test("parseNatRule() reads every word and formatNatRule() writes it back", () => {
  const text =
    "snat -o eth1 -s 10.1.0.0/24 -d 198.51.100.0/24 -p udp --sport 1000-2000 --dport 53 --to 203.0.113.1-203.0.113.4:1024-65535";
  const rule = parseNatRule(text);
  assert.deepEqual(parseNatRule(formatNatRule(rule)), rule);
  assert.equal(rule.to, "203.0.113.1-203.0.113.4:1024-65535");
});

Deno.test("parseNatRule() refuses unknown words, missing values and actions", () => {
  assert.throws(() => parseNatRule("snat --bogus 1 --to 1.2.3.4"), TypeError);
  assert.throws(() => parseNatRule("dnat --to"), TypeError);
  assert.throws(() => parseNatRule("drop -o eth1"), TypeError);
});

Deno.test("compileNatRule() checks what each action takes", () => {
  assert.throws(() => compileNatRule({ action: "snat" }), RangeError); // no --to
  assert.throws(() => compileNatRule({ action: "masquerade", inIface: "eth0" }), RangeError);
  assert.throws(
    () => compileNatRule({ action: "dnat", outIface: "eth1", to: "1.2.3.4" }),
    RangeError,
  );
  assert.throws(() => compileNatRule({ action: "dnat", to: "1.2.3.4-1.2.3.5" }), RangeError);
  assert.throws(() => compileNatRule({ action: "dnat", dstPort: 80, to: "1.2.3.4" }), RangeError); // ports need -p
  assert.throws(
    () => compileNatRule({ action: "dnat", protocol: "tcp", dstPort: 0, to: "1.2.3.4" }),
    RangeError,
  );
  assert.throws(
    () => compileNatRule({ action: "dnat", protocol: "tcp", dstPort: "x", to: "1.2.3.4" }),
    TypeError,
  );
  assert.throws(() => compileNatRule({ action: "redirect" }), RangeError);
  assert.throws(() => compileNatRule({ action: "snat", to: "1.2.3.400" }), TypeError);
  assert.throws(
    () => compileNatRule({ action: "snat", source: "10.0.0.0/33", to: "1.2.3.4" }),
    TypeError,
  );
  assert.throws(() => compileNatRule(null as never), TypeError);
});

Deno.test("ruleMatches() by interface, prefix, protocol and port range", () => {
  const r = compileNatRule(
    parseNatRule("dnat -i eth1 -s 198.51.100.0/24 -p tcp --dport 8000-8080 --to 10.1.0.5"),
  );
  const m = (inIf: string, src: string, proto: number, dport: number) =>
    ruleMatches(r, inIf, null, proto, ip(src), 40000, ip("203.0.113.1"), dport);
  assert.ok(m("eth1", "198.51.100.10", 6, 8080));
  assert.ok(!m("eth0", "198.51.100.10", 6, 8080));
  assert.ok(!m("eth1", "198.51.101.10", 6, 8080));
  assert.ok(!m("eth1", "198.51.100.10", 17, 8080));
  assert.ok(!m("eth1", "198.51.100.10", 6, 8081));
  // A rule with no interface matches where the interface is unknown (output).
  const any = compileNatRule({ action: "dnat", to: "10.1.0.5" });
  assert.ok(ruleMatches(any, null, null, 1, 1, 0, 2, 0));
});

Deno.test("parseNatRule(): --dst-type local round-trips and only dnat/redirect take it", () => {
  const text = "dnat --dst-type local -p tcp --dport 8080 --to 10.1.0.5:80";
  const r = parseNatRule(text);
  assert.equal(r.dstType, "local");
  assert.equal(formatNatRule(r), text);
  assert.equal(compileNatRule(r).dstLocal, true);
  assert.throws(() => parseNatRule("masquerade -o eth1 --dst-type local"), RangeError);
  assert.throws(() => parseNatRule("dnat --dst-type remote --to 10.1.0.5"), TypeError);
});
