import type { ContainerScope } from '../containers/scope.js';
import { parseIndom, parsePmid } from '../metrics/pmid.js';
import type { MetricTable, PmnsChildren } from '../metrics/table.js';
import { isInteger, type IndomDesc, type MetricDesc, type Value } from '../metrics/types.js';
import { inContainer, type Interest } from '../demand.js';
import type { Sampler } from '../sampler.js';
import { SINGULAR, type InstanceLabels, type InstanceValues, type Sample } from '../store/sample.js';
import type { ContextMetric, ContextView } from './context-metrics.js';
import {
  ContextTable, parseHostspec, parsePolltimeout, PmapiContext, type PmapiLimits, type SelectedContainer,
} from './contexts.js';
import { DeriveSemanticError, DerivedMetric, operandNames } from '../derive/derived.js';
import { DeriveSyntaxError } from '../derive/lexer.js';
import { parseExpression, syntaxErrorMessage } from '../derive/parser.js';
import { BadRequest, PmapiError } from './errors.js';
import { readHostIdentity, sourceId, type HostIdentity, type IdentityRoots } from './identity.js';
import { listParam, type Params } from './params.js';

export interface PmapiOptions {
  table: MetricTable;
  sampler: Sampler;
  containers: ContainerScope;
  roots: IdentityRoots;
  limits: PmapiLimits;
  contextMetrics: readonly ContextMetric[];
  /** Where fetches say what they read, so the agent collects it; everything is collected when absent. */
  interest?: Interest;
}

/** Context labels: strings, except the uid/gid of a `local:` context, which PCP gives as numbers. */
export type Labels = Readonly<Record<string, string | number>>;

/** `agent` label of a metric by its pmid domain, as pmcd labels each PMDA's metrics. */
const AGENTS: Readonly<Record<string, string>> = { '2': 'pmcd', '3': 'proc', '4': 'pmproxy', '60': 'linux', '500': 'vigil' };

/** The container-selecting metric of pmcd, answered from the context. */
const CLIENT_CONTAINER = 'pmcd.client.container';

/** How often a new context reads the host's identity again (a renamed host shows within this). */
const IDENTITY_REREAD_MS = 1000;

/**
 * What one context sees at one sample: the host's sample, or the container's view of it, plus
 * the per-context metrics (whose instances are numbered by context id).
 */
export class ContextSample {
  constructor(
    readonly sample: Sample,
    private readonly own: ReadonlyMap<string, InstanceValues>,
    private readonly ownInstances: ReadonlyMap<string, ReadonlyMap<number, string>>,
  ) {}

  get time(): number {
    return this.sample.time;
  }

  get(metric: string): InstanceValues | undefined {
    return this.own.get(metric) ?? this.sample.get(metric);
  }

  instances(indom: string): ReadonlyMap<number, string> | undefined {
    return this.ownInstances.get(indom) ?? this.sample.instances.get(indom);
  }

  labelsOf(indom: string, id: number): InstanceLabels | undefined {
    return this.sample.labelsOf(indom, id);
  }
}

export interface IndomReply {
  indom: string;
  desc?: IndomDesc;
  instances: Array<{ id: number; name: string; labels?: InstanceLabels }>;
}

/**
 * The PCP web API's operations, independent of dialect: contexts, metadata, fetch, instance
 * domains, profiles, stores and derived metrics. The native and compat plugins parse
 * requests into these calls and print the results in their own JSON shapes.
 */
export class Pmapi {
  readonly contexts: ContextTable;
  readonly table: MetricTable;
  readonly limits: PmapiLimits;
  private identity: HostIdentity;
  /** When `identity` was read (performance.now()). */
  private identityReadAt: number;
  private readonly contextMetrics: ReadonlyMap<string, ContextMetric>;

  constructor(private readonly options: PmapiOptions) {
    this.table = options.table;
    this.limits = options.limits;
    this.contexts = new ContextTable(options.limits.contexts);
    this.identity = readHostIdentity(options.roots);
    this.identityReadAt = performance.now();
    this.contextMetrics = new Map(options.contextMetrics.map((m) => [m.name, m]));
    for (const name of [CLIENT_CONTAINER, ...this.contextMetrics.keys()]) {
      if (!this.table.metric(name)) throw new Error(`context metric ${name} is not declared in the metric table; add its family`);
    }
  }

  close(): void {
    this.contexts.close();
  }

  // -- contexts ------------------------------------------------------------------------

  /** The context the request names (path or ?context=), renewed; without one pmproxy creates one. */
  context(params: Params, pathContext?: string): PmapiContext {
    const named = pathContext ?? params.get('context');
    return named === undefined ? this.createContext(params) : this.contexts.get(named, performance.now());
  }

  createContext(params: Params): PmapiContext {
    const polltimeout = parsePolltimeout(params.get('polltimeout'));
    // A request without a context gets one of its own, as from pmproxy (curl scripts poll that
    // way): reading the hostname, domain name and machine id for each cost about 140 µs a
    // request (bench/loop-blocks.ts). They change only when the host is renamed: once a second.
    const now = performance.now();
    if (now - this.identityReadAt >= IDENTITY_REREAD_MS) {
      this.identity = readHostIdentity(this.options.roots);
      this.identityReadAt = now;
    }
    const spec = parseHostspec(params.get('hostspec') ?? params.get('hostname') ?? 'localhost', this.identity.hostname);
    const container = spec.container === undefined ? undefined : this.findContainer(spec.container);
    const context = this.contexts.create(polltimeout, spec, performance.now());
    context.container = container;
    return context;
  }

  /** A context for one request only (an OpenMetrics scrape): it is not kept and holds no state. */
  scrapeContext(params: Params): PmapiContext {
    const spec = parseHostspec(params.get('hostspec') ?? params.get('hostname') ?? 'localhost', this.identity.hostname);
    const context = new PmapiContext(0, 0, spec, performance.now());
    if (spec.container !== undefined) context.container = this.findContainer(spec.container);
    return context;
  }

  /** A container by name or id; a name that matches none is an error, never "all containers". */
  findContainer(name: string): SelectedContainer {
    if (name === '') {
      throw new PmapiError(
        'empty container name: name a container (container=NAME) or leave the attribute out to see the whole host',
      );
    }
    const ref = this.options.containers.find(name);
    if (!ref) {
      throw new PmapiError(
        `unknown container "${name}": no container on this host has that name or id; ` +
          `list them with /pmapi/fetch?names=containers.name`,
      );
    }
    return { name, ref };
  }

  /** pmcd's context labels, keys sorted as pmproxy prints them. */
  labels(context: PmapiContext): Labels {
    const labels: Record<string, string | number> = { ...this.identity };
    if (context.container) labels.container = context.container.name;
    if (context.hostspec.local) {
      labels.userid = process.getuid?.() ?? 0;
      labels.groupid = process.getgid?.() ?? 0;
    }
    return sortKeys(labels);
  }

  source(context: PmapiContext): string {
    return sourceId(this.identity, context.container?.name);
  }

  get hostname(): string {
    return this.identity.hostname;
  }

  metricLabels(context: PmapiContext, desc: MetricDesc): Labels {
    return this.domainLabels(context, desc.pmid.split('.')[0]!);
  }

  indomLabels(context: PmapiContext, indom: string): Labels {
    return this.domainLabels(context, indom.split('.')[0]!);
  }

  private domainLabels(context: PmapiContext, domain: string): Labels {
    const agent = AGENTS[domain];
    const labels = this.labels(context);
    return agent === undefined ? labels : sortKeys({ ...labels, agent });
  }

  // -- metadata ------------------------------------------------------------------------

  /** A metric by name in this context: the table's, or one of the context's derived metrics. */
  metric(context: PmapiContext, name: string): MetricDesc | undefined {
    return this.table.metric(name) ?? context.derived.get(name)?.desc;
  }

  metricByPmid(context: PmapiContext, pmid: string): MetricDesc | undefined {
    return this.table.metricByPmid(pmid) ?? context.derivedByPmid(pmid)?.desc;
  }

  /** A PMNS node's metrics: a leaf itself, an interior node its subtree, '' everything. */
  traverse(context: PmapiContext, prefix: string): MetricDesc[] {
    const found = this.table.traverse(prefix);
    for (const derived of context.derived.values()) {
      const name = derived?.desc.name;
      if (name !== undefined && (prefix === '' || name === prefix || name.startsWith(`${prefix}.`))) found.push(derived!.desc);
    }
    return found;
  }

  children(context: PmapiContext, prefix: string): PmnsChildren | undefined {
    let result = this.table.children(prefix);
    for (const derived of context.derived.values()) {
      const name = derived?.desc.name;
      if (name === undefined) continue;
      if (name === prefix) return { leaf: [], nonleaf: [] };
      if (prefix !== '' && !name.startsWith(`${prefix}.`)) continue;
      const [child = '', ...deeper] = name.slice(prefix === '' ? 0 : prefix.length + 1).split('.');
      result ??= { leaf: [], nonleaf: [] };
      const list = deeper.length === 0 ? result.leaf : result.nonleaf;
      if (!list.includes(child)) list.push(child);
    }
    return result;
  }

  /** `/pmapi/metric`: prefix > names > name, each a list of PMNS nodes; none = the whole namespace. */
  metricSelection(context: PmapiContext, params: Params): Array<MetricDesc | { unknown: string }> {
    const given = params.get('prefix') ?? params.get('names') ?? params.get('name');
    if (given === undefined) return this.traverse(context, '');
    const nodes = this.limited(listParam(given));
    const found: Array<MetricDesc | { unknown: string }> = [];
    for (const node of nodes) {
      const metrics = this.traverse(context, node);
      if (metrics.length === 0) found.push({ unknown: node });
      else found.push(...metrics);
    }
    if (nodes.length === 1 && found.length === 1 && 'unknown' in found[0]!) {
      throw new PmapiError(`${nodes[0]} traversal failed - Unknown metric name`, 400, context.id);
    }
    return found;
  }

  private limited(names: string[]): string[] {
    const limit = this.limits.namesPerRequest;
    if (names.length > limit) {
      throw new PmapiError(`too many metrics in one request: ${names.length} given, at most ${limit} are allowed; split the request`);
    }
    return names;
  }

  // -- fetch ---------------------------------------------------------------------------

  /**
   * The metrics a fetch asks for. pmproxy uses the first of names > name > pmids > pmid;
   * unknown `names`/`pmids` entries are skipped, an unknown `name`/`pmid` is an error. With
   * `union` (the compat dialect) `names` and `pmids` are both served, in request order:
   * Vector 1.x sends names it has not yet learnt the pmid of alongside the pmids it has.
   */
  fetchSelection(context: PmapiContext, params: Params, union = false): MetricDesc[] {
    const byName = (name: string): MetricDesc | undefined => this.metric(context, name);
    const byPmid = (text: string): MetricDesc | undefined => {
      const pmid = parsePmid(text);
      return pmid === undefined ? undefined : this.metricByPmid(context, pmid);
    };
    const lists = [...params.keys()].filter((k) => k === 'names' || k === 'pmids');
    const first = ['names', 'name', 'pmids', 'pmid'].find((k) => params.has(k));
    if (first === undefined) throw new BadRequest('fetch needs names=, name=, pmids= or pmid=');
    if (first === 'name' || first === 'pmid') {
      const single = first === 'name' ? byName(params.get('name')!) : byPmid(params.get('pmid')!);
      if (!single) throw new PmapiError('bad parameters passed', 400, context.id);
      return [single];
    }
    const found = new Set<MetricDesc>();
    for (const key of union ? lists : [first]) {
      for (const item of this.limited(listParam(params.get(key)))) {
        const desc = key === 'names' ? byName(item) : byPmid(item);
        if (desc) found.add(desc);
      }
    }
    return [...found];
  }

  /**
   * The latest sample as this context sees it. `wanted`: the metrics the caller is about to read;
   * the agent collects on demand, so metrics nobody watched yet are collected first.
   */
  async sample(context: PmapiContext, wanted?: readonly MetricDesc[]): Promise<ContextSample> {
    if (wanted && this.options.interest) await this.options.interest.ask(this.sources(context, wanted));
    const latest = await this.options.sampler.ready();
    const base = context.container ? this.options.containers.view(latest, context.container.ref) : latest;
    const view: ContextView = { id: context.id, container: context.container?.ref };
    const own = new Map<string, InstanceValues>();
    const ownInstances = new Map<string, Map<number, string>>();
    const put = (name: string, value: Value | undefined): void => {
      if (value === undefined) return;
      const indom = this.table.metric(name)!.indom;
      own.set(name, new Map([[indom === null ? SINGULAR : context.id, value]]));
      if (indom !== null) ownInstances.set(indom, new Map([[context.id, String(context.id)]]));
    };
    put(CLIENT_CONTAINER, context.container?.name ?? '');
    for (const metric of this.contextMetrics.values()) put(metric.name, metric.read?.(view));
    return new ContextSample(base, own, ownInstances);
  }

  /** The collected metrics behind `descs` in this context: derived metrics' operands, a container's own network and hostname. */
  private sources(context: PmapiContext, descs: readonly MetricDesc[]): string[] {
    const names: string[] = [];
    for (const desc of descs) {
      const derived = context.derived.get(desc.name);
      names.push(...(derived && derived.desc === desc ? derived.operands : [desc.name]));
    }
    return context.container ? inContainer(names) : names;
  }

  /** One metric's values in this context (derived ones evaluated), restricted by the instance profile. */
  values(context: PmapiContext, sample: ContextSample, desc: MetricDesc): InstanceValues | undefined {
    const derived = context.derived.get(desc.name);
    const values = derived && derived.desc === desc ? derived.evaluate(sample) : sample.get(desc.name);
    const keep = desc.indom === null ? undefined : context.profile.filter(desc.indom);
    if (!values || !keep) return values;
    return new Map([...values].filter(([id]) => keep(id)));
  }

  // -- instance domains and profiles ----------------------------------------------------

  /**
   * `/pmapi/indom`: by metric `name` or `indom`, filtered by `iname` (wins) or `instance`. A
   * singular metric is an error, or undefined where the caller answers it (`singularIsEmpty`).
   */
  async indom(context: PmapiContext, params: Params): Promise<IndomReply>;
  async indom(context: PmapiContext, params: Params, singularIsEmpty: true): Promise<IndomReply | undefined>;
  async indom(context: PmapiContext, params: Params, singularIsEmpty = false): Promise<IndomReply | undefined> {
    const indom = this.indomParam(context, params, singularIsEmpty);
    const matches = nameMatcher(params, context);
    if (indom === null) return undefined;
    const sample = await this.sample(context, this.indomMetrics(indom));
    const wanted = new Set(listParam(params.get('instance')).map(Number));
    const instances: IndomReply['instances'] = [];
    for (const [id, name] of sample.instances(indom) ?? []) {
      if (matches ? !matches(name) : wanted.size > 0 && !wanted.has(id)) continue;
      instances.push({ id, name, labels: sample.labelsOf(indom, id) });
    }
    return { indom, desc: this.table.indom(indom)?.desc, instances };
  }

  /** Instances are known from values: listing an indom's instances means collecting its metrics. */
  private indomMetrics(indom: string): MetricDesc[] {
    return [...this.table.all()].filter((m) => m.indom === indom);
  }

  private indomParam(context: PmapiContext, params: Params, singularIsEmpty: boolean): string | null {
    const name = params.get('name');
    if (name !== undefined) {
      const desc = this.metric(context, name);
      if (!desc) throw new PmapiError(`${name} - failed to lookup metric`, 400, context.id);
      if (desc.indom === null && !singularIsEmpty) throw new PmapiError(`${name} - metric has null indom`, 400, context.id);
      return desc.indom;
    }
    const text = params.get('indom');
    if (text === undefined) throw new BadRequest('indom needs name= (a metric) or indom= (an instance domain)');
    const indom = parseIndom(text);
    if (indom === undefined) throw new PmapiError(`failed to lookup indom ${text}`, 400, context.id);
    return indom;
  }

  /** `/pmapi/profile`: `expr=add|del` for an indom (by `indom` or metric `name`), optional instances. */
  async profile(context: PmapiContext, params: Params): Promise<void> {
    const expr = params.get('expr');
    if (expr === undefined) throw new BadRequest('profile needs expr=add or expr=del');
    if (expr !== 'add' && expr !== 'del') throw new PmapiError(`${expr} - invalid 'expr' parameter value`, 400, context.id);
    let indom: string | undefined;
    if (params.get('name') !== undefined) {
      indom = this.indomParam(context, params, false) ?? undefined;
    } else if (params.get('indom') !== undefined) {
      indom = parseIndom(params.get('indom')!);
    }
    if (indom === undefined) throw new PmapiError('invalid profile parameters', 400, context.id);
    const matches = nameMatcher(params, context);
    let ids = listParam(params.get('instance')).map(Number).filter(Number.isInteger);
    if (matches) {
      const sample = await this.sample(context, this.indomMetrics(indom));
      ids = [...(sample.instances(indom) ?? [])].filter(([, name]) => matches(name)).map(([id]) => id);
      // no instances would mean "the whole indom" to add/del: refuse rather than widen the profile
      if (ids.length === 0) throw new PmapiError(`invalid profile parameters: no instance of indom ${indom} matches iname`, 400, context.id);
    }
    if (expr === 'add') context.profile.add(indom, ids);
    else context.profile.del(indom, ids);
  }

  // -- store -----------------------------------------------------------------------------

  /** `/pmapi/store`: `name` (or `pmid`) and `value` (or the POST body). */
  async store(context: PmapiContext, params: Params, data: string | undefined): Promise<void> {
    const name = params.get('name') ?? params.get('pmid');
    const value = params.get('value') ?? data;
    if (name === undefined || value === undefined) throw new BadRequest('store needs name= and value= (or the value as the POST body)');
    const desc = params.get('name') !== undefined ? this.metric(context, name) : this.metricByPmid(context, parsePmid(name) ?? '');
    if (!desc) throw new PmapiError(`${name} - failed to lookup metric`, 400, context.id);
    const refuse = (reason: string): PmapiError => new PmapiError(`failed to store value to metric ${desc.name}: ${reason}`, 400, context.id);
    if (desc.type !== 'string' && !/^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(value)) throw refuse('Unknown or illegal metric type');
    if (isInteger(desc.type) && !/^\s*[-+]?\d+\s*$/.test(value)) throw refuse('Unknown or illegal metric type');
    if (desc.name === CLIENT_CONTAINER) {
      // Vector selects a container this way; an empty value goes back to the whole host
      context.container = value === '' ? undefined : this.findContainer(value);
      return;
    }
    const writable = this.contextMetrics.get(desc.name);
    if (!writable?.store) throw refuse('No permission to perform requested operation');
    await writable.store(value, { id: context.id, container: context.container?.ref });
  }

  // -- derived metrics ------------------------------------------------------------------

  /** `/pmapi/derive`: `name` + `expr`, or a configuration of `name = expr` lines (POST body, or `expr` alone). */
  derive(context: PmapiContext, params: Params, data: string | undefined): void {
    const name = params.get('name');
    const expr = params.get('expr');
    if (name !== undefined && expr !== undefined) return this.addDerived(context, name, expr);
    if (data !== undefined || expr !== undefined) return this.deriveConfig(context, data ?? expr!);
    if (name !== undefined) throw new PmapiError('invalid derive parameters', 400, context.id);
    throw new BadRequest('derive needs name= and expr=, or a POST body of "name = expression" lines');
  }

  private deriveConfig(context: PmapiContext, text: string): void {
    text.split(/\r?\n/).forEach((line, lineno) => {
      const trimmed = line.trim();
      if (trimmed === '' || trimmed.startsWith('#')) return;
      const eq = trimmed.indexOf('=');
      if (eq < 0) {
        throw new PmapiError(`failed to parse derived metric "${trimmed}" on line ${lineno} - incomplete expression\n`, 400, context.id);
      }
      this.addDerived(context, trimmed.slice(0, eq).trim(), trimmed.slice(eq + 1).trim());
    });
  }

  private addDerived(context: PmapiContext, name: string, expr: string): void {
    const fail = (text: string): PmapiError => new PmapiError(text, 400, context.id);
    const call = `pmAddDerivedMetric("${name}", ...)`;
    if (context.derived.has(name)) throw fail(`Error: ${call}: returns -12409\nDuplicate per-context derived metric name\n`);
    if (!/^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*$/.test(name)) {
      throw fail(`Error: ${call}: illegal derived metric name: use letters, digits and _ in components separated by ".", each starting with a letter\n`);
    }
    if (this.table.metric(name) || this.table.children(name)) throw fail(`Error: ${call}: ${name} already names a metric or subtree of this agent\n`);
    const limit = this.limits.derivedPerContext;
    if (context.derived.size >= limit) {
      throw fail(`too many derived metrics in context ${context.id}: at most ${limit} per context; use a new context for more`);
    }
    let ast;
    try {
      ast = parseExpression(expr);
    } catch (error) {
      if (error instanceof DeriveSyntaxError) throw fail(syntaxErrorMessage(name, expr, error));
      throw error;
    }
    // PCP accepts a metric over operands it does not have, and then never reports it
    if (operandNames(ast).some((operand) => !this.table.metric(operand))) {
      context.derived.set(name, null);
      return;
    }
    try {
      context.derived.set(name, new DerivedMetric(name, context.nextDerivedPmid(), ast, (n) => this.table.metric(n)));
    } catch (error) {
      if (error instanceof DeriveSemanticError) throw fail(`Semantic Error: derived metric ${name}: ${error.message}\n`);
      throw error;
    }
  }
}

function sortKeys<T>(object: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(object).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The `iname` filter with its `match` style (exact, glob or regex), or undefined without `iname`. */
function nameMatcher(params: Params, context: PmapiContext): ((name: string) => boolean) | undefined {
  const match = params.get('match') ?? 'exact';
  if (match !== 'exact' && match !== 'glob' && match !== 'regex') {
    throw new PmapiError(`${match} - invalid 'match' parameter value`, 400, context.id);
  }
  const names = listParam(params.get('iname'));
  if (names.length === 0) return undefined;
  if (match === 'exact') {
    const set = new Set(names);
    return (name) => set.has(name);
  }
  const patterns = names.map((pattern) => {
    try {
      return match === 'regex' ? new RegExp(pattern) : globToRegExp(pattern);
    } catch {
      throw new PmapiError(`${pattern} - invalid ${match} pattern`, 400, context.id);
    }
  });
  return (name) => patterns.some((p) => p.test(name));
}

function globToRegExp(glob: string): RegExp {
  let source = '';
  for (const c of glob) source += c === '*' ? '.*' : c === '?' ? '.' : /[\\^$.|+(){}]/.test(c) ? `\\${c}` : c;
  return new RegExp(`^${source}$`);
}
