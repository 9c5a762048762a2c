// The longest texts the queen accepts in a hive's frames, in characters. It refuses a frame with
// a longer one whole, so a hive cuts its texts to these before sending (hive/jobs/clamp-job-event.ts).

/** A message for a person: a job's narration or error, a relay's problem. */
export const MAX_MESSAGE_CHARS = 4000;

/** A short machine-readable label: a narration's action, an error's code. */
export const MAX_LABEL_CHARS = 64;

/** `text`, cut to `max` characters with an ellipsis when longer, so it fits a limit above. */
export function cutToLength(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
