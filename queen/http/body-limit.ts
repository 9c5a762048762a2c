// Refuses request bodies over a size limit with 413 before anything parses them.
import { bodyLimit } from "hono/body-limit";
import { RbeeError } from "../../shared/errors.js";

/** Largest JSON request body the queen accepts, in bytes. */
export const MAX_JSON_BODY_BYTES = 1024 * 1024;

export const jsonBodyLimit = bodyLimit({
  maxSize: MAX_JSON_BODY_BYTES,
  onError: () => {
    throw new RbeeError(413, "request_too_large", `Request body exceeds ${MAX_JSON_BODY_BYTES} bytes.`);
  },
});
