import { describe, expect, it } from "vitest";
import { queenBaseUrl } from "./queen-base-url.js";

describe("queenBaseUrl", () => {
  it("drops the /v1 that the OpenAI base URL ends in, and says so", () => {
    expect(queenBaseUrl("http://127.0.0.1:7833/v1")).toEqual({ url: "http://127.0.0.1:7833", droppedV1: true });
    expect(queenBaseUrl("https://queen.example/base/v1/")).toEqual({ url: "https://queen.example/base", droppedV1: true });
  });

  it("leaves a base URL alone", () => {
    expect(queenBaseUrl("https://queen.example")).toEqual({ url: "https://queen.example", droppedV1: false });
    expect(queenBaseUrl("https://queen.example/v1beta")).toEqual({ url: "https://queen.example/v1beta", droppedV1: false });
  });
});
