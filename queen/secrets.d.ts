// Secrets are not in wrangler.toml, so `wrangler types` can't see them; declared here.
declare namespace Cloudflare {
  interface Env {
    /**
     * The bootstrap admin key (both scopes), for creating the other keys through /v1/keys
     * (`wrangler secret put RBEE_ADMIN_KEY`; `npm start` sets a local one).
     */
    RBEE_ADMIN_KEY?: string;
  }
}
