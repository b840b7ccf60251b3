// Published memory figures the projection is held against, each with where it comes from and what
// its publisher counted, so a reader can see why a prediction and a figure differ.
import type { Approach, Precision } from './memory-model.js';
import type { ShapeName } from './shapes.js';

export interface PublishedSetting {
  /** Label in the table, as the publisher names it. */
  readonly label: string;
  readonly approach: Approach;
  readonly precision: Precision;
  readonly batch: number;
  readonly seqLen: number;
  /** Full activation recomputation (gradient checkpointing). */
  readonly recompute: boolean;
  /** Published figure in GB (10^9 bytes), by shape; absent where the publisher gives none. */
  readonly gb: Partial<Record<ShapeName, number>>;
  readonly source: string;
  /** What the figure counts and what the prediction assumes that the publisher did not state. */
  readonly counted: string;
}

const LLAMA_FACTORY = 'LLaMA-Factory README, "Hardware Requirement" table (hiyouga/LLaMA-Factory), estimated GPU memory';
const LLAMA_FACTORY_COUNTED = 'an estimate per method and size; no batch size, sequence length or overheads stated. Predicted here at batch 1 x 512 tokens with gradient checkpointing and FlashAttention (no s x s scores), LoRA on every linear layer, rank 8';

/** Settings and figures; every approach uses AdamW unless noted. */
export const PUBLISHED: readonly PublishedSetting[] = Object.freeze([
  {
    label: 'Full (AMP)', approach: { kind: 'full' }, precision: 'bf16-mixed', batch: 1, seqLen: 512, recompute: true,
    gb: { '7b': 120, '70b': 1200 }, source: LLAMA_FACTORY, counted: LLAMA_FACTORY_COUNTED,
  },
  {
    label: 'Full (bf16)', approach: { kind: 'full' }, precision: 'bf16', batch: 1, seqLen: 512, recompute: true,
    gb: { '7b': 60, '70b': 600 }, source: LLAMA_FACTORY, counted: LLAMA_FACTORY_COUNTED,
  },
  {
    label: 'LoRA (bf16 base)', approach: { kind: 'lora', rank: 8, targets: 'all' }, precision: 'bf16-mixed', batch: 1, seqLen: 512, recompute: true,
    gb: { '7b': 16, '70b': 160 }, source: LLAMA_FACTORY, counted: LLAMA_FACTORY_COUNTED,
  },
  {
    label: 'QLoRA 8-bit', approach: { kind: 'qlora', rank: 8, targets: 'all', bits: 8 }, precision: 'bf16-mixed', batch: 1, seqLen: 512, recompute: true,
    gb: { '7b': 10, '70b': 80 }, source: LLAMA_FACTORY, counted: LLAMA_FACTORY_COUNTED,
  },
  {
    label: 'QLoRA 4-bit', approach: { kind: 'qlora', rank: 8, targets: 'all', bits: 4 }, precision: 'bf16-mixed', batch: 1, seqLen: 512, recompute: true,
    gb: { '7b': 6, '70b': 48, '65b': 48 },
    source: `${LLAMA_FACTORY}; 65B: Dettmers et al. 2023, "QLoRA", abstract: a 65B model finetuned "on a single 48GB GPU"`,
    counted: `${LLAMA_FACTORY_COUNTED}. QLoRA's 48 GB is a GPU that fits, with paged optimizers absorbing spikes, not a measured peak`,
  },
  {
    label: 'LoRA r32 (PEFT)', approach: { kind: 'lora', rank: 32, targets: 'qv' }, precision: 'bf16-mixed', batch: 4, seqLen: 768, recompute: false,
    gb: { '3b': 22.3 },
    source: 'huggingface/peft method_comparison (MetaMathQA, Llama-3.2-3B): LoRA rank 32, peak reserved memory',
    counted: 'torch.cuda peak *reserved* memory (allocator cache included); batch 4, up to 768 tokens, bf16; LoRA on q_proj and v_proj (PEFT\'s default for Llama); no recomputation assumed here',
  },
  {
    label: 'Full (PEFT)', approach: { kind: 'full' }, precision: 'bf16', batch: 4, seqLen: 768, recompute: false,
    gb: { '3b': 38.9 },
    source: 'huggingface/peft method_comparison (MetaMathQA, Llama-3.2-3B): full fine-tuning, peak reserved memory',
    counted: 'torch.cuda peak *reserved* memory; batch 4, up to 768 tokens; bf16 weights, gradients and AdamW state assumed here',
  },
]);
