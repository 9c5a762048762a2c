// Ends each queen test file's hive sockets before vitest closes the file's test worker: see TestHive.endAll.
import { afterAll } from "vitest";
import { TestHive } from "./hive-socket.js";

afterAll(() => TestHive.endAll());
