/**
 * The repository's packetdrill scripts (tests/drill/scripts/<area>/*.pkt),
 * one test each: this stack's TCP behaviour, pinned in packetdrill's
 * language (see README "packetdrill scripts").
 */
import { drillTests } from "./_drill.ts";

drillTests(new URL("./scripts/", import.meta.url));
