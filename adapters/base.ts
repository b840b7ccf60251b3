// The control: the base model as it is, asked closed-book. Every other row is compared with it.
import { countBaseParameters } from '../harness/engine/params.js';
import type { Approach, ApproachOutcome, CellContext } from './types.js';

export const base: Approach = Object.freeze({
  name: 'base',
  description: 'No adaptation: the pretrained base model, asked closed-book (the control).',
  defaults: Object.freeze({}),
  validateConfig: () => [],
  async run(ctx: CellContext): Promise<ApproachOutcome> {
    return {
      model: ctx.base.model,
      prompts: async (examples) => ctx.prompts.closedBook(examples),
      params: { total: countBaseParameters(ctx.base.header.config), trainable: 0 },
      training: null,
      memory: null,
    };
  },
});
