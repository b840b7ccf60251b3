// What the cell hands an approach, built the cell's way, for tests that run an approach directly.
import type { ApproachConfig, CellContext } from '../adapters/types.js';
import type { BackendInfo } from '../harness/engine/backend.js';
import type { LoadedCheckpoint } from '../harness/engine/checkpoint.js';
import type { Suite, SuiteData } from '../suites/types.js';
import { SuitePrompts } from '../tasks/prompts.js';
import { taskTypeOf } from '../tasks/registry.js';

export function cellContext(args: { suite: Suite; seed?: number; data?: SuiteData; config: ApproachConfig; base: LoadedCheckpoint; backend: BackendInfo }): CellContext {
  const seed = args.seed ?? 0;
  const { suite, base } = args;
  return {
    suite, data: args.data ?? suite.buildData(seed), seed, config: args.config, base, backend: args.backend,
    prompts: new SuitePrompts(suite, taskTypeOf(suite.task), base.tokenizer, base.model.config.nCtx),
    log: () => {}, progress: () => {},
  };
}
