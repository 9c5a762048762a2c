// channelSocketPath: the socket stays in the hive's run folder while the path fits, and otherwise
// moves to a private per-user folder that nobody else can have prepared; either way each run
// folder gets its own.
import { chmod, lstat, mkdir, mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { channelSocketPath } from "./channel-socket-path.js";

const uid = process.getuid?.() ?? 0;
let dir = "";
/** A run folder deep enough that its socket path cannot fit in sun_path. */
let deepRunDir = "";

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "rbee-sock-"));
  deepRunDir = path.join(dir, "cache", "x".repeat(100), "run");
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function modeOf(file: string): Promise<number> {
  return (await lstat(file)).mode & 0o777;
}

describe("channelSocketPath", () => {
  it("puts the socket in the run folder when the path fits, creating nothing", async () => {
    const runDir = path.join(dir, "cache", "run");
    expect(channelSocketPath(runDir, "box-1", { env: {}, tmpDir: dir, uid })).toBe(path.join(runDir, "hive-box-1.sock"));
    await expect(lstat(runDir)).rejects.toMatchObject({ code: "ENOENT" });
    await expect(lstat(path.join(dir, `rbee-${uid}`))).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("gives hives of one name in two run folders two sockets, in the run folders and in the fallback alike", () => {
    const context = { env: {}, tmpDir: dir, uid };
    const [first, second] = [path.join(dir, "state-a", "hive"), path.join(dir, "state-b", "hive")];
    expect(channelSocketPath(first, "local", context)).not.toBe(channelSocketPath(second, "local", context));
    const deepSecond = path.join(path.dirname(deepRunDir), "run-b");
    expect(channelSocketPath(deepRunDir, "local", context)).not.toBe(channelSocketPath(deepSecond, "local", context));
  });

  it("falls back to $XDG_RUNTIME_DIR/rbee, created private, and gives the same path every time", async () => {
    const runtimeDir = path.join(dir, "xdg");
    await mkdir(runtimeDir);
    const context = { env: { XDG_RUNTIME_DIR: runtimeDir }, tmpDir: dir, uid };
    const socket = channelSocketPath(deepRunDir, "box", context);
    expect(socket).toMatch(new RegExp(`^${runtimeDir}/rbee/hive-[0-9a-f]{16}\\.sock$`));
    expect(await modeOf(path.dirname(socket))).toBe(0o700);
    expect(channelSocketPath(deepRunDir, "box", context)).toBe(socket);
    expect(channelSocketPath(deepRunDir, "other", context)).not.toBe(socket);
  });

  it("falls back to <tmpdir>/rbee-<uid> without XDG_RUNTIME_DIR, or when it is not absolute", async () => {
    for (const env of [{}, { XDG_RUNTIME_DIR: "run/user/1000" }]) {
      const socket = channelSocketPath(deepRunDir, "box", { env, tmpDir: dir, uid });
      expect(path.dirname(socket)).toBe(path.join(dir, `rbee-${uid}`));
    }
    expect(await modeOf(path.join(dir, `rbee-${uid}`))).toBe(0o700);
  });

  it("refuses a fallback folder that other users may enter", async () => {
    const folder = path.join(dir, `rbee-${uid}`);
    await mkdir(folder);
    await chmod(folder, 0o755);
    expect(() => channelSocketPath(deepRunDir, "box", { env: {}, tmpDir: dir, uid })).toThrow(
      expect.objectContaining({ code: "unsafe_socket_folder", message: expect.stringContaining(`other users may enter it (mode 755); run chmod 700 ${folder}`) }),
    );
  });

  it("refuses a fallback folder that another user owns", async () => {
    await mkdir(path.join(dir, `rbee-${uid + 1}`), { mode: 0o700 });
    // The folder is this process's, so it stands for one another user prepared for uid + 1.
    expect(() => channelSocketPath(deepRunDir, "box", { env: {}, tmpDir: dir, uid: uid + 1 })).toThrow(
      expect.objectContaining({ code: "unsafe_socket_folder", message: expect.stringContaining(`owned by uid ${uid}, not by this user (uid ${uid + 1})`) }),
    );
  });

  it("refuses a link in place of the fallback folder, even to a private folder", async () => {
    const elsewhere = path.join(dir, "elsewhere");
    await mkdir(elsewhere, { mode: 0o700 });
    await symlink(elsewhere, path.join(dir, `rbee-${uid}`));
    expect(() => channelSocketPath(deepRunDir, "box", { env: {}, tmpDir: dir, uid })).toThrow(
      expect.objectContaining({ code: "unsafe_socket_folder", message: expect.stringContaining("not a folder") }),
    );
  });

  it("says to pass a shorter --run-dir when even the fallback path is too long", async () => {
    const deepTmp = path.join(dir, "t".repeat(90));
    await mkdir(deepTmp);
    expect(() => channelSocketPath(deepRunDir, "box", { env: {}, tmpDir: deepTmp, uid })).toThrow(
      expect.objectContaining({ code: "socket_path_too_long", message: expect.stringContaining("pass a shorter --run-dir") }),
    );
  });

  it("gives a Windows hive a named pipe, fixed per hive name, run folder and user, creating no folder", async () => {
    const windows = { platform: "win32" as const, userName: "alice", tmpDir: dir, env: {} };
    const pipe = channelSocketPath("C:\\Users\\alice\\AppData\\Local\\rbee\\run", "gaming-pc", windows);
    expect(pipe).toMatch(/^\\\\\.\\pipe\\rbee-hive-gaming-pc-[0-9a-f]{16}$/);
    // A restarted hive finds the same pipe, whatever the case of its run folder (Windows paths ignore it).
    expect(channelSocketPath("c:\\users\\alice\\appdata\\local\\rbee\\run", "gaming-pc", windows)).toBe(pipe);
    expect(channelSocketPath("C:\\Users\\alice\\AppData\\Local\\rbee\\run", "gaming-pc", { ...windows, userName: "bob" })).not.toBe(pipe);
    expect(channelSocketPath("D:\\rbee\\run", "gaming-pc", windows)).not.toBe(pipe);
    // A run folder of any depth fits: pipe names have no sun_path limit.
    expect(channelSocketPath(`C:\\${"x".repeat(300)}`, "gaming-pc", windows)).toMatch(/^\\\\\.\\pipe\\/);
    await expect(lstat(path.join(dir, `rbee-${uid}`))).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("keeps a unix socket on macOS, as on Linux", () => {
    const runDir = path.join(dir, "cache", "run");
    expect(channelSocketPath(runDir, "mac", { env: {}, tmpDir: dir, uid, platform: "darwin" })).toBe(path.join(runDir, "hive-mac.sock"));
  });
});
