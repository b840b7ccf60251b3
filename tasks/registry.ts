// Task types by name. Add a task type by writing its module (one object implementing TaskType) and
// adding one line here: suites, the cell, the runner and the approaches reach it through this table.
import { choice } from './choice.js';
import { generate } from './generate.js';
import type { TaskType } from './types.js';

export const TASK_TYPES: Readonly<Record<string, TaskType>> = Object.freeze({
  generate,
  choice,
});

/** Registered task type names, in registry order. */
export function taskTypeNames(): string[] {
  return Object.keys(TASK_TYPES);
}

/** The task type called `name`, or undefined (suite validation reports it with the valid names). */
export function findTaskType(name: string): TaskType | undefined {
  return Object.hasOwn(TASK_TYPES, name) ? TASK_TYPES[name] : undefined;
}

/** The task type of a validated suite: it exists, since validation checked the name. */
export function taskTypeOf(spec: { readonly type: string }): TaskType {
  const t = findTaskType(spec.type);
  if (!t) throw new Error(`unknown task type "${spec.type}" (valid: ${taskTypeNames().join(', ')})`);
  return t;
}

/** Record keys that carry a gold in some task type: never template fields. */
export function goldKeysOfAllTasks(): string[] {
  return [...new Set(Object.values(TASK_TYPES).flatMap((t) => [...t.goldKeys, t.targetField]))];
}
