// Finds JSON nested too deeply for the code that walks it, without walking it recursively. Every
// recursive walk over a client's JSON (JSON.stringify when the queen relays or stores a request,
// the worker's schema checks, node-llama-cpp's grammar builder) throws "Maximum call stack size
// exceeded" somewhere past a few thousand levels, and a 1 MiB body holds hundreds of thousands
// (`[[[[…`). The request schemas use this to refuse such values with a 400 before any such walk
// sees them: JSON schemas in shared/openai/json-schema-field.ts, whole bodies in validation.ts.

interface Level {
  value: object;
  /** The root is level 1. */
  depth: number;
  key: PropertyKey | undefined;
  parent: Level | undefined;
}

/**
 * The path (`["tools", 0, "function"]`) to the first array or object nested deeper than
 * `maxDepth` levels in `value`, counting `value` itself as level 1; undefined when there is none.
 * An explicit stack instead of recursion, so that measuring cannot itself overflow; each array
 * and object is visited once at most, and none below the first level too deep.
 */
export function pathDeeperThan(value: unknown, maxDepth: number): PropertyKey[] | undefined {
  if (!isContainer(value)) return undefined;
  const stack: Level[] = [{ value, depth: 1, key: undefined, parent: undefined }];
  for (let level = stack.pop(); level !== undefined; level = stack.pop()) {
    if (level.depth > maxDepth) return pathOf(level);
    const children: Array<[PropertyKey, unknown]> = Array.isArray(level.value) ? [...level.value.entries()] : Object.entries(level.value);
    // Pushed last to first, so that the first too-deep value in the document's order is the one named.
    for (let index = children.length - 1; index >= 0; index--) {
      const entry = children[index];
      if (entry !== undefined && isContainer(entry[1])) stack.push({ value: entry[1], depth: level.depth + 1, key: entry[0], parent: level });
    }
  }
  return undefined;
}

function isContainer(value: unknown): value is object {
  return typeof value === "object" && value !== null;
}

function pathOf(level: Level): PropertyKey[] {
  const path: PropertyKey[] = [];
  for (let at: Level | undefined = level; at?.key !== undefined; at = at.parent) path.push(at.key);
  return path.reverse();
}
