/**
 * Runs fetchPlatform in its own process (for the inter-process cache lock
 * test). Usage: node --import tsx test/helpers/fetch-child.ts '<FetchPlatformOptions as JSON>'
 * Prints the result as JSON, or {error: {...}} with exit status 1.
 */
import { fetchPlatform } from '../../build/stages/acquire/index.ts';

const options = JSON.parse(process.argv[2] ?? '{}');
try {
  const r = await fetchPlatform(options);
  process.stdout.write(`${JSON.stringify(r)}\n`);
} catch (e) {
  process.stdout.write(`${JSON.stringify({ error: { code: (e as { code?: string }).code, message: (e as Error).message } })}\n`);
  process.exitCode = 1;
}
