// The date rule node-llama-cpp writes is the one tightenDateRules replaces (a newer version that
// writes another would leave dates loose unseen), and what replaces it takes real dates only.
import { getLlama } from "node-llama-cpp";
import { describe, expect, it } from "vitest";
import { LOOSE_DATE, tightenDateRules } from "./grammar-dates.js";

describe("date rules", () => {
  it("finds node-llama-cpp's date rule in a schema's grammar and replaces every one", async () => {
    const llama = await getLlama({ build: "never", gpu: false });
    const { grammar } = await llama.createGrammarForJsonSchema({ type: "object", properties: { day: { type: "string", format: "date" }, at: { type: "string", format: "date-time" } } });
    expect(grammar.split(LOOSE_DATE)).toHaveLength(3);
    const tightened = tightenDateRules(grammar);
    expect(tightened).not.toContain(LOOSE_DATE);
    expect(tightened).toContain('"02" "-" ("0" [1-9] | "1" [0-9] | "2" [0-8])');
  });
});
