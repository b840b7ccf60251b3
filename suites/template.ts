// Prompt templates: `{name}` is replaced by the example's field `name`. Nothing else is special, so
// any text a user writes around the names reaches the model as written.

const FIELD = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** The field names a template fills in, in order of first appearance. */
export function templateFields(template: string): string[] {
  return [...new Set([...template.matchAll(FIELD)].map((m) => m[1]!))];
}

/** The template with every `{name}` replaced by `values[name]` (a function replacer, so "$" in a value stays literal). */
export function renderTemplate(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(FIELD, (whole, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`template field {${name}} has no value (template ${JSON.stringify(template)})`);
    return v;
  });
}
