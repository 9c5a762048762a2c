// What `rbee --version` and `rbee-hive --version` print: the release, and the hive protocol that
// decides whether a hive and a queen take each other (a queen takes hives of its own protocol and
// a few before it; a hive newer than its queen is refused).
import packageJson from "../package.json" with { type: "json" };
import { OLDEST_HIVE_PROTOCOL, PROTOCOL_VERSION } from "./protocol/hive-frames.js";

export const VERSION_LINE = `${packageJson.version} (hive protocol ${PROTOCOL_VERSION}; its queen takes hives of protocols ${OLDEST_HIVE_PROTOCOL} to ${PROTOCOL_VERSION})`;
