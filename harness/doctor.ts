// `bench doctor`: for each dependency, its version and whether it loads and works, checked by a tiny
// real call (not just an import), with a one-line fix for each failure.
//
// Checks run one after another, each in its own try/catch. The TensorFlow.js ones run in a child
// process: importing tfjs-node(-gpu) registers kernels and backends globally even when its native
// library is absent, and setting a tfjs backend is global too; the doctor must leave the calling
// process (and the engine's own backend choice) as it found it.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export type DoctorStatus = 'ok' | 'missing' | 'broken';

export interface DoctorCheck {
  name: string;
  version: string | null;
  /** ok: loads and works; missing: the package or its native binary is not there; broken: present but fails. */
  status: DoctorStatus;
  detail: string;
  fix?: string;
  required: boolean;
}

export interface DoctorReport {
  checks: DoctorCheck[];
  /** Every required check passed. */
  ok: boolean;
}

/** The project root: the nearest folder above this file whose package.json is adaptbench's. */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'adaptbench') return dir;
      } catch {
        // not ours; keep walking up
      }
    }
    const up = dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}

const ROOT = projectRoot();
const requireFromRoot = createRequire(join(ROOT, 'package.json'));

function packageDir(name: string): string | null {
  for (let dir = ROOT; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) return null;
  }
}

function packageVersion(name: string): string | null {
  const dir = packageDir(name);
  if (!dir) return null;
  try {
    return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: string }).version ?? null;
  } catch {
    return null;
  }
}

function firstLine(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  return (text.split('\n').find((l) => l.trim() !== '') ?? text).trim().slice(0, 300);
}

/** A module's exports, with a CommonJS module's `module.exports` preferred over the namespace. */
async function load(name: string): Promise<Record<string, unknown>> {
  const ns = (await import(name)) as Record<string, unknown>;
  const def = ns['default'];
  return def && typeof def === 'object' ? { ...ns, ...(def as Record<string, unknown>) } : ns;
}

function fn<T>(mod: Record<string, unknown>, key: string): T {
  const v = mod[key];
  if (typeof v !== 'function') throw new Error(`export ${key} is missing`);
  return v as T;
}

class Missing extends Error {}

const PNG_SIGNATURE = '89504e470d0a1a0a';
const SETUP = 'run `npm run setup` (installs the Debian packages, runs npm ci and the native builds)';
const NPM_FIX = 'run `npm ci --ignore-scripts` (or `npm run setup`)';
const CANVAS_FIX =
  'apt-get install libcairo2-dev libpango1.0-dev libjpeg-dev libgif-dev librsvg2-dev g++ make python3 pkg-config, then `npm rebuild canvas` (or `npm run setup`)';

interface Spec {
  name: string;
  required: boolean;
  /** The package whose version is reported and whose absence means 'missing'; null for none. */
  pkg: string | null;
  fix: string;
  /** Does the real call; returns the detail line. Throw Missing for an absent native binary. */
  run: () => Promise<string>;
}

async function runSpec(spec: Spec): Promise<DoctorCheck> {
  const version = spec.pkg ? packageVersion(spec.pkg) : null;
  const base = { name: spec.name, version, required: spec.required };
  if (spec.pkg && !packageDir(spec.pkg)) {
    return { ...base, status: 'missing', detail: 'not installed', fix: spec.fix };
  }
  const t0 = performance.now();
  try {
    const detail = await spec.run();
    return { ...base, status: 'ok', detail: `${detail} (${Math.round(performance.now() - t0)} ms)` };
  } catch (e) {
    return { ...base, status: e instanceof Missing ? 'missing' : 'broken', detail: firstLine(e), fix: spec.fix };
  }
}

// ---------------------------------------------------------------- a tiny ONNX model, as bytes
// ModelProto { ir_version 8, opset 13, graph { y = Add(x, x), x and y float[2] } }, protobuf-encoded
// by hand so that checking onnxruntime-node needs no protobuf library.
function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}
const pbInt = (field: number, v: number): number[] => [...varint(field << 3), ...varint(v)];
const pbBytes = (field: number, b: number[]): number[] => [...varint((field << 3) | 2), ...varint(b.length), ...b];
const pbStr = (field: number, s: string): number[] => pbBytes(field, [...Buffer.from(s, 'utf8')]);

export function tinyOnnxAddModel(): Uint8Array {
  const float2 = pbBytes(1, [...pbInt(1, 1 /* FLOAT */), ...pbBytes(2, pbBytes(1, pbInt(1, 2)))]);
  const valueInfo = (name: string): number[] => [...pbStr(1, name), ...pbBytes(2, float2)];
  const node = [...pbStr(1, 'x'), ...pbStr(1, 'x'), ...pbStr(2, 'y'), ...pbStr(3, 'add'), ...pbStr(4, 'Add')];
  const graph = [...pbBytes(1, node), ...pbStr(2, 'doctor'), ...pbBytes(11, valueInfo('x')), ...pbBytes(12, valueInfo('y'))];
  const opset = [...pbStr(1, ''), ...pbInt(2, 13)];
  return Uint8Array.from([...pbInt(1, 8), ...pbStr(2, 'adaptbench-doctor'), ...pbBytes(7, graph), ...pbBytes(8, opset)]);
}

// ---------------------------------------------------------------- TensorFlow.js, in a child process
interface ChildResult {
  ok: boolean;
  detail?: string;
  error?: string;
}

const MARK = '@@adaptbench-doctor@@';

function inChild(body: string, timeoutMs = 120_000): Promise<ChildResult> {
  const script = `
const out = (o) => process.stdout.write('\\n${MARK}' + JSON.stringify(o) + '\\n', () => process.exit(0));
try { const detail = await (async () => { ${body} })(); out({ ok: true, detail }); }
catch (e) { out({ ok: false, error: String((e && e.message) || e) }); }`;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', script],
      { cwd: ROOT, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' } },
      (err, stdout, stderr) => {
        const line = stdout.split('\n').find((l) => l.startsWith(MARK));
        if (line) {
          try {
            resolve(JSON.parse(line.slice(MARK.length)) as ChildResult);
            return;
          } catch {
            // fall through
          }
        }
        const why = err?.killed ? `timed out after ${timeoutMs / 1000} s` : firstLine(stderr || err?.message || 'no output');
        resolve({ ok: false, error: `the check's process failed: ${why}` });
      },
    );
  });
}

async function childCheck(body: string): Promise<string> {
  const r = await inChild(body);
  if (!r.ok) throw new Error(r.error ?? 'failed');
  return r.detail ?? 'ok';
}

const MATMUL_2X2 = `
  const a = tf.tensor2d([[1, 2], [3, 4]]);
  const r = Array.from(await tf.matMul(a, a).data()).join(',');
  if (r !== '7,10,15,22') throw new Error('2x2 matMul gave ' + r);`;

function tfjsNodeSpec(name: '@tensorflow/tfjs-node' | '@tensorflow/tfjs-node-gpu'): Spec {
  const gpu = name.endsWith('-gpu');
  const needs = gpu ? '; the GPU build also needs CUDA 11.2 and cuDNN 8.1' : '';
  return {
    name,
    required: false,
    pkg: name,
    fix:
      `optional (the engine falls back to wasm): on a machine with internet access run \`npm rebuild ${name}\`` +
      ` so that its install script can download libtensorflow${needs}`,
    run: async () => {
      const r = await inChild(`
        const tf = await import('${name}');
        ${MATMUL_2X2}
        return 'backend ' + tf.getBackend() + ': 2x2 matMul ok';`);
      if (r.ok) return r.detail ?? 'ok';
      const err = r.error ?? '';
      if (/tfjs_binding\.node/.test(err) && /can ?not be found|cannot find/i.test(err)) {
        throw new Missing(
          `installed without its native library (tfjs_binding.node): its install script downloads libtensorflow, which needs internet${needs}`,
        );
      }
      if (/libcud|libcudnn|CUDA/i.test(err)) throw new Error(`CUDA libraries not found: ${firstLine(err)}${needs}`);
      throw new Error(firstLine(err));
    },
  };
}

// ---------------------------------------------------------------- the checks
function specs(): Spec[] {
  return [
    {
      name: 'tinybench',
      required: true,
      pkg: 'tinybench',
      fix: NPM_FIX,
      run: async () => {
        const { Bench } = await load('tinybench');
        type BenchT = {
          add(name: string, f: () => unknown): unknown;
          run(): Promise<unknown>;
          tasks: Array<{ result: { state: string; throughput?: { mean: number } } }>;
        };
        const BenchC = Bench as new (o: object) => BenchT;
        const bench = new BenchC({ time: 10, warmupTime: 2 });
        bench.add('sum', () => {
          let s = 0;
          for (let i = 0; i < 100; i++) s += i;
          return s;
        });
        await bench.run();
        const result = bench.tasks[0]?.result;
        if (!result || result.state !== 'completed' || !(result.throughput && result.throughput.mean > 0)) {
          throw new Error(`a 1-task bench did not complete (state ${result?.state ?? 'none'})`);
        }
        return `ran a 1-task bench: ${Math.round(result.throughput.mean).toLocaleString('en-US')} ops/s`;
      },
    },
    {
      name: 'csv-stringify',
      required: true,
      pkg: 'csv-stringify',
      fix: NPM_FIX,
      run: async () => {
        const stringify = fn<(rows: unknown[][]) => string>(await load('csv-stringify/sync'), 'stringify');
        const csv = stringify([
          ['approach', 'note'],
          ['lora', 'rank 8, alpha "16"'],
        ]);
        const want = 'approach,note\nlora,"rank 8, alpha ""16"""\n';
        if (csv !== want) throw new Error(`stringify gave ${JSON.stringify(csv)}`);
        return 'stringified 2 rows with quoting';
      },
    },
    {
      name: 'chart.js',
      required: true,
      pkg: 'chart.js',
      fix: NPM_FIX,
      run: async () => {
        const m = await load('chart.js');
        const Chart = m['Chart'] as { version?: string } | undefined;
        const registerables = m['registerables'] as unknown[] | undefined;
        if (!Chart || !Array.isArray(registerables) || registerables.length === 0) throw new Error('Chart or registerables missing');
        return `Chart ${Chart.version ?? '?'} with ${registerables.length} registerables (rendering: see chartjs-node-canvas)`;
      },
    },
    {
      name: 'canvas',
      required: true,
      pkg: 'canvas',
      fix: CANVAS_FIX,
      run: async () => {
        let m: Record<string, unknown>;
        try {
          m = await load('canvas');
        } catch (e) {
          if (/canvas\.node/.test(firstLine(e)) && /cannot find/i.test(firstLine(e))) {
            throw new Missing('native addon build/Release/canvas.node not built');
          }
          throw e;
        }
        const createCanvas = fn<(w: number, h: number) => { getContext(t: '2d'): { fillRect(...a: number[]): void }; toBuffer(t: 'image/png'): Buffer }>(m, 'createCanvas');
        const c = createCanvas(4, 4);
        c.getContext('2d').fillRect(0, 0, 2, 2);
        const png = c.toBuffer('image/png');
        if (png.subarray(0, 8).toString('hex') !== PNG_SIGNATURE) throw new Error('toBuffer did not give a PNG');
        return `drew a 4x4 PNG (cairo ${String(m['cairoVersion'] ?? '?')})`;
      },
    },
    {
      name: 'chartjs-node-canvas',
      required: true,
      pkg: 'chartjs-node-canvas',
      fix: `${CANVAS_FIX}; chartjs-node-canvas itself: ${NPM_FIX}`,
      run: async () => {
        let m: Record<string, unknown>;
        try {
          m = await load('chartjs-node-canvas');
        } catch (e) {
          if (/canvas\.node/.test(firstLine(e))) throw new Missing('needs canvas, whose native addon is not built');
          throw e;
        }
        const C = fn<new (o: object) => { renderToBuffer(cfg: object): Promise<Buffer> }>(m, 'ChartJSNodeCanvas');
        const png = await new C({ width: 160, height: 100 }).renderToBuffer({
          type: 'bar',
          data: { labels: ['lora', 'rag'], datasets: [{ label: 'score', data: [1, 2] }] },
          options: { animation: false },
        });
        if (png.subarray(0, 8).toString('hex') !== PNG_SIGNATURE) throw new Error('renderToBuffer did not give a PNG');
        return `rendered a 2-bar chart to a ${png.length}-byte PNG`;
      },
    },
    {
      name: 'onnxruntime-node',
      required: true,
      pkg: 'onnxruntime-node',
      fix: `${NPM_FIX}; keep \`onnxruntime-node-install=skip\` in .npmrc (the CPU binaries come with the package)`,
      run: async () => {
        const ort = await load('onnxruntime-node');
        type Tensor = { data: Float32Array };
        const Session = ort['InferenceSession'] as {
          create(model: Uint8Array, o?: object): Promise<{ run(feeds: object): Promise<Record<string, Tensor>>; release?(): Promise<void> }>;
        };
        const TensorC = ort['Tensor'] as new (type: string, data: Float32Array, dims: number[]) => Tensor;
        const session = await Session.create(tinyOnnxAddModel(), { logSeverityLevel: 3 });
        const out = await session.run({ x: new TensorC('float32', Float32Array.from([1.5, -2]), [2]) });
        const y = Array.from(out['y']?.data ?? []);
        await session.release?.();
        if (y.join(',') !== '3,-4') throw new Error(`Add(x, x) gave [${y.join(', ')}]`);
        const list = ort['listSupportedBackends'];
        const backends = typeof list === 'function'
          ? (list() as Array<{ name: string; bundled: boolean }>).filter((b) => b.bundled).map((b) => b.name).join(', ')
          : '?';
        return `ran a 1-node ONNX model (Add) on cpu; bundled backends: ${backends}`;
      },
    },
    {
      name: 'hnswlib-node',
      required: true,
      pkg: 'hnswlib-node',
      fix: `apt-get install g++ make python3, then \`npm rebuild hnswlib-node\` (or ${SETUP})`,
      run: async () => {
        type Index = {
          initIndex(n: number): void;
          addPoint(p: number[], label: number): void;
          searchKnn(q: number[], k: number): { distances: number[]; neighbors: number[] };
        };
        const H = fn<new (space: string, dim: number) => Index>(await load('hnswlib-node'), 'HierarchicalNSW');
        const index = new H('l2', 2);
        index.initIndex(10);
        for (let i = 0; i < 10; i++) index.addPoint([i, (i * 7) % 10], i);
        const { neighbors } = index.searchKnn([3.1, 1.1], 2);
        if (neighbors[0] !== 3) throw new Error(`nearest to (3.1, 1.1) was ${neighbors[0]}, expected 3`);
        return 'indexed 10 2-d points, the nearest neighbour search is right';
      },
    },
    {
      name: 'faiss-node',
      required: true,
      pkg: 'faiss-node',
      fix: `apt-get install libfaiss-dev libopenblas-dev patchelf cmake g++ make, then ${SETUP}: it builds faiss-node against Debian's faiss with cmake-js`,
      run: async () => {
        let m: Record<string, unknown>;
        try {
          m = await load('faiss-node');
        } catch (e) {
          if (/Could not locate the bindings file/i.test(firstLine(e))) throw new Missing('native addon build/Release/faiss-node.node not built');
          throw e;
        }
        type Index = { add(x: number[]): void; search(x: number[], k: number): { distances: number[]; labels: number[] }; ntotal(): number };
        const Flat = fn<new (d: number) => Index>(m, 'IndexFlatL2');
        const index = new Flat(2);
        const points: number[] = [];
        for (let i = 0; i < 10; i++) points.push(i, (i * 7) % 10);
        index.add(points);
        const { labels, distances } = index.search([7, 9], 1);
        if (labels[0] !== 7 || distances[0] !== 0) throw new Error(`nearest to (7, 9) was ${labels[0]} at ${distances[0]}, expected 7 at 0`);
        return `IndexFlatL2 of ${index.ntotal()} 2-d points, the exact search is right`;
      },
    },
    {
      name: '@tensorflow/tfjs',
      required: true,
      pkg: '@tensorflow/tfjs',
      fix: NPM_FIX,
      run: () =>
        childCheck(`
          const tf = await import('@tensorflow/tfjs');
          if (!(await tf.setBackend('cpu'))) throw new Error('setBackend("cpu") failed');
          ${MATMUL_2X2}
          return 'cpu backend: 2x2 matMul ok';`),
    },
    {
      name: '@tensorflow/tfjs-backend-wasm',
      required: true,
      pkg: '@tensorflow/tfjs-backend-wasm',
      fix: NPM_FIX,
      run: () =>
        childCheck(`
          const tf = await import('@tensorflow/tfjs');
          await import('@tensorflow/tfjs-backend-wasm');
          if (!(await tf.setBackend('wasm'))) throw new Error('setBackend("wasm") failed');
          ${MATMUL_2X2}
          return 'wasm backend: 2x2 matMul ok';`),
    },
    tfjsNodeSpec('@tensorflow/tfjs-node-gpu'),
    tfjsNodeSpec('@tensorflow/tfjs-node'),
    {
      name: 'BLAS addon (harness/engine/native)',
      required: false,
      pkg: null,
      fix: `apt-get install libopenblas-dev g++ make python3, then ${SETUP} (node-gyp builds harness/engine/native); without it the engine uses its slower path`,
      run: async () => {
        const nativeDir = join(ROOT, 'harness', 'engine', 'native');
        if (!existsSync(join(nativeDir, 'binding.gyp'))) throw new Missing('harness/engine/native/binding.gyp does not exist');
        const release = join(nativeDir, 'build', 'Release');
        const file = existsSync(release) ? readdirSync(release).find((f) => f.endsWith('.node')) : undefined;
        if (!file) throw new Missing('not built (no harness/engine/native/build/Release/*.node)');
        const addon = requireFromRoot(join(release, file)) as Record<string, unknown>;
        const where = relative(ROOT, join(release, file));
        if (typeof addon['sgemm'] !== 'function') return `${where} loads (no sgemm export to try)`;
        const sgemm = addon['sgemm'] as (...args: unknown[]) => void;
        const a = Float32Array.from([1, 2, 3, 4]);
        const c = new Float32Array(4);
        // c = a x a, 2x2, batch 1, no transposes (see the addon's signature in blas.c).
        sgemm(a, 0, 0, a, 0, 0, c, 0, 0, 1, 2, 2, 2, 0, 0);
        if (Array.from(c).join(',') !== '7,10,15,22') throw new Error(`sgemm 2x2 gave [${Array.from(c).join(', ')}]`);
        const threads = typeof addon['threads'] === 'function' ? `, ${String((addon['threads'] as () => number)())} OpenBLAS threads` : '';
        return `${where}: 2x2 sgemm ok${threads}`;
      },
    },
  ];
}

/**
 * Checks every dependency. `extra` adds checks of its own (the engine's backend choice, for one);
 * if it throws, that shows as one broken, required check.
 */
export async function runDoctor(extra?: () => Promise<DoctorCheck[]>): Promise<DoctorReport> {
  const checks: DoctorCheck[] = [];
  for (const spec of specs()) checks.push(await runSpec(spec));
  if (extra) {
    try {
      checks.push(...(await extra()));
    } catch (e) {
      checks.push({ name: 'extra checks', version: null, status: 'broken', detail: firstLine(e), required: true });
    }
  }
  return { checks, ok: checks.every((c) => !c.required || c.status === 'ok') };
}

export function formatDoctor(report: DoctorReport): string {
  const label = (c: DoctorCheck): string => `${c.name}${c.version ? ` ${c.version}` : ''}${c.required ? '' : ' (optional)'}`;
  const width = Math.max(...report.checks.map((c) => label(c).length));
  const lines: string[] = [];
  for (const c of report.checks) {
    lines.push(`  ${c.status.padEnd(7)}  ${label(c).padEnd(width)}  ${c.detail}`);
    if (c.status !== 'ok' && c.fix) lines.push(`  ${''.padEnd(7)}  ${''.padEnd(width)}  fix: ${c.fix}`);
  }
  const failedRequired = report.checks.filter((c) => c.required && c.status !== 'ok');
  const failedOptional = report.checks.filter((c) => !c.required && c.status !== 'ok');
  const optional = failedOptional.length
    ? ` (${failedOptional.length} optional one${failedOptional.length === 1 ? '' : 's'} not working: ${failedOptional.map((c) => c.name).join(', ')})`
    : '';
  const head = report.ok
    ? `adaptbench doctor: every required dependency works${optional}`
    : `adaptbench doctor: ${failedRequired.length} required dependenc${failedRequired.length === 1 ? 'y does' : 'ies do'} not work: ${failedRequired.map((c) => c.name).join(', ')}${optional}`;
  return [head, ...lines].join('\n');
}
