import { afterEach, describe, expect, it } from "vitest";
import { RbeeError } from "../../../shared/errors.js";
import { createTinyLlamaGguf } from "../../../shared/gguf/tiny-llama.js";
import { FakeHub } from "../../../test/support/fake-hub.js";
import { type ModelFixture, modelFixture, recordingListener } from "../../../test/support/model-fixture.js";

const never = new AbortController().signal;
let hub: FakeHub | undefined;
let fixture: ModelFixture | undefined;

afterEach(async () => {
  await hub?.close();
  await fixture?.cleanup();
});

const HOSTILE_IDS = [
  "hf:../../x",
  "hf:../../x.gguf",
  "hf:org/repo:../../evil.gguf",
  "hf:org/repo/../../../x.gguf",
  "hf:org/repo/sub/../../x.gguf",
  "hf:org/repo:/etc/evil.gguf",
  "hf:org/repo//tmp/evil.gguf",
  "hf:org/repo:evil\u0000.gguf",
  "hf:org/repo:sub\\..\\..\\evil.gguf",
  "hf:org/repo:..%2F..%2Fevil.gguf",
  "hf:org/repo:.evil.gguf",
  "hf:org/repo#../../main",
  "hf:/etc/passwd",
  "https://127.0.0.1/../../x.gguf",
  "http://127.0.0.1/a/%2e%2e/%2e%2e/x.gguf",
  "https://127.0.0.1/..%2f..%2fx.gguf",
  "http://example.com/x.gguf",
  "file:../../x.gguf",
  "file:/tmp/../etc/x.gguf",
  "file:///tmp/%2e%2e/x.gguf",
  "/etc/passwd",
  "C:\\models\\x.gguf",
  "../x",
  "org/../x",
  "org/repo/../../x.gguf",
  "org/repo:../../evil.gguf",
];

describe("hostile model ids", () => {
  it("are refused with a 400, and nothing is written or fetched", async () => {
    hub = await FakeHub.start({ repos: [{ id: "org/repo", files: [{ path: "x.gguf", bytes: createTinyLlamaGguf() }] }] });
    fixture = await modelFixture(hub);
    for (const id of HOSTILE_IDS) {
      const error = await fixture.models.provision({ id, source: id }, never, recordingListener()).then(
        () => new Error(`${JSON.stringify(id)} was provisioned`),
        (reason: unknown) => reason,
      );
      expect(error, JSON.stringify(id)).toBeInstanceOf(RbeeError);
      expect((error as RbeeError).status, JSON.stringify(id)).toBe(400);
      expect(["invalid_artifact_id", "unsupported_artifact_id"], JSON.stringify(id)).toContain((error as RbeeError).code);
    }
    expect(hub.requests).toEqual([]);
    // Refused before the catalog took a lock or wrote a placeholder: the tmp parent holds at most the empty cache.
    const written = await fixture.tree();
    expect(written.every((each) => each === "cache" || each === "cache/models" || each.startsWith("cache/models/."))).toBe(true);
  });

  it("cannot come in through a hub that lists a hostile file name", async () => {
    const bytes = createTinyLlamaGguf();
    hub = await FakeHub.start({ repos: [{ id: "org/evil", files: [{ path: "../../evil.gguf", bytes }] }, { id: "org/evil2", files: [{ path: "sub/../../../evil.gguf", bytes }] }] });
    fixture = await modelFixture(hub);
    for (const id of ["hf:org/evil", "hf:org/evil2"]) {
      await expect(fixture.models.provision({ id, source: id }, never, recordingListener())).rejects.toMatchObject({ code: "invalid_artifact_id" });
    }
    const written = await fixture.tree();
    expect(written.every((each) => each === "cache" || each.startsWith("cache/models"))).toBe(true);
    expect(written.filter((each) => each.includes("evil.gguf"))).toEqual([]);
    // Only the file lists were asked for; no file was fetched.
    expect(hub.requests.every((each) => each.path.includes("/tree/"))).toBe(true);
  });
});
