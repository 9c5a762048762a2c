// Format grammars write strings the client's own validators take: what llama.cpp really generates
// under each (the tiny model's random weights wander the whole grammar) passes a reference check
// and zod 4's check of that format; a few near misses are read against the expression itself.
import { isIPv4, isIPv6 } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { asRegExp, gbnfLengths } from "../test/support/gbnf-regexp.js";
import { disposeGrammarSamples, sampleGrammar } from "../test/support/grammar-samples.js";
import { FORMAT_CHECK_PATTERNS, FORMAT_LENGTHS, formatGrammar, formatKeepsLengths, GRAMMAR_FORMATS } from "./grammar-formats.js";

afterAll(disposeGrammarSamples);

const SAMPLES = 20;
/** The longest string a format grammar writes is a uri of 475 characters and its quotes, one token each. */
const MAX_TOKENS = 480;

/** The email regex of zod 4's documentation (`z.email()`'s default before 4.1). */
const ZOD_EMAIL = new RegExp("^(?!\\.)(?!.*\\.\\.)([A-Za-z0-9_'+\\-\\.]*)[A-Za-z0-9_+-]@([A-Za-z0-9][A-Za-z0-9\\-]*\\.)+[A-Za-z]{2,}$");
/** RFC 3339 Appendix A: units in order, each at most once, no gaps below the first; weeks alone. */
const ISO_DURATION = /^P(?:(?:\d+Y(?:\d+M(?:\d+D)?)?|\d+M(?:\d+D)?|\d+D)(?:T(?:\d+H(?:\d+M(?:\d+S)?)?|\d+M(?:\d+S)?|\d+S))?|T(?:\d+H(?:\d+M(?:\d+S)?)?|\d+M(?:\d+S)?|\d+S)|\d+W)$/;
/** RFC 1123 host names, as ajv-formats checks them. */
const RFC_1123_HOSTNAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[-0-9a-z]{0,61}[0-9a-z])?)*$/i;
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}

const checks: Record<string, (text: string) => void> = {
  email: (text) => {
    expect(text).toMatch(ZOD_EMAIL);
    expect(z.email().safeParse(text).success).toBe(true);
    const [local = "", domain = ""] = text.split("@");
    expect(local.length).toBeLessThanOrEqual(64);
    expect(domain.length).toBeLessThanOrEqual(253);
    expect(domain).toMatch(/\.[a-z]{2,}$/i);
  },
  uuid: (text) => {
    expect(text).toMatch(UUID_V4);
    expect(z.uuid().safeParse(text).success).toBe(true);
  },
  ipv4: (text) => {
    expect(isIPv4(text)).toBe(true);
    expect(z.ipv4().safeParse(text).success).toBe(true);
  },
  ipv6: (text) => {
    expect(isIPv6(text)).toBe(true);
    expect(z.ipv6().safeParse(text).success).toBe(true);
  },
  hostname: (text) => {
    expect(text).toMatch(RFC_1123_HOSTNAME);
    expect(z.hostname().safeParse(text).success).toBe(true);
  },
  duration: (text) => {
    expect(text).toMatch(ISO_DURATION);
    expect(z.iso.duration().safeParse(text).success).toBe(true);
  },
  uri: (text) => {
    expect(isHttpUrl(text)).toBe(true);
    expect(z.url().safeParse(text).success).toBe(true);
  },
};

function grammarFor(format: string): string {
  const grammar = formatGrammar(format);
  if (grammar === undefined) throw new Error(`no grammar for ${format}`);
  return grammar;
}

/** Whether the format's grammar takes `value`, written as a JSON string. */
function takes(format: string, value: string): boolean {
  return asRegExp(grammarFor(format)).test(JSON.stringify(value));
}

describe("format grammars", () => {
  it("has a grammar for each of its formats and none for others", () => {
    expect([...GRAMMAR_FORMATS].sort()).toEqual(Object.keys(checks).sort());
    for (const format of ["date-time", "date", "time", "regex", "uri-reference", ""]) expect(formatGrammar(format)).toBeUndefined();
  });

  it.each(Object.keys(checks))("generates only JSON strings the %s validators take", async (format) => {
    const texts = await sampleGrammar(grammarFor(format), SAMPLES, MAX_TOKENS);
    for (const text of texts) {
      expect(text, "a whole JSON string literal (not cut)").toMatch(/^".*"$/);
      const value = JSON.parse(text) as string;
      checks[format]?.(value);
    }
    expect(new Set(texts).size).toBeGreaterThanOrEqual(SAMPLES / 2);
  });

  it("writes no email address in a special-use top-level domain, which email-validator refuses", () => {
    for (const domain of ["a.test", "b.LOCAL", "c.Localhost", "d.onion", "e.arpa", "f.invalid"]) expect(takes("email", `x@${domain}`), domain).toBe(false);
    for (const domain of ["a.tests", "b.loca", "c.localhos", "d.onions", "e.com", "f.io", "example.com"]) expect(takes("email", `x@${domain}`), domain).toBe(true);
    for (const address of ["x@com", "x@a.c", "a..b@c.de", ".a@c.de", "a.@c.de", "x@-a.de", "x@a-.de", "x@ab--c.de", "x@a.d3"]) expect(takes("email", address), address).toBe(false);
    expect(takes("email", "first.last+tag@mail.example-host.co")).toBe(true);
  });

  it("writes durations as RFC 3339 spells them", () => {
    for (const duration of ["P3D", "PT1H30M", "P1Y2M", "P2W", "P1Y2M3DT4H5M6S", "PT0S", "P1M2D"]) expect(takes("duration", duration), duration).toBe(true);
    for (const duration of ["P", "PT", "P1D2M", "P2W3D", "PT1H30S", "P1Y5D", "1D", "P01D"]) expect(takes("duration", duration), duration).toBe(false);
  });

  it("writes IPv4 octets within 0–255 without leading zeros", () => {
    for (const address of ["0.0.0.0", "255.255.255.255", "10.200.1.99"]) expect(takes("ipv4", address), address).toBe(true);
    for (const address of ["256.1.1.1", "01.2.3.4", "1.2.3", "1.2.3.4.5"]) expect(takes("ipv4", address), address).toBe(false);
  });

  it("writes hostnames of RFC 1123 labels of at most 63 characters", () => {
    for (const host of ["localhost", "a-b.example.com", "1.2.3", `${"a".repeat(63)}.de`]) expect(takes("hostname", host), host).toBe(true);
    for (const host of ["-a.com", "a-.com", "a..b", `${"a".repeat(64)}.de`, "a_b.com"]) expect(takes("hostname", host), host).toBe(false);
  });

  it("writes uris with http(s), a host whose last label is no number, an optional port and path", () => {
    for (const uri of ["https://example.com", "http://localhost:8080/", "https://api.example.com/v1/items/%2F~x", "http://a.b:65535"]) expect(takes("uri", uri), uri).toBe(true);
    for (const uri of ["ftp://a.com", "http://a.123", "http://a.0x1f", "http://a.com:0", "http://a.com:65536", "https://a.com/?q=1", "http://xn--a.com"]) expect(takes("uri", uri), uri).toBe(false);
  });

  it("keeps the lookahead checks zod 4 writes beside hostname and duration, which the format is enforced for", async () => {
    expect(FORMAT_CHECK_PATTERNS.get("hostname")).toBe(z.toJSONSchema(z.hostname()).pattern);
    expect(FORMAT_CHECK_PATTERNS.get("duration")).toBe(z.toJSONSchema(z.iso.duration()).pattern);
    for (const [format, pattern] of FORMAT_CHECK_PATTERNS) {
      for (const text of await sampleGrammar(grammarFor(format), SAMPLES, MAX_TOKENS)) expect(JSON.parse(text) as string, format).toMatch(new RegExp(pattern));
    }
  });

  it("says how long each format's values are, so a length beside a format that every value keeps is taken", () => {
    for (const format of GRAMMAR_FORMATS) {
      const { fewest, most } = gbnfLengths(grammarFor(format));
      // The grammar's lengths count the two quotes around the value.
      expect(FORMAT_LENGTHS.get(format), format).toEqual({ fewest: fewest - 2, most: most - 2 });
    }
    expect(formatKeepsLengths("uri", 1, 2083)).toBe(true); // pydantic's HttpUrl
    expect(formatKeepsLengths("uri", 1, 100)).toBe(false);
    expect(formatKeepsLengths("uuid", 36, 36)).toBe(true);
    expect(formatKeepsLengths("date", undefined, 10)).toBe(true);
    expect(formatKeepsLengths("date-time", undefined, 1000)).toBe(false);
  });
});
