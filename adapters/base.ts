// The control: the base model as it is, asked closed-book. Every other row is compared with it.
import { formatPrompt } from '../datasets/episodes.js';
import { countBaseParameters } from '../harness/engine/params.js';
import type { Approach, ApproachOutcome, CellContext } from './types.js';

export const base: Approach = Object.freeze({
  name: 'base',
  description: 'No adaptation: the pretrained base model answers closed-book (the control).',
  defaults: Object.freeze({}),
  validateConfig: () => [],
  async run(ctx: CellContext): Promise<ApproachOutcome> {
    return {
      model: ctx.base.model,
      prompts: async (questions) => questions.map((q) => formatPrompt({ passages: [], question: q.question, leadIn: q.leadIn })),
      params: { total: countBaseParameters(ctx.base.header.config), trainable: 0 },
      training: null,
      memory: null,
    };
  },
});
