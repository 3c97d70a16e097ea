import assert from "node:assert/strict";
import { checkIfname, cString, ifreq, IFREQ_SIZE, ifreqName } from "./_libc.ts";

Deno.test("ifreq() puts the name at offset 0 of a 40-byte struct, NUL-padded", () => {
  const req = ifreq("tap0");
  assert.equal(req.length, IFREQ_SIZE);
  assert.deepEqual([...req.subarray(0, 5)], [0x74, 0x61, 0x70, 0x30, 0]);
  assert.ok(req.subarray(4).every((b) => b === 0));
  assert.equal(ifreqName(req), "tap0");
});

Deno.test("ifreqName() reads a 15-byte name without overrunning the name field", () => {
  const req = ifreq("abcdefghijklmno");
  req[16] = 0x41; // the union after the name
  assert.equal(ifreqName(req), "abcdefghijklmno");
});

Deno.test("checkIfname() rejects empty, long, slash, colon and space names as Linux does", () => {
  for (const bad of ["", "abcdefghijklmnop", "a/b", "a:1", "a b", ".", ".."]) {
    assert.throws(() => checkIfname(bad), TypeError, bad);
  }
  for (const good of ["tun0", "tun%d", "abcdefghijklmno", "my-tap.1"]) checkIfname(good);
});

Deno.test("cString() appends one NUL", () => {
  assert.deepEqual([...cString("/a")], [0x2f, 0x61, 0]);
});
