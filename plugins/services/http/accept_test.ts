import assert from "node:assert/strict";
import { acceptQuality } from "./accept.ts";

Deno.test("acceptQuality(): most specific range wins; q parsed; no Accept accepts all", () => {
  assert.equal(acceptQuality("*/*", "text/html"), 1);
  assert.equal(acceptQuality("text/plain", "text/html"), 0);
  assert.equal(acceptQuality("text/plain;q=0.9, */*;q=1", "text/plain"), 0.9);
  assert.equal(acceptQuality("TEXT/PLAIN", "text/plain"), 1);
  assert.equal(acceptQuality("text/*;q=0.3;level=1", "text/html"), 0.3);
  assert.equal(acceptQuality("text/plain;q=bogus", "text/plain"), 1);
  assert.equal(acceptQuality("", "text/html"), 1);
  // A browser: HTML preferred.
  const firefox = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
  assert.ok(acceptQuality(firefox, "text/html") > acceptQuality(firefox, "text/plain"));
});
