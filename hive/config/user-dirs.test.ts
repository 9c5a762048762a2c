// Default config and cache folders per platform, and the secret-file check that only POSIX
// modes can back: each platform injected, since CI runs on Linux.
import { describe, expect, it } from "vitest";
import { UsageError } from "../../shared/usage-error.js";
import { parseConnectOptions } from "./options.js";
import { refuseSharedSecretFile } from "./private-file.js";
import { absolutePath, rbeeDir } from "./user-dirs.js";

describe("rbee's folders per platform", () => {
  it("uses the XDG folders on Linux, ~/Library on macOS and %APPDATA% / %LOCALAPPDATA% on Windows", () => {
    expect(rbeeDir("config", {}, "/home/me", "linux")).toBe("/home/me/.config/rbee");
    expect(rbeeDir("cache", {}, "/home/me", "linux")).toBe("/home/me/.cache/rbee");
    expect(rbeeDir("config", {}, "/Users/me", "darwin")).toBe("/Users/me/Library/Application Support/rbee");
    expect(rbeeDir("cache", {}, "/Users/me", "darwin")).toBe("/Users/me/Library/Caches/rbee");
    const windowsEnv = { APPDATA: "C:\\Users\\me\\AppData\\Roaming", LOCALAPPDATA: "D:\\Local" };
    expect(rbeeDir("config", windowsEnv, "C:\\Users\\me", "win32")).toBe("C:\\Users\\me\\AppData\\Roaming\\rbee");
    expect(rbeeDir("cache", windowsEnv, "C:\\Users\\me", "win32")).toBe("D:\\Local\\rbee");
    expect(rbeeDir("cache", {}, "C:\\Users\\me", "win32")).toBe("C:\\Users\\me\\AppData\\Local\\rbee");
  });

  it("honours XDG_CONFIG_HOME / XDG_CACHE_HOME on every platform when set to an absolute path", () => {
    expect(rbeeDir("cache", { XDG_CACHE_HOME: "/fast/cache" }, "/Users/me", "darwin")).toBe("/fast/cache/rbee");
    expect(rbeeDir("config", { XDG_CONFIG_HOME: "E:\\cfg" }, "C:\\Users\\me", "win32")).toBe("E:\\cfg\\rbee");
    expect(rbeeDir("config", { XDG_CONFIG_HOME: "relative" }, "/Users/me", "darwin")).toBe("/Users/me/Library/Application Support/rbee");
  });

  it("expands ~ and resolves relative paths with the platform's own rules", () => {
    expect(absolutePath("~/models", "/work", "/Users/me", "darwin")).toBe("/Users/me/models");
    expect(absolutePath("~\\models", "C:\\work", "C:\\Users\\me", "win32")).toBe("C:\\Users\\me\\models");
    expect(absolutePath("models", "C:\\work", "C:\\Users\\me", "win32")).toBe("C:\\work\\models");
  });

  it("gives rbee-hive connect its platform's default cache folder, and the run folder in it", () => {
    const options = (platform: NodeJS.Platform, homeDir: string) =>
      parseConnectOptions(["--token", "t"], { LOCALAPPDATA: "C:\\Users\\me\\AppData\\Local" }, "h", { homeDir, cwd: homeDir, platform });
    expect(options("darwin", "/nonexistent-home").cacheDir).toBe("/nonexistent-home/Library/Caches/rbee");
    expect(options("win32", "C:\\Users\\me").cacheDir).toBe("C:\\Users\\me\\AppData\\Local\\rbee");
    expect(options("win32", "C:\\Users\\me").runDir).toBe("C:\\Users\\me\\AppData\\Local\\rbee\\run");
  });
});

describe("secret files per platform", () => {
  it("refuses a token file others may read on Linux and macOS, and checks no mode on Windows, which has none", () => {
    for (const platform of ["linux", "darwin"] as const) {
      expect(() => refuseSharedSecretFile("/t", 0o644, "the hive's token", platform)).toThrow(UsageError);
      expect(() => refuseSharedSecretFile("/t", 0o600, "the hive's token", platform)).not.toThrow();
    }
    expect(() => refuseSharedSecretFile("C:\\t", 0o666, "the hive's token", "win32")).not.toThrow();
  });
});
