// What each online hive last said it can run: its devices (free memory) and the models ready in
// its catalog. The Registry keeps them in memory (HiveSession sends them on hello and on each
// hive_status; a hive that goes offline is forgotten): the spawn planner and /v1/models read them.
import type { CatalogModel } from "../../shared/protocol/catalog-models.js";
import type { HiveDevices } from "../../shared/protocol/hive-devices.js";

export interface HiveFacts {
  hiveName: string;
  devices: HiveDevices;
  models: CatalogModel[];
  /** When the queen received them (Date.now()): a spawn started later is not reflected yet. */
  reportedAtMs: number;
}

export class HiveFactsTable {
  private readonly byHive = new Map<string, HiveFacts>();

  set(hiveName: string, facts: { devices: HiveDevices; models: CatalogModel[] }, nowMs = Date.now()): void {
    this.byHive.set(hiveName, { hiveName, devices: facts.devices, models: facts.models, reportedAtMs: nowMs });
  }

  /** The hive went offline: none of its models can be loaded now. */
  gone(hiveName: string): void {
    this.byHive.delete(hiveName);
  }

  get(hiveName: string): HiveFacts | undefined {
    return this.byHive.get(hiveName);
  }

  /** Every online hive's facts, by hive name. */
  all(): HiveFacts[] {
    return [...this.byHive.values()].sort((a, b) => a.hiveName.localeCompare(b.hiveName));
  }
}
