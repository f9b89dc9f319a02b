import { Conv1Error } from '../errors.ts';
import type { ModelFiles } from '../sources/model-files.ts';
import type { ConvLayer, OpenedModel } from './format.ts';
import { checkWeightsManifest, isRecord, kernelShapeAsHwio, locateWeight, readFloatWeight, type ManifestGroup, type ManifestWeight } from './tfjs-manifest.ts';

/**
 * TensorFlow.js graph models: model.json whose modelTopology is a GraphDef. Inputs are Placeholder
 * nodes and weights are Const nodes whose values sit in the weights manifest under the node's name.
 * The first convolution is found by a breadth-first walk along data edges from the Placeholders
 * (see listGraphConvs); its filter (input 1) is traced back to a Const and read through the
 * manifest, touching only the shards it lies in.
 */

const CONV_OPS = new Set(['Conv2D', '_FusedConv2D', 'DepthwiseConv2dNative', 'FusedDepthwiseConv2dNative']);
const DEPTHWISE_OPS = new Set(['DepthwiseConv2dNative', 'FusedDepthwiseConv2dNative']);
/**
 * Ops whose output is their first input unchanged, so a filter may sit behind them. Identity,
 * Snapshot, StopGradient and PreventGradient only copy; CheckNumerics and EnsureShape only check;
 * Enter hands a value into a loop frame; Switch forwards input 0 to whichever output its predicate
 * (input 1) chooses, and TensorFlow leaves Identity → Switch chains in front of filters used inside a
 * tf.cond (e.g. Robust Video Matting). Any other op computes the filter, and is refused.
 */
const PASS_THROUGH_OPS = new Set(['Identity', 'Snapshot', 'StopGradient', 'PreventGradient', 'CheckNumerics', 'EnsureShape', 'Enter', 'Switch']);
const REEXPORT_HINT = 'Export the model again with tensorflowjs_converter, or point `model` at another file.';

interface GraphNode {
  name: string;
  op: string;
  /** Names of the nodes feeding the data inputs, in order, without `:k` output suffixes. */
  inputs: string[];
  attr: Record<string, unknown>;
}

interface GraphConv extends ConvLayer {
  /** The Const node holding the filter, which is also its name in the weights manifest. */
  weight: string;
}

interface GraphModel {
  files: ModelFiles;
  nodes: Map<string, GraphNode>;
  groups: ManifestGroup[];
}

export function looksLikeTfjsGraph(json: unknown): boolean {
  if (!isRecord(json)) return false;
  return json.format === 'graph-model' || (isRecord(json.modelTopology) && Array.isArray(json.modelTopology.node));
}

export function openGraphModel(files: ModelFiles, json: unknown): OpenedModel {
  const model = parseGraphModel(files, json);
  const convolutions = listGraphConvs(model);
  return {
    format: 'tfjs-graph',
    convolutions,
    layerNames: new Set(model.nodes.keys()),
    readKernel: async (conv) => {
      const { weight } = conv as GraphConv;
      const located = locateWeight(model.groups, weight);
      if (!located) throw new Conv1Error(files.label, `has no weight "${weight}" in its weightsManifest`, 'The manifest does not match the graph; export the model again.');
      return readFloatWeight(files, located);
    },
  };
}

function parseGraphModel(files: ModelFiles, json: unknown): GraphModel {
  const fail = (reason: string) => new Conv1Error(files.label, reason, REEXPORT_HINT);
  if (!isRecord(json) || !isRecord(json.modelTopology) || !Array.isArray(json.modelTopology.node))
    throw fail('is a TensorFlow.js graph model without a list of nodes in modelTopology.node');
  if (!Array.isArray(json.weightsManifest)) throw fail('is a TensorFlow.js graph model without a weightsManifest');
  const nodes = new Map<string, GraphNode>();
  json.modelTopology.node.forEach((raw: unknown, i: number) => {
    if (!isRecord(raw) || typeof raw.name !== 'string' || raw.name === '' || typeof raw.op !== 'string') throw fail(`has a malformed node at position ${i}`);
    const inputs = raw.input ?? [];
    if (!Array.isArray(inputs) || !inputs.every((input) => typeof input === 'string')) throw fail(`has a malformed input list on node "${raw.name}"`);
    if (raw.attr !== undefined && !isRecord(raw.attr)) throw fail(`has malformed attributes on node "${raw.name}"`);
    if (nodes.has(raw.name)) throw fail(`names two nodes "${raw.name}"`);
    // Control inputs (^name) only order execution; they carry no tensor, so they are not edges here.
    const data = inputs.filter((input) => !input.startsWith('^')).map(nodeName);
    nodes.set(raw.name, { name: raw.name, op: raw.op, inputs: data, attr: raw.attr ?? {} });
  });
  for (const node of nodes.values())
    for (const input of node.inputs)
      if (!nodes.has(input))
        throw new Conv1Error(files.label, `has a node "${node.name}" that takes its input from "${input}", which is not a node of the graph`, 'The graph is inconsistent; export the model again.');
  return { files, nodes, groups: checkWeightsManifest(json.weightsManifest, files.label, fail) };
}

/** "name:1" → "name": the output index does not matter for finding the node. */
function nodeName(input: string): string {
  return input.replace(/:\d+$/, '');
}

/**
 * Convolutions in the order a breadth-first walk from the Placeholders meets them, except that
 * those with no convolution upstream come first. A skip connection can bring the input to a late
 * convolution in fewer steps than to the stem: Robust Video Matting concatenates the image into
 * its output block a few ops from the input, while its stem sits behind a normalisation. So the
 * first convolution is one the input reaches without passing another and, of those, the one most
 * convolutions lie behind.
 *
 * A convolution whose filter cannot be traced to a Const is refused when it comes first, as
 * drawing the next one instead would mislabel it; later ones are left out of the list, so one
 * computed filter deep in a network does not make the whole model unreadable.
 */
function listGraphConvs(model: GraphModel): GraphConv[] {
  const consumers = new Map<string, string[]>();
  for (const node of model.nodes.values())
    for (const input of node.inputs) {
      const list = consumers.get(input);
      if (list) list.push(node.name);
      else consumers.set(input, [node.name]);
    }
  const placeholders = [...model.nodes.values()].filter((node) => node.op === 'Placeholder').map((node) => node.name);
  const reached = walkFrom(placeholders, consumers)
    .map((name) => model.nodes.get(name)!)
    .filter((node) => CONV_OPS.has(node.op));
  const isConv = new Set(reached.map((conv) => conv.name));
  const after = (convs: readonly GraphNode[]) => walkFrom(convs.flatMap((conv) => consumers.get(conv.name) ?? []), consumers);
  const afterConv = new Set(after(reached));
  const firsts = reached.filter((conv) => !afterConv.has(conv.name));
  // RVM's guided filter also box-filters the image directly; its stem has far more behind it.
  // The sort is stable, so ties keep walk order.
  const convsBehind = new Map(firsts.map((conv) => [conv, after([conv]).filter((name) => isConv.has(name)).length]));
  const ordered = [...firsts.sort((a, b) => convsBehind.get(b)! - convsBehind.get(a)!), ...reached.filter((conv) => afterConv.has(conv.name))];
  const convs: GraphConv[] = [];
  for (const node of ordered) {
    const conv = describeConv(model, node, convs.length === 0);
    if (conv) convs.push(conv);
  }
  return convs;
}

/** Names of the nodes reachable from `sources` along data edges, in breadth-first order. */
function walkFrom(sources: readonly string[], consumers: ReadonlyMap<string, string[]>): string[] {
  const order: string[] = [];
  const visited = new Set<string>();
  const visit = (name: string) => {
    if (visited.has(name)) return;
    visited.add(name);
    order.push(name);
  };
  sources.forEach(visit);
  // `order` doubles as the queue: a name is appended once, when first seen.
  for (let i = 0; i < order.length; i++) (consumers.get(order[i]!) ?? []).forEach(visit);
  return order;
}

function describeConv(model: GraphModel, node: GraphNode, mustResolve: boolean): GraphConv | undefined {
  const { label } = model.files;
  const filter = resolveFilter(model, node);
  if (typeof filter === 'string') {
    if (!mustResolve) return undefined;
    throw new Conv1Error(
      label,
      `has a first convolution "${node.name}" whose filter comes from ${filter} instead of stored weights`,
      `A filter is followed only through ${[...PASS_THROUGH_OPS].join(', ')} to a Const; export the model again with tensorflowjs_converter, which folds constant computations into the filter.`,
    );
  }
  if (filter.shape.length !== 4)
    throw new Conv1Error(label, `gives the filter "${filter.name}" of convolution "${node.name}" the shape [${filter.shape}], not a rank-4 convolution kernel`, 'Only 2-D convolutions can be drawn as filters; choose another layer.');
  const shape = kernelShapeAsHwio(filter.shape as [number, number, number, number], DEPTHWISE_OPS.has(node.op));
  return { name: node.name, layerType: node.op, shape, strides: readStrides(node, label), weight: filter.name };
}

/**
 * Follows input 1 of a convolution through pass-through ops to a Const with values in the
 * manifest. Returns that weight, or a description of what was found instead.
 */
function resolveFilter(model: GraphModel, conv: GraphNode): ManifestWeight | string {
  const { label } = model.files;
  if (conv.inputs.length < 2)
    throw new Conv1Error(label, `has a convolution "${conv.name}" with ${conv.inputs.length} data input(s); it needs the data and a filter`, 'The graph is inconsistent; export the model again.');
  const seen = new Set<string>();
  let node = model.nodes.get(conv.inputs[1]!)!;
  while (PASS_THROUGH_OPS.has(node.op) && node.inputs.length > 0 && !seen.has(node.name)) {
    seen.add(node.name);
    node = model.nodes.get(node.inputs[0]!)!;
  }
  if (node.op !== 'Const') return `the ${node.op} node "${node.name}"`;
  const located = locateWeight(model.groups, node.name);
  if (!located)
    throw new Conv1Error(
      label,
      `gives the convolution "${conv.name}" the filter "${node.name}", a constant with no values in the weightsManifest`,
      'The manifest does not match the graph; export the model again.',
    );
  return located.weight;
}

/** Height and width strides from the `strides` attribute, in the node's data_format (NHWC unless it says NCHW). */
function readStrides(node: GraphNode, label: string): [number, number] {
  const bad = (what: string) =>
    new Conv1Error(label, `gives the convolution "${node.name}" ${what}`, 'The graph is inconsistent; export the model again.');
  const dataFormat = node.attr.data_format;
  let format = 'NHWC';
  if (dataFormat !== undefined) {
    // GraphDef JSON stores string attributes as base64 bytes, as tfjs decodes them.
    const encoded = isRecord(dataFormat) ? dataFormat.s : undefined;
    format = typeof encoded === 'string' ? Buffer.from(encoded, 'base64').toString('latin1') : '';
    if (format !== 'NHWC' && format !== 'NCHW') throw bad(`the data_format ${JSON.stringify(dataFormat)}, not NHWC or NCHW`);
  }
  const attr = node.attr.strides;
  const list = isRecord(attr) && isRecord(attr.list) ? attr.list.i : undefined;
  // int64 attribute values arrive as decimal strings.
  const strides = Array.isArray(list) && list.every((s) => typeof s === 'string' || typeof s === 'number') ? list.map(Number) : [];
  if (strides.length !== 4 || !strides.every((s) => Number.isSafeInteger(s) && s > 0)) throw bad(`the strides ${attr === undefined ? '(none)' : JSON.stringify(attr)}, not four positive integers`);
  return format === 'NHWC' ? [strides[1]!, strides[2]!] : [strides[2]!, strides[3]!];
}
