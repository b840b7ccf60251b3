// The part of cli-progress 3 (CommonJS, no bundled types) that the harness uses.
declare module 'cli-progress' {
  interface Options {
    format?: string;
    stream?: NodeJS.WritableStream;
    hideCursor?: boolean;
    clearOnComplete?: boolean;
    stopOnComplete?: boolean;
    barsize?: number;
    fps?: number;
  }
  class SingleBar {
    constructor(options: Options, preset?: unknown);
    start(total: number, startValue: number, payload?: Record<string, unknown>): void;
    update(value: number, payload?: Record<string, unknown>): void;
    setTotal(total: number): void;
    stop(): void;
  }
  class MultiBar {
    constructor(options: Options, preset?: unknown);
    create(total: number, startValue: number, payload?: Record<string, unknown>): SingleBar;
    log(text: string): void;
    /** Redraws now, printing lines buffered by log(). */
    update(): void;
    stop(): void;
  }
  const Presets: { readonly shades_classic: unknown; readonly shades_grey: unknown; readonly rect: unknown; readonly legacy: unknown };
  const cliProgress: { SingleBar: typeof SingleBar; MultiBar: typeof MultiBar; Presets: typeof Presets };
  export default cliProgress;
}
