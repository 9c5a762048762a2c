// Secrets are not in wrangler.toml, so `wrangler types` can't see them; declared here.
declare namespace Cloudflare {
  interface Env {
    /** Bearer key clients must present on /v1 routes (`wrangler secret put RBEE_API_KEY`). */
    RBEE_API_KEY?: string;
  }
}
