// `model@hive`: a client pins the hive that serves its request by naming it after the model.
// Model names may themselves contain '@' (shared ModelName), so the rule is: the part after the
// last '@' is a hive pin when it is a valid hive name (shared HiveName); the Dispatcher then
// treats the whole text as the model's name instead when a model of exactly that name is known
// and the part before the '@' is not (Dispatcher.resolveTarget).
import { HiveName } from "../../shared/protocol/hive-name.js";

export interface ModelTarget {
  model: string;
  hive?: string;
}

export function parseModelTarget(requested: string): ModelTarget {
  const at = requested.lastIndexOf("@");
  if (at <= 0 || at === requested.length - 1) return { model: requested };
  const hive = requested.slice(at + 1);
  if (!HiveName.safeParse(hive).success) return { model: requested };
  return { model: requested.slice(0, at), hive };
}
