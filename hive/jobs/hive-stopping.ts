// The abort reason a job's signal carries when the hive itself stops, as opposed to the queen
// cancelling the job: the job runner aborts with it, and operations leave alone what the next
// hive resumes (a worker that was loading keeps running). It is a fetch interruption too, so a
// download it stops keeps its partial files for that next hive.
import { FetchInterrupted } from "../catalog/artifact-provisioner.js";

export class HiveStopping extends FetchInterrupted {
  override readonly name = "HiveStopping";

  constructor() {
    super("the hive is shutting down");
  }
}
