// `bench all` decides the ledger's two claims at GPT-2 sizes (LoRA needs less training memory than
// full fine-tuning; a 4-bit base stores its weights about fourfold smaller) from `bench cost`'s
// points, measured into the run folder. Engine bytes of a training step are deterministic, so the
// profiled step decides each point: one timed step more (the least `bench cost` takes) adds only its
// tokens/s. Each point runs in its own process, as `bench cost` does.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeModelSizeFile } from './report-input.js';

/** Timed steps after the profiled one: the least `bench cost` accepts. */
const CLAIM_STEPS = 1;

/**
 * Measures the GPT-2 small and medium points into `<run>/cost/` (unless an earlier call did) and
 * writes `<run>/model-size.json` from them. Returns model-size.json's path, or null (with the reason
 * logged) when the measurement failed: the claims then stay "not measured", the run's cells stand.
 */
export function measureClaimsAtSize(runDir: string, log: (line: string) => void): string | null {
  const costDir = join(runDir, 'cost');
  const costFile = join(costDir, 'cost.json');
  if (!existsSync(costFile)) {
    const bench = fileURLToPath(new URL('../../../harness/bin/bench.js', import.meta.url));
    log(`memory at GPT-2 sizes, for the ledger's at-size claims: bench cost --steps ${CLAIM_STEPS} --out ${costDir}`);
    const t0 = performance.now();
    const res = spawnSync(process.execPath, [bench, 'cost', '--steps', String(CLAIM_STEPS), '--out', costDir], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (res.status !== 0 || !existsSync(costFile)) {
      log(`bench cost failed (exit ${res.status ?? res.signal}): the at-size claims stay not measured; run \`bench cost --out ${costDir}\`, then \`bench report ${runDir} --cost ${costFile}\``);
      return null;
    }
    log(`bench cost took ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  return writeModelSizeFile(runDir, { costPath: costFile });
}
