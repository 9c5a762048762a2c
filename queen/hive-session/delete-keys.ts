// Deletes any number of keys from a Durable Object's storage, which takes at most 128 per call.

const MAX_KEYS_PER_DELETE = 128;

export async function deleteKeys(storage: DurableObjectStorage, keys: readonly string[]): Promise<void> {
  for (let start = 0; start < keys.length; start += MAX_KEYS_PER_DELETE) {
    await storage.delete(keys.slice(start, start + MAX_KEYS_PER_DELETE));
  }
}
